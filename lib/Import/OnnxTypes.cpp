//===- OnnxTypes.cpp - ONNX types as MLIR types ---------------------------===//

#include "chorus/Import/OnnxTypes.h"
#include "chorus/Dialect/ChorusTypes.h"

#include "mlir/IR/Builders.h"
#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace chorus;

Type chorus::convertOnnxElementType(MLIRContext *ctx, int dataType) {
  using T = onnx::TensorProto;
  Builder b(ctx);
  auto unsignedInt = [&](unsigned width) {
    return IntegerType::get(ctx, width, IntegerType::Unsigned);
  };
  switch (dataType) {
  case T::FLOAT:
    return b.getF32Type();
  case T::UINT8:
    return unsignedInt(8);
  case T::INT8:
    return b.getIntegerType(8);
  case T::UINT16:
    return unsignedInt(16);
  case T::INT16:
    return b.getIntegerType(16);
  case T::INT32:
    return b.getIntegerType(32);
  case T::INT64:
    return b.getIntegerType(64);
  case T::STRING:
    return StringType::get(ctx);
  case T::BOOL:
    return b.getI1Type();
  case T::FLOAT16:
    return b.getF16Type();
  case T::DOUBLE:
    return b.getF64Type();
  case T::UINT32:
    return unsignedInt(32);
  case T::UINT64:
    return unsignedInt(64);
  case T::COMPLEX64:
    return ComplexType::get(b.getF32Type());
  case T::COMPLEX128:
    return ComplexType::get(b.getF64Type());
  case T::BFLOAT16:
    return b.getBF16Type();
  // Data types of ONNX releases after 1.12, by their enum values.
  case 17:
    return b.getFloat8E4M3FNType();
  case 18:
    return b.getFloat8E4M3FNUZType();
  case 19:
    return b.getFloat8E5M2Type();
  case 20:
    return b.getFloat8E5M2FNUZType();
  case 21:
    return unsignedInt(4);
  case 22:
    return b.getIntegerType(4);
  default:
    return Type();
  }
}

StringRef chorus::getOnnxDataTypeName(int dataType) {
  static const char *const names[] = {
      "UNDEFINED",      "FLOAT",        "UINT8",          "INT8",
      "UINT16",         "INT16",        "INT32",          "INT64",
      "STRING",         "BOOL",         "FLOAT16",        "DOUBLE",
      "UINT32",         "UINT64",       "COMPLEX64",      "COMPLEX128",
      "BFLOAT16",       "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
      "FLOAT8E5M2FNUZ", "UINT4",        "INT4",           "FLOAT4E2M1"};
  if (dataType < 0 || dataType >= static_cast<int>(std::size(names)))
    return "an unknown data type";
  return names[dataType];
}

/// Converts the element type and shape of a tensor-like TypeProto.
static Type convertTensorShape(MLIRContext *ctx, int elemType, bool hasShape,
                               const onnx::TensorShapeProto &shape) {
  Type element = convertOnnxElementType(ctx, elemType);
  if (!element)
    return Type();
  if (!hasShape)
    return UnrankedTensorType::get(element);
  SmallVector<int64_t> dims;
  for (const onnx::TensorShapeProto::Dimension &dim : shape.dim())
    dims.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                       ? dim.dim_value()
                       : ShapedType::kDynamic);
  return RankedTensorType::get(dims, element);
}

Type chorus::convertOnnxType(MLIRContext *ctx, const onnx::TypeProto &type) {
  switch (type.value_case()) {
  case onnx::TypeProto::kTensorType: {
    const auto &tensor = type.tensor_type();
    if (tensor.elem_type() == onnx::TensorProto::UNDEFINED)
      return UnknownType::get(ctx);
    return convertTensorShape(ctx, tensor.elem_type(), tensor.has_shape(),
                              tensor.shape());
  }
  case onnx::TypeProto::kSparseTensorType: {
    const auto &tensor = type.sparse_tensor_type();
    Type dense = convertTensorShape(ctx, tensor.elem_type(), tensor.has_shape(),
                                    tensor.shape());
    return dense ? SparseType::get(ctx, dense) : Type();
  }
  case onnx::TypeProto::kSequenceType: {
    Type element = convertOnnxType(ctx, type.sequence_type().elem_type());
    return element ? SequenceType::get(ctx, element) : Type();
  }
  case onnx::TypeProto::kOptionalType: {
    Type element = convertOnnxType(ctx, type.optional_type().elem_type());
    return element ? OptionalType::get(ctx, element) : Type();
  }
  case onnx::TypeProto::kMapType: {
    Type key = convertOnnxElementType(ctx, type.map_type().key_type());
    Type value = convertOnnxType(ctx, type.map_type().value_type());
    return key && value ? MapType::get(ctx, key, value) : Type();
  }
  default:
    return UnknownType::get(ctx);
  }
}
