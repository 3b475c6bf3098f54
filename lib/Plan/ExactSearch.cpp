//===- ExactSearch.cpp - Exact offset assignment within a capacity --------===//

#include "chorus/Plan/ExactSearch.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <numeric>

using namespace chorus;

const std::vector<std::string> &chorus::listExactRules() {
  static const std::vector<std::string> names = {
      "canonical", "dominance", "floor-inference", "hatless", "decomposition"};
  return names;
}

llvm::Error chorus::disableExactRules(llvm::ArrayRef<std::string> names,
                                      ExactRules &rules) {
  for (const std::string &name : names) {
    if (name.empty())
      continue;
    bool *flag = llvm::StringSwitch<bool *>(name)
                     .Case("canonical", &rules.canonical)
                     .Case("dominance", &rules.dominance)
                     .Case("floor-inference", &rules.floorInference)
                     .Case("hatless", &rules.hatless)
                     .Case("decomposition", &rules.decomposition)
                     .Default(nullptr);
    if (!flag)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "unknown search rule '" + name +
              "' (known: " + llvm::join(listExactRules(), ", ") + ")");
    *flag = false;
  }
  return llvm::Error::success();
}

namespace {

/// The search keeps every section's buffers and every buffer's
/// neighbours in time; past this many entries (64 MiB of indices) it is
/// not tried. A count of the compressed problem, so it does not depend on
/// the scale of the time values.
constexpr uint64_t kMaxCompressedSize = 16'000'000;

/// Section memberships and time-overlapping pairs (directed) of the
/// compressed problem: what building Sections costs in memory and work.
static uint64_t compressedSize(const ExactProblem &p) {
  std::vector<std::pair<int64_t, int>> events;
  for (size_t i = 0; i < p.size.size(); ++i)
    if (p.size[i] != 0) {
      events.push_back({p.lower[i], 1});
      events.push_back({p.upper[i], -1});
    }
  std::sort(events.begin(), events.end());
  uint64_t live = 0, memberships = 0, pairs = 0;
  bool any = false;
  int64_t lastTime = 0;
  for (auto [time, delta] : events) {
    if (delta > 0) {
      pairs += 2 * live;
      ++live;
      continue;
    }
    if (!any || time > lastTime) {
      memberships += live;
      lastTime = time;
      any = true;
    }
    --live;
  }
  return memberships + pairs;
}

/// Time compressed to sections, as MiniMalloc's sweep does: a section is
/// the set of buffers live just before some buffer ends (one per distinct
/// end time), so two buffers meet in time exactly when some section holds
/// both, and each buffer spans a contiguous range of sections.
struct Sections {
  /// Buffers of nonzero size, in problem order.
  std::vector<uint32_t> buffers;
  /// Section range [first, last) of each buffer (empty for size 0).
  std::vector<uint32_t> first, last;
  /// Members of section s: members[start[s] .. start[s + 1]).
  std::vector<size_t> start;
  std::vector<uint32_t> members;

  /// Buffers each buffer meets in time: overlaps[overlapStart[b] ..
  /// overlapStart[b + 1]).
  std::vector<size_t> overlapStart;
  std::vector<uint32_t> overlaps;

  size_t count() const { return start.empty() ? 0 : start.size() - 1; }
  llvm::ArrayRef<uint32_t> meets(uint32_t b) const {
    return llvm::ArrayRef<uint32_t>(overlaps.data() + overlapStart[b],
                                    overlaps.data() + overlapStart[b + 1]);
  }
  llvm::ArrayRef<uint32_t> of(size_t s) const {
    return llvm::ArrayRef<uint32_t>(members.data() + start[s],
                                    members.data() + start[s + 1]);
  }

