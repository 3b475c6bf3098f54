//===- MemoryPlanner.cpp - Arena offsets for live intervals ---------------===//

#include "chorus/Plan/MemoryPlanner.h"
#include "chorus/Plan/ExactSearch.h"
#include "chorus/Plan/PlanVerifier.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <thread>

using namespace chorus;

double MemoryPlan::ratio() const {
  return lowerBound == 0 ? 1.0 : static_cast<double>(arenaBytes) / lowerBound;
}

double MemoryPlan::fragmentation() const {
  return arenaBytes == 0 ? 0.0
                         : 1.0 - static_cast<double>(lowerBound) / arenaBytes;
}

/// Problems with fewer buffers than this run their constructive planners
/// on one thread.
static constexpr size_t kParallelBuffers = 2000;

namespace {

/// The problem in the planners' form: aligned sizes and, for each buffer,
/// the buffers live at the same time (compressed adjacency).
struct Prepared {
  size_t n = 0;
  std::vector<int64_t> lower, upper;
  std::vector<uint64_t> size;
  std::vector<size_t> adjStart;
  std::vector<uint32_t> adj;

  Prepared(const IntervalProblem &problem, uint64_t alignment) {
    n = problem.buffers.size();
    lower.resize(n);
    upper.resize(n);
    size.resize(n);
    span.resize(n);
    for (size_t i = 0; i < n; ++i) {
      span[i] = {problem.buffers[i].lower, problem.buffers[i].upper};
      lower[i] = problem.buffers[i].lower;
      upper[i] = problem.buffers[i].upper;
      size[i] = alignUp(problem.buffers[i].size, alignment);
    }
    // A placement visits each placed neighbour once and sorts them (about
    // E log E work over all buffers) with adjacency lists, or scans every
    // placed buffer in offset order (n^2 / 2, no sort, no lists). Dense
    // traces, where every buffer meets thousands of others, take the scan.
    uint64_t edges = countOverlaps();
    double n2 = 0.5 * static_cast<double>(n) * n;
    useAdjacency = 8.0 * edges < n2;
    // A move of the improvement phase re-places the order's suffix from a
    // random position: about a third of a whole placement.
    moveWork = (useAdjacency ? 2.0 * edges : n2) / 3;
    if (useAdjacency)
      buildAdjacency();
  }

  bool overlap(size_t a, size_t b) const {
    return span[a].first < span[b].second && span[b].first < span[a].second;
  }

  /// (lower, upper) of each buffer side by side: the scan reads both.
  std::vector<std::pair<int64_t, int64_t>> span;

  bool useAdjacency = false;
  /// Expected work of one improvement move.
  double moveWork = 0;

  ExactProblem exactProblem() const { return {lower, upper, size}; }

  llvm::ArrayRef<uint32_t> neighbours(size_t i) const {
    return llvm::ArrayRef<uint32_t>(adj.data() + adjStart[i],
                                    adj.data() + adjStart[i + 1]);
  }

private:
  /// Directed count of pairs live at the same time, from sorted bounds.
  uint64_t countOverlaps() const {
    std::vector<int64_t> lows, ups;
    for (size_t i = 0; i < n; ++i)
      if (size[i] != 0) {
        lows.push_back(lower[i]);
        ups.push_back(upper[i]);
      }
    std::sort(lows.begin(), lows.end());
    std::sort(ups.begin(), ups.end());
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      if (size[i] == 0)
        continue;
      size_t startedBefore =
          std::lower_bound(lows.begin(), lows.end(), upper[i]) - lows.begin();
      size_t endedBefore =
          std::upper_bound(ups.begin(), ups.end(), lower[i]) - ups.begin();
      total += startedBefore - endedBefore - 1;
    }
    return total;
  }

