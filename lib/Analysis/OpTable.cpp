//===- OpTable.cpp - What Chorus knows about each ONNX operator -----------===//

#include "chorus/Analysis/OpTable.h"

#include "llvm/ADT/StringSwitch.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace chorus;

namespace {

/// How an operator's FLOPs follow from its types.
enum class Work {
  /// `perElement` FLOPs per output element (elementwise, normalization).
  PerOutputElement,
  /// `perElement` FLOPs per element of the first input (reductions).
  PerInputElement,
  /// No arithmetic: data movement, views, shape queries.
  None,
  Conv,
  ConvTranspose,
  MatMul,
  Gemm,
  /// Output elements times the kernel window (MaxPool, AveragePool).
  Pool,
};

struct OpEntry {
  Work work;
  double perElement = 1;
};

/// Counting conventions: +, -, *, /, max, compare are 1 FLOP; exp, log,
/// sqrt, erf, tanh and sigmoid are 1 FLOP each plus the arithmetic around
/// them; a multiply-add is 2. BatchNormalization in inference is a scale and
/// a shift (2); Softmax is max, subtract, exp, sum and divide (5);
/// LayerNormalization is mean, subtract, square, mean, add, sqrt, divide,
/// scale and shift (9).
const llvm::StringMap<OpEntry> &getOpTable() {
  static const llvm::StringMap<OpEntry> table = [] {
    llvm::StringMap<OpEntry> t;
    for (const char *op :
         {"Add",         "Sub",   "Mul",      "Div",  "Neg",
          "Abs",         "Relu",  "Max",      "Min",  "Sum",
          "Mean",        "Equal", "Greater",  "Less", "GreaterOrEqual",
          "LessOrEqual", "Not",   "And",      "Or",   "Xor",
          "Where",       "Sqrt",  "Exp",      "Log",  "Reciprocal",
          "Floor",       "Ceil",  "Round",    "Sign", "Erf",
          "Pow",         "Mod",   "Clip",     "Tanh", "Sin",
          "Cos",         "PRelu", "LeakyRelu"})
      t[op] = {Work::PerOutputElement, 1};
    t["Sigmoid"] = {Work::PerOutputElement, 3};
    t["HardSigmoid"] = {Work::PerOutputElement, 3};
    t["HardSwish"] = {Work::PerOutputElement, 4};
    t["Elu"] = {Work::PerOutputElement, 3};
    t["Selu"] = {Work::PerOutputElement, 4};
    t["Gelu"] = {Work::PerOutputElement, 8};
    t["BatchNormalization"] = {Work::PerOutputElement, 2};
    t["InstanceNormalization"] = {Work::PerOutputElement, 9};
    t["LayerNormalization"] = {Work::PerOutputElement, 9};
    t["Softmax"] = {Work::PerOutputElement, 5};
    t["LogSoftmax"] = {Work::PerOutputElement, 5};
    t["Resize"] = {Work::PerOutputElement, 4};
    for (const char *op :
         {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
          "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp",
          "ArgMax", "ArgMin", "GlobalAveragePool", "GlobalMaxPool"})
      t[op] = {Work::PerInputElement, 1};
    for (const char *op : {"Reshape",         "Flatten",      "Squeeze",
                           "Unsqueeze",       "Identity",     "Transpose",
                           "Concat",          "Split",        "Slice",
                           "Gather",          "GatherND",     "GatherElements",
                           "Shape",           "Size",         "Cast",
                           "Expand",          "Tile",         "Pad",
                           "ConstantOfShape", "Range",        "Dropout",
                           "DepthToSpace",    "SpaceToDepth", "ScatterND",
                           "ScatterElements", "NonZero",      "TopK",
                           "OneHot"})
      t[op] = {Work::None, 0};
    t["Conv"] = {Work::Conv};
    t["ConvTranspose"] = {Work::ConvTranspose};
    t["MatMul"] = {Work::MatMul};
    t["Gemm"] = {Work::Gemm};
    t["MaxPool"] = {Work::Pool};
    t["AveragePool"] = {Work::Pool};
    return t;
  }();
  return table;
}

std::optional<double> elementCount(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return std::nullopt;
  return static_cast<double>(shaped.getNumElements());
}

std::optional<ArrayRef<int64_t>> staticShape(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return std::nullopt;
  return shaped.getShape();
}

int64_t getIntAttr(NodeOp node, StringRef name, int64_t defaultValue) {
  if (auto attr = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr(name)))
    return attr.getInt();
  return defaultValue;
}

