//===- ShapeOrigin.h - Where a shape that is not known comes from -*- C++
//-*-===//
//
// When a cost or a size needs a static shape and a value has none, the
// user needs the node where the shape was lost and why, not only the node
// that needed it.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_SHAPEORIGIN_H
#define CHORUS_ANALYSIS_SHAPEORIGIN_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include <string>

namespace chorus {

/// Follows `op`'s operands and results without a static shape back to the
/// first place the shape is lost: a model input with open dims (with the
/// --input-shape flag that fixes it), or a node whose operands are all
/// static (a result sized by the data, shape operands computed at run
/// time, or an op shape inference does not type). Returns a sentence
/// starting "it comes from ..."; empty when `op` has no such value.
std::string explainUnknownShape(mlir::Operation *op);

/// explainUnknownShape for one value.
std::string explainUnknownShape(mlir::Value value);

} // namespace chorus

#endif // CHORUS_ANALYSIS_SHAPEORIGIN_H