  /// A sweep over time: a buffer that starts overlaps exactly the buffers
  /// live at that moment (ends first: intervals are half-open). Two passes,
  /// counting then filling.
  void buildAdjacency() {
    std::vector<std::pair<int64_t, int64_t>> events;
    events.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
      if (size[i] == 0)
        continue;
      events.push_back({lower[i], static_cast<int64_t>(i) + 1});
      events.push_back({upper[i], -(static_cast<int64_t>(i) + 1)});
    }
    std::sort(events.begin(), events.end());
    std::vector<size_t> degree(n, 0);
    auto sweep = [&](auto &&onEdge) {
      std::vector<uint32_t> active;
      std::vector<size_t> slot(n, 0);
      for (auto [time, signedIndex] : events) {
        if (signedIndex < 0) {
          size_t i = -signedIndex - 1;
          size_t s = slot[i];
          active[s] = active.back();
          slot[active[s]] = s;
          active.pop_back();
          continue;
        }
        uint32_t i = signedIndex - 1;
        for (uint32_t a : active)
          onEdge(i, a);
        slot[i] = active.size();
        active.push_back(i);
      }
    };
    sweep([&](uint32_t i, uint32_t a) {
      ++degree[i];
      ++degree[a];
    });
    adjStart.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i)
      adjStart[i + 1] = adjStart[i] + degree[i];
    adj.resize(adjStart[n]);
    std::vector<size_t> fill(adjStart.begin(), adjStart.end() - 1);
    sweep([&](uint32_t i, uint32_t a) {
      adj[fill[i]++] = a;
      adj[fill[a]++] = i;
    });
  }
};

/// Where a buffer goes among the free gaps below and between the placed
/// buffers it meets: the lowest gap that fits, or the smallest one.
enum class GapRule { Lowest, Tightest };

/// Places buffers in a given order, each at a gap chosen by the rule among
/// the buffers already placed that live at the same time.
class OrderPlacer {
public:
  OrderPlacer(const Prepared &p, GapRule rule)
      : offsets(p.n, 0), p(p), rule(rule), position(p.n, 0) {}

  /// Places order[from..] assuming order[..from) is placed; returns the
  /// arena size. `work` accumulates buffers visited.
  uint64_t place(const std::vector<uint32_t> &order, size_t from,
                 uint64_t &work) {
    for (size_t k = 0; k < order.size(); ++k)
      position[order[k]] = k;
    if (!p.useAdjacency) {
      byOffset.assign(order.begin(), order.begin() + from);
      std::sort(byOffset.begin(), byOffset.end(), [&](uint32_t a, uint32_t b) {
        return std::make_pair(offsets[a], a) < std::make_pair(offsets[b], b);
      });
    }
    for (size_t k = from; k < order.size(); ++k) {
      uint32_t b = order[k];
      offsets[b] =
          p.useAdjacency ? placeByNeighbours(b, k, work) : placeByScan(b, work);
    }
    return arena();
  }

  uint64_t arena() const {
    uint64_t top = 0;
    for (size_t i = 0; i < p.n; ++i)
      top = std::max(top, offsets[i] + p.size[i]);
    return top;
  }

  std::vector<uint64_t> offsets;

private:
  /// Chooses among the free gaps of `busy` ranges, visited by offset.
  class GapChooser {
  public:
    GapChooser(uint64_t size, GapRule rule) : size(size), rule(rule) {}
    /// Returns true when the choice is final.
    bool visit(uint64_t begin, uint64_t end) {
      if (begin >= cursor + size) {
        if (rule == GapRule::Lowest) {
          best = cursor;
          return true;
        }
        uint64_t gap = begin - cursor;
        if (gap < bestGap) {
          bestGap = gap;
          best = cursor;
        }
      }
      cursor = std::max(cursor, end);
      return false;
    }
    uint64_t result() const { return best != UINT64_MAX ? best : cursor; }

  private:
    uint64_t size;
    GapRule rule;
    uint64_t cursor = 0, best = UINT64_MAX, bestGap = UINT64_MAX;
  };

  uint64_t placeByNeighbours(uint32_t b, size_t k, uint64_t &work) {
    if (p.size[b] == 0)
      return 0;
    busy.clear();
    llvm::ArrayRef<uint32_t> nbs = p.neighbours(b);
    work += nbs.size();
    for (uint32_t nb : nbs)
      if (position[nb] < k)
        busy.push_back({offsets[nb], offsets[nb] + p.size[nb]});
    std::sort(busy.begin(), busy.end());
    GapChooser chooser(p.size[b], rule);
    for (auto [begin, end] : busy)
      if (chooser.visit(begin, end))
        break;
    return chooser.result();
  }

