//===- PlanMemory.cpp - Plan each model's activation arena ----------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Plan/MemoryPlanner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "chorus-plan-memory"

namespace chorus {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct PlanMemoryPass
    : public chorus::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using PlanMemoryPassBase::PlanMemoryPassBase;

  LogicalResult planFunc(func::FuncOp func) {
    Builder b(func.getContext());
    std::optional<uint64_t> originalPeak, chosenPeak;
    if (reorder) {
      std::vector<Operation *> order = memoryAwareOrder(func);
      originalPeak = peakLiveBytes(func, {}, alignment);
      std::optional<uint64_t> reorderedPeak =
          peakLiveBytes(func, order, alignment);
      chosenPeak = originalPeak;
      // Keep the body's order unless the new one is strictly better; move
      // the nodes before the terminator in the new order (a topological
      // order keeps every use after its definition).
      if (originalPeak && reorderedPeak && *reorderedPeak < *originalPeak) {
        Operation *terminator = func.getBody().front().getTerminator();
        for (Operation *op : order)
          op->moveBefore(terminator);
        chosenPeak = reorderedPeak;
      }
    }
    TensorLifetimes lifetimes(func);
    if (failed(lifetimes.run()))
      return failure();
    IntervalProblem problem = lifetimes.toProblem();
    PlannerOptions options;
    options.alignment = alignment;
    options.searchBudget = searchBudget;
    llvm::Expected<MemoryPlan> plan = planMemory(problem, options);
    if (!plan)
      return func.emitError() << llvm::toString(plan.takeError());

    llvm::SmallVector<NamedAttribute> memory = {
        b.getNamedAttr("arena_bytes", b.getI64IntegerAttr(plan->arenaBytes)),
        b.getNamedAttr("lower_bound_bytes",
                       b.getI64IntegerAttr(plan->lowerBound)),
        b.getNamedAttr("weight_bytes",
                       b.getI64IntegerAttr(lifetimes.getWeightBytes())),
        b.getNamedAttr("alignment", b.getI64IntegerAttr(alignment)),
        b.getNamedAttr("algorithm", b.getStringAttr(plan->algorithm)),
    };
    if (originalPeak && chosenPeak) {
      memory.push_back(b.getNamedAttr("original_order_peak_bytes",
                                      b.getI64IntegerAttr(*originalPeak)));
      memory.push_back(b.getNamedAttr("chosen_order_peak_bytes",
                                      b.getI64IntegerAttr(*chosenPeak)));
    }
    func->setAttr("chorus.memory", b.getDictionaryAttr(memory));
    for (Operation *op : lifetimes.getSchedule()) {
      llvm::SmallVector<int64_t> offsets;
      for (Value result : op->getResults()) {
        std::optional<size_t> t = lifetimes.lookup(result);
        offsets.push_back(t ? static_cast<int64_t>(plan->offsets[*t]) : -1);
      }
      op->setAttr("chorus.arena_offsets", b.getDenseI64ArrayAttr(offsets));
    }
    ++numPlanned;
    return success();
  }

  void runOnOperation() override {
    if (alignment == 0) {
      emitError(getOperation().getLoc())
          << "chorus-plan-memory: alignment must be at least 1";
      return signalPassFailure();
    }
    for (func::FuncOp func : getOperation().getOps<func::FuncOp>())
      if (failed(planFunc(func)))
        return signalPassFailure();
  }
};

} // namespace
