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

#include <string>
#include <utility>
#include <vector>

namespace onnx {
class GraphProto;
class ValueInfoProto;
} // namespace onnx

namespace chorus {

/// Evaluates the computations of `graph` (its top level) whose operands are
/// known and small (at most 1,024 elements): initializers, Constant nodes,
/// Shape and Size of values with static shapes, and every node that the
/// folding rule (chorus/Support/FoldingRule.h) folds and the evaluator has
/// a kernel for (casts, arithmetic and comparisons with broadcasting,
/// Where, ConstantOfShape, Reshape, Squeeze/Unsqueeze, Transpose, Concat,
/// Gather, Slice, Expand, Tile, Range, reductions, Split, NonZero...). Each
/// folded node is replaced by initializers holding its values, and their
/// types are appended to `folded`. Meant for a scratch copy that inference
/// runs on again: the imported graph keeps its nodes. Returns whether
/// anything was folded.
bool foldShapeComputations(onnx::GraphProto &graph,
                           std::vector<onnx::ValueInfoProto> &folded);

/// What the refinement learnt about a node or the model, sent back to the
/// importer: key "chorus.taken_branch" (value "OUTPUT=then|else", the If
/// whose first result is OUTPUT), "chorus.trip_count" ("OUTPUT=N", a Loop)
/// or "chorus.assumption" (a sentence for the user).
using FoldingNotes = std::vector<std::pair<std::string, std::string>>;

/// Replaces each top-level If of `graph` whose condition is a known
/// initializer by the nodes of the branch it takes (the branch's outputs
/// renamed to the If's by Identity nodes), noting the branch taken.
bool inlineTakenBranches(onnx::GraphProto &graph, FoldingNotes &notes);

/// Gives the results of data-dependent nodes (NonZero, NonMaxSuppression,
/// Compress, Unique, TopK with a computed K) whose size inference left
/// unknown their largest possible shape, as value_info, and notes the
/// assumption; and the scan outputs of each Loop whose trip count is a
/// known initializer their leading dim. Returns whether a shape was given.
bool pinUnknownExtents(onnx::GraphProto &graph, FoldingNotes &notes);

/// Notes the trip count of each top-level Loop whose count is a known
/// initializer.
void noteTripCounts(const onnx::GraphProto &graph, FoldingNotes &notes);

} // namespace chorus

#endif // CHORUS_IMPORT_SHAPEFOLDING_H
