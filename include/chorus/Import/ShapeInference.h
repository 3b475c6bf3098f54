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

#include <optional>
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

/// A shape inference running in a child process (startShapeInference), so
/// that the caller can go on with other work, such as reading the next
/// model, while it runs. Destroying an unfinished job stops the child.
struct ShapeInferenceJob {
  int child = -1;
  int fd = -1;
  /// When the child started (monotonic ms); the time-out counts from here.
  long startMs = 0;
  unsigned timeoutSeconds = 0;

  ShapeInferenceJob() = default;
  ShapeInferenceJob(ShapeInferenceJob &&other);
  ShapeInferenceJob &operator=(ShapeInferenceJob &&other);
  ~ShapeInferenceJob();
};

/// inferShapesIsolated in two halves: starts the child on `model` (which
/// must not change until finishShapeInference) and returns at once, or
/// std::nullopt with `problem` set.
std::optional<ShapeInferenceJob> startShapeInference(onnx::ModelProto &model,
                                                     unsigned timeoutSeconds,
                                                     std::string &problem);

/// Waits for `job` (within its time-out) and merges the types into
/// `model`; false, with `problem` set, when none were merged.
bool finishShapeInference(ShapeInferenceJob &job, onnx::ModelProto &model,
                          std::string &problem);

} // namespace chorus

#endif // CHORUS_IMPORT_SHAPEINFERENCE_H
