//===- TestLifetimes.cpp - Print tensor lifetimes -------------------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/TensorLifetimes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "chorus-test-lifetimes"

namespace chorus {
#define GEN_PASS_DEF_TESTLIFETIMESPASS
#include "passes/TestPasses.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct TestLifetimesPass
    : public chorus::impl::TestLifetimesPassBase<TestLifetimesPass> {
  using TestLifetimesPassBase::TestLifetimesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      std::vector<Operation *> order;
      if (reorder)
        order = memoryAwareOrder(func);
      TensorLifetimes lifetimes(func, order);
      if (failed(lifetimes.run()))
        return signalPassFailure();
      if (format == ReportFormat::Csv)
        writeIntervalsCSV(lifetimes.toProblem(), llvm::outs());
      else
        lifetimes.print(llvm::outs());
    }
  }
};

} // namespace
