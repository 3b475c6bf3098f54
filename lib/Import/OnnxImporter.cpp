//===- OnnxImporter.cpp - ONNX models into the chorus dialect -------------===//

#include "chorus/Import/OnnxImporter.h"
#include "OnnxValidation.h"
#include "ShapeValidation.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Import/OnnxFile.h"
#include "chorus/Import/OnnxTypes.h"
#include "chorus/Import/ShapeInference.h"
#include "chorus/Import/TensorData.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <exception>
#include <map>
#include <memory>

using namespace mlir;
using namespace chorus;
using llvm::StringRef;

/// Tensors with at most this many numeric elements keep their values on the
/// weight, so that later passes can read shapes, axes and scales.
static constexpr int64_t kMaxWeightValueElements = 64;
/// Tensor attributes with more elements are kept as type and digest only.
static constexpr int64_t kMaxAttrTensorElements = 1024;

namespace {

/// Imports one ModelProto into a func and module-level weights.
class ModelImporter {
public:
  /// `sizesOnly`: the file was loaded with ImportOptions::weightSizesOnly,
  /// and tensors whose payload the loader left out become weights of their
  /// type alone (a normal import reads every payload, and refuses a tensor
  /// so marked as external data with no location).
  ModelImporter(MLIRContext *ctx, StringRef path, StringRef modelDir,
                llvm::StringSet<> &usedSymbols, bool sizesOnly)
      : ctx(ctx), builder(ctx), path(path), modelDir(modelDir),
        usedSymbols(usedSymbols), locs(ctx, path), sizesOnly(sizesOnly) {}

  FailureOr<func::FuncOp> importModel(const onnx::ModelProto &model,
                                      ModuleOp module, StringRef funcName);

private:
  Location labelLoc(const llvm::Twine &label) { return locs.label(label); }
  Location nodeLoc(const onnx::NodeProto &node, int index) {
    return locs.node(node, index);
  }

  std::string uniqueSymbol(StringRef base) {
    std::string name = sanitizeSymbol(base);
    if (usedSymbols.insert(name).second)
      return name;
    for (unsigned i = 1;; ++i) {
      std::string candidate = name + "_" + std::to_string(i);
      if (usedSymbols.insert(candidate).second)
        return candidate;
    }
  }

  void recordTypes(const onnx::GraphProto &graph);
  Type lookupType(StringRef name);
  FailureOr<Type> convertValueType(const onnx::ValueInfoProto &info,
                                   Location loc);

  LogicalResult importGraph(const onnx::GraphProto &graph, Block *block,
                            bool isMain, SmallVectorImpl<Value> &outputs);
  /// A weight for `tensor`; `fromConstantNode` where the file holds it in
  /// a Constant node (WeightOp's `constant_node`).
  FailureOr<Value> createWeight(const onnx::TensorProto &tensor,
                                StringRef onnxName, Location loc,
                                bool fromConstantNode = false);
  /// A weight for an initializer whose `leftOut` bytes the file loader did
  /// not read (ImportOptions::weightSizesOnly): its type, no value.
  FailureOr<Value> createSizedWeight(const onnx::TensorProto &tensor,
                                     ArrayRef<int64_t> dims, Type element,
                                     int64_t leftOut, StringRef onnxName,
                                     Location loc, bool fromConstantNode);
  /// A WeightOp named after `onnxName`, inserted at the weight anchor and
  /// completed by `complete` (where given), and a reference to it here.
  Value insertWeight(Location loc, StringRef onnxName, RankedTensorType type,
                     StringRef digest, int64_t bytes, bool fromConstantNode,
                     llvm::function_ref<void(WeightOp)> complete = nullptr);
  FailureOr<Attribute> convertTensorAttr(const onnx::TensorProto &tensor,
                                         Location loc);
  FailureOr<Attribute> convertAttribute(const onnx::AttributeProto &attr,
                                        Location loc);
  LogicalResult importNode(const onnx::NodeProto &node, int index);
  Value lookupValue(StringRef name) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it)
      if (auto found = it->find(name); found != it->end())
        return found->second;
    return Value();
  }
  Value getNone() {
    Block *block = builder.getInsertionBlock();
    Value &none = noneValues[block];
    if (!none) {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(block);
      none = builder.create<NoneOp>(fileLoc, builder.getNoneType()).getResult();
    }
    return none;
  }

public:
  /// What shape inference learnt, by a node's first named result.
  llvm::StringMap<std::string> takenBranches;
  llvm::StringMap<int64_t> tripCounts;
  /// Trip counts the user gave, by the Loop node's name.
  llvm::StringMap<int64_t> userTripCounts;
  std::vector<std::string> assumptions;
  /// Per model input, the dims its file leaves open (a dim_param or no
  /// value), before any binding: what a runtime that is not told the
  /// bindings knows when it optimizes the graph.
  llvm::StringMap<SmallVector<int64_t>> declaredDynamic;

private:
  MLIRContext *ctx;
  OpBuilder builder;
  StringRef path;
  StringRef modelDir;
  llvm::StringSet<> &usedSymbols;
  OnnxLocations locs;
  bool sizesOnly;
  Location fileLoc = locs.file();
  std::string funcName;
  /// Where module-level weights are inserted: just before the model's func.
  Operation *weightAnchor = nullptr;
  llvm::StringMap<const onnx::TypeProto *> valueTypes;
  std::vector<llvm::StringMap<Value>> scopes;
  llvm::DenseMap<Block *, Value> noneValues;
};

} // namespace

/// Whether `type` is a tensor with every dim known.
static bool isStaticTensorType(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return false;
  return llvm::all_of(type.tensor_type().shape().dim(),
                      [](const auto &dim) { return dim.has_dim_value(); });
}

