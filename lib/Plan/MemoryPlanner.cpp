//===- MemoryPlanner.cpp - Arena offsets for live intervals ---------------===//

#include "chorus/Plan/MemoryPlanner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <chrono>
#include <numeric>

using namespace chorus;

/// The exact search keeps one list of buffers per time section; when the
/// interval lengths (a bound on those lists' total size) sum to more, it is
/// not tried.
static constexpr uint64_t kMaxExactMemberships = 20'000'000;

double MemoryPlan::ratio() const {
  return lowerBound == 0 ? 1.0 : static_cast<double>(arenaBytes) / lowerBound;
}

double MemoryPlan::fragmentation() const {
  return arenaBytes == 0 ? 0.0
                         : 1.0 - static_cast<double>(lowerBound) / arenaBytes;
}

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
    for (size_t i = 0; i < n; ++i) {
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
    if (useAdjacency)
      buildAdjacency();
  }

  bool overlap(size_t a, size_t b) const {
    return lower[a] < upper[b] && lower[b] < upper[a];
  }

  bool useAdjacency = false;

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

/// Exact search for small instances, after MiniMalloc (Moffitt, ASPLOS
/// 2023). A plan is built in order of offset: each step gives the next
/// buffer the lowest offset it can take (the top of the placed buffers it
/// meets, its "floor"), so every plan where each buffer rests on another
/// or on zero is reachable, and each exactly once:
/// - canonical order: offsets never decrease along the search, ties in a
///   fixed preorder;
/// - dominance: a buffer is not placed at or above the top another
///   unplaced buffer would have at its floor (that one could go below it
///   first);
/// - section inference: in every time section, the highest of its floor
///   and the current offset plus the bytes still to place must fit.
/// The preorder is tried in three variants (by section total, area and
/// lifetime length in different priority) with node limits that double,
/// so a hard variant does not hold up an easy one. Asked for the lower
/// bound as capacity, it returns a plan there, or proves none exists
/// (every variant finished without hitting its limit), or gives up when
/// the work budget is spent.
class CanonicalSearch {
public:
  enum class Result { Found, Infeasible, GaveUp };

  CanonicalSearch(const Prepared &p, uint64_t capacity, uint64_t budget)
      : p(p), capacity(capacity), budget(budget) {
    std::vector<int64_t> times;
    for (size_t i = 0; i < p.n; ++i)
      if (p.size[i] != 0) {
        times.push_back(p.lower[i]);
        times.push_back(p.upper[i]);
      }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    size_t sections = times.empty() ? 0 : times.size() - 1;
    sectionTotal.assign(sections, 0);
    members.resize(sections);
    first.assign(p.n, 0);
    last.assign(p.n, 0);
    for (size_t i = 0; i < p.n; ++i) {
      if (p.size[i] == 0)
        continue;
      buffers.push_back(i);
      first[i] = std::lower_bound(times.begin(), times.end(), p.lower[i]) -
                 times.begin();
      last[i] = std::lower_bound(times.begin(), times.end(), p.upper[i]) -
                times.begin();
      for (size_t k = first[i]; k < last[i]; ++k) {
        sectionTotal[k] += p.size[i];
        members[k].push_back(i);
      }
    }
    // Overlaps: buffers sharing a section.
    overlaps.resize(p.n);
    std::vector<uint32_t> seen(p.n, UINT32_MAX);
    for (uint32_t b : buffers) {
      for (size_t k = first[b]; k < last[b]; ++k)
        for (uint32_t o : members[k])
          if (o != b && seen[o] != b) {
            seen[o] = b;
            overlaps[b].push_back(o);
          }
    }
    offsets.assign(p.n, 0);
    solution.assign(p.n, 0);
  }

  /// Sum of interval lengths: a bound on the section memberships, the
  /// search's memory and per-step cost.
  static uint64_t cost(const Prepared &p) {
    uint64_t total = 0;
    for (size_t i = 0; i < p.n; ++i)
      total += p.upper[i] - p.lower[i];
    return total;
  }

