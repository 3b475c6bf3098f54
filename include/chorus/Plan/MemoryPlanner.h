//===- MemoryPlanner.h - Arena offsets for live intervals -------*- C++ -*-===//
//
// Several algorithms behind one entry point; the best plan found is kept.
// Constructive planners place buffers one at a time in an order (greedy by
// size as TFLite does, by breadth, by area) at the lowest or the tightest
// free gap; an exact search solves small instances; an improvement phase
// searches over placement orders near the peak. Every budget is counted in
// work done, not seconds, so the same input always gives the same plan.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_PLAN_MEMORYPLANNER_H
#define CHORUS_PLAN_MEMORYPLANNER_H

#include "chorus/Plan/ExactSearch.h"
#include "chorus/Plan/IntervalProblem.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chorus {

struct PlannerOptions {
  /// Every offset is a multiple of this; sizes are rounded up to it.
  uint64_t alignment = 64;
  /// Algorithms to run (names from listPlannerAlgorithms()); empty: all.
  std::vector<std::string> algorithms;
  /// Work budget of the search phases, in units of about one buffer or
  /// neighbour visited (deterministic, unlike a time limit): the exact
  /// search may spend all of it, the improvement phase 30%. Zero turns
  /// both off.
  uint64_t searchBudget = 1'000'000'000;
  /// The exact search's pruning rules (all on; off only to measure them).
  ExactRules exactRules;
  /// The decision form: find a plan within this many bytes, or prove that
  /// none exists (MemoryPlan::verdict), instead of the smallest arena.
  std::optional<uint64_t> capacity;
};

/// The answer to the decision form (PlannerOptions::capacity).
enum class CapacityVerdict {
  /// The plan fits in the capacity.
  Fits,
  /// Proved: no plan fits (the lower bound exceeds it, or the exact search
  /// finished without finding one).
  Infeasible,
  /// The search budget ran out first.
  Undecided,
};

/// What one algorithm reached.
struct PlannerRun {
  std::string algorithm;
  uint64_t arenaBytes = 0;
  double seconds = 0;
};

struct MemoryPlan {
  /// One offset per buffer, in the problem's order.
  std::vector<uint64_t> offsets;
  /// Highest offset + size (sizes rounded up to the alignment).
  uint64_t arenaBytes = 0;
  /// Maximum live bytes over time (computeLowerBound).
  uint64_t lowerBound = 0;
  /// No plan is smaller: the lower bound, or above it where the exact
  /// search proved every smaller capacity infeasible.
  uint64_t provedBound = 0;
  /// Nodes the exact search visited (0 when it did not run).
  uint64_t exactNodes = 0;
  /// Work the exact search did, in the search budget's unit.
  uint64_t exactWork = 0;
  /// With PlannerOptions::capacity: whether the plan fits. When it does not,
  /// the plan is still the best one found.
  std::optional<CapacityVerdict> verdict;
  /// The algorithm whose plan this is.
  std::string algorithm;
  /// Every algorithm run, in order.
  std::vector<PlannerRun> runs;
  /// Whether the arena is known to be optimal (it equals the bound).
  bool atLowerBound() const { return arenaBytes == lowerBound; }
  /// Whether the arena is proved optimal (at the bound or the proved one).
  bool optimal() const { return arenaBytes <= provedBound; }
  /// arenaBytes / lowerBound (1 for an empty problem).
  double ratio() const;
  /// Bytes of the arena never used at the peak: 1 - lowerBound / arena.
  double fragmentation() const;
};

/// The algorithm names, in the order they run.
const std::vector<std::string> &listPlannerAlgorithms();

/// Plans `problem`. Every plan is checked by the independent plan verifier
/// before it is returned. Fails on bad options (an unknown algorithm name,
/// a zero alignment) and on a plan the verifier rejects (a planner bug).
llvm::Expected<MemoryPlan> planMemory(const IntervalProblem &problem,
                                      const PlannerOptions &options);

} // namespace chorus

#endif // CHORUS_PLAN_MEMORYPLANNER_H
