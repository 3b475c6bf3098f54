//===- Simulator.cpp - Discrete-event simulation of kernels sharing a device //

#include "chorus/Plan/Simulator.h"

#include <algorithm>
#include <limits>

using namespace chorus;

double DeviceSharing::speedup(unsigned k) const {
  if (k == 0)
    return 0;
  int64_t used = std::min<int64_t>(k, std::max<int64_t>(units, 1));
  return 1 + gain * static_cast<double>(used - 1);
}

SimResult chorus::simulate(llvm::ArrayRef<SimJob> jobs,
                           const DeviceSharing &device) {
  SimResult result;
  result.jobStart.assign(jobs.size(), 0);
  result.jobEnd.assign(jobs.size(), 0);
  // Each lane's queue of jobs, in the order given.
  unsigned lanes = 0;
  for (const SimJob &j : jobs)
    lanes = std::max(lanes, j.lane + 1);
  std::vector<std::vector<unsigned>> queue(lanes);
  for (unsigned i = 0; i < jobs.size(); ++i)
    queue[jobs[i].lane].push_back(i);

  // What each lane runs now: a position (job in queue, kernel) and the
  // remaining overhead and work of that kernel.
  struct LaneState {
    size_t queued = 0;
    unsigned kernel = 0;
    bool busy = false;
    double overhead = 0, work = 0, start = 0, slowdown = 0;
  };
  std::vector<LaneState> state(lanes);
  double now = 0;

  // Starts the next kernel of `lane`, skipping jobs without kernels.
  auto startNext = [&](unsigned lane) {
    LaneState &s = state[lane];
    while (s.queued < queue[lane].size()) {
      unsigned job = queue[lane][s.queued];
      if (s.kernel == 0)
        result.jobStart[job] = now;
      if (s.kernel < jobs[job].kernels.size()) {
        const SimKernel &k = jobs[job].kernels[s.kernel];
        s.busy = true;
        s.overhead = std::max(0.0, k.overheadSeconds);
        s.work = std::max(0.0, k.workSeconds);
        s.slowdown = std::max(0.0, k.coRunSlowdown);
        s.start = now;
        return;
      }
      result.jobEnd[job] = now;
      ++s.queued;
      s.kernel = 0;
    }
    s.busy = false;
  };
  for (unsigned lane = 0; lane < lanes; ++lane)
    startNext(lane);

  constexpr double kEpsilon = 1e-15;
  while (true) {
    unsigned working = 0, busy = 0;
    for (const LaneState &s : state)
      if (s.busy) {
        ++busy;
        if (s.overhead <= kEpsilon)
          ++working;
      }
    if (busy == 0)
      break;
    // With more busy lanes than units, every lane gets an even share of
    // the units; within that, working kernels share by the gain.
    double share = std::min(
        1.0, static_cast<double>(std::max<int64_t>(device.units, 1)) / busy);
    double overheadRate = share;
    double rate =
        working ? std::min(share, device.speedup(working) / working) : 0;
    // Each working lane's rate: the shared one, or its kernel's own.
    int64_t competing =
        std::min<int64_t>(working, std::max<int64_t>(device.units, 1)) - 1;
    auto rateOf = [&](const LaneState &s) {
      return device.perKernel
                 ? share / (1 + s.slowdown * static_cast<double>(competing))
                 : rate;
    };
    // The next phase to end: an overhead or a work phase.
    double step = std::numeric_limits<double>::infinity();
    for (const LaneState &s : state) {
      if (!s.busy)
        continue;
      if (s.overhead > kEpsilon)
        step = std::min(step, s.overhead / overheadRate);
      else
        step = std::min(step, rateOf(s) > 0 ? s.work / rateOf(s) : 0.0);
    }
    now += step;
    for (unsigned lane = 0; lane < lanes; ++lane) {
      LaneState &s = state[lane];
      if (!s.busy)
        continue;
      if (s.overhead > kEpsilon) {
        s.overhead -= step * overheadRate;
        continue;
      }
      s.work -= step * rateOf(s);
    }
    // Kernels done at this instant, in lane order.
    for (unsigned lane = 0; lane < lanes; ++lane) {
      LaneState &s = state[lane];
      if (!s.busy || s.overhead > kEpsilon || s.work > 1e-12)
        continue;
      unsigned job = queue[lane][s.queued];
      result.spans.push_back({job, s.kernel, lane, s.start, now});
      ++s.kernel;
      startNext(lane);
    }
  }
  std::stable_sort(result.spans.begin(), result.spans.end(),
                   [](const SimSpan &a, const SimSpan &b) {
                     if (a.start != b.start)
                       return a.start < b.start;
                     if (a.job != b.job)
                       return a.job < b.job;
                     return a.kernel < b.kernel;
                   });
  for (double end : result.jobEnd)
    result.makespan = std::max(result.makespan, end);
  return result;
}