  Result run() {
    if (buffers.empty())
      return Result::Found;
    // The largest section total over each buffer's sections.
    std::vector<uint64_t> total(p.n, 0);
    for (uint32_t b : buffers)
      for (size_t k = first[b]; k < last[b]; ++k)
        total[b] = std::max(total[b], sectionTotal[k]);
    auto width = [&](uint32_t b) { return p.upper[b] - p.lower[b]; };
    auto area = [&](uint32_t b) {
      return static_cast<double>(p.size[b]) * width(b);
    };
    // Variants: total, area, width in three priorities (larger first).
    std::vector<std::vector<uint32_t>> preorders;
    for (const char *keys : {"WAT", "TAW", "TWA"}) {
      std::vector<uint32_t> order = buffers;
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        for (const char *k = keys; *k; ++k) {
          double x = *k == 'T' ? total[a] : *k == 'A' ? area(a) : width(a);
          double y = *k == 'T' ? total[b] : *k == 'A' ? area(b) : width(b);
          if (x != y)
            return x > y;
        }
        return a < b;
      });
      preorders.push_back(std::move(order));
    }
    for (uint64_t limit = 2 * buffers.size();; limit *= 2) {
      for (const std::vector<uint32_t> &preorder : preorders) {
        nodesLeft = limit;
        Status status = solve(preorder);
        if (status == Status::Found)
          return Result::Found;
        if (status == Status::NotFound)
          return Result::Infeasible;
        if (work > budget)
          return Result::GaveUp;
      }
    }
  }

  /// The plan, once run() returned Found.
  std::vector<uint64_t> solution;
  uint64_t work = 0;

