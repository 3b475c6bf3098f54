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

#include <map>
#include <optional>
#include <string>

namespace onnx {
class GraphProto;
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
/// With `lowerOpset`, the child first rewrites the model to opset
/// kLowestInferenceOpset (canLowerOpsetForInference).
std::optional<ShapeInferenceJob> startShapeInference(onnx::ModelProto &model,
                                                     unsigned timeoutSeconds,
                                                     std::string &problem,
                                                     bool lowerOpset = false);

/// The newest ai.onnx opset whose schemas ONNX 1.12 has.
constexpr int kLowestInferenceOpset = 17;

/// Whether a model whose ai.onnx opset is newer than the ONNX library's can
/// be inferred on a copy rewritten to kLowestInferenceOpset: the forms
/// opsets 18 and later changed (Reduce axes as an input, Split
/// num_outputs, Resize's antialias and keep_aspect_ratio_policy, Cast's
/// saturate) are rewritten to the older ones; ops new since are left to
/// inference, which types what it knows. False when another domain is
/// newer than the library knows.
bool canLowerOpsetForInference(const onnx::ModelProto &model);

/// The opset version of each domain the model imports ("" for ai.onnx).
std::map<std::string, int> opsetVersions(const onnx::ModelProto &model);

/// The first node, in `graph` or its subgraphs, that does not match the
/// ONNX schema of its operator (input or output counts, missing or
/// mistyped attributes), described; std::nullopt when all match or have
/// no schema. ONNX's shape inference trusts the schema, and on such a node
/// some of its inference functions read through null pointers.
std::optional<std::string>
findSchemaMismatch(const onnx::GraphProto &graph,
                   const std::map<std::string, int> &versions);

/// Waits for `job` (within its time-out) and merges the types into
/// `model`; false, with `problem` set, when none were merged.
bool finishShapeInference(ShapeInferenceJob &job, onnx::ModelProto &model,
                          std::string &problem);

} // namespace chorus

#endif // CHORUS_IMPORT_SHAPEINFERENCE_H