bool hasOperand(NodeOp node, unsigned index) {
  return node.getInputs().size() > index &&
         !isa<NoneType>(node.getInputs()[index].getType());
}

std::optional<double> computeFlops(NodeOp node, const OpEntry &entry) {
  if (node.getOutputs().empty())
    return 0.0;
  std::optional<double> out = elementCount(node.getOutputs()[0].getType());
  switch (entry.work) {
  case Work::None:
    return 0.0;
  case Work::PerOutputElement:
    if (!out)
      return std::nullopt;
    return entry.perElement * *out;
  case Work::PerInputElement: {
    if (node.getInputs().empty())
      return std::nullopt;
    std::optional<double> in = elementCount(node.getInputs()[0].getType());
    if (!in)
      return std::nullopt;
    return entry.perElement * *in;
  }
  case Work::Conv: {
    // Y[N, M, out...] = sum over C/group and the kernel of X * W, + B.
    if (node.getInputs().size() < 2 || !out)
      return std::nullopt;
    std::optional<ArrayRef<int64_t>> w =
        staticShape(node.getInputs()[1].getType());
    if (!w || w->size() < 2)
      return std::nullopt;
    double window = 1;
    for (int64_t d : w->drop_front(1))
      window *= d; // C/group times the kernel
    return 2 * *out * window + (hasOperand(node, 2) ? *out : 0);
  }
  case Work::ConvTranspose: {
    // Each input element scatters into M/group outputs per kernel position.
    if (node.getInputs().size() < 2 || !out)
      return std::nullopt;
    std::optional<double> in = elementCount(node.getInputs()[0].getType());
    std::optional<ArrayRef<int64_t>> w =
        staticShape(node.getInputs()[1].getType());
    if (!in || !w || w->size() < 2)
      return std::nullopt;
    double window = 1;
    for (int64_t d : w->drop_front(1))
      window *= d; // M/group times the kernel
    return 2 * *in * window + (hasOperand(node, 2) ? *out : 0);
  }
  case Work::MatMul: {
    if (node.getInputs().size() < 2 || !out)
      return std::nullopt;
    std::optional<ArrayRef<int64_t>> a =
        staticShape(node.getInputs()[0].getType());
    if (!a || a->empty())
      return std::nullopt;
    return 2 * *out * static_cast<double>(a->back());
  }
  case Work::Gemm: {
    if (node.getInputs().size() < 2 || !out)
      return std::nullopt;
    std::optional<ArrayRef<int64_t>> a =
        staticShape(node.getInputs()[0].getType());
    if (!a || a->size() != 2)
      return std::nullopt;
    double k =
        static_cast<double>(getIntAttr(node, "transA", 0) ? (*a)[0] : (*a)[1]);
    return 2 * *out * k + (hasOperand(node, 2) ? *out : 0);
  }
  case Work::Pool: {
    if (!out)
      return std::nullopt;
    auto kernel =
        dyn_cast_or_null<DenseI64ArrayAttr>(node.getOnnxAttr("kernel_shape"));
    if (!kernel)
      return std::nullopt;
    double window = 1;
    for (int64_t d : kernel.asArrayRef())
      window *= d;
    return *out * window;
  }
  }
  return std::nullopt;
}

} // namespace

std::optional<FlopCount> chorus::getNodeFlops(NodeOp node) {
  const llvm::StringMap<OpEntry> &table = getOpTable();
  auto it =
      node.getDomain().empty() ? table.find(node.getOpType()) : table.end();
  if (it == table.end()) {
    if (node.getOutputs().empty())
      return FlopCount{0, true};
    std::optional<double> out = elementCount(node.getOutputs()[0].getType());
    if (!out)
      return std::nullopt;
    return FlopCount{*out, true};
  }
  std::optional<double> flops = computeFlops(node, it->second);
  if (!flops)
    return std::nullopt;
  return FlopCount{*flops, false};
}

bool chorus::isViewNode(NodeOp node) {
  if (!node.getDomain().empty() && node.getDomain() != "ai.onnx")
    return false;
  if (node.getInputs().empty() || node.getOutputs().size() != 1)
    return false;
  return llvm::StringSwitch<bool>(node.getOpType())
      .Cases("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", true)
      .Default(false);
}
