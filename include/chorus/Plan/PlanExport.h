//===- PlanExport.h - Memory plans as JSON and SVG --------------*- C++ -*-===//

#ifndef CHORUS_PLAN_PLANEXPORT_H
#define CHORUS_PLAN_PLANEXPORT_H

#include "chorus/Plan/MemoryPlanner.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace chorus {

/// The plan as JSON: arena, lower bound, ratio, which algorithm won, every
/// algorithm's result, and one {id, lower, upper, size, offset} per buffer.
/// Times are left out unless `withTimes`, so the output is deterministic.
llvm::json::Value memoryPlanToJSON(const IntervalProblem &problem,
                                   const MemoryPlan &plan, uint64_t alignment,
                                   bool withTimes = false);

/// An SVG picture of the plan: time on x, address on y, one box a buffer
/// (its id in a tooltip), the lower bound as a dashed line; `caption`'s
/// lines (e.g. the fit verdict) written under it.
void writeMemoryPlanSVG(const IntervalProblem &problem, const MemoryPlan &plan,
                        llvm::raw_ostream &os,
                        llvm::ArrayRef<std::string> caption = {});

} // namespace chorus

#endif // CHORUS_PLAN_PLANEXPORT_H
