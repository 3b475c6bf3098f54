//===- PlanVerifier.cpp - Independent check of memory plans ---------------===//
//
// Deliberately shares nothing with the planners: a time sweep that keeps the
// live buffers in a std::map ordered by offset. A new buffer can only clash
// with its neighbours in that order, as long as the map itself is free of
// overlaps, which each insertion checks.
//
//===----------------------------------------------------------------------===//

#include "chorus/Plan/PlanVerifier.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <map>

using namespace chorus;

static std::string describe(const IntervalBuffer &b, uint64_t offset) {
  return "'" + b.id + "' (live [" + std::to_string(b.lower) + ", " +
         std::to_string(b.upper) + "), bytes [" + std::to_string(offset) +
         ", " + std::to_string(offset + b.size) + "))";
}

std::vector<std::string>
chorus::verifyPlan(const IntervalProblem &problem,
                   const std::vector<uint64_t> &offsets, uint64_t alignment,
                   uint64_t arenaBytes, size_t maxErrors) {
  std::vector<std::string> errors;
  const std::vector<IntervalBuffer> &buffers = problem.buffers;
  if (offsets.size() != buffers.size()) {
    errors.push_back("the plan has " + std::to_string(offsets.size()) +
                     " offsets for " + std::to_string(buffers.size()) +
                     " buffers");
    return errors;
  }
  for (size_t i = 0; i < buffers.size() && errors.size() < maxErrors; ++i) {
    if (alignment > 1 && offsets[i] % alignment != 0)
      errors.push_back("buffer " + describe(buffers[i], offsets[i]) +
                       " is not aligned to " + std::to_string(alignment) +
                       " bytes");
    if (offsets[i] > arenaBytes || buffers[i].size > arenaBytes - offsets[i])
      errors.push_back("buffer " + describe(buffers[i], offsets[i]) +
                       " ends past the arena of " + std::to_string(arenaBytes) +
                       " bytes");
  }

  // Events: ends before starts at the same time (half-open intervals).
  std::vector<std::pair<int64_t, int64_t>> events; // (time, +/-(i+1))
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].size == 0)
      continue;
    events.push_back({buffers[i].lower, static_cast<int64_t>(i) + 1});
    events.push_back({buffers[i].upper, -(static_cast<int64_t>(i) + 1)});
  }
  std::sort(events.begin(), events.end());
  // offset -> buffer index; several equal offsets are themselves a clash.
  std::multimap<uint64_t, size_t> live;
  std::vector<std::multimap<uint64_t, size_t>::iterator> where(buffers.size(),
                                                               live.end());
  for (auto [time, signedIndex] : events) {
    if (errors.size() >= maxErrors)
      break;
    if (signedIndex < 0) {
      size_t i = static_cast<size_t>(-signedIndex - 1);
      live.erase(where[i]);
      continue;
    }
    size_t i = static_cast<size_t>(signedIndex - 1);
    uint64_t begin = offsets[i], end = offsets[i] + buffers[i].size;
    auto it = live.insert({begin, i});
    where[i] = it;
    if (it != live.begin()) {
      auto before = std::prev(it);
      size_t j = before->second;
      if (offsets[j] + buffers[j].size > begin)
        errors.push_back("buffers " + describe(buffers[j], offsets[j]) +
                         " and " + describe(buffers[i], begin) +
                         " are live at time " + std::to_string(time) +
                         " and overlap");
    }
    auto after = std::next(it);
    if (after != live.end() && after->first < end)
      errors.push_back("buffers " + describe(buffers[i], begin) + " and " +
                       describe(buffers[after->second], after->first) +
                       " are live at time " + std::to_string(time) +
                       " and overlap");
  }
  return errors;
}