  /// TFLite's way: scan every placed buffer in offset order, skipping those
  /// not live at the same time, then insert the new one into that order.
  uint64_t placeByScan(uint32_t b, uint64_t &work) {
    if (p.size[b] == 0)
      return 0;
    GapChooser chooser(p.size[b], rule);
    work += byOffset.size();
    for (uint32_t j : byOffset) {
      if (!p.overlap(b, j) || p.size[j] == 0)
        continue;
      if (chooser.visit(offsets[j], offsets[j] + p.size[j]))
        break;
    }
    uint64_t offset = chooser.result();
    auto at = std::lower_bound(
        byOffset.begin(), byOffset.end(), std::make_pair(offset, b),
        [&](uint32_t j, const std::pair<uint64_t, uint32_t> &key) {
          return std::make_pair(offsets[j], j) < key;
        });
    byOffset.insert(at, b);
    return offset;
  }

  const Prepared &p;
  GapRule rule;
  std::vector<size_t> position;
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  std::vector<uint32_t> byOffset;
};

/// A small deterministic generator (xorshift64*): the same seed, the same
/// search.
class Random {
public:
  explicit Random(uint64_t seed) : state(seed ? seed : 1) {}
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
  }
  size_t below(size_t n) { return n == 0 ? 0 : next() % n; }

private:
  uint64_t state;
};

struct Candidate {
  std::vector<uint32_t> order;
  std::vector<uint64_t> offsets;
  uint64_t arena = UINT64_MAX;
  GapRule rule = GapRule::Lowest;
};

using OrderKey = std::function<bool(uint32_t, uint32_t)>;

std::vector<uint32_t> makeOrder(const Prepared &p, const OrderKey &before) {
  std::vector<uint32_t> order(p.n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), before);
  return order;
}

struct Constructive {
  const char *name;
  GapRule rule;
  std::function<std::vector<uint32_t>(const Prepared &)> order;
};

/// Larger first; equal sizes in time order.
static bool bySizeThenStart(const Prepared &p, uint32_t a, uint32_t b) {
  if (p.size[a] != p.size[b])
    return p.size[a] > p.size[b];
  return p.lower[a] < p.lower[b];
}

/// Longer lifetimes in coarse bands first (`bands` equal slices of the
/// whole timeline), then larger first, then in time order: long-lived
/// buffers settle at the bottom, where they do not split the free space of
/// the short-lived ones stacked above.
static std::vector<uint32_t> byLifetimeBands(const Prepared &p, int bands) {
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  for (size_t i = 0; i < p.n; ++i) {
    t0 = std::min(t0, p.lower[i]);
    t1 = std::max(t1, p.upper[i]);
  }
  int64_t width = std::max<int64_t>(1, (t1 - t0) / bands);
  return makeOrder(p, [&](uint32_t a, uint32_t b) {
    int64_t ba = (p.upper[a] - p.lower[a]) / width;
    int64_t bb = (p.upper[b] - p.lower[b]) / width;
    if (ba != bb)
      return ba > bb;
    return bySizeThenStart(p, a, b);
  });
}

