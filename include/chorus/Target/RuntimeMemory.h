//===- RuntimeMemory.h - What a runtime session holds in memory -*- C++ -*-===//
//
// The figures a session's resident memory is predicted from: the model's
// weight bytes by the kind of kernel that reads them (ONNX Runtime keeps
// convolution weights in a reordered copy and packs matmul weights, so the
// kinds cost differently), the activation arena (ONNX Runtime's, replayed
// by simulateOrtArena where the runtime's settings are known, else the one
// Chorus plans for the model alone) and the model's outputs.
// RuntimeMemoryModel (Target.h) turns them into bytes; chorus-calibrate
// --measure fits it.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_RUNTIMEMEMORY_H
#define CHORUS_TARGET_RUNTIMEMEMORY_H

#include "chorus/Analysis/OrtKernels.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <optional>
#include <string>

namespace chorus {

class TensorLifetimes;

/// The kind of kernel that reads a weight.
enum class WeightUse { Conv, MatMul, Other };
/// By the op table's class of the nodes reading it: convolutions Conv,
/// matmuls MatMul, else Other. A weight read by several kinds takes the
/// first in that order.
WeightUse classifyWeightUse(mlir::Operation *weightRef);

/// Every weight symbol `func` reads, once, with the first use (in the
/// order above) any of its references has; sorted by name.
std::map<std::string, WeightUse> getWeightUses(mlir::func::FuncOp func);

/// Weight tensors of at least this many bytes count as large whatever
/// reads them: glibc serves them with their own mappings (its largest
/// mmap threshold on 64-bit), so the copies a runtime frees while loading
/// go back to the system, where smaller ones stay resident in the heap.
constexpr uint64_t kLargeWeightBytes = 32ull << 20;

struct RuntimeMemoryFeatures {
  /// Weight bytes of tensors under kLargeWeightBytes by WeightUse, then of
  /// the large ones; each symbol once.
  double weightBytes[4] = {0, 0, 0, 0};
  /// The model's peak of live activation bytes (64-byte aligned).
  double arenaBytes = 0;
  /// What ONNX Runtime's arena holds after the first run
  /// (simulateOrtArena's touched bytes), where the runtime's settings are
  /// known; 0 otherwise.
  double ortArenaBytes = 0;
  /// The arena's regions after the first run: size and bytes written.
  std::vector<std::pair<uint64_t, uint64_t>> ortArenaRegions;
  /// The same after a second run at the same shapes, in which ONNX
  /// Runtime takes its memory pattern in one block (a region of its own
  /// where the first run's free chunks do not hold it): what a session
  /// holds in service. 0 and none where not simulated.
  double ortServiceArenaBytes = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ortServiceRegions;
  /// The kernels the runtime keeps (ONNX Runtime's, after its graph
  /// optimizations, where its settings are given; else the graph's
  /// nodes): each costs the session its kernel and its bookkeeping
  /// (RuntimeMemoryModel::perNodeBytes).
  double nodes = 0;
  /// Of the weight bytes, those the file holds in Constant nodes
  /// (RuntimeMemoryModel::perConstantNodeByte).
  double constantNodeBytes = 0;
  /// The largest convolution weight tensor under kLargeWeightBytes: the
  /// layout rewrite's copies of it are what the heap must find room for
  /// (RuntimeMemoryModel::perLargestConvTensorByte).
  double largestHeapConvTensorBytes = 0;
  /// The largest weight tensor under kLargeWeightBytes.
  uint64_t largestWeightTensor = 0;
  /// The largest weight tensor of any size, and the largest a
  /// convolution reads.
  uint64_t largestTensorBytes = 0, largestConvTensorBytes = 0;
  /// Bytes of the model's outputs, and of its inputs (the caller's
  /// buffers for a run).
  double outputBytes = 0, inputBytes = 0;
  /// What the caller holds per run until it collects them: the inputs it
  /// passed and the copies of the outputs onnxruntime-node returned.
  double callerBytes() const { return outputBytes + inputBytes; }
  /// The arena figure the first run's memory follows: ONNX Runtime's where
  /// simulated, else the planned peak.
  double firstRunArenaBytes() const {
    return ortArenaBytes > 0 ? ortArenaBytes : arenaBytes;
  }
  /// The arena figure in service: ONNX Runtime's after two runs where
  /// simulated, else the planned peak.
  double serviceArenaBytes() const {
    return ortServiceArenaBytes > 0 ? ortServiceArenaBytes : arenaBytes;
  }
};

/// Adds a weight tensor of `bytes` read by `use` to `weightBytes` (its
/// kind's entry, or the large tensors').
void addWeightBytes(double weightBytes[4], uint64_t bytes, WeightUse use);

/// The features of one model from its weight uses (getWeightUses) and its
/// computed lifetimes.
/// With `ort`, ONNX Runtime's CPU arena under those settings is simulated
/// too (ortArenaBytes).
RuntimeMemoryFeatures computeRuntimeMemoryFeatures(
    mlir::func::FuncOp func, const std::map<std::string, WeightUse> &uses,
    const TensorLifetimes &lifetimes, const OrtCpuSettings *ort = nullptr);
/// The same, computing both; fails (with an error on the func) where a
/// tensor has no static size.
mlir::FailureOr<RuntimeMemoryFeatures>
computeRuntimeMemoryFeatures(mlir::func::FuncOp func,
                             const OrtCpuSettings *ort = nullptr);

/// Bytes the runtime holds for a model's weights (per session): its
/// weights by kind, those in Constant nodes and its largest convolution
/// weight tensor under kLargeWeightBytes.
double predictWeightBytes(const RuntimeMemoryModel &m,
                          const RuntimeMemoryFeatures &features);
/// Bytes a session of the model holds after its load.
double predictAfterLoad(const RuntimeMemoryModel &m,
                        const RuntimeMemoryFeatures &features);
/// Of what a session of the model takes after its load, what it keeps once
/// the load's transient copies are freed (RuntimeMemoryModel::retained;
/// all of it where that is not measured).
double predictRetained(const RuntimeMemoryModel &m,
                       const RuntimeMemoryFeatures &features);
/// The same for weights of these kinds alone (in initializers) and
/// `nodes` nodes.
double predictRetained(const RuntimeMemoryModel &m, const double weightBytes[4],
                       double nodes = 0);
/// One session of a set, in the order the sessions are created.
struct SessionMemory {
  /// predictAfterLoad, predictRetained, predictFirstRun and
  /// predictServiceRuns of its model.
  double load = 0, retained = 0, firstRun = 0, serviceRuns = 0;
  /// What its load holds for a moment above `load`: the copies it frees
  /// back to the system before it ends (RuntimeMemoryModel::loadPeak).
  double loadTransient = 0;
  /// The runtime's arena regions of the first run (size, bytes written)
  /// and the model's largest weight tensor under kLargeWeightBytes
  /// (mmapThreshold).
  std::vector<std::pair<uint64_t, uint64_t>> arenaRegions;
  /// The same after its second run (serviceRuns).
  std::vector<std::pair<uint64_t, uint64_t>> serviceRegions;
  uint64_t largestWeightTensor = 0;
  /// The largest weight tensor a convolution reads: the largest hole its
  /// load's reorders leave in the heap (predictSetMemory).
  uint64_t largestConvTensor = 0;
};
/// What a load of a model with these features holds for a moment above
/// what it leaves (RuntimeMemoryModel::LoadPeak): the higher of its
/// initializer copies and its convolutions' reorders.
double predictLoadTransient(const RuntimeMemoryModel::LoadPeak &p,
                            const RuntimeMemoryFeatures &features);
/// glibc's threshold above which an allocation gets a mapping of its own
/// (returned to the system when freed, never reusing the heap's free
/// space): the profile's fixed one (RuntimeMemoryModel::
/// fixedMmapThreshold) where set; else glibc's default, which starts at
/// 128 KiB and rises to the size of each mapped block freed, up to 32 MiB.
/// Loading a session frees a copy of every weight tensor, so after loads
/// whose largest tensor (under 32 MiB) is `largestWeightTensor` it stands
/// there.
uint64_t mmapThreshold(const RuntimeMemoryModel &m,
                       uint64_t largestWeightTensor);
/// Of `runBytes` (a session's runs, whose arena has these regions: size
/// and bytes written), the part in regions at or above the threshold.
double mappedRunBytes(const RuntimeMemoryModel &m,
                      llvm::ArrayRef<std::pair<uint64_t, uint64_t>> regions,
                      double runBytes, uint64_t threshold);
/// Of `heapBytes` (a session's runs not mapped apart), the part in arena
/// regions under the threshold too large for a hole of `hole` bytes: they
/// go on top of the heap, not into the space the loads freed.
double holelessRunBytes(const RuntimeMemoryModel &m,
                        llvm::ArrayRef<std::pair<uint64_t, uint64_t>> regions,
                        double heapBytes, uint64_t hole, uint64_t threshold);
/// The SessionMemory of a model alone.
SessionMemory predictSession(const RuntimeMemoryModel &m,
                             const RuntimeMemoryFeatures &features);
/// Of the session bytes, what only the process's first session takes
/// (ONNX Runtime's environment and pools): the session bytes a second
/// session does not take again; 0 without a measured `retained`.
double processSessionBytes(const RuntimeMemoryModel &m);
struct SetMemory {
  double afterLoad = 0, afterFirstRuns = 0;
  /// In service: after each session's second run, whose memory pattern
  /// block its arena keeps beside the first run's regions.
  double inService = 0;
  /// The most the process holds at any moment (VmHWM): inService or,
  /// where higher, afterFirstRuns or a load's transient copies on top of
  /// the heap at that load.
  double peak = 0;
};
/// The resident bytes of a process holding these sessions (created in
/// this order, then each run once, then once more): the process's bytes, what
/// its first session sets up once (processSessionBytes), and the heap's
/// high-water mark: each load's transient copies on top of what the sessions
/// before it keep (reusing the space an earlier load freed), then the first
/// runs on top of all the sessions keep, except their arena regions at or above
/// glibc's mmap threshold (mmapThreshold), which are added apart; in
/// service the same with each session's two runs. Without a measured
/// `retained`, the sum of each session's load and runs.
SetMemory predictSetMemory(const RuntimeMemoryModel &m,
                           llvm::ArrayRef<SessionMemory> sessions);
/// One session of a model in a process of its own, the process's own
/// bytes (processBytes) left out.
SetMemory predictSessionAlone(const RuntimeMemoryModel &m,
                              const RuntimeMemoryFeatures &features);
/// What its first run adds: the runtime's arena
/// (RuntimeMemoryFeatures::firstRunArenaBytes), the copies of its outputs
/// and the inputs it was given (RuntimeMemoryFeatures::callerBytes).
double predictFirstRun(const RuntimeMemoryModel &m,
                       const RuntimeMemoryFeatures &features);
/// What its first two runs at the same shapes add (the arena in service,
/// RuntimeMemoryFeatures::serviceArenaBytes, and both runs' inputs and
/// outputs, which onnxruntime-node's caller holds until it collects them).
double predictServiceRuns(const RuntimeMemoryModel &m,
                          const RuntimeMemoryFeatures &features);

/// One measured session: its features and the resident-memory growth
/// after loading and after the first run.
struct MemorySample {
  RuntimeMemoryFeatures features;
  double afterLoadBytes = 0, afterRunBytes = 0, processBytes = 0;
  /// What a second session of the model added (what a session keeps);
  /// empty where not measured. A reading may be negative: resident-memory
  /// counters are approximate on some kernels, and a second session's load
  /// can return heap pages the first one left, so a session that keeps a
  /// few kilobytes can read as less than nothing.
  std::optional<double> retainedBytes;
  /// The most the process held while the session loaded (VmHWM growth);
  /// empty where not measured.
  std::optional<double> loadPeakBytes;
};

/// Fits the model to the samples by least squares on relative errors,
/// coefficients kept non-negative. Needs at least 6 samples.
llvm::Expected<RuntimeMemoryModel>
fitRuntimeMemory(llvm::ArrayRef<MemorySample> samples);

/// One measured session creation: the model's features and the seconds.
struct LoadSample {
  SessionLoadFeatures features;
  /// The creation's seconds; what its first run took beyond a steady run
  /// (-1: not measured).
  double seconds = 0, firstRunExtraSeconds = -1;
};
/// The features of a model's session creation: its weight symbols' bytes
/// (under and from kLargeWeightBytes) and count, and its nodes.
SessionLoadFeatures sessionLoadFeatures(mlir::func::FuncOp func);
/// The same from the weight uses getWeightUses found.
SessionLoadFeatures
sessionLoadFeatures(mlir::func::FuncOp func,
                    const std::map<std::string, WeightUse> &uses);
/// Fits SessionLoadModel by least squares on relative errors, coefficients
/// kept non-negative.
SessionLoadModel fitSessionLoad(llvm::ArrayRef<LoadSample> samples);

} // namespace chorus

#endif // CHORUS_TARGET_RUNTIMEMEMORY_H
