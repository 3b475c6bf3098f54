//===- ChorusOps.cpp - Operations of the chorus dialect -------------------===//

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace chorus;

//===----------------------------------------------------------------------===//
// Storage sizes
//===----------------------------------------------------------------------===//

std::optional<int64_t> chorus::getElementStorageBytes(Type elementType) {
  if (auto complex = dyn_cast<ComplexType>(elementType)) {
    std::optional<int64_t> part =
        getElementStorageBytes(complex.getElementType());
    if (!part)
      return std::nullopt;
    return 2 * *part;
  }
  unsigned width = 0;
  if (auto integer = dyn_cast<IntegerType>(elementType))
    width = integer.getWidth();
  else if (auto floating = dyn_cast<FloatType>(elementType))
    width = floating.getWidth();
  else
    return std::nullopt;
  // ONNX stores bool as one byte; int4 packs two elements in a byte.
  if (width == 1)
    return 1;
  if (width % 8 != 0)
    return std::nullopt;
  return width / 8;
}

std::optional<int64_t> chorus::getValueStorageBytes(Type type) {
  if (isa<NoneType>(type))
    return 0;
  if (auto shaped = dyn_cast<ShapedType>(type))
    return getTensorStorageBytes(shaped);
  return std::nullopt;
}

std::optional<int64_t> chorus::getTensorStorageBytes(ShapedType type) {
  if (!type.hasStaticShape())
    return std::nullopt;
  int64_t elements = 1;
  for (int64_t dim : type.getShape())
    if (llvm::MulOverflow(elements, dim, elements))
      return std::nullopt;
  Type elementType = type.getElementType();
  if (auto integer = dyn_cast<IntegerType>(elementType);
      integer && integer.getWidth() == 4)
    return elements / 2 + elements % 2;
  std::optional<int64_t> elementBytes = getElementStorageBytes(elementType);
  if (!elementBytes)
    return std::nullopt;
  int64_t bytes;
  if (llvm::MulOverflow(elements, *elementBytes, bytes))
    return std::nullopt;
  return bytes;
}

//===----------------------------------------------------------------------===//
// Fusion kinds
//===----------------------------------------------------------------------===//

llvm::StringRef chorus::getFusionKindName(FusionKind kind) {
  switch (kind) {
  case FusionKind::Elementwise:
    return "elementwise";
  case FusionKind::Broadcast:
    return "broadcast";
  case FusionKind::Injective:
    return "injective";
  case FusionKind::Reduction:
    return "reduction";
  case FusionKind::OutElementwiseFusable:
    return "out_elementwise_fusable";
  case FusionKind::Opaque:
    return "opaque";
  }
  return "";
}

std::optional<FusionKind> chorus::parseFusionKind(llvm::StringRef name) {
  for (FusionKind kind :
       {FusionKind::Elementwise, FusionKind::Broadcast, FusionKind::Injective,
        FusionKind::Reduction, FusionKind::OutElementwiseFusable,
        FusionKind::Opaque})
    if (getFusionKindName(kind) == name)
      return kind;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

static bool isDigest(StringRef digest) {
  StringRef prefix = "xxh3-128:";
  if (!digest.consume_front(prefix) || digest.size() != 32)
    return false;
  return llvm::all_of(digest, [](char c) {
    return llvm::isDigit(c) || (c >= 'a' && c <= 'f');
  });
}

LogicalResult WeightOp::verify() {
  RankedTensorType type = getTensorType();
  if (!type.hasStaticShape())
    return emitOpError() << "type " << type << " must have a static shape";
  if (!isDigest(getDigest()))
    return emitOpError() << "digest '" << getDigest()
                         << "' must be 'xxh3-128:' and 32 lowercase hex digits";
  int64_t byteSize = getByteSizeAttr().getInt();
  if (byteSize < 0)
    return emitOpError() << "byte size must not be negative";
  if (std::optional<int64_t> expected = getTensorStorageBytes(type);
      expected && *expected != byteSize)
    return emitOpError() << "byte size " << byteSize << " does not match "
                         << *expected << " bytes of " << type;
  if (std::optional<ElementsAttr> value = getValue();
      value && value->getShapedType() != type)
    return emitOpError() << "value of type " << value->getShapedType()
                         << " does not match the weight type " << type;
  if (getOnnxNames().empty())
    return emitOpError() << "must name at least one ONNX initializer";
  return success();
}

//===----------------------------------------------------------------------===//
// WeightRefOp
//===----------------------------------------------------------------------===//

LogicalResult
WeightRefOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight =
      symbolTable.lookupNearestSymbolFrom<WeightOp>(*this, getWeightAttr());
  if (!weight)
    return emitOpError() << "'@" << getWeight()
                         << "' does not reference a chorus.weight";
  if (weight.getType() != getType())
    return emitOpError() << "result type " << getType()
                         << " does not match the type " << weight.getType()
                         << " of weight @" << getWeight();
  return success();
}