void ModelImporter::recordTypes(const onnx::GraphProto &graph) {
  // A subgraph's own value_info does not replace a static type found for
  // the same value at the top level (a branch the folding took inline).
  auto record = [&](const onnx::ValueInfoProto &info) {
    if (!info.has_type())
      return;
    const onnx::TypeProto *&slot = valueTypes[info.name()];
    if (!slot || !isStaticTensorType(*slot) || isStaticTensorType(info.type()))
      slot = &info.type();
  };
  for (const onnx::ValueInfoProto &info : graph.value_info())
    record(info);
  for (const onnx::ValueInfoProto &info : graph.output())
    record(info);
}

Type ModelImporter::lookupType(StringRef name) {
  auto it = valueTypes.find(name);
  if (it == valueTypes.end())
    return UnknownType::get(ctx);
  Type type = convertOnnxType(ctx, *it->second);
  return type ? type : UnknownType::get(ctx);
}

FailureOr<Type>
ModelImporter::convertValueType(const onnx::ValueInfoProto &info,
                                Location loc) {
  if (!info.has_type())
    return Type(UnknownType::get(ctx));
  Type type = convertOnnxType(ctx, info.type());
  if (!type)
    return emitError(loc) << "value '" << info.name()
                          << "' has an element type this importer does not "
                             "support";
  return type;
}

/// Builds a dense elements attribute from little-endian payload bytes, or
/// null when the element type has no byte-aligned dense form.
static Attribute makeDenseAttr(ShapedType type, const TensorBytes &data) {
  Type element = type.getElementType();
  if (element.isInteger(1)) {
    SmallVector<bool> values;
    for (uint8_t byte : data.getBytes())
      values.push_back(byte != 0);
    return DenseElementsAttr::get(type, values);
  }
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0)
    return Attribute();
  ArrayRef<char> raw(reinterpret_cast<const char *>(data.getBytes().data()),
                     data.getBytes().size());
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}

FailureOr<Value> ModelImporter::createWeight(const onnx::TensorProto &tensor,
                                             StringRef onnxName, Location loc,
                                             bool fromConstantNode) {
  if (tensor.has_segment())
    return emitError(loc) << "segmented tensors are not supported";
  Type element = convertOnnxElementType(ctx, tensor.data_type());
  if (!element)
    return emitError(loc) << "data type "
                          << getOnnxDataTypeName(tensor.data_type()) << " ("
                          << tensor.data_type() << ") is not supported";
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  int64_t leftOut = 0;
  if (sizesOnly && isStrippedPayload(tensor, &leftOut))
    return createSizedWeight(tensor, dims, element, leftOut, onnxName, loc,
                             fromConstantNode);
  llvm::Expected<TensorBytes> data = readTensorBytes(tensor, modelDir);
  if (!data)
    return emitError(loc) << llvm::toString(data.takeError());
  auto type = RankedTensorType::get(dims, element);
  std::string digest =
      computeTensorDigest(tensor.data_type(), dims, data->getBytes());

  return insertWeight(loc, onnxName, type, digest, data->payloadBytes,
                      fromConstantNode, [&](WeightOp weight) {
                        // readTensorBytes has checked that the element count
                        // fits in 64 bits.
                        if (type.getNumElements() <= kMaxWeightValueElements &&
                            !isa<StringType, ComplexType>(element))
                          if (auto dense = dyn_cast_or_null<ElementsAttr>(
                                  makeDenseAttr(type, *data)))
                            weight.setValueAttr(dense);
                        if (data->externalLocation)
                          weight.setExternalLocation(*data->externalLocation);
                      });
}

Value ModelImporter::insertWeight(Location loc, StringRef onnxName,
                                  RankedTensorType type, StringRef digest,
                                  int64_t bytes, bool fromConstantNode,
                                  llvm::function_ref<void(WeightOp)> complete) {
  OpBuilder::InsertPoint insertPoint = builder.saveInsertionPoint();
  builder.setInsertionPoint(weightAnchor);
  auto weight = builder.create<WeightOp>(
      loc, uniqueSymbol(funcName + "." + onnxName.str()), type, digest, bytes,
      builder.getStrArrayAttr({onnxName}),
      /*value=*/nullptr, /*external_location=*/nullptr, fromConstantNode);
  if (complete)
    complete(weight);
  builder.restoreInsertionPoint(insertPoint);
  return builder.create<WeightRefOp>(loc, type, weight.getSymName())
      .getResult();
}

FailureOr<Value> ModelImporter::createSizedWeight(
    const onnx::TensorProto &tensor, ArrayRef<int64_t> dims, Type element,
    int64_t leftOut, StringRef onnxName, Location loc, bool fromConstantNode) {
  // The bytes the file held must be what the type needs, as readTensorBytes
  // checks of a payload it reads.
  llvm::Expected<int64_t> elements = getElementCount(dims);
  if (!elements)
    return emitError(loc) << llvm::toString(elements.takeError());
  llvm::Expected<int64_t> bytes =
      getPayloadBytes(tensor.data_type(), *elements);
  if (!bytes)
    return emitError(loc) << llvm::toString(bytes.takeError());
  if (*bytes != leftOut)
    return emitError(loc) << "raw_data holds " << leftOut
                          << " bytes but its type needs " << *bytes;
  auto type = RankedTensorType::get(dims, element);
  // Unique to this weight: its file and name stand for its bytes.
  std::string identity = "sizes only: " + path.str() + ": " + onnxName.str();
  std::string digest = computeTensorDigest(
      tensor.data_type(), dims,
      ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(identity.data()),
                        identity.size()));
  return insertWeight(loc, onnxName, type, digest, *bytes, fromConstantNode);
}

