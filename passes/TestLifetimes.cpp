//===- TestLifetimes.cpp - Print tensor lifetimes -------------------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/TensorLifetimes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "chorus-test-lifetimes"

namespace chorus {
#define GEN_PASS_DEF_TESTLIFETIMESPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct TestLifetimesPass
    : public chorus::impl::TestLifetimesPassBase<TestLifetimesPass> {
  using TestLifetimesPassBase::TestLifetimesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (format != "table" && format != "csv") {
      emitError(module.getLoc()) << "chorus-test-lifetimes: format '" << format
                                 << "' is not 'table' or 'csv'";
      return signalPassFailure();
    }
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      std::vector<Operation *> order;
      if (reorder)
        order = memoryAwareOrder(func);
      TensorLifetimes lifetimes(func, order);
      if (failed(lifetimes.run()))
        return signalPassFailure();
      if (format == "csv")
        writeIntervalsCSV(lifetimes.toProblem(), llvm::outs());
      else
        lifetimes.print(llvm::outs());
    }
  }
};

} // namespace
