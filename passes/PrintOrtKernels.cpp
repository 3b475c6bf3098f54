//===- PrintOrtKernels.cpp - The kernels ONNX Runtime runs ----------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/OrtKernels.h"
#include "chorus/Dialect/ChorusOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

namespace chorus {
#define GEN_PASS_DEF_PRINTORTKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

/// A value by the node or input that defines it.
std::string describeValue(Value value) {
  if (auto node = value.getDefiningOp<NodeOp>())
    return "'" + (node.getName() ? node.getName()->str() : "") + "'";
  if (auto arg = dyn_cast<BlockArgument>(value))
    return "input " + std::to_string(arg.getArgNumber());
  return "a weight";
}

struct PrintOrtKernelsPass
    : public chorus::impl::PrintOrtKernelsPassBase<PrintOrtKernelsPass> {
  using PrintOrtKernelsPassBase::PrintOrtKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<OrtLevel> parsed = parseOrtLevel(level);
    if (!parsed) {
      emitError(module.getLoc())
          << "chorus-print-ort-kernels: level '" << level
          << "' is not one of disabled, basic, extended, all";
      return signalPassFailure();
    }
    if (nchwcBlock != 0 && nchwcBlock != 8 && nchwcBlock != 16) {
      emitError(module.getLoc())
          << "chorus-print-ort-kernels: nchwc-block "
          << static_cast<unsigned>(nchwcBlock) << " is not 0, 8 or 16";
      return signalPassFailure();
    }
    if (webgpu && nchwcBlock != 0) {
      emitError(module.getLoc())
          << "chorus-print-ort-kernels: webgpu needs nchwc-block=0 (ONNX "
             "Runtime Web has no NCHWc kernels)";
      return signalPassFailure();
    }
    OrtCpuSettings settings{*parsed, static_cast<unsigned>(nchwcBlock), webgpu};
    llvm::raw_ostream &os = llvm::outs();
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      unsigned count = 0;
      func.getBody().front().walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (isa<NodeOp>(op)) {
          ++count;
          return WalkResult::skip();
        }
        return WalkResult::advance();
      });
      OrtKernels kernels = computeOrtKernels(func, settings);
      os << "ort kernels @" << func.getSymName() << " (level "
         << getOrtLevelName(settings.level) << ", nchwc block "
         << settings.nchwcBlock << (settings.webGpu ? ", webgpu" : "")
         << "): " << count << " nodes -> " << kernels.kernels.size()
         << " kernels, " << kernels.folded.size() << " folded\n";
      for (const auto &[op, n] : kernels.histogram())
        os << "  " << op << " " << n << "\n";
      if (settings.webGpu)
        os << "  (no GPU work: "
           << llvm::count_if(kernels.kernels,
                             [](const OrtKernel &k) { return k.noGpuWork; })
           << " views and integer kernels)\n";
      if (!list)
        continue;
      for (const OrtKernel &kernel : kernels.kernels) {
        os << "  - " << kernel.op;
        if (!kernel.activation.empty())
          os << " activation=" << kernel.activation;
        if (kernel.sum)
          os << " sum";
        if (kernel.noGpuWork)
          os << " no-gpu-work";
        if (kernel.value)
          os << " of " << describeValue(kernel.value);
        for (NodeOp node : kernel.nodes)
          os << " " << node.getOpType() << "'"
             << (node.getName() ? *node.getName() : "") << "'";
        os << "\n";
      }
    }
  }
};

} // namespace
