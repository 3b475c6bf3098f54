//===- OnDemand.h - A resident set and models loaded on demand -*- C++ -*-===//
//
// When the models do not all fit, some stay loaded (the resident set) and
// the rest are loaded when a request needs them, into one slot: the
// session there is released first. Given each model's request rate, the
// planner simulates a request stream (Poisson arrivals, one session
// running at a time, first come first served) for every resident set that
// fits the memory limit, with each model's predicted run time and the
// target's predicted session creation time (session_load), and chooses
// the set with the least mean latency (or plans the one the user gives).
// docs/PlanFormat.md, "on_demand".
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ADVISOR_ONDEMAND_H
#define CHORUS_ADVISOR_ONDEMAND_H

#include "chorus/Advisor/Advisor.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chorus {

struct OnDemandCandidate {
  /// Per model of the plan: whether it stays loaded.
  std::vector<bool> resident;
  /// The most the process holds (each session its own weights): the
  /// resident sessions, then every other model as it passes through the
  /// slot (a released session's bytes stay in the heap), the largest last
  /// at its load's peak.
  uint64_t peakBytes = 0;
  bool feasible = false;
  double meanLatency = 0, loadsPerSecond = 0;
  /// Per model: the mean latency of its requests.
  std::vector<double> modelLatency;
};

/// One simulated request: arrival, start, end, its model, and whether
/// its model was loaded for it (the load runs from start).
struct OnDemandRequest {
  double arrival = 0, start = 0, end = 0;
  unsigned model = 0;
  bool loaded = false;
};

struct OnDemandPlan {
  /// The models (indices into the workload's models) with their rates
  /// (requests per second), predicted run and session creation seconds.
  std::vector<unsigned> models;
  std::vector<double> rates, runSeconds, loadSeconds;
  /// Every resident set, in the order of the bit masks (model i resident
  /// in candidate c when bit i of c is set).
  std::vector<OnDemandCandidate> candidates;
  /// The chosen candidate; -1 when none fits.
  int chosen = -1;
  /// Whether the chosen set was given (--keep-loaded) rather than chosen.
  bool given = false;
  /// The simulated stream under the chosen candidate (or, with none, under
  /// the empty resident set).
  std::vector<OnDemandRequest> requests;
  uint64_t limitBytes = 0;
  /// The target's runtime fixes glibc's mmap threshold
  /// (RuntimeProfile::mallocMmapThreshold): a released session gives its
  /// bytes back, so the peak is the resident sessions and the largest
  /// model in the slot, not every model's bytes.
  bool fixedMmapThreshold = false;
};

struct OnDemandOptions {
  /// Requests per second by model name; every model needs one.
  std::map<std::string, double> rates;
  /// Simulated requests.
  unsigned requestCount = 2000;
  /// A resident set the user gives (--keep-loaded): planned, reported and
  /// simulated as chosen, whether or not it fits; unset, the planner
  /// chooses.
  std::optional<std::vector<std::string>> keepLoaded;
  uint64_t seed = 1;
};

/// Needs a target with runtime_memory and session_load.
llvm::Expected<OnDemandPlan> planOnDemand(const Workload &workload,
                                          const Target &target,
                                          const AdvisorOptions &options,
                                          const OnDemandOptions &onDemand);

void printOnDemand(llvm::raw_ostream &os, const Workload &workload,
                   const OnDemandPlan &plan);
llvm::json::Value onDemandToJSON(const Workload &workload,
                                 const OnDemandPlan &plan);
/// Chrome trace events of the chosen candidate's first requests (one
/// process, `pid`): loads and runs on one lane, arrivals as instants.
void appendOnDemandTrace(llvm::json::Array &events, int64_t pid,
                         const Workload &workload, const OnDemandPlan &plan,
                         unsigned maxRequests = 200);

} // namespace chorus

#endif // CHORUS_ADVISOR_ONDEMAND_H
