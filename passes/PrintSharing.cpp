//===- PrintSharing.cpp - Print what models share -------------------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/Sharing.h"

#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "chorus-print-sharing"

namespace chorus {
#define GEN_PASS_DEF_PRINTSHARINGPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct PrintSharingPass
    : public chorus::impl::PrintSharingPassBase<PrintSharingPass> {
  using PrintSharingPassBase::PrintSharingPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<std::vector<SameInput>> pairs =
        parseSameInputs(sameInputs, module.getLoc());
    if (failed(pairs))
      return signalPassFailure();
    SharingAnalysis analysis(module, std::move(*pairs));
    if (failed(analysis.run()))
      return signalPassFailure();
    if (format == ReportFormat::Json)
      analysis.printJSON(llvm::outs());
    else
      analysis.print(llvm::outs());
    markAllAnalysesPreserved();
  }
};

} // namespace