//===----------------------------------------------------------------------===//
// NodeOp
//===----------------------------------------------------------------------===//

Region *NodeOp::getGraph(StringRef graphName) {
  for (auto [name, region] : llvm::zip(getGraphNames(), getGraphs()))
    if (cast<StringAttr>(name).getValue() == graphName)
      return &region;
  return nullptr;
}

/// Whether `attr` is one of the kinds an ONNX attribute is imported as.
static bool isOnnxAttributeKind(Attribute attr) {
  if (auto integer = dyn_cast<IntegerAttr>(attr))
    return integer.getType().isSignlessInteger(64);
  if (auto floating = dyn_cast<FloatAttr>(attr))
    return floating.getType().isF32();
  if (auto array = dyn_cast<ArrayAttr>(attr))
    return llvm::all_of(array, [](Attribute element) {
      return isa<StringAttr, ElementsAttr, ElidedTensorAttr, TypeAttr>(element);
    });
  return isa<StringAttr, DenseI64ArrayAttr, DenseF32ArrayAttr, ElementsAttr,
             ElidedTensorAttr, TypeAttr>(attr);
}

LogicalResult NodeOp::verify() {
  if (getOpType().empty())
    return emitOpError() << "op_type must not be empty";
  for (NamedAttribute attr : getOnnxAttrs())
    if (!isOnnxAttributeKind(attr.getValue()))
      return emitOpError() << "ONNX attribute '" << attr.getName().getValue()
                           << "' has a value of no ONNX attribute kind: "
                           << attr.getValue();
  if (getGraphNames().size() != getGraphs().size())
    return emitOpError() << "has " << getGraphs().size() << " regions but "
                         << getGraphNames().size() << " graph names";
  llvm::StringSet<> seen;
  for (Attribute name : getGraphNames()) {
    StringRef graphName = cast<StringAttr>(name).getValue();
    if (!seen.insert(graphName).second)
      return emitOpError() << "graph '" << graphName << "' appears twice";
    if (getOnnxAttrs().contains(graphName))
      return emitOpError() << "'" << graphName
                           << "' is both a graph and an ONNX attribute";
  }
  return success();
}

LogicalResult NodeOp::verifyRegions() {
  for (auto [name, region] : llvm::zip(getGraphNames(), getGraphs())) {
    Block &block = region.front();
    if (block.empty() || !isa<YieldOp>(block.back()))
      return emitOpError() << "graph '" << cast<StringAttr>(name).getValue()
                           << "' must end with chorus.yield";
  }
  return success();
}

void NodeOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printAttributeWithoutType(getOpTypeAttr());
  p << '(' << getInputs() << ')';
  p.printOptionalAttrDict(getOnnxAttrs().getValue());
  SmallVector<StringRef> elided = {getOpTypeAttrName(), getOnnxAttrsAttrName(),
                                   getGraphNamesAttrName()};
  if (getDomain().empty())
    elided.push_back(getDomainAttrName());
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), elided);
  p << " : ";
  p.printFunctionalType(getInputs().getTypes(), getOutputs().getTypes());
  for (auto [name, region] : llvm::zip(getGraphNames(), getGraphs())) {
    p << ' ';
    p.printAttributeWithoutType(name);
    p << ' ';
    p.printRegion(region, /*printEntryBlockArgs=*/true,
                  /*printBlockTerminators=*/true);
  }
}

