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

namespace {
/// One field of a protobuf message in wire format.
struct WireField {
  uint64_t number = 0;
  unsigned type = 0;
  /// The whole field, its tag included.
  StringRef bytes;
  /// A length-delimited field's contents (type 2).
  StringRef payload;
};
} // namespace

static bool readVarint(StringRef &in, uint64_t &value) {
  value = 0;
  for (unsigned shift = 0; shift < 64 && !in.empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in.front());
    in = in.drop_front();
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      return true;
  }
  return false;
}

static void writeVarint(std::string &out, uint64_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(static_cast<char>(value ? byte | 0x80 : byte));
  } while (value);
}

/// Calls `fn` on each field of the message `bytes`; false when the bytes are
/// not wire format of the kinds a ModelProto uses (or `fn` says stop).
static bool forEachField(StringRef bytes,
                         llvm::function_ref<bool(const WireField &)> fn) {
  StringRef in = bytes;
  while (!in.empty()) {
    const char *start = in.data();
    uint64_t tag;
    if (!readVarint(in, tag))
      return false;
    WireField field;
    field.number = tag >> 3;
    field.type = tag & 7;
    switch (field.type) {
    case 0: {
      uint64_t ignored;
      if (!readVarint(in, ignored))
        return false;
      break;
    }
    case 1:
    case 5: {
      size_t width = field.type == 1 ? 8 : 4;
      if (in.size() < width)
        return false;
      in = in.drop_front(width);
      break;
    }
    case 2: {
      uint64_t length;
      if (!readVarint(in, length) || length > in.size())
        return false;
      field.payload = in.take_front(length);
      in = in.drop_front(length);
      break;
    }
    default: // Groups (3, 4) and the reserved types: not in ONNX.
      return false;
    }
    field.bytes = StringRef(start, in.data() - start);
    if (!fn(field))
      return false;
  }
  return true;
}

/// Appends the length-delimited field `number` holding `payload`.
static void writeMessageField(std::string &out, uint64_t number,
                              StringRef payload) {
  writeVarint(out, number << 3 | 2);
  writeVarint(out, payload.size());
  out.append(payload.data(), payload.size());
}

// Field numbers of onnx.proto.
enum : uint64_t {
  kModelGraph = 7,
  kGraphNode = 1,
  kGraphInitializer = 5,
  kNodeOpType = 4,
  kNodeAttribute = 5,
  kNodeDomain = 7,
  kAttributeTensor = 5,
  kTensorRawData = 9,
  kTensorExternalData = 13,
  kTensorDataLocation = 14,
  kEntryKey = 1,
  kEntryValue = 2,
};

/// `tensor` without a raw_data of at least `minBytes`, marked as
/// stripLargePayloads says; false when the walk fails.
static bool stripTensor(StringRef tensor, size_t minBytes, std::string &out,
                        bool &stripped) {
  // Of several raw_data fields the last counts, as the parser takes it.
  std::string kept;
  std::optional<WireField> raw;
  if (!forEachField(tensor, [&](const WireField &f) {
        if (f.number == kTensorRawData && f.type == 2)
          raw = f;
        else
          kept.append(f.bytes.data(), f.bytes.size());
        return true;
      }))
    return false;
  if (!raw || raw->payload.size() < minBytes) {
    out.append(tensor.data(), tensor.size());
    return true;
  }
  // A tensor with raw_data is held in the file: a data_location or
  // external_data beside it would be malformed. Left as they are, the import
  // reports them; the mark is added only to a tensor without.
  bool external = false;
  forEachField(kept, [&](const WireField &f) {
    external |=
        f.number == kTensorDataLocation || f.number == kTensorExternalData;
    return true;
  });
  if (external) {
    out.append(tensor.data(), tensor.size());
    return true;
  }
  std::string entry;
  writeMessageField(entry, kEntryKey, kStrippedPayloadKey);
  writeMessageField(entry, kEntryValue, std::to_string(raw->payload.size()));
  writeMessageField(kept, kTensorExternalData, entry);
  writeVarint(kept, kTensorDataLocation << 3 | 0);
  writeVarint(kept, onnx::TensorProto::EXTERNAL);
  stripped = true;
  out = std::move(kept);
  return true;
}