FailureOr<Attribute>
ModelImporter::convertTensorAttr(const onnx::TensorProto &tensor,
                                 Location loc) {
  Type element = convertOnnxElementType(ctx, tensor.data_type());
  if (!element)
    return emitError(loc) << "tensor attribute has data type "
                          << getOnnxDataTypeName(tensor.data_type())
                          << ", which is not supported";
  llvm::Expected<TensorBytes> data = readTensorBytes(tensor, modelDir);
  if (!data)
    return emitError(loc) << "tensor attribute: "
                          << llvm::toString(data.takeError());
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  auto type = RankedTensorType::get(dims, element);
  if (type.getNumElements() <= kMaxAttrTensorElements) {
    if (isa<StringType>(element)) {
      SmallVector<StringRef> strings;
      for (const std::string &s : tensor.string_data())
        strings.push_back(s);
      return Attribute(DenseStringElementsAttr::get(type, strings));
    }
    if (Attribute dense = makeDenseAttr(type, *data))
      return dense;
  }
  return Attribute(ElidedTensorAttr::get(
      ctx, type,
      computeTensorDigest(tensor.data_type(), dims, data->getBytes())));
}

/// The kind of an attribute whose `type` field is unset (IR version 1).
static onnx::AttributeProto::AttributeType
inferAttributeType(const onnx::AttributeProto &attr) {
  using A = onnx::AttributeProto;
  if (attr.type() != A::UNDEFINED)
    return attr.type();
  if (attr.has_f())
    return A::FLOAT;
  if (attr.has_i())
    return A::INT;
  if (attr.has_s())
    return A::STRING;
  if (attr.has_t())
    return A::TENSOR;
  if (attr.has_g())
    return A::GRAPH;
  if (attr.has_tp())
    return A::TYPE_PROTO;
  if (attr.floats_size())
    return A::FLOATS;
  if (attr.ints_size())
    return A::INTS;
  if (attr.strings_size())
    return A::STRINGS;
  if (attr.tensors_size())
    return A::TENSORS;
  if (attr.graphs_size())
    return A::GRAPHS;
  return A::UNDEFINED;
}

FailureOr<Attribute>
ModelImporter::convertAttribute(const onnx::AttributeProto &attr,
                                Location loc) {
  using A = onnx::AttributeProto;
  switch (inferAttributeType(attr)) {
  case A::INT:
    return Attribute(builder.getI64IntegerAttr(attr.i()));
  case A::FLOAT:
    return Attribute(builder.getF32FloatAttr(attr.f()));
  case A::STRING:
    return Attribute(builder.getStringAttr(attr.s()));
  case A::INTS:
    return Attribute(builder.getDenseI64ArrayAttr(
        SmallVector<int64_t>(attr.ints().begin(), attr.ints().end())));
  case A::FLOATS:
    return Attribute(builder.getDenseF32ArrayAttr(
        SmallVector<float>(attr.floats().begin(), attr.floats().end())));
  case A::STRINGS: {
    SmallVector<Attribute> strings;
    for (const std::string &s : attr.strings())
      strings.push_back(builder.getStringAttr(s));
    return Attribute(builder.getArrayAttr(strings));
  }
  case A::TENSOR:
    return convertTensorAttr(attr.t(), loc);
  case A::TENSORS: {
    SmallVector<Attribute> tensors;
    for (const onnx::TensorProto &t : attr.tensors()) {
      FailureOr<Attribute> converted = convertTensorAttr(t, loc);
      if (failed(converted))
        return failure();
      tensors.push_back(*converted);
    }
    return Attribute(builder.getArrayAttr(tensors));
  }
  case A::SPARSE_TENSOR: {
    const onnx::SparseTensorProto &sparse = attr.sparse_tensor();
    Type element = convertOnnxElementType(ctx, sparse.values().data_type());
    if (!element)
      return emitError(loc) << "sparse tensor attribute '" << attr.name()
                            << "' has an unsupported data type";
    llvm::Expected<TensorBytes> values =
        readTensorBytes(sparse.values(), modelDir);
    if (!values)
      return emitError(loc) << "sparse tensor attribute '" << attr.name()
                            << "': " << llvm::toString(values.takeError());
    SmallVector<int64_t> dims(sparse.dims().begin(), sparse.dims().end());
    auto type = SparseType::get(ctx, RankedTensorType::get(dims, element));
    return Attribute(
        ElidedTensorAttr::get(ctx, type,
                              computeTensorDigest(sparse.values().data_type(),
                                                  dims, values->getBytes())));
  }
  case A::TYPE_PROTO: {
    Type type = convertOnnxType(ctx, attr.tp());
    if (!type)
      return emitError(loc) << "type attribute '" << attr.name()
                            << "' has an unsupported element type";
    return Attribute(TypeAttr::get(type));
  }
  case A::TYPE_PROTOS: {
    SmallVector<Attribute> types;
    for (const onnx::TypeProto &tp : attr.type_protos()) {
      Type type = convertOnnxType(ctx, tp);
      if (!type)
        return emitError(loc) << "type attribute '" << attr.name()
                              << "' has an unsupported element type";
      types.push_back(TypeAttr::get(type));
    }
    return Attribute(builder.getArrayAttr(types));
  }
  default:
    return emitError(loc) << "attribute '" << attr.name()
                          << "' has no value of a known kind";
  }
}

