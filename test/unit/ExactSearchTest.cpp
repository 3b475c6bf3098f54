//===- ExactSearchTest.cpp - The exact memory search and its rules --------===//

#include "chorus/Plan/ExactSearch.h"
#include "chorus/Plan/IntervalProblem.h"
#include "chorus/Plan/MemoryPlanner.h"
#include "chorus/Plan/PlanVerifier.h"

#include "gtest/gtest.h"

#include <functional>

using namespace chorus;

namespace {

/// A tiny deterministic generator (an LCG), the same draws everywhere.
struct Lcg {
  uint64_t x;
  uint64_t next(uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  }
};

IntervalProblem toInterval(const ExactProblem &p) {
  IntervalProblem q;
  for (size_t i = 0; i < p.size.size(); ++i)
    q.buffers.push_back({std::to_string(i), p.lower[i], p.upper[i], p.size[i]});
  return q;
}

/// Every subset of the rules, all on first.
std::vector<ExactRules> everyRuleSubset() {
  std::vector<ExactRules> all;
  for (unsigned mask = 0; mask < 32; ++mask) {
    ExactRules r;
    r.canonical = !(mask & 1);
    r.dominance = !(mask & 2);
    r.floorInference = !(mask & 4);
    r.hatless = !(mask & 8);
    r.decomposition = !(mask & 16);
    all.push_back(r);
  }
  return all;
}

/// The smallest arena by trying every offset of every buffer: the ground
/// truth for small problems.
uint64_t bruteForceOptimum(const ExactProblem &p, uint64_t from) {
  size_t n = p.size.size();
  for (uint64_t capacity = from;; ++capacity) {
    std::vector<uint64_t> offsets(n);
    std::function<bool(size_t)> place = [&](size_t i) {
      if (i == n)
        return true;
      for (uint64_t o = 0; o + p.size[i] <= capacity; ++o) {
        bool ok = true;
        for (size_t j = 0; j < i && ok; ++j)
          ok = !(p.lower[i] < p.upper[j] && p.lower[j] < p.upper[i]) ||
               o + p.size[i] <= offsets[j] || offsets[j] + p.size[j] <= o;
        if (!ok)
          continue;
        offsets[i] = o;
        if (place(i + 1))
          return true;
      }
      return false;
    };
    if (place(0))
      return capacity;
  }
}

/// MiniMalloc's "tricky" instance: 4 bytes live at most, but no plan fits
/// in 4 (its optimum is 5).
ExactProblem tricky() {
  return {{0, 0, 4, 2, 1, 3, 1}, {1, 3, 5, 5, 2, 4, 4}, {3, 1, 3, 1, 2, 2, 1}};
}

TEST(ExactSearch, ProvesTheTrickyInstanceInfeasibleUnderEveryRuleSubset) {
  ExactProblem p = tricky();
  for (const ExactRules &rules : everyRuleSubset()) {
    ExactSearchOptions options;
    options.rules = rules;
    ExactSearchResult four = searchWithinCapacity(p, 4, options);
    EXPECT_EQ(four.outcome, ExactOutcome::Infeasible);
    EXPECT_GT(four.nodes, 0u);
    ExactSearchResult five = searchWithinCapacity(p, 5, options);
    ASSERT_EQ(five.outcome, ExactOutcome::Found);
    EXPECT_LE(five.arena, 5u);
    EXPECT_TRUE(verifyPlan(toInterval(p), five.offsets, 1, 5).empty());
  }
}

TEST(ExactSearch, FindsTheBruteForceOptimumOnRandomProblems) {
  Lcg rng{7};
  int aboveTheBound = 0;
  for (int trial = 0; trial < 60; ++trial) {
    ExactProblem p;
    size_t n = 4 + rng.next(4);
    for (size_t i = 0; i < n; ++i) {
      int64_t lo = rng.next(5);
      p.lower.push_back(lo);
      p.upper.push_back(lo + 1 + rng.next(4));
      p.size.push_back(1 + rng.next(4));
    }
    if (trial == 0)
      p = tricky();
    uint64_t bound = computeLowerBound(toInterval(p));
    uint64_t optimum = bruteForceOptimum(p, bound);
    aboveTheBound += optimum > bound;
    for (const ExactRules &rules : everyRuleSubset()) {
      ExactSearchOptions options;
      options.rules = rules;
      uint64_t stacked = 0;
      for (uint64_t s : p.size)
        stacked += s;
      ExactMinimizeResult r =
          minimizeArena(p, bound, stacked + 1, /*alignment=*/1, options);
      ASSERT_FALSE(r.offsets.empty()) << "trial " << trial;
      EXPECT_EQ(r.arena, optimum) << "trial " << trial;
      EXPECT_EQ(r.provedBound, optimum) << "trial " << trial;
      EXPECT_TRUE(verifyPlan(toInterval(p), r.offsets, 1, r.arena).empty());
    }
  }
  // The draw must hold problems where the proof of infeasibility matters.
  EXPECT_GE(aboveTheBound, 1);
}

/// A perfect packing: a side x side rectangle of time x address cut into
/// pieces; the live buffers always fill the address range, so the bound
/// is `side` and a plan there exists.
ExactProblem perfectPacking(size_t pieces, uint64_t seed) {
  const int64_t side = 1024;
  struct Rect {
    int64_t t0, t1, a0, a1;
  };
  std::vector<Rect> rects = {{0, side, 0, side}};
  Lcg rng{seed};
  while (rects.size() < pieces) {
    size_t i = rng.next(rects.size());
    Rect r = rects[i];
    if (rng.next(2) && r.a1 - r.a0 >= 32) {
      int64_t cut = r.a0 + 16 * (1 + rng.next((r.a1 - r.a0) / 16 - 1));
      rects[i].a1 = cut;
      rects.push_back({r.t0, r.t1, cut, r.a1});
    } else if (r.t1 - r.t0 >= 32) {
      int64_t cut = r.t0 + 16 * (1 + rng.next((r.t1 - r.t0) / 16 - 1));
      rects[i].t1 = cut;
      rects.push_back({cut, r.t1, r.a0, r.a1});
    }
  }
  ExactProblem p;
  for (const Rect &r : rects) {
    p.lower.push_back(r.t0);
    p.upper.push_back(r.t1);
    p.size.push_back(r.a1 - r.a0);
  }
  return p;
}

TEST(ExactSearch, SolvesAPerfectPackingAtItsBound) {
  ExactProblem p = perfectPacking(60, 3);
  ASSERT_EQ(computeLowerBound(toInterval(p)), 1024u);
  ExactSearchResult r = searchWithinCapacity(p, 1024, ExactSearchOptions());
  ASSERT_EQ(r.outcome, ExactOutcome::Found);
  EXPECT_EQ(r.arena, 1024u);
  EXPECT_TRUE(verifyPlan(toInterval(p), r.offsets, 1, 1024).empty());
}

TEST(ExactSearch, CostDoesNotDependOnTheTimeScale) {
  ExactProblem p = perfectPacking(60, 3);
  ExactProblem stretched = p;
  for (size_t i = 0; i < p.size.size(); ++i) {
    stretched.lower[i] = p.lower[i] * 1'000'000'000 + 5;
    stretched.upper[i] = p.upper[i] * 1'000'000'000 + 5;
  }
  ExactSearchResult a = searchWithinCapacity(p, 1024, ExactSearchOptions());
  ExactSearchResult b =
      searchWithinCapacity(stretched, 1024, ExactSearchOptions());
  ASSERT_EQ(a.outcome, ExactOutcome::Found);
  ASSERT_EQ(b.outcome, ExactOutcome::Found);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(a.work, b.work);
  EXPECT_EQ(a.offsets, b.offsets);
}

TEST(ExactSearch, GivesUpWhenTheBudgetIsSpent) {
  ExactSearchOptions options;
  options.workBudget = 10;
  ExactSearchResult r = searchWithinCapacity(tricky(), 4, options);
  EXPECT_EQ(r.outcome, ExactOutcome::GaveUp);
}

TEST(ExactSearch, RuleNamesAreChecked) {
  ExactRules rules;
  ASSERT_FALSE(static_cast<bool>(
      disableExactRules({"hatless", "floor-inference"}, rules)));
  EXPECT_FALSE(rules.hatless);
  EXPECT_FALSE(rules.floorInference);
  EXPECT_TRUE(rules.dominance);
  llvm::Error err = disableExactRules({"gravity"}, rules);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_EQ(llvm::toString(std::move(err)),
            "unknown search rule 'gravity' (known: canonical, dominance, "
            "floor-inference, hatless, decomposition)");
}

TEST(MemoryPlanner, DecidesACapacity) {
  IntervalProblem p = toInterval(tricky());
  PlannerOptions options;
  options.alignment = 1;
  auto verdict = [&](uint64_t capacity) {
    options.capacity = capacity;
    llvm::Expected<MemoryPlan> plan = planMemory(p, options);
    EXPECT_TRUE(static_cast<bool>(plan));
    return *plan->verdict;
  };
  EXPECT_EQ(verdict(6), CapacityVerdict::Fits);
  EXPECT_EQ(verdict(5), CapacityVerdict::Fits);
  EXPECT_EQ(verdict(4), CapacityVerdict::Infeasible);
  EXPECT_EQ(verdict(3), CapacityVerdict::Infeasible);
  options.searchBudget = 10;
  EXPECT_EQ(verdict(4), CapacityVerdict::Undecided);
}

TEST(MemoryPlanner, ProvesTheOptimumAboveTheBound) {
  PlannerOptions options;
  options.alignment = 1;
  llvm::Expected<MemoryPlan> plan = planMemory(toInterval(tricky()), options);
  ASSERT_TRUE(static_cast<bool>(plan));
  EXPECT_EQ(plan->lowerBound, 4u);
  EXPECT_EQ(plan->arenaBytes, 5u);
  EXPECT_EQ(plan->provedBound, 5u);
  EXPECT_TRUE(plan->optimal());
  EXPECT_FALSE(plan->atLowerBound());
}

TEST(MemoryPlanner, ThreadedConstructivesAreDeterministic) {
  // Large enough for the constructive planners to run on threads.
  IntervalProblem p;
  Lcg rng{99};
  for (int i = 0; i < 4000; ++i) {
    int64_t lo = rng.next(3000);
    p.buffers.push_back({std::to_string(i), lo,
                         lo + 1 + static_cast<int64_t>(rng.next(60)),
                         1 + rng.next(100000)});
  }
  PlannerOptions options;
  options.alignment = 64;
  options.searchBudget = 0;
  llvm::Expected<MemoryPlan> a = planMemory(p, options);
  llvm::Expected<MemoryPlan> b = planMemory(p, options);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->offsets, b->offsets);
  EXPECT_EQ(a->algorithm, b->algorithm);
  ASSERT_EQ(a->runs.size(), b->runs.size());
  for (size_t i = 0; i < a->runs.size(); ++i) {
    EXPECT_EQ(a->runs[i].algorithm, b->runs[i].algorithm);
    EXPECT_EQ(a->runs[i].arenaBytes, b->runs[i].arenaBytes);
  }
  EXPECT_TRUE(verifyPlan(p, a->offsets, 64, a->arenaBytes).empty());
}

} // namespace
