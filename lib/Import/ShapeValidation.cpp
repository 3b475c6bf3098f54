//===- ShapeValidation.cpp - Shapes checked against op semantics ----------===//
//
// ONNX's shape inference lets some impossible models through (a Reshape of
// 16 elements to 7x5, a Conv kernel larger than its padded input): ONNX
// Runtime refuses them when it loads or runs them. The importer refuses
// them too, naming the node and the shapes.
//
//===----------------------------------------------------------------------===//

#include "ShapeValidation.h"

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace chorus;

static std::string shapeText(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "a scalar";
  std::string text;
  for (int64_t d : shape)
    text += (text.empty() ? "" : "x") +
            (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return text;
}

static RankedTensorType staticType(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() ? type : RankedTensorType();
}

/// The integer values of a constant weight, or nothing.
static std::optional<SmallVector<int64_t>>
constantInts(Value value, SymbolTableCollection &symbols) {
  auto ref = value.getDefiningOp<WeightRefOp>();
  if (!ref)
    return std::nullopt;
  auto weight = dyn_cast_or_null<WeightOp>(
      symbols.lookupNearestSymbolFrom(ref, ref.getWeightAttr()));
  if (!weight || !weight.getValue())
    return std::nullopt;
  auto dense = dyn_cast<DenseIntElementsAttr>(*weight.getValue());
  if (!dense)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : dense.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

static SmallVector<int64_t> intsAttr(NodeOp node, StringRef name) {
  if (auto array = dyn_cast_or_null<DenseI64ArrayAttr>(node.getOnnxAttr(name)))
    return SmallVector<int64_t>(array.asArrayRef());
  return {};
}

/// Convolution and pooling: every output spatial dim must be positive.
static LogicalResult checkWindow(NodeOp node, RankedTensorType input,
                                 SmallVector<int64_t> kernel) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || static_cast<int64_t>(kernel.size()) != spatial)
    return success();
  auto autoPad = dyn_cast_or_null<StringAttr>(node.getOnnxAttr("auto_pad"));
  if (autoPad && (autoPad.getValue() == "SAME_UPPER" ||
                  autoPad.getValue() == "SAME_LOWER"))
    return success();
  SmallVector<int64_t> pads = intsAttr(node, "pads");
  SmallVector<int64_t> strides = intsAttr(node, "strides");
  SmallVector<int64_t> dilations = intsAttr(node, "dilations");
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(2 + i);
    int64_t padded = in + (static_cast<int64_t>(pads.size()) == 2 * spatial
                               ? pads[i] + pads[spatial + i]
                               : 0);
    int64_t dilation =
        static_cast<int64_t>(dilations.size()) == spatial ? dilations[i] : 1;
    int64_t stride =
        static_cast<int64_t>(strides.size()) == spatial ? strides[i] : 1;
    if (stride <= 0 || dilation <= 0)
      return node.emitError() << "has a non-positive stride or dilation "
                                 "(strides and dilations must be at least 1)";
    int64_t span = dilation * (kernel[i] - 1) + 1;
    if (span > padded)
      return node.emitError()
             << "its " << shapeText(kernel) << " window"
             << (dilation > 1 ? " (dilated)" : "") << " spans " << span
             << " along spatial dim " << i << ", but the input "
             << shapeText(input.getShape()) << " has only " << padded
             << (padded != in ? " there with its padding" : " there")
             << ": the output dim would be " << (padded - span) / stride + 1;
  }
  return success();
}