LogicalResult ModelImporter::importNode(const onnx::NodeProto &node,
                                        int index) {
  Location loc = nodeLoc(node, index);
  if (std::optional<onnx::TensorProto> tensor = constantToTensor(node)) {
    FailureOr<Value> weight =
        createWeight(*tensor, node.output(0), loc, /*fromConstantNode=*/true);
    if (failed(weight))
      return failure();
    scopes.back()[node.output(0)] = *weight;
    return success();
  }

  SmallVector<Value> inputs;
  for (const std::string &input : node.input()) {
    if (input.empty()) {
      inputs.push_back(getNone());
      continue;
    }
    Value value = lookupValue(input);
    if (!value)
      return emitError(loc)
             << "uses value '" << input << "' that is not defined";
    inputs.push_back(value);
  }
  SmallVector<Type> resultTypes;
  for (const std::string &output : node.output())
    resultTypes.push_back(output.empty() ? Type(builder.getNoneType())
                                         : lookupType(output));

  NamedAttrList onnxAttrs;
  SmallVector<const onnx::GraphProto *> graphs;
  SmallVector<Attribute> graphNames;
  for (const onnx::AttributeProto &attr : node.attribute()) {
    if (attr.name().empty())
      return emitError(loc) << "has an attribute without a name";
    if (onnxAttrs.get(attr.name()) ||
        llvm::is_contained(graphNames, builder.getStringAttr(attr.name())))
      return emitError(loc) << "has attribute '" << attr.name() << "' twice";
    onnx::AttributeProto::AttributeType kind = inferAttributeType(attr);
    if (kind == onnx::AttributeProto::GRAPH) {
      graphs.push_back(&attr.g());
      graphNames.push_back(builder.getStringAttr(attr.name()));
      continue;
    }
    if (kind == onnx::AttributeProto::GRAPHS) {
      for (const auto &[i, g] : llvm::enumerate(attr.graphs())) {
        graphs.push_back(&g);
        graphNames.push_back(
            builder.getStringAttr(attr.name() + "#" + std::to_string(i)));
      }
      continue;
    }
    FailureOr<Attribute> value = convertAttribute(attr, loc);
    if (failed(value))
      return failure();
    onnxAttrs.append(attr.name(), *value);
  }

  OperationState state(loc, NodeOp::getOperationName());
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  state.addAttribute("op_type", builder.getStringAttr(node.op_type()));
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    state.addAttribute("domain", builder.getStringAttr(node.domain()));
  if (!node.name().empty())
    state.addAttribute("name", builder.getStringAttr(node.name()));
  state.addAttribute("onnx_attrs", onnxAttrs.getDictionary(ctx));
  state.addAttribute("graph_names", builder.getArrayAttr(graphNames));
  for (size_t i = 0; i < graphs.size(); ++i)
    state.addRegion();
  Operation *op = builder.create(state);
  std::string firstOutput;
  for (const std::string &output : node.output())
    if (firstOutput.empty())
      firstOutput = output;
  bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
  if (defaultDomain && node.op_type() == "If")
    if (auto it = takenBranches.find(firstOutput); it != takenBranches.end())
      op->setAttr("chorus.taken_branch", builder.getStringAttr(it->second));
  if (defaultDomain && node.op_type() == "Loop") {
    auto folded = tripCounts.find(firstOutput);
    auto given = userTripCounts.find(node.name());
    if (given != userTripCounts.end() && !node.name().empty()) {
      if (folded != tripCounts.end() && folded->second != given->second)
        return emitError(loc) << "--trip-count gives " << given->second
                              << " iterations, but the model fixes the "
                                 "trip count at "
                              << folded->second;
      op->setAttr("chorus.trip_count",
                  builder.getI64IntegerAttr(given->second));
    } else if (folded != tripCounts.end()) {
      op->setAttr("chorus.trip_count",
                  builder.getI64IntegerAttr(folded->second));
    }
  }

  for (auto [graph, region] : llvm::zip(graphs, op->getRegions())) {
    Block *body = new Block();
    region.push_back(body);
    SmallVector<Value> outputs;
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    if (failed(importGraph(*graph, body, /*isMain=*/false, outputs)))
      return failure();
    builder.setInsertionPointToEnd(body);
    builder.create<YieldOp>(loc, outputs);
  }
  for (auto [output, result] : llvm::zip(node.output(), op->getResults()))
    if (!output.empty())
      scopes.back()[output] = result;
  return success();
}

LogicalResult ModelImporter::importGraph(const onnx::GraphProto &graph,
                                         Block *block, bool isMain,
                                         SmallVectorImpl<Value> &outputs) {
  recordTypes(graph);
  scopes.emplace_back();
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &init : graph.initializer())
    initializerNames.insert(init.name());
  if (graph.sparse_initializer_size() != 0)
    return emitError(labelLoc("sparse initializer '" +
                              graph.sparse_initializer(0).values().name() +
                              "'"))
           << "sparse initializers are not supported";

  // Main-graph inputs are the func's arguments, created by the caller in
  // this order; subgraph inputs become block arguments here.
  unsigned argIndex = 0;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (isMain && initializerNames.contains(input.name()))
      continue;
    Value arg;
    if (isMain) {
      arg = block->getArgument(argIndex++);
    } else {
      FailureOr<Type> type =
          convertValueType(input, labelLoc("input '" + input.name() + "'"));
      if (failed(type))
        return failure();
      arg = block->addArgument(*type, fileLoc);
    }
    scopes.back()[input.name()] = arg;
  }
  for (const onnx::TensorProto &init : graph.initializer()) {
    FailureOr<Value> weight = createWeight(
        init, init.name(), labelLoc("initializer '" + init.name() + "'"));
    if (failed(weight))
      return failure();
    scopes.back()[init.name()] = *weight;
  }
  for (const auto &[index, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, index)))
      return failure();
  for (const onnx::ValueInfoProto &output : graph.output()) {
    Value value = lookupValue(output.name());
    if (!value)
      return emitError(labelLoc("output '" + output.name() + "'"))
             << "graph output '" << output.name() << "' is not defined";
    outputs.push_back(value);
  }
  scopes.pop_back();
  return success();
}

