//===- ShapeValidation.h - Shapes checked against op semantics --*- C++ -*-===//
//
// Internal to lib/Import: after import, the checks ONNX's shape inference
// leaves out (Reshape element counts, convolution and pooling windows that
// do not fit, Concat ranks and dims, constant Gather indices).
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_LIB_IMPORT_SHAPEVALIDATION_H
#define CHORUS_LIB_IMPORT_SHAPEVALIDATION_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

namespace chorus {

/// Checks every chorus.node under `root`; the first violation is an error
/// at the node, naming the shapes.
mlir::LogicalResult validateShapes(mlir::Operation *root);

} // namespace chorus

#endif // CHORUS_LIB_IMPORT_SHAPEVALIDATION_H