const std::vector<Constructive> &constructives() {
  static const std::vector<Constructive> list = {
      // TFLite's greedy by size: largest first (longer lifetime first among
      // equals), into the tightest gap.
      {"greedy-size", GapRule::Tightest,
       [](const Prepared &p) {
         return makeOrder(p, [&](uint32_t a, uint32_t b) {
           if (p.size[a] != p.size[b])
             return p.size[a] > p.size[b];
           int64_t la = p.upper[a] - p.lower[a], lb = p.upper[b] - p.lower[b];
           if (la != lb)
             return la > lb;
           return p.lower[a] < p.lower[b];
         });
       }},
      // Largest first, equal sizes in time order, at the lowest gap.
      {"greedy-size-lowest", GapRule::Lowest,
       [](const Prepared &p) {
         return makeOrder(p, [&](uint32_t a, uint32_t b) {
           return bySizeThenStart(p, a, b);
         });
       }},
      // Largest first, equal sizes in time order, into the tightest gap.
      {"greedy-size-start", GapRule::Tightest,
       [](const Prepared &p) {
         return makeOrder(p, [&](uint32_t a, uint32_t b) {
           return bySizeThenStart(p, a, b);
         });
       }},
      // Greedy by breadth: in time order, larger first at the same time.
      {"greedy-breadth", GapRule::Tightest,
       [](const Prepared &p) {
         return makeOrder(p, [&](uint32_t a, uint32_t b) {
           if (p.lower[a] != p.lower[b])
             return p.lower[a] < p.lower[b];
           return p.size[a] > p.size[b];
         });
       }},
      // Largest area (bytes x lifetime) first.
      {"greedy-area", GapRule::Lowest,
       [](const Prepared &p) {
         return makeOrder(p, [&](uint32_t a, uint32_t b) {
           long double aa = (long double)p.size[a] * (p.upper[a] - p.lower[a]);
           long double ab = (long double)p.size[b] * (p.upper[b] - p.lower[b]);
           if (aa != ab)
             return aa > ab;
           return p.size[a] > p.size[b];
         });
       }},
      // Longest lifetime first.
      {"greedy-length", GapRule::Lowest,
       [](const Prepared &p) {
         return makeOrder(p, [&](uint32_t a, uint32_t b) {
           int64_t la = p.upper[a] - p.lower[a], lb = p.upper[b] - p.lower[b];
           if (la != lb)
             return la > lb;
           return p.size[a] > p.size[b];
         });
       }},
      {"greedy-bands-2", GapRule::Tightest,
       [](const Prepared &p) { return byLifetimeBands(p, 2); }},
      {"greedy-bands-4", GapRule::Tightest,
       [](const Prepared &p) { return byLifetimeBands(p, 4); }},
      {"greedy-bands-8", GapRule::Tightest,
       [](const Prepared &p) { return byLifetimeBands(p, 8); }},
  };
  return list;
}

/// How far a plan is from the bound: the arena, then the bytes that stick
/// out above the bound summed over buffers (a gradient for the search where
/// the arena alone is flat).
struct Score {
  uint64_t arena = UINT64_MAX;
  uint64_t excess = UINT64_MAX;
  bool operator<=(const Score &o) const {
    return arena != o.arena ? arena < o.arena : excess <= o.excess;
  }
};

static Score score(const Prepared &p, const std::vector<uint64_t> &offsets,
                   uint64_t bound) {
  Score s{0, 0};
  for (size_t i = 0; i < p.n; ++i) {
    uint64_t top = offsets[i] + p.size[i];
    s.arena = std::max(s.arena, top);
    if (top > bound)
      s.excess += top - std::max(bound, offsets[i]);
  }
  return s;
}

/// Local search over placement orders: take a buffer that sticks out above
/// the bound and move it earlier in the order, re-placing everything after
/// its new position; keep the move when the score does not get worse.
/// Sideways moves let the search cross plateaus.
void improve(const Prepared &p, Candidate &best, uint64_t lowerBound,
             uint64_t budget) {
  if (best.arena <= lowerBound || p.n < 2)
    return;
  OrderPlacer placer(p, best.rule);
  std::vector<uint32_t> order = best.order;
  uint64_t work = 0;
  placer.place(order, 0, work);
  Score current = score(p, placer.offsets, lowerBound);
  Random random(0x9e3779b97f4a7c15ULL ^ p.n);
  std::vector<uint32_t> sticking;
  std::vector<uint64_t> savedOffsets;
  std::vector<size_t> position(p.n);
  std::vector<uint32_t> trial;
  while (work < budget && best.arena > lowerBound) {
    sticking.clear();
    for (size_t i = 0; i < p.n; ++i)
      if (placer.offsets[i] + p.size[i] > lowerBound)
        sticking.push_back(i);
    uint32_t c = sticking[random.below(sticking.size())];
    for (size_t k = 0; k < order.size(); ++k)
      position[order[k]] = k;
    size_t from = position[c];
    work += p.n;
    if (from == 0)
      continue;
    size_t to = random.below(from);
    trial = order;
    std::rotate(trial.begin() + to, trial.begin() + from,
                trial.begin() + from + 1);
    savedOffsets = placer.offsets;
    placer.place(trial, to, work);
    Score next = score(p, placer.offsets, lowerBound);
    if (next <= current) {
      order.swap(trial);
      current = next;
      if (next.arena < best.arena) {
        best.arena = next.arena;
        best.order = order;
        best.offsets = placer.offsets;
      }
    } else {
      placer.offsets.swap(savedOffsets);
    }
  }
}