FailureOr<func::FuncOp>
ModelImporter::importModel(const onnx::ModelProto &model, ModuleOp module,
                           StringRef name) {
  const onnx::GraphProto &graph = model.graph();

  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &init : graph.initializer())
    initializerNames.insert(init.name());

  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    FailureOr<Type> type =
        convertValueType(input, labelLoc("input '" + input.name() + "'"));
    if (failed(type))
      return failure();
    argTypes.push_back(*type);
    NamedAttrList attrs;
    attrs.append("chorus.name", builder.getStringAttr(input.name()));
    if (isa<RankedTensorType>(*type) && input.type().has_tensor_type()) {
      SmallVector<Attribute> params;
      bool anyParam = false;
      for (const auto &dim : input.type().tensor_type().shape().dim()) {
        params.push_back(builder.getStringAttr(dim.dim_param()));
        anyParam |= !dim.dim_param().empty();
      }
      if (anyParam)
        attrs.append("chorus.dim_params", builder.getArrayAttr(params));
    }
    auto open = declaredDynamic.find(input.name());
    auto ranked = dyn_cast<RankedTensorType>(*type);
    // An --input-shape may change the rank (a [?] made a scalar).
    if (open != declaredDynamic.end() && !open->second.empty() && ranked &&
        open->second.back() < ranked.getRank())
      attrs.append("chorus.declared_dynamic",
                   builder.getDenseI64ArrayAttr(open->second));
    argAttrs.push_back(attrs.getDictionary(ctx));
  }

  funcName = uniqueSymbol(name);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = builder.create<func::FuncOp>(
      labelLoc("model"), funcName, builder.getFunctionType(argTypes, {}));
  weightAnchor = func;
  Block *entry = func.addEntryBlock();
  func.setAllArgAttrs(argAttrs);

  builder.setInsertionPointToStart(entry);
  SmallVector<Value> outputs;
  if (failed(importGraph(graph, entry, /*isMain=*/true, outputs)))
    return failure();
  builder.setInsertionPointToEnd(entry);
  builder.create<func::ReturnOp>(labelLoc("outputs"), outputs);
  func.setFunctionType(
      builder.getFunctionType(argTypes, ValueRange(outputs).getTypes()));
  for (const auto &[i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "chorus.name", builder.getStringAttr(output.name()));

  // Model metadata.
  func->setAttr("chorus.source", builder.getStringAttr(path));
  if (!assumptions.empty()) {
    SmallVector<Attribute> texts;
    for (const std::string &text : assumptions)
      texts.push_back(builder.getStringAttr(text));
    func->setAttr("chorus.assumptions", builder.getArrayAttr(texts));
  }
  func->setAttr("chorus.ir_version",
                builder.getI64IntegerAttr(model.ir_version()));
  NamedAttrList opsets;
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    opsets.set(opset.domain().empty() ? "ai.onnx" : opset.domain(),
               builder.getI64IntegerAttr(opset.version()));
  func->setAttr("chorus.opset_import", opsets.getDictionary(ctx));
  std::string producer = model.producer_name();
  if (!model.producer_version().empty())
    producer += (producer.empty() ? "" : " ") + model.producer_version();
  if (!producer.empty())
    func->setAttr("chorus.producer", builder.getStringAttr(producer));
  if (!graph.name().empty())
    func->setAttr("chorus.graph_name", builder.getStringAttr(graph.name()));
  return func;
}

//===----------------------------------------------------------------------===//
// File-level steps
//===----------------------------------------------------------------------===//

/// Replaces bound symbolic dims in every value of `graph` and its subgraphs
/// and records every dim name seen.
static void bindDims(onnx::GraphProto &graph,
                     const llvm::StringMap<int64_t> &bindings,
                     llvm::StringSet<> &seen) {
  auto bindType = [&](onnx::TypeProto *type) {
    while (true) {
      if (type->has_sequence_type())
        type = type->mutable_sequence_type()->mutable_elem_type();
      else if (type->has_optional_type())
        type = type->mutable_optional_type()->mutable_elem_type();
      else
        break;
    }
    onnx::TensorShapeProto *shape = nullptr;
    if (type->has_tensor_type() && type->tensor_type().has_shape())
      shape = type->mutable_tensor_type()->mutable_shape();
    else if (type->has_sparse_tensor_type() &&
             type->sparse_tensor_type().has_shape())
      shape = type->mutable_sparse_tensor_type()->mutable_shape();
    if (!shape)
      return;
    for (onnx::TensorShapeProto::Dimension &dim : *shape->mutable_dim()) {
      if (!dim.has_dim_param())
        continue;
      seen.insert(dim.dim_param());
      auto it = bindings.find(dim.dim_param());
      if (it != bindings.end())
        dim.set_dim_value(it->second);
    }
  };
  for (auto *list : {graph.mutable_input(), graph.mutable_output(),
                     graph.mutable_value_info()})
    for (onnx::ValueInfoProto &info : *list)
      if (info.has_type())
        bindType(info.mutable_type());
  for (onnx::NodeProto &node : *graph.mutable_node())
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_g())
        bindDims(*attr.mutable_g(), bindings, seen);
      for (onnx::GraphProto &g : *attr.mutable_graphs())
        bindDims(g, bindings, seen);
    }
}

/// Removes the metadata entries of `model` for which `drop` is true.
static void dropMetadata(
    onnx::ModelProto &model,
    llvm::function_ref<bool(const onnx::StringStringEntryProto &)> drop) {
  auto *props = model.mutable_metadata_props();
  google::protobuf::RepeatedPtrField<onnx::StringStringEntryProto> kept;
  for (onnx::StringStringEntryProto &entry : *props)
    if (!drop(entry))
      kept.Add()->Swap(&entry);
  props->Swap(&kept);
}

/// The names of the Loop nodes of `graph` and its subgraphs.
static void collectLoopNames(const onnx::GraphProto &graph,
                             std::vector<std::string> &names) {
  for (const onnx::NodeProto &node : graph.node()) {
    if (node.op_type() == "Loop" && !node.name().empty())
      names.push_back(node.name());
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        collectLoopNames(attr.g(), names);
      for (const onnx::GraphProto &g : attr.graphs())
        collectLoopNames(g, names);
    }
  }
}

