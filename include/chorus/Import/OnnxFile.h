//===- OnnxFile.h - Reading ONNX model files -------------------*- C++ -*-===//

#ifndef CHORUS_IMPORT_ONNXFILE_H
#define CHORUS_IMPORT_ONNXFILE_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"

#include "onnx/onnx_pb.h"

#include <optional>

namespace chorus {

/// Reads the model in `path`, ONNX binary protobuf or ONNX text syntax (told
/// apart by content), into `model`. Emits an error at `loc` on failure: a
/// missing or non-regular file, an empty file, a parse error.
mlir::LogicalResult loadOnnxModel(llvm::StringRef path, mlir::Location loc,
                                  onnx::ModelProto &model);

/// The tensor a `Constant` node stands for (any of its value_* forms), or
/// std::nullopt when it should stay a node (sparse values, other domains,
/// malformed attributes).
std::optional<onnx::TensorProto> constantToTensor(const onnx::NodeProto &node);

} // namespace chorus

#endif // CHORUS_IMPORT_ONNXFILE_H
