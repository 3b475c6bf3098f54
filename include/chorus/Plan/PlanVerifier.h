//===- PlanVerifier.h - Independent check of memory plans -------*- C++ -*-===//
//
// Written apart from the planners and sharing no code with them: a sweep
// over time with the live buffers ordered by offset. Every plan a tool emits
// passes through it first.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_PLAN_PLANVERIFIER_H
#define CHORUS_PLAN_PLANVERIFIER_H

#include "chorus/Plan/IntervalProblem.h"

#include <string>
#include <vector>

namespace chorus {

/// Checks that every offset is a multiple of `alignment`, that every buffer
/// ends within `arenaBytes`, and that no two buffers live at the same time
/// share a byte. Returns one message per violation found (empty: valid),
/// naming the buffers, their intervals and byte ranges. At most `maxErrors`
/// messages are returned.
std::vector<std::string> verifyPlan(const IntervalProblem &problem,
                                    const std::vector<uint64_t> &offsets,
                                    uint64_t alignment, uint64_t arenaBytes,
                                    size_t maxErrors = 20);

} // namespace chorus

#endif // CHORUS_PLAN_PLANVERIFIER_H