/// The opset imports newer than this ONNX library's schemas, as messages.
static std::vector<std::string> findNewerOpsets(const onnx::ModelProto &model) {
  std::vector<std::string> newer;
  const auto &known =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    std::string domain = opset.domain() == "ai.onnx" ? "" : opset.domain();
    auto it = known.find(domain);
    if (it != known.end() && opset.version() > it->second.second)
      newer.push_back("opset " + std::to_string(opset.version()) +
                      " of domain '" +
                      (domain.empty() ? std::string("ai.onnx") : domain) +
                      "' (this ONNX library knows up to " +
                      std::to_string(it->second.second) + ")");
  }
  return newer;
}

namespace {
/// A model read and checked, its shape inference perhaps running.
struct PendingImport {
  std::string path;
  /// Where importOnnxFiles parses the model: allocation on an arena is
  /// cheaper, and freeing it is one call rather than one per message.
  google::protobuf::Arena arena;
  onnx::ModelProto *model = nullptr;
  ImportedModel result;
  std::optional<ShapeInferenceJob> inference;
  /// See ModelImporter::declaredDynamic.
  llvm::StringMap<SmallVector<int64_t>> declaredDynamic;
};
} // namespace

/// The first half of an import: the checks that need only the file, dim
/// binding, and the start of shape inference in its child process.
static LogicalResult beginImport(MLIRContext *ctx, PendingImport &pending,
                                 const ImportOptions &options) {
  onnx::ModelProto &model = *pending.model;
  StringRef path = pending.path;
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);

  if (!model.has_ir_version() || model.ir_version() <= 0)
    return emitError(loc) << "'" << path
                          << "' has no IR version; it is not an ONNX model";
  if (model.ir_version() > kMaxIrVersion)
    return emitError(loc) << "'" << path << "' has IR version "
                          << model.ir_version()
                          << ", which this importer does not know (it reads "
                             "versions 1 to "
                          << kMaxIrVersion << ")";
  if (!model.has_graph())
    return emitError(loc) << "'" << path << "' has no graph";
  if (model.opset_import_size() == 0) {
    if (model.ir_version() >= 3)
      return emitError(loc) << "'" << path
                            << "' imports no opset; IR version 3 and later "
                               "require opset_import";
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(1);
  }

  StringRef stem = llvm::sys::path::stem(path);
  std::string funcBase = sanitizeSymbol(stem);
  llvm::StringMap<int64_t> bindings;
  for (const DimBinding &binding : options.dims)
    if (binding.model.empty() || namesModel(binding.model, path))
      bindings[binding.name] = binding.value;

  OnnxLocations locs(ctx, path);
  if (failed(sortOnnxGraph(*model.mutable_graph(), locs)) ||
      failed(validateOnnxGraph(model.graph(), options.limits, locs)))
    return failure();

  ImportedModel &result = pending.result;
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &init : model.graph().initializer())
    initializers.insert(init.name());
  for (const onnx::ValueInfoProto &input : model.graph().input()) {
    if (initializers.contains(input.name()) ||
        !input.type().has_tensor_type() ||
        !input.type().tensor_type().has_shape())
      continue;
    SmallVector<int64_t> &open = pending.declaredDynamic[input.name()];
    for (auto [i, dim] :
         llvm::enumerate(input.type().tensor_type().shape().dim()))
      if (!dim.has_dim_value() || dim.dim_value() < 0)
        open.push_back(i);
  }
  // Which input shape bound a dim name, for the message of a conflict.
  llvm::StringMap<std::string> boundBy;
  for (const DimBinding &binding : options.dims)
    if (binding.model.empty() || namesModel(binding.model, path))
      boundBy[binding.name] =
          "--dim " + binding.name + "=" + std::to_string(binding.value);
  for (onnx::ValueInfoProto &input : *model.mutable_graph()->mutable_input()) {
    if (initializers.contains(input.name()))
      continue;
    result.inputNames.push_back(input.name());
    std::vector<std::string> names;
    if (input.type().has_tensor_type())
      for (const auto &dim : input.type().tensor_type().shape().dim())
        names.push_back(dim.dim_param());
    result.inputDimParams.push_back(std::move(names));

    const InputShape *given = nullptr;
    for (const InputShape &shape : options.inputShapes) {
      if (!inputShapeApplies(shape, input.name(), path))
        continue;
      if (given && given->dims != shape.dims)
        return emitError(loc)
               << "--input-shape " << given->spec << " and --input-shape "
               << shape.spec << " give input '" << input.name() << "' of '"
               << path << "' different shapes";
      given = &shape;
    }
    if (!given)
      continue;
    if (!input.type().has_tensor_type())
      return emitError(loc)
             << "--input-shape " << given->spec << ": input '" << input.name()
             << "' of '" << path << "' is not a tensor";
    onnx::TypeProto_Tensor *tensor =
        input.mutable_type()->mutable_tensor_type();
    if (tensor->has_shape()) {
      const onnx::TensorShapeProto &declared = tensor->shape();
      auto declaredText = [&] {
        std::string text;
        for (const auto &dim : declared.dim())
          text += (text.empty() ? "" : "x") +
                  (dim.has_dim_value()   ? std::to_string(dim.dim_value())
                   : dim.has_dim_param() ? dim.dim_param()
                                         : std::string("?"));
        return text.empty() ? std::string("scalar") : text;
      };
      if (declared.dim_size() != static_cast<int>(given->dims.size()))
        return emitError(loc)
               << "--input-shape " << given->spec << ": input '" << input.name()
               << "' of '" << path << "' has rank " << declared.dim_size()
               << " (" << declaredText() << "), not " << given->dims.size();
      for (auto [index, dim] : llvm::enumerate(declared.dim())) {
        int64_t value = given->dims[index];
        if (dim.has_dim_value() && dim.dim_value() != value)
          return emitError(loc)
                 << "--input-shape " << given->spec << ": dim " << index
                 << " of input '" << input.name() << "' of '" << path
                 << "' is fixed at " << dim.dim_value() << " ("
                 << declaredText() << ")";
        if (!dim.has_dim_param() || dim.dim_param().empty())
          continue;
        result.dimParams.insert(dim.dim_param());
        auto [it, inserted] = bindings.try_emplace(dim.dim_param(), value);
        if (!inserted && it->second != value)
          return emitError(loc)
                 << "--input-shape " << given->spec << " gives dim '"
                 << dim.dim_param() << "' of '" << path << "' the value "
                 << value << ", but " << boundBy[dim.dim_param()]
                 << " gives it " << it->second;
        boundBy.try_emplace(dim.dim_param(), "--input-shape " + given->spec);
      }
    }
    onnx::TensorShapeProto *shape = tensor->mutable_shape();
    shape->clear_dim();
    for (int64_t value : given->dims)
      shape->add_dim()->set_dim_value(value);
  }
  bindDims(*model.mutable_graph(), bindings, result.dimParams);
  collectLoopNames(model.graph(), result.loopNames);
  // Bound inputs must still have a byte count that fits in 64 bits.
  for (const onnx::ValueInfoProto &input : model.graph().input()) {
    if (!input.type().has_tensor_type())
      continue;
    int64_t bytes = std::max(
        getOnnxElementBytes(input.type().tensor_type().elem_type()), 1);
    for (const auto &dim : input.type().tensor_type().shape().dim())
      if (dim.has_dim_value() && dim.dim_value() > 0 &&
          llvm::MulOverflow(bytes, dim.dim_value(), bytes))
        return emitError(loc)
               << "input '" << input.name() << "' of '" << path
               << "' would hold more than 2^63 bytes with the shape "
                  "--input-shape or --dim gives it";
  }

  // "chorus." metadata keys carry what inference learns; a file's own are
  // dropped so that they cannot pose as such.
  dropMetadata(model, [](const onnx::StringStringEntryProto &entry) {
    return StringRef(entry.key()).starts_with("chorus.");
  });
  for (const onnx::ValueInfoProto &input : model.graph().input()) {
    if (initializers.contains(input.name()))
      continue;
    for (const InputValue &value : options.inputValues) {
      if (!inputShapeApplies({value.target, {}, value.spec}, input.name(),
                             path))
        continue;
      std::optional<int64_t> count = 1;
      if (input.type().has_tensor_type())
        for (const auto &dim : input.type().tensor_type().shape().dim())
          count = count && dim.has_dim_value()
                      ? std::optional<int64_t>(*count * dim.dim_value())
                      : std::nullopt;
      if (count && *count != static_cast<int64_t>(value.values.size()))
        return emitError(loc)
               << "--input-value " << value.spec << " gives "
               << value.values.size() << " values, but input '" << input.name()
               << "' of '" << path << "' holds " << *count;
      std::string text = input.name() + "=";
      for (auto [i, v] : llvm::enumerate(value.values)) {
        char buffer[32];
        std::snprintf(buffer, sizeof(buffer), "%.17g", v);
        text += (i ? "," : "") + std::string(buffer);
      }
      onnx::StringStringEntryProto *entry = model.add_metadata_props();
      entry->set_key("chorus.input_value");
      entry->set_value(text);
    }
  }

  if (options.shapeInference) {
    std::vector<std::string> newer = findNewerOpsets(model);
    bool lower = !newer.empty() && canLowerOpsetForInference(model);
    if (lower) {
      emitWarning(loc) << "'" << path << "' uses " << llvm::join(newer, ", ")
                       << "; shape inference runs on the model rewritten to "
                          "opset "
                       << kLowestInferenceOpset
                       << " where newer opsets changed an op's form (Reduce "
                          "axes as an input, Split num_outputs, Resize and "
                          "Cast attributes)";
    }
    if (!newer.empty() && !lower) {
      emitWarning(loc) << "'" << path << "' uses " << llvm::join(newer, ", ")
                       << "; shape inference is skipped and types come from "
                          "the file's value_info and outputs";
    } else if (std::optional<std::string> mismatch =
                   lower ? std::nullopt
                         : findSchemaMismatch(model.graph(),
                                              opsetVersions(model))) {
      emitWarning(loc) << "'" << path << "': " << *mismatch
                       << "; shape inference is skipped and types come from "
                          "the file's value_info and outputs";
    } else {
      std::string problem;
      pending.inference = startShapeInference(
          model, options.limits.maxInferenceSeconds, problem, lower);
      // The child has its copy of the input values; the model drops them.
      dropMetadata(model, [](const onnx::StringStringEntryProto &entry) {
        return entry.key() == "chorus.input_value";
      });
      if (!pending.inference)
        emitWarning(loc) << "'" << path << "': " << problem
                         << "; types come from the file where it has them";
    }
  }
  return success();
}