ParseResult NodeOp::parse(OpAsmParser &parser, OperationState &result) {
  MLIRContext *ctx = parser.getContext();
  StringAttr opType;
  SmallVector<OpAsmParser::UnresolvedOperand> inputs;
  NamedAttrList onnxAttrs;
  FunctionType type;
  if (parser.parseAttribute(opType, NoneType::get(ctx)) ||
      parser.parseOperandList(inputs, OpAsmParser::Delimiter::Paren) ||
      parser.parseOptionalAttrDict(onnxAttrs) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  llvm::SMLoc typeLoc = parser.getCurrentLocation();
  if (parser.parseColonType(type) ||
      parser.resolveOperands(inputs, type.getInputs(), typeLoc,
                             result.operands))
    return failure();
  result.addTypes(type.getResults());
  result.addAttribute(getOpTypeAttrName(result.name), opType);
  result.addAttribute(getOnnxAttrsAttrName(result.name),
                      onnxAttrs.getDictionary(ctx));

  SmallVector<Attribute> graphNames;
  std::string graphName;
  while (succeeded(parser.parseOptionalString(&graphName))) {
    graphNames.push_back(StringAttr::get(ctx, graphName));
    Region *region = result.addRegion();
    if (parser.parseRegion(*region, /*arguments=*/{}))
      return failure();
  }
  result.addAttribute(getGraphNamesAttrName(result.name),
                      ArrayAttr::get(ctx, graphNames));
  return success();
}

//===----------------------------------------------------------------------===//
// FusedOp
//===----------------------------------------------------------------------===//

LogicalResult FusedOp::verifyRegions() {
  if (!parseFusionKind(getKind()))
    return emitOpError() << "kind '" << getKind()
                         << "' is not a fusion kind (elementwise, broadcast, "
                            "injective, reduction, out_elementwise_fusable, "
                            "opaque)";
  Block &body = getBodyBlock();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError() << "body has " << body.getNumArguments()
                         << " arguments for " << getInputs().size()
                         << " inputs";
  for (auto [i, arg, input] : llvm::enumerate(body.getArguments(), getInputs()))
    if (arg.getType() != input.getType())
      return emitOpError() << "body argument #" << i << " has type "
                           << arg.getType() << " but input #" << i
                           << " has type " << input.getType();
  if (body.empty() || !isa<YieldOp>(body.back()))
    return emitOpError() << "body must end with chorus.yield";
  unsigned nodes = 0;
  for (Operation &op : body.without_terminator()) {
    auto node = dyn_cast<NodeOp>(op);
    if (!node)
      return op.emitOpError() << "cannot be in a chorus.fused group: a group "
                                 "holds chorus.node ops only";
    if (node->getNumRegions())
      return node.emitOpError()
             << "'" << node.getOpType()
             << "' has subgraphs and cannot be in a chorus.fused group";
    ++nodes;
  }
  if (nodes == 0)
    return emitOpError() << "must hold at least one node";
  Operation *yield = getYield();
  if (yield->getOperandTypes() != getOutputs().getTypes())
    return emitOpError() << "yields " << yield->getNumOperands()
                         << " values of types (" << yield->getOperandTypes()
                         << ") but has results of types ("
                         << getOutputs().getTypes() << ")";
  return success();
}

void FusedOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printAttributeWithoutType(getKindAttr());
  p << ' ';
  p.printAttribute(getRulesAttr());
  p << " (";
  llvm::interleaveComma(
      llvm::zip(getBodyBlock().getArguments(), getInputs()), p,
      [&](auto pair) { p << std::get<0>(pair) << " = " << std::get<1>(pair); });
  p << ')';
  p.printOptionalAttrDict((*this)->getAttrs(),
                          {getKindAttrName(), getRulesAttrName()});
  p << " : ";
  p.printFunctionalType(getInputs().getTypes(), getOutputs().getTypes());
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/true);
}

ParseResult FusedOp::parse(OpAsmParser &parser, OperationState &result) {
  MLIRContext *ctx = parser.getContext();
  StringAttr kind;
  ArrayAttr rules;
  if (parser.parseAttribute(kind, NoneType::get(ctx)) ||
      parser.parseAttribute(rules))
    return failure();
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<OpAsmParser::UnresolvedOperand> inputs;
  if (parser.parseCommaSeparatedList(
          OpAsmParser::Delimiter::Paren, [&]() -> ParseResult {
            OpAsmParser::Argument arg;
            OpAsmParser::UnresolvedOperand input;
            if (parser.parseArgument(arg) || parser.parseEqual() ||
                parser.parseOperand(input))
              return failure();
            args.push_back(arg);
            inputs.push_back(input);
            return success();
          }))
    return failure();
  if (parser.parseOptionalAttrDict(result.attributes))
    return failure();
  FunctionType type;
  llvm::SMLoc typeLoc = parser.getCurrentLocation();
  if (parser.parseColonType(type))
    return failure();
  if (type.getNumInputs() != args.size())
    return parser.emitError(typeLoc)
           << "the type lists " << type.getNumInputs() << " inputs but "
           << args.size() << " are bound";
  if (parser.resolveOperands(inputs, type.getInputs(), typeLoc,
                             result.operands))
    return failure();
  for (auto [arg, argType] : llvm::zip(args, type.getInputs()))
    arg.type = argType;
  result.addTypes(type.getResults());
  result.addAttribute(getKindAttrName(result.name), kind);
  result.addAttribute(getRulesAttrName(result.name), rules);
  Region *body = result.addRegion();
  return parser.parseRegion(*body, args);
}

void FusedOp::getAsmBlockArgumentNames(Region &region,
                                       OpAsmSetValueNameFn setNameFn) {
  for (BlockArgument arg : region.getArguments())
    setNameFn(arg, "in");
}

void FusedOp::inlineBody() {
  Block &body = getBodyBlock();
  for (auto [arg, input] : llvm::zip(body.getArguments(), getInputs()))
    arg.replaceAllUsesWith(input);
  Operation *yield = getYield();
  for (auto [result, value] : llvm::zip(getOutputs(), yield->getOperands()))
    result.replaceAllUsesWith(value);
  yield->erase();
  Block *parent = (*this)->getBlock();
  parent->getOperations().splice(Block::iterator(*this), body.getOperations());
  erase();
}

#define GET_OP_CLASSES
#include "chorus/Dialect/ChorusOps.cpp.inc"
