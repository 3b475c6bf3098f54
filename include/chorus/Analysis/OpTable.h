//===- OpTable.h - What Chorus knows about each ONNX operator --*- C++ -*-===//
//
// The one place that holds operator knowledge. It starts with arithmetic
// work (FLOPs); the cost issue adds bytes moved, op classes and view facts
// here, keyed the same way.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_OPTABLE_H
#define CHORUS_ANALYSIS_OPTABLE_H

#include "chorus/Dialect/ChorusOps.h"

#include <optional>

namespace chorus {

/// The arithmetic work of one node. A multiply-add counts 2 FLOPs.
struct FlopCount {
  double flops = 0;
  /// True when the op table has no entry for the op and the count is the
  /// conservative default (one FLOP per output element).
  bool estimated = false;
};

/// FLOPs of `node` from its operand and result types and attributes, or
/// std::nullopt when a type it needs has no static shape.
std::optional<FlopCount> getNodeFlops(NodeOp node);

/// Whether `node`'s first result is a view of its first operand: the same
/// bytes, reinterpreted (Reshape, Flatten, Squeeze, Unsqueeze, Identity).
/// A view takes no memory of its own; it keeps its source alive.
bool isViewNode(NodeOp node);

} // namespace chorus

#endif // CHORUS_ANALYSIS_OPTABLE_H