/// The second half: the types shape inference found, then the IR, built
/// into `module` under a name not yet used there.
static FailureOr<ImportedModel> finishImport(ModuleOp module,
                                             PendingImport &pending,
                                             const ImportOptions &options) {
  MLIRContext *ctx = module.getContext();
  onnx::ModelProto &model = *pending.model;
  StringRef path = pending.path;
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  if (pending.inference) {
    std::string problem;
    if (!finishShapeInference(*pending.inference, model, problem))
      emitWarning(loc) << "'" << path << "': " << problem
                       << "; types come from the file where it has them";
    pending.inference.reset();
  }
  std::string funcBase = sanitizeSymbol(llvm::sys::path::stem(path));
  llvm::StringSet<> usedSymbols;
  for (Operation &op : module.getBody()->getOperations())
    if (auto symbol = dyn_cast<SymbolOpInterface>(op))
      usedSymbols.insert(symbol.getName());
  ModelImporter importer(ctx, path, llvm::sys::path::parent_path(path),
                         usedSymbols, options.weightSizesOnly);
  // What inference learnt comes back under "chorus." keys, taken out here.
  dropMetadata(model, [&](const onnx::StringStringEntryProto &entry) {
    StringRef key = entry.key();
    auto [name, value] = StringRef(entry.value()).rsplit('=');
    int64_t count;
    if (key == "chorus.taken_branch")
      importer.takenBranches[name] = value.str();
    else if (key == "chorus.trip_count" && !value.getAsInteger(10, count))
      importer.tripCounts[name] = count;
    else if (key == "chorus.assumption")
      importer.assumptions.push_back(entry.value());
    return key.starts_with("chorus.");
  });
  importer.declaredDynamic = std::move(pending.declaredDynamic);
  for (const TripCount &count : options.tripCounts)
    for (const std::string &loop : pending.result.loopNames)
      if (inputShapeApplies({count.node, {}, count.spec}, loop, path))
        importer.userTripCounts[loop] = count.count;
  ImportedModel result = std::move(pending.result);

  // Build into a scratch module so that a failure leaves `module` unchanged.
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(loc);
  FailureOr<func::FuncOp> func =
      importer.importModel(model, *scratch, funcBase);
  if (failed(func))
    return failure();

  if (options.requireStaticInputs) {
    for (auto [index, type] : llvm::enumerate(func->getArgumentTypes())) {
      auto name = func->getArgAttrOfType<StringAttr>(index, "chorus.name");
      auto ranked = dyn_cast<RankedTensorType>(type);
      if (!ranked)
        return emitError(loc)
               << "input '" << name.getValue() << "' of '" << path
               << "' has no static shape (" << type << "); give it with "
               << "--input-shape " << llvm::sys::path::stem(path) << ":"
               << name.getValue() << "=D0xD1x...";
      auto params =
          func->getArgAttrOfType<ArrayAttr>(index, "chorus.dim_params");
      for (auto [dimIndex, dim] : llvm::enumerate(ranked.getShape())) {
        if (!ShapedType::isDynamic(dim))
          continue;
        StringRef param =
            params ? cast<StringAttr>(params[dimIndex]).getValue() : "";
        std::string flag =
            suggestInputShape(path, name.getValue(), ranked.getShape());
        if (param.empty())
          return emitError(loc)
                 << "dim " << dimIndex << " of input '" << name.getValue()
                 << "' of '" << path
                 << "' has no value and no name; give the input's shape with "
                 << flag << " (each '?' a value)";
        return emitError(loc)
               << "dim '" << param << "' (dim " << dimIndex << " of input '"
               << name.getValue() << "' of '" << path
               << "') is unbound; pass --dim " << param << "=<value> or "
               << flag << " (each '?' a value)";
      }
    }
  }

  if (failed(verify(*scratch)))
    return emitError(loc) << "the IR imported from '" << path
                          << "' does not verify";
  if (failed(validateShapes(*scratch)))
    return failure();
  Block *target = module.getBody();
  target->getOperations().splice(target->end(),
                                 scratch->getBody()->getOperations());
  result.func = *func;
  return result;
}

