//===- ShapeFolding.h - Fold shape computations for inference ---*- C++ -*-===//
//
// Part of the importer's shape inference: exporters compute Reshape targets
// from Shape with integer arithmetic that ONNX 1.12's data propagation does
// not follow through Cast. Folding those small integer values lets a second
// round of inference type what the first left unknown.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_SHAPEFOLDING_H
#define CHORUS_IMPORT_SHAPEFOLDING_H

#include <vector>

namespace onnx {
class GraphProto;
class ValueInfoProto;
} // namespace onnx

namespace chorus {

/// Evaluates the small integer computations of `graph` (its top level) whose
/// inputs are known: initializers, Constant nodes and Shape/Size of values
/// with static shapes, through Cast, Gather, Slice, Concat, Unsqueeze,
/// Squeeze, Identity and integer Add/Sub/Mul/Div. Each folded node is
/// replaced by an initializer holding its value, and its type appended to
/// `folded`. Meant for a scratch copy that inference runs on again: the
/// imported graph keeps its nodes. Returns whether anything was folded.
bool foldShapeComputations(onnx::GraphProto &graph,
                           std::vector<onnx::ValueInfoProto> &folded);

} // namespace chorus

#endif // CHORUS_IMPORT_SHAPEFOLDING_H
