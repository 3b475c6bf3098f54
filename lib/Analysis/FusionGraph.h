//===- FusionGraph.h - What the fusion algorithms share ---------*- C++ -*-===//
//
// Internal to lib/Analysis: the node graph both fusion algorithms walk, and
// the named fusions' result, which the dominator fusion starts from.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_LIB_ANALYSIS_FUSIONGRAPH_H
#define CHORUS_LIB_ANALYSIS_FUSIONGRAPH_H

#include "chorus/Analysis/OpTable.h"
#include "chorus/Dialect/ChorusOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <string>
#include <vector>

namespace chorus::fusion {

/// One edge of the node graph: a value of one node read by another.
struct Edge {
  int to;
  FusionKind kind;
};

/// The top-level nodes of a model and who reads what.
struct NodeGraph {
  std::vector<NodeOp> nodes;
  llvm::DenseMap<mlir::Operation *, int> index;
  std::vector<std::vector<Edge>> out;
  /// Read by something that is not a node (the return, another group).
  std::vector<bool> external;

  explicit NodeGraph(mlir::func::FuncOp func) {
    mlir::Block &body = func.getBody().front();
    for (mlir::Operation &op : body)
      if (auto node = mlir::dyn_cast<NodeOp>(op)) {
        index[node] = nodes.size();
        nodes.push_back(node);
      }
    out.resize(nodes.size());
    external.assign(nodes.size(), false);
    for (auto [i, node] : llvm::enumerate(nodes))
      for (mlir::Value result : node->getResults())
        for (mlir::OpOperand &use : result.getUses()) {
          mlir::Operation *top = body.findAncestorOpInBlock(*use.getOwner());
          auto it = top ? index.find(top) : index.end();
          if (it == index.end()) {
            external[i] = true;
            continue;
          }
          // A value read inside a subgraph body: the node is opaque.
          FusionKind kind = top == use.getOwner()
                                ? getOperandFusionKind(nodes[it->second],
                                                       use.getOperandNumber())
                                : FusionKind::Opaque;
          out[i].push_back({it->second, kind});
        }
  }
};

/// A named fusion ONNX Runtime's CPU provider performs (conv-bn, gelu,
/// attention...): node indices of the graph and the rules that built it.
struct Seed {
  std::vector<int> nodes;
  std::vector<std::string> rules;
  FusionKind kind;
};

struct NamedFusionResult {
  std::vector<Seed> seeds;
  /// Per node: the seed that took it, or -1.
  std::vector<int> seedOf;
};

/// Finds the named fusions among the enabled rules (OrtFusions.cpp). Each
/// takes nodes no earlier rule took.
NamedFusionResult findNamedFusions(const NodeGraph &graph,
                                   const llvm::StringSet<> &enabled,
                                   unsigned maxGroupSize);

} // namespace chorus::fusion

#endif // CHORUS_LIB_ANALYSIS_FUSIONGRAPH_H
