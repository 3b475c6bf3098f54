//===- OnnxTypes.h - ONNX types as MLIR types -------------------*- C++ -*-===//

#ifndef CHORUS_IMPORT_ONNXTYPES_H
#define CHORUS_IMPORT_ONNXTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

namespace onnx {
class TypeProto;
} // namespace onnx

namespace chorus {

/// The MLIR element type of ONNX data type `dataType` (signless integers
/// for signed ONNX integers, `ui*` for unsigned ones, `i1` for bool,
/// `!chorus.string` for strings), or null when there is none.
mlir::Type convertOnnxElementType(mlir::MLIRContext *ctx, int dataType);

/// The ONNX name of data type `dataType` ("FLOAT", "INT64"...).
llvm::StringRef getOnnxDataTypeName(int dataType);

/// The MLIR type of an ONNX TypeProto. Unknown dims become dynamic, a tensor
/// without a shape becomes unranked; sequence, optional, map and sparse
/// types become chorus types; a TypeProto that says nothing becomes
/// `!chorus.unknown`. Returns null for an element type with no MLIR type.
mlir::Type convertOnnxType(mlir::MLIRContext *ctx, const onnx::TypeProto &type);

} // namespace chorus

#endif // CHORUS_IMPORT_ONNXTYPES_H
