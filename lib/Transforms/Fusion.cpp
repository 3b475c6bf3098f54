//===- Fusion.cpp - Fusion groups into the IR and back --------------------===//

#include "chorus/Transforms/Fusion.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace chorus;

void chorus::applyFusionGroups(func::FuncOp func,
                               llvm::ArrayRef<FusionGroup> groups) {
  Block &body = func.getBody().front();
  MLIRContext *ctx = func.getContext();
  for (const FusionGroup &g : groups) {
    llvm::DenseSet<Operation *> members;
    for (NodeOp node : g.nodes)
      members.insert(node);
    llvm::SetVector<Value> inputs;
    SmallVector<Value> outputs;
    SmallVector<Location> locs;
    for (NodeOp node : g.nodes) {
      locs.push_back(node.getLoc());
      for (Value in : node.getInputs())
        if (!members.count(in.getDefiningOp()))
          inputs.insert(in);
      for (Value result : node->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !members.count(body.findAncestorOpInBlock(*user));
            }))
          outputs.push_back(result);
    }
    OpBuilder b(g.nodes.back());
    SmallVector<Attribute> rules;
    for (const std::string &rule : g.rules)
      rules.push_back(b.getStringAttr(rule));
    auto fused = b.create<FusedOp>(FusedLoc::get(ctx, locs),
                                   ValueRange(outputs).getTypes(),
                                   b.getStringAttr(getFusionKindName(g.kind)),
                                   b.getArrayAttr(rules), inputs.getArrayRef());
    SmallVector<Location> argLocs(inputs.size(), fused.getLoc());
    Block *block =
        b.createBlock(&fused.getBody(), {},
                      ValueRange(inputs.getArrayRef()).getTypes(), argLocs);
    for (NodeOp node : g.nodes)
      node->moveBefore(block, block->end());
    b.setInsertionPointToEnd(block);
    b.create<YieldOp>(fused.getLoc(), outputs);
    for (auto [input, arg] : llvm::zip(inputs, block->getArguments()))
      Value(input).replaceUsesWithIf(arg, [&](OpOperand &use) {
        return fused->isProperAncestor(use.getOwner());
      });
    for (auto [value, result] : llvm::zip(outputs, fused.getOutputs()))
      value.replaceUsesWithIf(result, [&](OpOperand &use) {
        return !fused->isProperAncestor(use.getOwner());
      });
  }
  // A group sits where its last node was; readers of its results placed
  // between its nodes move after it.
  sortTopologically(&body);
}

unsigned chorus::unfuseAll(Operation *root) {
  SmallVector<FusedOp> fused;
  root->walk([&](FusedOp op) { fused.push_back(op); });
  for (FusedOp op : fused)
    op.inlineBody();
  return fused.size();
}
