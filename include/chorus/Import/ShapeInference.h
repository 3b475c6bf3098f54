//===- ShapeInference.h - ONNX shape inference, isolated -------*- C++ -*-===//
//
// ONNX's inference functions trust the models they read: on malformed ones
// some divide by zero or read through null pointers (found by fuzzing ONNX
// 1.12). The importer therefore runs them in a child process and keeps only
// the types they produce.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_SHAPEINFERENCE_H
#define CHORUS_IMPORT_SHAPEINFERENCE_H

#include <string>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace chorus {

/// Runs ONNX shape inference (with data propagation) on `model` in a child
/// process, at most `timeoutSeconds`, and merges the inferred types into
/// `model`'s value_info and outputs. Large payloads are not sent to the
/// child. Returns false, with `problem` saying why (an inference error, a
/// crash, a time-out), when no types were merged.
bool inferShapesIsolated(onnx::ModelProto &model, unsigned timeoutSeconds,
                         std::string &problem);

} // namespace chorus

#endif // CHORUS_IMPORT_SHAPEINFERENCE_H
