//===- Simulator.h - Discrete-event simulation of kernels sharing a device ===//
//
// Jobs (one model's kernels in order) run on lanes (a thread on a CPU, a
// stream on a GPU): a lane runs one kernel at a time, its jobs one after
// the other. Kernels running at the same time share the device: each
// kernel's launch overhead runs at full speed while there are at least as
// many units as busy lanes (else the units are shared evenly), and its
// work (compute and memory time, as if alone) proceeds at the rate
// speedup(k) / k when k kernels are in their work phase, where
// speedup(k) = 1 + gain x (min(k, units) - 1) is what k concurrent kernels
// achieve together (processor sharing). The gain is a calibrated property
// of the target: 1 is perfect scaling over the units, 0 is none (two
// threads sharing one core's vector units).
//
// With per-kernel slowdowns (DeviceSharing::perKernel, a target whose
// co-runs were measured per resource), each working kernel instead
// progresses at 1 / (1 + slowdown x (min(k, units) - 1)) of its speed
// alone: its own share of what it competes for (cores, bandwidth, the
// runtime's per-kernel work), so that a compute-bound kernel beside a
// bandwidth-bound one slows by what each of them uses.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_PLAN_SIMULATOR_H
#define CHORUS_PLAN_SIMULATOR_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

struct SimKernel {
  /// Seconds of work when the kernel runs alone (compute and memory).
  double workSeconds = 0;
  /// Seconds of launch overhead, not shared.
  double overheadSeconds = 0;
  /// With DeviceSharing::perKernel: how much longer its work takes for
  /// each other kernel working at the same time (a fraction).
  double coRunSlowdown = 0;
};

struct SimJob {
  std::vector<SimKernel> kernels;
  /// The lane that runs it; jobs of one lane run in the order given.
  unsigned lane = 0;
};

struct DeviceSharing {
  /// Kernels that can make progress at once (cores, streams).
  int64_t units = 1;
  /// What each kernel beyond the first adds, as a fraction of one alone.
  double gain = 0;
  /// Kernels slow by their own SimKernel::coRunSlowdown instead of the
  /// gain.
  bool perKernel = false;
  /// speedup(k) for k kernels working at once.
  double speedup(unsigned k) const;
};

/// One kernel's run.
struct SimSpan {
  unsigned job = 0, kernel = 0, lane = 0;
  double start = 0, end = 0;
};

struct SimResult {
  /// Every kernel's run, in order of start (ties: by job, then kernel).
  std::vector<SimSpan> spans;
  /// When each job's last kernel ended (its start: its first kernel's).
  std::vector<double> jobStart, jobEnd;
  double makespan = 0;
};

/// Runs the jobs from time 0. Deterministic.
SimResult simulate(llvm::ArrayRef<SimJob> jobs, const DeviceSharing &device);

} // namespace chorus

#endif // CHORUS_PLAN_SIMULATOR_H
