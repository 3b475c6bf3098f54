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

#include "chorus/Plan/IntervalProblem.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

struct PlannerOptions {
  /// Every offset is a multiple of this; sizes are rounded up to it.
  uint64_t alignment = 64;
  /// Algorithms to run (names from listPlannerAlgorithms()); empty: all.
  std::vector<std::string> algorithms;
  /// Work budget of the improvement phase and the exact search, in units
  /// of about one neighbour visit (deterministic, unlike a time limit).
  /// Zero turns both off.
  uint64_t searchBudget = 300'000'000;
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
  /// The algorithm whose plan this is.
  std::string algorithm;
  /// Every algorithm run, in order.
  std::vector<PlannerRun> runs;
  /// Whether the arena is known to be optimal (it equals the bound).
  bool atLowerBound() const { return arenaBytes == lowerBound; }
  /// arenaBytes / lowerBound (1 for an empty problem).
  double ratio() const;
  /// Bytes of the arena never used at the peak: 1 - lowerBound / arena.
  double fragmentation() const;
};

/// The algorithm names, in the order they run.
const std::vector<std::string> &listPlannerAlgorithms();

/// Plans `problem`. Fails only on bad options (an unknown algorithm name,
/// a zero alignment).
llvm::Expected<MemoryPlan> planMemory(const IntervalProblem &problem,
                                      const PlannerOptions &options);

} // namespace chorus

#endif // CHORUS_PLAN_MEMORYPLANNER_H
