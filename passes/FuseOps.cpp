//===- FuseOps.cpp - Group nodes that run as one kernel -------------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/FusionGroups.h"
#include "chorus/Transforms/Fusion.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "chorus-fuse"

namespace chorus {
#define GEN_PASS_DEF_FUSEOPSPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct FuseOpsPass : public chorus::impl::FuseOpsPassBase<FuseOpsPass> {
  using FuseOpsPassBase::FuseOpsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FusionOptions options;
    options.rules.assign(rules.begin(), rules.end());
    options.maxGroupSize = maxGroupSize;
    std::string unknown = findUnknownFusionRule(options);
    if (!unknown.empty()) {
      InFlightDiagnostic diag = emitError(module.getLoc())
                                << "chorus-fuse: unknown rule '" << unknown
                                << "'; the rules are";
      for (StringRef rule : getFusionRuleNames())
        diag << " " << rule;
      return signalPassFailure();
    }
    if (maxGroupSize == 0) {
      emitError(module.getLoc())
          << "chorus-fuse: max-group-size must be at least 1";
      return signalPassFailure();
    }
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      auto countKernels = [&] {
        unsigned kernels = 0;
        for (Operation &op : func.getBody().front())
          kernels += isKernel(op);
        return kernels;
      };
      // Nodes of the model, those in groups of an earlier run included.
      unsigned nodes = 0;
      for (Operation &op : func.getBody().front()) {
        if (isa<NodeOp>(op))
          ++nodes;
        else if (auto fused = dyn_cast<FusedOp>(op))
          nodes += llvm::range_size(fused.getBodyBlock().getOps<NodeOp>());
      }
      unsigned kernelsBefore = countKernels();
      std::vector<FusionGroup> groups = computeFusionGroups(func, options);
      applyFusionGroups(func, groups);
      llvm::StringMap<unsigned> byRule;
      unsigned fusedNodes = 0;
      for (const FusionGroup &g : groups) {
        fusedNodes += g.nodes.size();
        for (const std::string &rule : g.rules)
          ++byRule[rule];
      }
      numGroups += groups.size();
      numFusedNodes += fusedNodes;
      if (!print)
        continue;
      llvm::raw_ostream &os = llvm::outs();
      os << "fusion @" << func.getSymName() << ": " << nodes << " nodes, "
         << kernelsBefore << " kernels -> " << countKernels() << " kernels ("
         << groups.size() << " groups of " << fusedNodes << " nodes)";
      for (StringRef rule : getFusionRuleNames())
        if (unsigned n = byRule.lookup(rule))
          os << "; " << rule << " " << n;
      os << "\n";
    }
  }
};

} // namespace
