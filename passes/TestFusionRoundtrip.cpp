//===- TestFusionRoundtrip.cpp - Fuse then unfuse gives the same graph ----===//

#include "passes/Passes.h"

#include "chorus/Analysis/FusionGroups.h"
#include "chorus/Transforms/Fusion.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

#define DEBUG_TYPE "chorus-test-fusion-roundtrip"

namespace chorus {
#define GEN_PASS_DEF_TESTFUSIONROUNDTRIPPASS
#include "passes/TestPasses.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

/// The nodes and edges of a model as sorted multisets of strings, built
/// from content only (op type, attributes, types), never from positions
/// or pointers, so that a changed node or a rewired edge shows.
struct GraphMultisets {
  std::vector<std::string> nodes, edges;

  explicit GraphMultisets(func::FuncOp func) {
    llvm::DenseMap<Operation *, std::string> key;
    func.walk([&](NodeOp node) {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << node->getAttrDictionary() << " : (" << node->getOperandTypes()
         << ") -> (" << node->getResultTypes() << ")";
      key[node] = s;
      nodes.push_back(s);
    });
    auto source = [&](Value v) -> std::string {
      std::string s;
      llvm::raw_string_ostream os(s);
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        Operation *owner = arg.getOwner()->getParentOp();
        os << "argument " << arg.getArgNumber() << " of "
           << (isa<func::FuncOp>(owner) ? std::string("the model")
                                        : key.lookup(owner));
      } else if (auto ref = v.getDefiningOp<WeightRefOp>()) {
        os << "weight @" << ref.getWeight();
      } else if (v.getDefiningOp<NoneOp>()) {
        os << "none";
      } else {
        os << key.lookup(v.getDefiningOp()) << " result "
           << cast<OpResult>(v).getResultNumber();
      }
      return s;
    };
    func.walk([&](Operation *op) {
      std::string reader;
      if (isa<NodeOp>(op))
        reader = key.lookup(op);
      else if (isa<YieldOp>(op))
        reader = "yield of " + key.lookup(op->getParentOp());
      else if (isa<func::ReturnOp>(op))
        reader = "return";
      else
        return;
      for (OpOperand &use : op->getOpOperands())
        edges.push_back(source(use.get()) + " -> operand " +
                        std::to_string(use.getOperandNumber()) + " of " +
                        reader);
    });
    llvm::sort(nodes);
    llvm::sort(edges);
  }
};

/// The first element of `a` not matched in `b` (both sorted), or "".
std::string firstMissing(const std::vector<std::string> &a,
                         const std::vector<std::string> &b) {
  std::vector<std::string> diff;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(diff));
  return diff.empty() ? "" : diff.front();
}

struct TestFusionRoundtripPass
    : public chorus::impl::TestFusionRoundtripPassBase<
          TestFusionRoundtripPass> {
  void runOnOperation() override {
    for (func::FuncOp func : getOperation().getOps<func::FuncOp>()) {
      GraphMultisets before(func);
      std::vector<FusionGroup> groups = computeFusionGroups(func, {});
      applyFusionGroups(func, groups);
      if (failed(verify(func))) {
        func.emitError() << "the fused model does not verify";
        return signalPassFailure();
      }
      unsigned kernels = 0;
      for (Operation &op : func.getBody().front())
        kernels += isKernel(op);
      unfuseAll(func);
      GraphMultisets after(func);
      for (auto [what, b, a] :
           {std::make_tuple("node", &before.nodes, &after.nodes),
            std::make_tuple("edge", &before.edges, &after.edges)}) {
        std::string lost = firstMissing(*b, *a);
        std::string gained = firstMissing(*a, *b);
        if (lost.empty() && gained.empty())
          continue;
        InFlightDiagnostic diag = func.emitError()
                                  << "fuse then unfuse changed the " << what
                                  << "s: ";
        if (!lost.empty())
          diag << "lost " << what << " '" << lost << "'";
        else
          diag << "gained " << what << " '" << gained << "'";
        return signalPassFailure();
      }
      llvm::outs() << "roundtrip @" << func.getSymName() << ": "
                   << before.nodes.size() << " nodes, " << before.edges.size()
                   << " edges, " << groups.size() << " groups, " << kernels
                   << " kernels: ok\n";
    }
  }
};

} // namespace
