//===- OnnxFile.cpp - Reading ONNX model files ----------------------------===//

#include "chorus/Import/OnnxFile.h"
#include "chorus/Support/Nesting.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/defs/parser.h"
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>

#include <algorithm>

#include <exception>

using namespace mlir;
using namespace chorus;
using llvm::StringRef;

/// Whether `buffer` holds ONNX text syntax rather than protobuf: text starts
/// with '<' (the model header), '#' (a comment) or a graph name and has no
/// control characters; a binary ModelProto starts with a field tag byte.
static bool looksLikeText(StringRef buffer) {
  StringRef head = buffer.take_front(256);
  bool printable = llvm::all_of(head, [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u >= 0x20 || c == '\n' || c == '\r' || c == '\t';
  });
  StringRef start = head.ltrim();
  return printable && !start.empty() &&
         (start.front() == '<' || start.front() == '#' ||
          start.front() == '_' || llvm::isAlpha(start.front()));
}

LogicalResult chorus::parseOnnxModel(StringRef contents, StringRef path,
                                     Location loc, const OnnxLimits &limits,
                                     onnx::ModelProto &model,
                                     OnnxFormat format) {
  if (contents.empty())
    return emitError(loc) << "'" << path
                          << "' is empty; expected an ONNX model";
  bool text = format == OnnxFormat::Detect ? looksLikeText(contents)
                                           : format == OnnxFormat::Text;
  if (text) {
    // ONNX's text parser recurses once per subgraph level and has no limit
    // of its own; one tensor literal and the graph add two levels.
    if (getBracketNesting(contents, "{", "}", "#") > limits.maxNestingDepth + 2)
      return emitError(loc) << "'" << path
                            << "' nests subgraphs deeper than "
                               "--max-nesting-depth="
                            << limits.maxNestingDepth << " allows";
    // The parser reads up to a NUL; the copy guarantees one.
    std::string text = contents.str();
    onnx::Common::Status parsed;
    try {
      parsed = onnx::OnnxParser::Parse(model, text.c_str());
    } catch (const std::exception &e) {
      return emitError(loc)
             << "cannot parse '" << path << "' as ONNX text: " << e.what();
    }
    if (!parsed.IsOK())
      return emitError(loc) << "cannot parse '" << path
                            << "' as ONNX text: " << parsed.ErrorMessage();
    return success();
  }
  if (contents.size() > static_cast<size_t>(INT32_MAX))
    return emitError(loc) << "'" << path
                          << "' is larger than 2 GiB, the protobuf limit; "
                             "store weights as external data";
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t *>(contents.data()),
      static_cast<int>(contents.size()));
  // Each subgraph level is three messages deep (node, attribute, graph);
  // types and the model add a few more.
  input.SetRecursionLimit(3 * limits.maxNestingDepth + 16);
  // Protobuf logs some problems (invalid UTF-8 in strings) to stderr and
  // carries on; the model is checked on its own terms afterwards.
  google::protobuf::LogSilencer silencer;
  if (!model.ParseFromCodedStream(&input) || !input.ConsumedEntireMessage())
    return emitError(loc) << "'" << path
                          << "' is not a valid ONNX model: the protobuf "
                             "could not be parsed (a truncated or corrupt "
                             "file, or subgraphs nested deeper than "
                             "--max-nesting-depth="
                          << limits.maxNestingDepth << " allows)";
  return success();
}

LogicalResult chorus::loadOnnxModel(StringRef path, Location loc,
                                    const OnnxLimits &limits,
                                    onnx::ModelProto &model,
                                    OnnxFormat format) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return emitError(loc) << "cannot open '" << path << "': " << ec.message();
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return emitError(loc) << "'" << path << "' is not a regular file";
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(loc) << "cannot read '" << path
                          << "': " << buffer.getError().message();
  return parseOnnxModel((*buffer)->getBuffer(), path, loc, limits, model,
                        format);
}

std::optional<onnx::TensorProto>
chorus::constantToTensor(const onnx::NodeProto &node) {
  if (node.op_type() != "Constant" || !node.domain().empty() ||
      node.attribute_size() != 1 || node.output_size() != 1)
    return std::nullopt;
  const onnx::AttributeProto &attr = node.attribute(0);
  onnx::TensorProto tensor;
  StringRef name = attr.name();
  if (name == "value" && attr.has_t()) {
    tensor = attr.t();
  } else if (name == "value_float" && attr.has_f()) {
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    tensor.add_float_data(attr.f());
  } else if (name == "value_floats") {
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    tensor.add_dims(attr.floats_size());
    *tensor.mutable_float_data() = attr.floats();
  } else if (name == "value_int" && attr.has_i()) {
    tensor.set_data_type(onnx::TensorProto::INT64);
    tensor.add_int64_data(attr.i());
  } else if (name == "value_ints") {
    tensor.set_data_type(onnx::TensorProto::INT64);
    tensor.add_dims(attr.ints_size());
    *tensor.mutable_int64_data() = attr.ints();
  } else if (name == "value_string" && attr.has_s()) {
    tensor.set_data_type(onnx::TensorProto::STRING);
    tensor.add_string_data(attr.s());
  } else if (name == "value_strings") {
    tensor.set_data_type(onnx::TensorProto::STRING);
    tensor.add_dims(attr.strings_size());
    *tensor.mutable_string_data() = attr.strings();
  } else {
    return std::nullopt;
  }
  return tensor;
}