private:
  enum class Status { Found, NotFound, Aborted };
  /// Offsets of the buffers placed on the current path.
  std::vector<uint64_t> offsets;

  Status solve(const std::vector<uint32_t> &preorder) {
    rank.assign(p.n, 0);
    for (auto [i, b] : llvm::enumerate(preorder))
      rank[b] = i;
    placed.assign(p.n, false);
    minOffset.assign(p.n, 0);
    floor.assign(sectionTotal.size(), 0);
    remaining = sectionTotal;
    // cuts[k]: unplaced buffers crossing the boundary after section k.
    cuts.assign(sectionTotal.size(), 0);
    for (uint32_t b : buffers)
      for (size_t k = first[b]; k + 1 < last[b]; ++k)
        ++cuts[k];
    return solveParts(preorder, 0, sectionTotal.size(), {});
  }

  /// Splits the unplaced buffers of `all` at the boundaries in [lo, hi)
  /// that no unplaced buffer crosses (plus `cutAfter`), and solves each
  /// part on its own: they share no time, so no choice in one helps
  /// another.
  Status solveParts(const std::vector<uint32_t> &all, size_t lo, size_t hi,
                    llvm::ArrayRef<size_t> cutAfter) {
    std::vector<size_t> bounds = {lo};
    for (size_t k = lo; k + 1 < hi; ++k)
      if (cuts[k] == 0 || llvm::is_contained(cutAfter, k))
        bounds.push_back(k + 1);
    bounds.push_back(hi);
    work += hi - lo;
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      size_t partLo = bounds[i], partHi = bounds[i + 1];
      std::vector<uint32_t> part;
      for (uint32_t b : all)
        if (!placed[b] && first[b] < partHi && partLo < last[b])
          part.push_back(b);
      work += all.size();
      if (part.empty())
        continue;
      std::sort(part.begin(), part.end(),
                [&](uint32_t a, uint32_t b) { return rank[a] < rank[b]; });
      Status status = search(part, partLo, partHi, 0, 0);
      if (status != Status::Found)
        return status;
    }
    return Status::Found;
  }

  /// Places the buffers of one part (sections [lo, hi)) in canonical order.
  Status search(const std::vector<uint32_t> &part, size_t lo, size_t hi,
                uint64_t lastOffset, uint32_t lastRank) {
    if (nodesLeft == 0 || work > budget)
      return Status::Aborted;
    --nodesLeft;
    // Unplaced buffers by (floor, preorder rank).
    std::vector<uint32_t> order;
    order.reserve(part.size());
    for (uint32_t b : part)
      if (!placed[b])
        order.push_back(b);
    if (order.empty())
      return Status::Found;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (minOffset[a] != minOffset[b])
        return minOffset[a] < minOffset[b];
      return rank[a] < rank[b];
    });
    work += order.size() * 8;
    uint64_t minTop = UINT64_MAX;
    for (uint32_t b : order)
      minTop = std::min(minTop, minOffset[b] + p.size[b]);
    Status result = Status::NotFound;
    for (uint32_t b : order) {
      uint64_t offset = minOffset[b];
      // Canonical: offsets never decrease; ties in preorder.
      if (offset < lastOffset || (offset == lastOffset && rank[b] < lastRank))
        continue;
      // Dominance: another buffer would fit entirely below this one (the
      // order is by offset: the rest are higher still).
      if (offset >= minTop)
        break;
      uint64_t top = offset + p.size[b];
      if (top > capacity)
        continue;
      placed[b] = true;
      offsets[b] = offset;
      std::vector<std::pair<uint32_t, uint64_t>> offsetChanges;
      std::vector<std::pair<size_t, uint64_t>> floorChanges;
      for (uint32_t o : overlaps[b]) {
        if (placed[o] || minOffset[o] >= top)
          continue;
        offsetChanges.push_back({o, minOffset[o]});
        minOffset[o] = top;
      }
      work += overlaps[b].size();
      for (size_t k = first[b]; k < last[b]; ++k) {
        floorChanges.push_back({k, floor[k]});
        floor[k] = top;
        remaining[k] -= p.size[b];
      }
      bool feasible = true;
      for (size_t k = lo; k < hi && feasible; ++k)
        feasible = remaining[k] == 0 ||
                   std::max(floor[k], offset) + remaining[k] <= capacity;
      work += hi - lo;
      Status status = Status::NotFound;
      if (feasible) {
        // Placing b may leave boundaries no unplaced buffer crosses.
        bool split = false;
        for (size_t k = first[b]; k + 1 < last[b]; ++k)
          split |= --cuts[k] == 0 && lo <= k && k + 1 < hi;
        status = split ? solveParts(part, lo, hi, {})
                       : search(part, lo, hi, offset, rank[b]);
        for (size_t k = first[b]; k + 1 < last[b]; ++k)
          ++cuts[k];
      }
      for (auto it = floorChanges.rbegin(); it != floorChanges.rend(); ++it)
        floor[it->first] = it->second;
      for (size_t k = first[b]; k < last[b]; ++k)
        remaining[k] += p.size[b];
      for (auto it = offsetChanges.rbegin(); it != offsetChanges.rend(); ++it)
        minOffset[it->first] = it->second;
      if (status == Status::Found) {
        // Keep b's offset; unplace it only for the caller's bookkeeping:
        // a part's buffers are final once it succeeds.
        placed[b] = false;
        solution[b] = offset;
        result = status;
        break;
      }
      placed[b] = false;
      if (status != Status::NotFound) {
        result = status;
        break;
      }
    }
    return result;
  }

  const Prepared &p;
  uint64_t capacity, budget;
  uint64_t nodesLeft = 0;
  std::vector<uint32_t> buffers;
  std::vector<uint64_t> sectionTotal, floor, remaining, minOffset;
  std::vector<std::vector<uint32_t>> members, overlaps;
  std::vector<size_t> first, last;
  std::vector<uint32_t> rank;
  std::vector<int64_t> cuts;
  std::vector<uint8_t> placed;
};

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
  Prepared prepared(problem, options.alignment);
  Candidate best;
  for (const Constructive &c : constructives()) {
    // A plan at the bound cannot be beaten: stop there.
    if (!selected(c.name) || best.arena <= plan.lowerBound)
      continue;
    auto start = Clock::now();
    OrderPlacer placer(prepared, c.rule);
    std::vector<uint32_t> order = c.order(prepared);
    uint64_t work = 0;
    uint64_t arena = placer.place(order, 0, work);
    plan.runs.push_back(
        {c.name, arena,
         std::chrono::duration<double>(Clock::now() - start).count()});
    if (arena < best.arena) {
      best.arena = arena;
      best.order = std::move(order);
      best.offsets = std::move(placer.offsets);
      best.rule = c.rule;
      plan.algorithm = c.name;
    }
  }
  if (best.arena == UINT64_MAX) {
    // Only the improvement phase was asked for: start from greedy by size.
    const Constructive &c = constructives().front();
    OrderPlacer placer(prepared, c.rule);
    best.order = c.order(prepared);
    uint64_t work = 0;
    best.arena = placer.place(best.order, 0, work);
    best.offsets = std::move(placer.offsets);
    best.rule = c.rule;
    plan.algorithm = c.name;
  }
  if (selected("exact") && options.searchBudget > 0 &&
      best.arena > plan.lowerBound &&
      CanonicalSearch::cost(prepared) <= kMaxExactMemberships) {
    auto start = Clock::now();
    CanonicalSearch search(prepared, plan.lowerBound, options.searchBudget / 4);
    bool found = search.run() == CanonicalSearch::Result::Found;
    uint64_t arena = 0;
    for (size_t i = 0; i < prepared.n && found; ++i)
      arena = std::max(arena, search.solution[i] + prepared.size[i]);
    plan.runs.push_back(
        {"exact", found ? arena : 0,
         std::chrono::duration<double>(Clock::now() - start).count()});
    if (found && arena < best.arena) {
      best.arena = arena;
      best.offsets = std::move(search.solution);
      plan.algorithm = "exact";
    }
  }
  if (selected("improve") && options.searchBudget > 0) {
    auto start = Clock::now();
    uint64_t before = best.arena;
    improve(prepared, best, plan.lowerBound, options.searchBudget);
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
  return plan;
}