/// What a rewriteFields callback did with a length-delimited field: wrote
/// its new contents (true), failed (false), or left it (std::nullopt).
using FieldRewrite =
    llvm::function_ref<std::optional<bool>(const WireField &, std::string &)>;

/// Copies the message `bytes` to `out`, each length-delimited field that
/// `rewrite` takes replaced by the contents it wrote; false when the walk or
/// a rewrite fails.
static bool rewriteFields(StringRef bytes, std::string &out,
                          FieldRewrite rewrite) {
  return forEachField(bytes, [&](const WireField &f) {
    std::string contents;
    std::optional<bool> done =
        f.type == 2 ? rewrite(f, contents) : std::optional<bool>();
    if (!done) {
      out.append(f.bytes.data(), f.bytes.size());
      return true;
    }
    if (*done)
      writeMessageField(out, f.number, contents);
    return *done;
  });
}

/// `node` with its tensor attributes stripped as stripTensor does when it
/// is a Constant node of the default domain (the only node whose tensor
/// becomes a weight); false when the walk fails.
static bool stripConstantNode(StringRef node, size_t minBytes, std::string &out,
                              bool &stripped) {
  bool constant = false, otherDomain = false;
  if (!forEachField(node, [&](const WireField &f) {
        if (f.number == kNodeOpType && f.type == 2)
          constant = f.payload == "Constant";
        if (f.number == kNodeDomain && f.type == 2)
          otherDomain = !f.payload.empty() && f.payload != "ai.onnx";
        return true;
      }))
    return false;
  if (!constant || otherDomain) {
    out.append(node.data(), node.size());
    return true;
  }
  return rewriteFields(
      node, out,
      [&](const WireField &f, std::string &attribute) -> std::optional<bool> {
        if (f.number != kNodeAttribute)
          return std::nullopt;
        return rewriteFields(f.payload, attribute,
                             [&](const WireField &a,
                                 std::string &tensor) -> std::optional<bool> {
                               if (a.number != kAttributeTensor)
                                 return std::nullopt;
                               return stripTensor(a.payload, minBytes, tensor,
                                                  stripped);
                             });
      });
}

std::optional<std::string> chorus::stripLargePayloads(StringRef contents,
                                                      size_t minBytes) {
  std::string model;
  bool stripped = false;
  bool ok = rewriteFields(
      contents, model,
      [&](const WireField &f, std::string &graph) -> std::optional<bool> {
        if (f.number != kModelGraph)
          return std::nullopt;
        return rewriteFields(
            f.payload, graph,
            [&](const WireField &g, std::string &inner) -> std::optional<bool> {
              if (g.number == kGraphNode)
                return stripConstantNode(g.payload, minBytes, inner, stripped);
              if (g.number == kGraphInitializer)
                return stripTensor(g.payload, minBytes, inner, stripped);
              return std::nullopt;
            });
      });
  if (!ok || !stripped)
    return std::nullopt;
  return model;
}

bool chorus::isStrippedPayload(const onnx::TensorProto &tensor,
                               int64_t *bytes) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL ||
      tensor.external_data_size() != 1 ||
      tensor.external_data(0).key() != kStrippedPayloadKey)
    return false;
  if (bytes) {
    *bytes = 0;
    if (!llvm::to_integer(tensor.external_data(0).value(), *bytes, 10))
      return false;
  }
  return true;
}

LogicalResult chorus::loadOnnxModel(StringRef path, Location loc,
                                    const OnnxLimits &limits,
                                    onnx::ModelProto &model, OnnxFormat format,
                                    bool weightSizesOnly) {
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
  StringRef contents = (*buffer)->getBuffer();
  bool binary = format == OnnxFormat::Binary ||
                (format == OnnxFormat::Detect && !looksLikeText(contents));
  if (weightSizesOnly && binary)
    if (std::optional<std::string> stripped =
            stripLargePayloads(contents, kStrippedPayloadBytes))
      return parseOnnxModel(*stripped, path, loc, limits, model,
                            OnnxFormat::Binary);
  return parseOnnxModel(contents, path, loc, limits, model, format);
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