  explicit Sections(const ExactProblem &p) {
    size_t n = p.size.size();
    first.assign(n, 0);
    last.assign(n, 0);
    // Ends before starts at the same time: intervals are half-open.
    std::vector<std::pair<int64_t, int64_t>> events;
    for (size_t i = 0; i < n; ++i) {
      if (p.size[i] == 0)
        continue;
      buffers.push_back(i);
      events.push_back({p.lower[i], static_cast<int64_t>(i) + 1});
      events.push_back({p.upper[i], -(static_cast<int64_t>(i) + 1)});
    }
    std::sort(events.begin(), events.end());
    std::vector<uint32_t> active;
    std::vector<size_t> slot(n, 0);
    start.push_back(0);
    bool any = false;
    int64_t lastTime = 0;
    for (auto [time, signedIndex] : events) {
      if (signedIndex > 0) {
        uint32_t i = signedIndex - 1;
        first[i] = start.size() - 1;
        slot[i] = active.size();
        active.push_back(i);
        continue;
      }
      uint32_t i = -signedIndex - 1;
      if (!any || time > lastTime) {
        members.insert(members.end(), active.begin(), active.end());
        start.push_back(members.size());
        lastTime = time;
        any = true;
      }
      last[i] = start.size() - 1;
      size_t s = slot[i];
      active[s] = active.back();
      slot[active[s]] = s;
      active.pop_back();
    }
    // Two buffers meet when a section holds both.
    overlapStart.assign(n + 1, 0);
    std::vector<uint32_t> seen(n, UINT32_MAX);
    for (size_t i = 0; i < n; ++i) {
      if (p.size[i] != 0)
        for (size_t s = first[i]; s < last[i]; ++s)
          for (uint32_t o : of(s))
            if (o != i && seen[o] != i) {
              seen[o] = i;
              overlaps.push_back(o);
            }
      overlapStart[i + 1] = overlaps.size();
    }
  }
};

/// The depth-first search for one capacity. A plan is built in order of
/// offset: each step gives the next buffer the lowest offset it can take
/// (the top of the placed buffers it meets), so every plan in which each
/// buffer rests on another or on zero is reachable.
class Search {
public:
  enum class Status { Found, NotFound, Aborted };

  Search(const ExactProblem &p, const Sections &sec, uint64_t capacity,
         const ExactSearchOptions &options)
      : p(p), sec(sec), rules(options.rules), capacity(capacity),
        budget(options.workBudget) {
    size_t n = p.size.size();
    sectionTotal.assign(sec.count(), 0);
    for (uint32_t b : sec.buffers)
      for (size_t s = sec.first[b]; s < sec.last[b]; ++s)
        sectionTotal[s] += p.size[b];
    solution.assign(n, 0);
  }

  ExactSearchResult run() {
    ExactSearchResult result;
    result.offsets.assign(p.size.size(), 0);
    auto finish = [&](ExactOutcome outcome) {
      result.outcome = outcome;
      result.nodes = nodes;
      result.work = work;
      if (outcome == ExactOutcome::Found) {
        for (uint32_t b : sec.buffers) {
          result.offsets[b] = solution[b];
          result.arena = std::max(result.arena, solution[b] + p.size[b]);
        }
      }
      return result;
    };
    if (sec.buffers.empty())
      return finish(ExactOutcome::Found);
    // Every buffer is in a section, so this also covers one too large.
    for (uint64_t total : sectionTotal)
      if (total > capacity)
        return finish(ExactOutcome::Infeasible);

    // Static preorders, larger first by the keys in turn: MiniMalloc's
    // three (T: the largest section total a buffer is in, A: its area,
    // W: its lifetime), then by size (Z), latest end (U) and earliest start
    // (L). Where every section is full (T is the same for all, as in a
    // perfect packing) MiniMalloc's three collapse to two, and the
    // size- and time-first orders are what find plans (docs/Rationale.md).
    // Duplicates are dropped. They run in turn with node limits that
    // double, so a hard preorder does not hold up an easy one.
    std::vector<uint64_t> total(p.size.size(), 0);
    for (uint32_t b : sec.buffers)
      for (size_t s = sec.first[b]; s < sec.last[b]; ++s)
        total[b] = std::max(total[b], sectionTotal[s]);
    auto width = [&](uint32_t b) {
      return static_cast<double>(p.upper[b] - p.lower[b]);
    };
    auto key = [&](char k, uint32_t b) {
      return k == 'T'   ? static_cast<double>(total[b])
             : k == 'A' ? static_cast<double>(p.size[b]) * width(b)
             : k == 'Z' ? static_cast<double>(p.size[b])
             : k == 'L' ? -static_cast<double>(p.lower[b])
             : k == 'U' ? static_cast<double>(p.upper[b])
                        : width(b);
    };
    std::vector<std::vector<uint32_t>> preorders;
    for (const char *keys : {"WAT", "TAW", "TWA", "ZWA", "UZW", "LZW"}) {
      std::vector<uint32_t> order = sec.buffers;
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        for (const char *k = keys; *k; ++k) {
          double x = key(*k, a), y = key(*k, b);
          if (x != y)
            return x > y;
        }
        return a < b;
      });
      if (!llvm::is_contained(preorders, order))
        preorders.push_back(std::move(order));
    }
    for (uint64_t limit = 2 * sec.buffers.size();; limit *= 2) {
      for (const std::vector<uint32_t> &preorder : preorders) {
        nodesLeft = limit;
        Status status = solve(preorder);
        if (status == Status::Found)
          return finish(ExactOutcome::Found);
        if (status == Status::NotFound)
          return finish(ExactOutcome::Infeasible);
        if (work > budget)
          return finish(ExactOutcome::GaveUp);
      }
    }
  }