FailureOr<ImportedModel> chorus::importOnnxModel(ModuleOp module,
                                                 onnx::ModelProto &model,
                                                 StringRef path,
                                                 const ImportOptions &options) {
  PendingImport pending;
  pending.path = path.str();
  pending.model = &model;
  if (failed(beginImport(module.getContext(), pending, options)))
    return failure();
  return finishImport(module, pending, options);
}

FailureOr<ImportedModel> chorus::importOnnxFile(ModuleOp module, StringRef path,
                                                const ImportOptions &options) {
  std::string file = path.str();
  FailureOr<std::vector<ImportedModel>> models =
      importOnnxFiles(module, file, options);
  if (failed(models))
    return failure();
  return std::move(models->front());
}

FailureOr<std::vector<ImportedModel>>
chorus::importOnnxFiles(ModuleOp module, ArrayRef<std::string> paths,
                        const ImportOptions &options) {
  // Every file is read and its shape inference started before the first
  // is built: each child process infers while the parent reads the next
  // file or builds the previous one's IR.
  std::vector<std::unique_ptr<PendingImport>> pending;
  for (const std::string &path : paths) {
    auto &p = pending.emplace_back(std::make_unique<PendingImport>());
    p->path = path;
    p->model =
        google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&p->arena);
    Location loc = FileLineColLoc::get(module.getContext(), path, 0, 0);
    if (failed(loadOnnxModel(path, loc, options.limits, *p->model,
                             options.format, options.weightSizesOnly)))
      return failure();
    if (failed(beginImport(module.getContext(), *p, options)))
      return failure();
  }
  std::vector<ImportedModel> models;
  for (auto &p : pending) {
    FailureOr<ImportedModel> model = finishImport(module, *p, options);
    if (failed(model))
      return failure();
    models.push_back(std::move(*model));
    p.reset();
  }
  return models;
}

FailureOr<ImportedModel>
chorus::importOnnxBuffer(ModuleOp module, StringRef contents, StringRef path,
                         const ImportOptions &options) {
  Location loc = FileLineColLoc::get(module.getContext(), path, 0, 0);
  onnx::ModelProto model;
  if (failed(parseOnnxModel(contents, path, loc, options.limits, model,
                            options.format)))
    return failure();
  return importOnnxModel(module, model, path, options);
}
