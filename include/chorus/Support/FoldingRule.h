//===- FoldingRule.h - Which ONNX nodes fold to constants -------*- C++ -*-===//
//
// One rule, shared by the op table (what ONNX Runtime folds before its
// execution providers claim nodes) and the importer's evaluator of shape
// computations, and which ops size their results by the data: MLIR-free,
// so both sides read it.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_SUPPORT_FOLDINGRULE_H
#define CHORUS_SUPPORT_FOLDINGRULE_H

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

namespace chorus {

/// How constant folding treats a node: Always a constant (Constant), a
/// constant when its operand's shape is static (Shape, Size), a constant
/// when all its present operands are (every other deterministic op), or
/// Never (random ops, nodes with subgraphs, other domains).
enum class Folding { Always, FromShape, FromOperands, Never };

inline Folding getFoldingRule(llvm::StringRef domain, llvm::StringRef opType,
                              bool hasSubgraphs) {
  if ((!domain.empty() && domain != "ai.onnx") || hasSubgraphs)
    return Folding::Never;
  if (opType == "Constant")
    return Folding::Always;
  if (opType == "Shape" || opType == "Size")
    return Folding::FromShape;
  if (llvm::is_contained({"RandomNormal", "RandomUniform", "RandomNormalLike",
                          "RandomUniformLike", "Multinomial", "Bernoulli"},
                         opType))
    return Folding::Never;
  return Folding::FromOperands;
}

/// Whether the number of elements of the op's results depends on the
/// values of its operands, not only on their shapes (NonZero keeps the
/// non-zero elements, NonMaxSuppression the boxes it keeps...): the
/// importer takes such results at their largest shape.
inline bool hasDataDependentSize(llvm::StringRef domain,
                                 llvm::StringRef opType) {
  if (!domain.empty() && domain != "ai.onnx")
    return false;
  return llvm::is_contained({"NonZero", "NonMaxSuppression", "Unique",
                             "Compress", "TopK", "StringSplit"},
                            opType);
}

} // namespace chorus

#endif // CHORUS_SUPPORT_FOLDINGRULE_H