private:
  Status solve(const std::vector<uint32_t> &preorder) {
    size_t n = p.size.size();
    rank.assign(n, 0);
    for (auto [i, b] : llvm::enumerate(preorder))
      rank[b] = i;
    placed.assign(n, 0);
    minOffset.assign(n, 0);
    floor.assign(sec.count(), 0);
    remaining = sectionTotal;
    // cuts[k]: unplaced buffers live across the boundary after section k.
    cuts.assign(sec.count(), 0);
    for (uint32_t b : sec.buffers)
      for (size_t k = sec.first[b]; k + 1 < sec.last[b]; ++k)
        ++cuts[k];
    if (!rules.decomposition) {
      std::vector<uint32_t> all = preorder;
      return search(all, 0, sec.count(), 0, 0);
    }
    return solveParts(preorder, 0, sec.count());
  }

  /// Splits the unplaced buffers of `all` at the boundaries in [lo, hi)
  /// that no unplaced buffer crosses, and solves each part on its own:
  /// they share no time, so no choice in one helps another.
  Status solveParts(const std::vector<uint32_t> &all, size_t lo, size_t hi) {
    std::vector<size_t> bounds = {lo};
    for (size_t k = lo; k + 1 < hi; ++k)
      if (cuts[k] == 0)
        bounds.push_back(k + 1);
    bounds.push_back(hi);
    work += hi - lo;
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      size_t partLo = bounds[i], partHi = bounds[i + 1];
      std::vector<uint32_t> part;
      for (uint32_t b : all)
        if (!placed[b] && sec.first[b] < partHi && partLo < sec.last[b])
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

  /// Whether every section of [lo, hi) can still hold its unplaced bytes
  /// above its floor and above `offset` (no later buffer goes lower).
  bool fits(size_t lo, size_t hi, uint64_t offset) {
    work += hi - lo;
    for (size_t s = lo; s < hi; ++s) {
      if (remaining[s] == 0)
        continue;
      uint64_t base = floor[s];
      if (rules.canonical)
        base = std::max(base, offset);
      if (base + remaining[s] > capacity)
        return false;
    }
    return true;
  }

  /// Places the buffers of one part (sections [lo, hi)).
  Status search(const std::vector<uint32_t> &part, size_t lo, size_t hi,
                uint64_t lastOffset, uint32_t lastRank) {
    if (nodesLeft == 0 || work > budget)
      return Status::Aborted;
    --nodesLeft;
    ++nodes;
    // Candidates in order of (lowest offset, preorder rank); a buffer at
    // or above the lowest top of another unplaced one is dominated.
    uint64_t minTop = UINT64_MAX;
    bool any = false;
    for (uint32_t b : part)
      if (!placed[b]) {
        any = true;
        minTop = std::min(minTop, minOffset[b] + p.size[b]);
      }
    work += part.size();
    if (!any)
      return Status::Found;
    std::vector<uint32_t> order;
    for (uint32_t b : part) {
      if (placed[b])
        continue;
      uint64_t offset = minOffset[b];
      if (rules.dominance && offset >= minTop)
        continue;
      if (rules.canonical &&
          (offset < lastOffset || (offset == lastOffset && rank[b] < lastRank)))
        continue;
      if (offset + p.size[b] > capacity)
        continue;
      order.push_back(b);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (minOffset[a] != minOffset[b])
        return minOffset[a] < minOffset[b];
      return rank[a] < rank[b];
    });
    work += order.size();
    for (uint32_t b : order) {
      uint64_t offset = minOffset[b];
      uint64_t top = offset + p.size[b];
      placed[b] = 1;
      size_t offsetMark = offsetChanges.size();
      size_t floorMark = floorChanges.size();
      // The buffers b meets rise to its top, at least.
      bool hatless = true;
      llvm::ArrayRef<uint32_t> meets = sec.meets(b);
      work += meets.size();
      for (uint32_t o : meets) {
        if (placed[o])
          continue;
        hatless = false;
        if (minOffset[o] >= top)
          continue;
        offsetChanges.push_back({o, minOffset[o]});
        minOffset[o] = top;
      }
      for (size_t s = sec.first[b]; s < sec.last[b]; ++s) {
        floorChanges.push_back({s, floor[s]});
        floor[s] = top;
        remaining[s] -= p.size[b];
      }
      // A section's floor is at least the lowest offset any of its
      // unplaced buffers can take (MiniMalloc's inference), so that offset
      // plus the bytes still to place there must fit. Checked where it can
      // have changed: b's sections and those of the buffers that rose, the
      // latter only where the floor is below the top they rose to (the
      // lowest offset there is at most that top). Every buffer that rose
      // meets b, so all of these sections form one range.
      bool inferred = true;
      if (rules.floorInference) {
        size_t from = sec.first[b], to = sec.last[b];
        for (size_t i = offsetMark; i < offsetChanges.size(); ++i) {
          uint32_t o = offsetChanges[i].first;
          from = std::min<size_t>(from, sec.first[o]);
          to = std::max<size_t>(to, sec.last[o]);
        }
        work += to - from;
        for (size_t t = from; t < to && inferred; ++t)
          if (floor[t] < top || (sec.first[b] <= t && t < sec.last[b]))
            inferred = lowestFits(t);
      }

      Status status = Status::NotFound;
      if (inferred && fits(lo, hi, offset)) {
        // Placing b may leave boundaries no unplaced buffer crosses.
        bool split = false;
        for (size_t k = sec.first[b]; k + 1 < sec.last[b]; ++k)
          split |= --cuts[k] == 0 && lo <= k && k + 1 < hi;
        status = split && rules.decomposition
                     ? solveParts(part, lo, hi)
                     : search(part, lo, hi, offset, rank[b]);
        for (size_t k = sec.first[b]; k + 1 < sec.last[b]; ++k)
          ++cuts[k];
      }
      for (size_t i = floorChanges.size(); i > floorMark; --i)
        floor[floorChanges[i - 1].first] = floorChanges[i - 1].second;
      floorChanges.resize(floorMark);
      for (size_t s = sec.first[b]; s < sec.last[b]; ++s)
        remaining[s] += p.size[b];
      for (size_t i = offsetChanges.size(); i > offsetMark; --i)
        minOffset[offsetChanges[i - 1].first] = offsetChanges[i - 1].second;
      offsetChanges.resize(offsetMark);
      placed[b] = 0;
      if (status == Status::Found) {
        // A part's buffers are final once it succeeds; the caller's
        // bookkeeping is restored above.
        solution[b] = offset;
        return status;
      }
      if (status == Status::Aborted)
        return status;
      if (rules.hatless && hatless)
        break;
    }
    return Status::NotFound;
  }

  /// Whether some unplaced buffer of section t can start low enough for
  /// the section's unplaced bytes to fit above it.
  bool lowestFits(size_t t) {
    if (remaining[t] == 0)
      return true;
    uint64_t slack = capacity - remaining[t];
    for (uint32_t o : sec.of(t)) {
      ++work;
      if (!placed[o] && minOffset[o] <= slack)
        return true;
    }
    return false;
  }

  const ExactProblem &p;
  const Sections &sec;
  ExactRules rules;
  uint64_t capacity, budget;
  uint64_t nodesLeft = 0, nodes = 0, work = 0;
  std::vector<uint64_t> sectionTotal, floor, remaining, minOffset;
  std::vector<uint64_t> solution;
  std::vector<uint32_t> rank;
  std::vector<int64_t> cuts;
  std::vector<uint8_t> placed;
  std::vector<std::pair<uint32_t, uint64_t>> offsetChanges;
  std::vector<std::pair<size_t, uint64_t>> floorChanges;
};

} // namespace

