//===- FusionGroups.h - Which nodes run as one kernel -----------*- C++ -*-===//
//
// Groups a model's nodes into kernels: first the named fusions ONNX Runtime
// performs on CPU (Conv+BatchNormalization, Conv+Add+Relu, Conv+activation,
// MatMul+Add, GELU, decomposed LayerNormalization, attention), then TVM's
// dominator-based FuseOps over what remains. docs/Fusion.md describes the
// rules; `chorus-fuse` rewrites the groups into chorus.fused ops.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_FUSIONGROUPS_H
#define CHORUS_ANALYSIS_FUSIONGROUPS_H

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace chorus {

/// Every fusion rule, in the order they apply: the named fusions, then
/// "dominator" (TVM's FuseOps over the rest).
llvm::ArrayRef<llvm::StringRef> getFusionRuleNames();

/// The named fusions alone, without "dominator": the ones ONNX Runtime's
/// CPU provider performs itself, so that a model planned for ONNX Runtime
/// Web (a browser target) has the runtime's kernels, not TVM's groups.
llvm::ArrayRef<llvm::StringRef> getOrtFusionRuleNames();

struct FusionOptions {
  /// The rules to apply (names from getFusionRuleNames); empty: all.
  std::vector<std::string> rules;
  /// No group takes more nodes than this.
  unsigned maxGroupSize = 256;
};

/// The first rule in `options` that is not a rule's name, or "".
std::string findUnknownFusionRule(const FusionOptions &options);

/// Nodes that run as one kernel.
struct FusionGroup {
  /// Top-level nodes of the model, in body order.
  std::vector<NodeOp> nodes;
  FusionKind kind = FusionKind::Opaque;
  /// The rules that built the group, in rule order.
  std::vector<std::string> rules;
};

/// The groups of two or more of `func`'s top-level nodes, ordered by their
/// first node. Deterministic: depends only on the body. A group never
/// holds a node with subgraphs, and replacing every group by one op leaves
/// the graph acyclic.
std::vector<FusionGroup> computeFusionGroups(mlir::func::FuncOp func,
                                             const FusionOptions &options);

} // namespace chorus

#endif // CHORUS_ANALYSIS_FUSIONGROUPS_H