/// Runs the selected constructive planners. They are independent, so on
/// large problems they run on worker threads; the result is the sequential
/// one all the same: the first to reach the bound ends the list, otherwise
/// the smallest arena wins, the earlier on ties.
void runConstructives(const Prepared &prepared,
                      llvm::function_ref<bool(llvm::StringRef)> selected,
                      MemoryPlan &plan, Candidate &best) {
  using Clock = std::chrono::steady_clock;
  std::vector<const Constructive *> chosen;
  for (const Constructive &c : constructives())
    if (selected(c.name))
      chosen.push_back(&c);
  struct Outcome {
    uint64_t arena = UINT64_MAX;
    std::vector<uint32_t> order;
    std::vector<uint64_t> offsets;
    double seconds = 0;
  };
  std::vector<Outcome> outcomes(chosen.size());
  std::atomic<size_t> next{0}, firstAtBound{SIZE_MAX};
  auto work = [&] {
    for (size_t i; (i = next++) < chosen.size();) {
      if (i > firstAtBound.load())
        continue;
      auto start = Clock::now();
      OrderPlacer placer(prepared, chosen[i]->rule);
      Outcome &out = outcomes[i];
      out.order = chosen[i]->order(prepared);
      uint64_t visited = 0;
      out.arena = placer.place(out.order, 0, visited);
      out.offsets = std::move(placer.offsets);
      out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (out.arena <= plan.lowerBound) {
        size_t seen = firstAtBound.load();
        while (i < seen && !firstAtBound.compare_exchange_weak(seen, i))
          ;
      }
    }
  };
  // Threads pay off only where placing takes long.
  unsigned threads =
      prepared.n < kParallelBuffers
          ? 1
          : std::min<unsigned>(
                chosen.size(),
                std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  for (size_t i = 0; i < chosen.size() && i <= firstAtBound.load(); ++i) {
    Outcome &out = outcomes[i];
    plan.runs.push_back({chosen[i]->name, out.arena, out.seconds});
    if (out.arena < best.arena) {
      best.arena = out.arena;
      best.order = std::move(out.order);
      best.offsets = std::move(out.offsets);
      best.rule = chosen[i]->rule;
      plan.algorithm = chosen[i]->name;
    }
  }
}

/// The decision form: the constructive plans first; when none fits, the
/// exact search at the capacity.
void decideCapacity(const Prepared &prepared, uint64_t capacity, bool exact,
                    bool planned, const PlannerOptions &options,
                    Candidate &best, MemoryPlan &plan) {
  // The fallback plan answers only when the search is not asked for.
  if (best.arena <= capacity && (planned || !exact)) {
    plan.verdict = CapacityVerdict::Fits;
    return;
  }
  if (plan.lowerBound > capacity) {
    plan.verdict = CapacityVerdict::Infeasible;
    return;
  }
  plan.verdict = CapacityVerdict::Undecided;
  if (!exact || options.searchBudget == 0)
    return;
  auto start = std::chrono::steady_clock::now();
  ExactSearchOptions search;
  search.rules = options.exactRules;
  search.workBudget = options.searchBudget;
  ExactSearchResult r =
      searchWithinCapacity(prepared.exactProblem(), capacity, search);
  plan.exactNodes = r.nodes;
  plan.exactWork = r.work;
  plan.runs.push_back(
      {"exact", r.outcome == ExactOutcome::Found ? r.arena : 0,
       std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
           .count()});
  if (r.outcome == ExactOutcome::Found) {
    plan.verdict = CapacityVerdict::Fits;
    best.arena = r.arena;
    best.offsets = std::move(r.offsets);
    plan.algorithm = "exact";
  } else if (r.outcome == ExactOutcome::Infeasible) {
    plan.verdict = CapacityVerdict::Infeasible;
    plan.provedBound = std::max(plan.provedBound, capacity + 1);
  }
}

} // namespace

const std::vector<std::string> &chorus::listPlannerAlgorithms() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const Constructive &c : constructives())
      list.push_back(c.name);
    list.push_back("exact");
    list.push_back("improve");
    return list;
  }();
  return names;
}