/// Whether the compressed problem is small enough to build within the
/// budget; its size is charged to `work` either way.
static bool affordable(const ExactProblem &problem, uint64_t budget,
                       uint64_t &work) {
  uint64_t size = compressedSize(problem);
  work += problem.size.size() + size;
  return size <= kMaxCompressedSize && size <= budget / 4;
}

ExactSearchResult
chorus::searchWithinCapacity(const ExactProblem &problem, uint64_t capacity,
                             const ExactSearchOptions &options) {
  uint64_t setup = 0;
  if (!affordable(problem, options.workBudget, setup)) {
    ExactSearchResult result;
    result.work = setup;
    return result;
  }
  Sections sections(problem);
  ExactSearchResult result = Search(problem, sections, capacity, options).run();
  result.work += setup;
  return result;
}

ExactMinimizeResult chorus::minimizeArena(const ExactProblem &problem,
                                          uint64_t lowerBound,
                                          uint64_t upperBound,
                                          uint64_t alignment,
                                          const ExactSearchOptions &options) {
  ExactMinimizeResult result;
  result.provedBound = lowerBound;
  if (alignment == 0)
    alignment = 1;
  if (!affordable(problem, options.workBudget, result.work))
    return result;
  Sections sections(problem);
  // Arenas are multiples of the alignment (sizes and offsets are).
  uint64_t lo = lowerBound;
  if (upperBound < alignment || upperBound - alignment < lo)
    return result;
  uint64_t hi = upperBound - alignment;
  bool firstStep = true;
  while (lo <= hi && result.work < options.workBudget) {
    // The bound first: most problems have a plan there. Then bisection;
    // each capacity gets half of what is left, so an undecided one does
    // not take the rest.
    uint64_t capacity =
        firstStep ? lo : lo + (hi - lo) / alignment / 2 * alignment;
    firstStep = false;
    ExactSearchOptions step = options;
    step.workBudget = (options.workBudget - result.work) / 2;
    ExactSearchResult r = Search(problem, sections, capacity, step).run();
    result.nodes += r.nodes;
    result.work += r.work;
    result.steps.push_back({capacity, r.outcome});
    if (r.outcome == ExactOutcome::Found) {
      result.offsets = std::move(r.offsets);
      result.arena = r.arena;
      if (r.arena < alignment || r.arena - alignment < lo)
        break;
      hi = r.arena - alignment;
    } else {
      // No plan within `capacity`: the next arena possible is a multiple
      // of the alignment above it.
      if (r.outcome == ExactOutcome::Infeasible)
        result.provedBound = std::max(result.provedBound, capacity + alignment);
      lo = capacity + alignment;
    }
  }
  return result;
}