static LogicalResult checkNode(NodeOp node, SymbolTableCollection &symbols) {
  if (!node.getDomain().empty() && node.getDomain() != "ai.onnx")
    return success();
  StringRef op = node.getOpType();
  auto inputs = node.getInputs();
  if (op == "Reshape" && inputs.size() == 2 && node.getOutputs().size() == 1) {
    RankedTensorType in = staticType(inputs[0]);
    RankedTensorType out = staticType(node.getOutputs()[0]);
    if (in && out && in.getNumElements() != out.getNumElements())
      return node.emitError() << "cannot reshape " << shapeText(in.getShape())
                              << " (" << in.getNumElements() << " elements) to "
                              << shapeText(out.getShape()) << " ("
                              << out.getNumElements() << " elements)";
    if (std::optional<SmallVector<int64_t>> shape =
            constantInts(inputs[1], symbols);
        in && shape) {
      int64_t known = 1, inferred = 0;
      bool allowZero = false;
      if (auto a = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr("allowzero")))
        allowZero = a.getInt() != 0;
      for (auto [i, d] : llvm::enumerate(*shape)) {
        if (d == -1) {
          ++inferred;
          continue;
        }
        if (d == 0 && !allowZero)
          d = static_cast<int64_t>(i) < in.getRank() ? in.getDimSize(i) : 0;
        known *= d;
      }
      bool fits = inferred ? known != 0 && in.getNumElements() % known == 0
                           : known == in.getNumElements();
      if (inferred <= 1 && !fits)
        return node.emitError()
               << "cannot reshape " << shapeText(in.getShape()) << " ("
               << in.getNumElements() << " elements) to the shape ["
               << llvm::join(
                      llvm::map_range(
                          *shape, [](int64_t d) { return std::to_string(d); }),
                      ", ")
               << "]";
    }
    return success();
  }
  if ((op == "Conv" || op == "ConvInteger") && inputs.size() >= 2) {
    RankedTensorType x = staticType(inputs[0]), w = staticType(inputs[1]);
    if (!x || !w || w.getRank() != x.getRank())
      return success();
    SmallVector<int64_t> kernel(w.getShape().drop_front(2));
    return checkWindow(node, x, kernel);
  }
  if ((op == "MaxPool" || op == "AveragePool" || op == "LpPool") &&
      !inputs.empty()) {
    RankedTensorType x = staticType(inputs[0]);
    if (!x)
      return success();
    return checkWindow(node, x, intsAttr(node, "kernel_shape"));
  }
  if (op == "Concat" && !inputs.empty()) {
    auto axisAttr = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr("axis"));
    SmallVector<RankedTensorType> types;
    for (Value v : inputs)
      if (auto t = dyn_cast<RankedTensorType>(v.getType()))
        types.push_back(t);
    if (types.size() != inputs.size() || !axisAttr)
      return success();
    int64_t rank = types[0].getRank();
    int64_t axis = axisAttr.getInt();
    if (axis < -rank || axis >= rank)
      return node.emitError() << "concatenates along axis " << axis
                              << ", but its operands have rank " << rank;
    if (axis < 0)
      axis += rank;
    for (auto [i, t] : llvm::enumerate(types)) {
      if (t.getRank() != rank)
        return node.emitError()
               << "concatenates operands of different ranks: "
               << shapeText(types[0].getShape()) << " and operand " << i << " "
               << shapeText(t.getShape());
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && !t.isDynamicDim(d) && !types[0].isDynamicDim(d) &&
            t.getDimSize(d) != types[0].getDimSize(d))
          return node.emitError()
                 << "concatenates along axis " << axis << " operands that "
                 << "differ in dim " << d << ": "
                 << shapeText(types[0].getShape()) << " and operand " << i
                 << " " << shapeText(t.getShape());
    }
    return success();
  }
  if (op == "Gather" && inputs.size() == 2) {
    auto data = dyn_cast<RankedTensorType>(inputs[0].getType());
    std::optional<SmallVector<int64_t>> indices =
        constantInts(inputs[1], symbols);
    if (!data || !indices || data.getRank() == 0)
      return success();
    int64_t axis = 0;
    if (auto a = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr("axis")))
      axis = a.getInt();
    if (axis < -data.getRank() || axis >= data.getRank())
      return node.emitError() << "gathers along axis " << axis
                              << ", but its data has rank " << data.getRank();
    if (axis < 0)
      axis += data.getRank();
    if (data.isDynamicDim(axis))
      return success();
    int64_t size = data.getDimSize(axis);
    for (int64_t index : *indices)
      if (index < -size || index >= size)
        return node.emitError()
               << "gathers index " << index << " along axis " << axis << " of "
               << shapeText(data.getShape()) << ", outside [-" << size << ", "
               << size - 1 << "]";
  }
  return success();
}

LogicalResult chorus::validateShapes(Operation *root) {
  SymbolTableCollection symbols;
  WalkResult result = root->walk([&](NodeOp node) {
    return failed(checkNode(node, symbols)) ? WalkResult::interrupt()
                                            : WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}
