//===- OnnxFile.h - Reading ONNX model files -------------------*- C++ -*-===//

#ifndef CHORUS_IMPORT_ONNXFILE_H
#define CHORUS_IMPORT_ONNXFILE_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"

#include "onnx/onnx_pb.h"

#include <optional>

namespace chorus {

/// How a model file is written.
enum class OnnxFormat {
  /// Told by content: printable text starting with '<', '#' or a letter is
  /// ONNX text syntax, anything else binary protobuf.
  Detect,
  Binary,
  Text,
};

/// Bounds on the work a model file can demand. Each is a chorus-import
/// option of the same name; exceeding one is an error that names it.
struct OnnxLimits {
  /// Subgraphs (If/Loop/Scan bodies) nested in subgraphs.
  unsigned maxNestingDepth = 64;
  /// Nodes in the model, subgraphs included.
  int64_t maxNodes = 10'000'000;
  /// Seconds ONNX shape inference may run before it is stopped.
  unsigned maxInferenceSeconds = 120;
};

/// Parses `contents`, ONNX binary protobuf or ONNX text syntax (told apart
/// by content), into `model`; `path` names it in errors, emitted at `loc`:
/// an empty buffer, a parse error, nesting beyond the limit.
mlir::LogicalResult parseOnnxModel(llvm::StringRef contents,
                                   llvm::StringRef path, mlir::Location loc,
                                   const OnnxLimits &limits,
                                   onnx::ModelProto &model,
                                   OnnxFormat format = OnnxFormat::Detect);

/// Reads the model in `path` and parses it with parseOnnxModel. A missing
/// or non-regular file (directory, FIFO, device) is refused before it is
/// read. With `weightSizesOnly`, the tensors of a binary model's main graph
/// (initializers, Constant nodes) whose raw_data holds at least
/// kStrippedPayloadBytes are parsed without those bytes (see
/// stripLargePayloads): their dims and type stay, their pages of the file
/// are never read.
mlir::LogicalResult loadOnnxModel(llvm::StringRef path, mlir::Location loc,
                                  const OnnxLimits &limits,
                                  onnx::ModelProto &model,
                                  OnnxFormat format = OnnxFormat::Detect,
                                  bool weightSizesOnly = false);

/// The smallest raw_data stripLargePayloads leaves out.
constexpr size_t kStrippedPayloadBytes = 4096;

/// The key of the external_data entry that marks a tensor whose raw_data
/// stripLargePayloads left out; its value is the number of bytes left out.
constexpr const char *kStrippedPayloadKey = "chorus.payload_left_out";

/// A copy of `contents`, a binary ModelProto, without the raw_data of each
/// tensor of the main graph, an initializer or a Constant node's, that
/// holds at least `minBytes`: such a
/// tensor keeps its name, dims and type, says data_location EXTERNAL, and
/// has one external_data entry, kStrippedPayloadKey, whose value is the
/// byte count left out. Nothing else changes. std::nullopt when nothing was
/// left out, or when `contents` is not protobuf wire format this walk knows
/// (groups, a field running past its message): then parse it as it is, and
/// let the parser report what is wrong.
std::optional<std::string> stripLargePayloads(llvm::StringRef contents,
                                              size_t minBytes);

/// Whether `tensor` is one whose payload stripLargePayloads left out; then
/// `bytes` (if given) is set to the byte count it left out.
bool isStrippedPayload(const onnx::TensorProto &tensor,
                       int64_t *bytes = nullptr);

/// The tensor a `Constant` node stands for (any of its value_* forms), or
/// std::nullopt when it should stay a node (sparse values, other domains,
/// malformed attributes).
std::optional<onnx::TensorProto> constantToTensor(const onnx::NodeProto &node);

} // namespace chorus

#endif // CHORUS_IMPORT_ONNXFILE_H