/// `plan`, once the independent verifier has accepted it: a plan that
/// fails is a planner bug, reported rather than used.
static llvm::Expected<MemoryPlan> verified(const IntervalProblem &problem,
                                           const PlannerOptions &options,
                                           MemoryPlan plan) {
  std::vector<std::string> problems =
      verifyPlan(problem, plan.offsets, options.alignment, plan.arenaBytes);
  if (problems.empty())
    return plan;
  std::string message =
      "the memory plan failed verification (a planner bug): " +
      problems.front();
  if (problems.size() > 1)
    message += " (and " + std::to_string(problems.size() - 1) + " more)";
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<MemoryPlan> chorus::planMemory(const IntervalProblem &problem,
                                              const PlannerOptions &options) {
  if (options.alignment == 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the alignment must be at least 1");
  const std::vector<std::string> &all = listPlannerAlgorithms();
  for (const std::string &name : options.algorithms)
    if (!llvm::is_contained(all, name))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "unknown planner algorithm '" + name +
                                         "' (known: " + llvm::join(all, ", ") +
                                         ")");
  auto selected = [&](llvm::StringRef name) {
    return options.algorithms.empty() ||
           llvm::is_contained(options.algorithms, name);
  };

  using Clock = std::chrono::steady_clock;
  MemoryPlan plan;
  plan.lowerBound = computeLowerBound(problem, options.alignment);
  plan.provedBound = plan.lowerBound;
  Prepared prepared(problem, options.alignment);
  Candidate best;
  runConstructives(prepared, selected, plan, best);
  // Whether a selected planner gave the plan so far (not the fallback).
  bool planned = best.arena != UINT64_MAX;
  if (best.arena == UINT64_MAX) {
    // Only the search phases were asked for: start from greedy by size.
    const Constructive &c = constructives().front();
    OrderPlacer placer(prepared, c.rule);
    best.order = c.order(prepared);
    uint64_t work = 0;
    best.arena = placer.place(best.order, 0, work);
    best.offsets = std::move(placer.offsets);
    best.rule = c.rule;
    plan.algorithm = c.name;
  }
  if (options.capacity) {
    decideCapacity(prepared, *options.capacity, selected("exact"), planned,
                   options, best, plan);
    plan.offsets = std::move(best.offsets);
    plan.arenaBytes = problem.buffers.empty() ? 0 : best.arena;
    return verified(problem, options, std::move(plan));
  }
  if (selected("exact") && options.searchBudget > 0 &&
      best.arena > plan.lowerBound) {
    auto start = Clock::now();
    ExactSearchOptions exact;
    exact.rules = options.exactRules;
    exact.workBudget = options.searchBudget;
    ExactMinimizeResult r =
        minimizeArena(prepared.exactProblem(), plan.lowerBound, best.arena,
                      options.alignment, exact);
    plan.provedBound = r.provedBound;
    plan.exactNodes = r.nodes;
    plan.exactWork = r.work;
    plan.runs.push_back(
        {"exact", r.offsets.empty() ? 0 : r.arena,
         std::chrono::duration<double>(Clock::now() - start).count()});
    if (!r.offsets.empty() && r.arena < best.arena) {
      best.arena = r.arena;
      best.offsets = std::move(r.offsets);
      plan.algorithm = "exact";
    }
  }
  // Nothing to improve once the plan is proved optimal, nor where the
  // budget buys fewer than about a hundred moves (one move re-places a
  // large dense trace's suffix against thousands of placed buffers).
  uint64_t improveBudget = options.searchBudget / 10 * 3;
  if (selected("improve") && options.searchBudget > 0 &&
      best.arena > plan.provedBound &&
      100 * prepared.moveWork <= static_cast<double>(improveBudget)) {
    auto start = Clock::now();
    uint64_t before = best.arena;
    improve(prepared, best, plan.provedBound, improveBudget);
    plan.runs.push_back(
        {"improve", best.arena,
         std::chrono::duration<double>(Clock::now() - start).count()});
    if (best.arena < before)
      plan.algorithm = "improve";
  }
  plan.offsets = std::move(best.offsets);
  plan.arenaBytes = best.arena;
  if (problem.buffers.empty())
    plan.arenaBytes = 0;
  return verified(problem, options, std::move(plan));
}
