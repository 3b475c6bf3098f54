//===- ExactSearch.h - Exact offset assignment within a capacity -*- C++
//-*-===//
//
// A complete search for arena offsets, after MiniMalloc (Moffitt, ASPLOS
// 2023): given a capacity, it finds a plan whose arena fits, or proves
// that none exists, or gives up when its work budget is spent. Time is
// compressed to sections (the sets of buffers live just before some buffer
// ends), so its cost does not depend on the scale of the time values.
// Capacity minimization searches over capacities with it.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_PLAN_EXACTSEARCH_H
#define CHORUS_PLAN_EXACTSEARCH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

/// The pruning rules of the search; each can be turned off to measure what
/// it is worth (bench/memplan-generated.py). All are on by default, and
/// none changes the answer, only how much is searched to reach it.
struct ExactRules {
  /// Offsets never decrease along a search path (ties in a preorder), so
  /// each plan is built once.
  bool canonical = true;
  /// A buffer is not placed at or above the top another unplaced buffer
  /// would have at its lowest offset: that one could go below it first.
  bool dominance = true;
  /// Each section's floor is raised to the lowest offset any of its
  /// unplaced buffers can take, before the capacity check.
  bool floorInference = true;
  /// A placed buffer that no unplaced buffer meets in time ends the
  /// alternatives at its node: placing it later changes nothing.
  bool hatless = true;
  /// When no unplaced buffer crosses a time boundary, the two sides are
  /// solved apart.
  bool decomposition = true;
};

/// The rule names, in ExactRules' order.
const std::vector<std::string> &listExactRules();

/// Turns off the named rules in `rules`; fails on an unknown name.
llvm::Error disableExactRules(llvm::ArrayRef<std::string> names,
                              ExactRules &rules);

/// The problem in the search's form: sizes already aligned.
struct ExactProblem {
  std::vector<int64_t> lower, upper;
  std::vector<uint64_t> size;
};

struct ExactSearchOptions {
  ExactRules rules;
  /// Work budget, in buffers visited (deterministic, unlike a time limit).
  uint64_t workBudget = 100'000'000;
};

enum class ExactOutcome {
  /// A plan within the capacity: `offsets` holds it.
  Found,
  /// The search finished: no plan fits in the capacity.
  Infeasible,
  /// The budget ran out first.
  GaveUp,
};

struct ExactSearchResult {
  ExactOutcome outcome = ExactOutcome::GaveUp;
  /// One offset per buffer of the problem, when Found.
  std::vector<uint64_t> offsets;
  /// Highest offset + size of the plan, when Found.
  uint64_t arena = 0;
  /// Search nodes visited (one per buffer placed on a path).
  uint64_t nodes = 0;
  /// Work done, in the budget's unit.
  uint64_t work = 0;
};

/// The decision form: is there a plan with every buffer below `capacity`?
ExactSearchResult searchWithinCapacity(const ExactProblem &problem,
                                       uint64_t capacity,
                                       const ExactSearchOptions &options);

/// The optimization form, between what is known: no arena is below
/// `lowerBound`, and one of `upperBound` bytes exists. Searches capacities
/// (the bound first, then by bisection, every capacity a multiple of
/// `alignment`) until the smallest is found or the budget is spent.
struct ExactMinimizeResult {
  /// The best plan found below `upperBound`; empty when none was.
  std::vector<uint64_t> offsets;
  uint64_t arena = 0;
  /// No plan is smaller than this: the lower bound, or one more than the
  /// largest capacity proved infeasible.
  uint64_t provedBound = 0;
  uint64_t nodes = 0;
  uint64_t work = 0;
  /// Capacities tried, with their outcomes, in order.
  std::vector<std::pair<uint64_t, ExactOutcome>> steps;
};

ExactMinimizeResult minimizeArena(const ExactProblem &problem,
                                  uint64_t lowerBound, uint64_t upperBound,
                                  uint64_t alignment,
                                  const ExactSearchOptions &options);

} // namespace chorus

#endif // CHORUS_PLAN_EXACTSEARCH_H
