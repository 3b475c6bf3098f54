//===- OpTable.cpp - What Chorus knows about each ONNX operator -----------===//

#include "chorus/Analysis/OpTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <map>

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
  /// 2 x the product of the extents of every index letter.
  Einsum,
  /// Recurrent cells: per step and direction, gates x (input + hidden)
  /// multiply-adds per hidden unit.
  Recurrent,
};

/// How a node's bytes moved follow from its types.
enum class Traffic {
  /// Every input read once, every output written once.
  All,
  /// Only metadata: nothing read or written (views, shape queries).
  None,
  /// Reads as many bytes as it writes, plus its index inputs (Gather,
  /// Slice): the data tensor is not read whole.
  OutputSized,
};

struct OpEntry {
  Work work;
  double perElement = 1;
  OpClass opClass = OpClass::Elementwise;
  Traffic traffic = Traffic::All;
  bool view = false;
  bool inPlace = false;
  /// Set from the class after the table is built, then overridden per op.
  FusionKind fusion = FusionKind::Opaque;
};

/// Fusion kinds (after TVM's op patterns): from the class, then the ops
/// that differ. Elementwise ops are classed per node (getFusionKind: all
/// operands of the result's shape or not); what reads its input other than
/// pointwise but keeps a fixed index map is injective; what reduces is a
/// reduction; what computes a result from data-dependent positions, has no
/// tensor input, keeps state or runs a body is opaque.
void setFusionKinds(llvm::StringMap<OpEntry> &t) {
  for (auto &entry : t) {
    OpEntry &e = entry.second;
    switch (e.opClass) {
    case OpClass::MatMulLike:
    case OpClass::Convolution:
    case OpClass::GroupedConvolution:
      e.fusion = FusionKind::OutElementwiseFusable;
      break;
    case OpClass::Elementwise:
    case OpClass::ElementwiseMath:
      e.fusion = FusionKind::Broadcast;
      break;
    case OpClass::Reduction:
    case OpClass::Normalization:
      e.fusion = FusionKind::Reduction;
      break;
    case OpClass::DataMovement:
    case OpClass::View:
      e.fusion = FusionKind::Injective;
      break;
    case OpClass::ControlFlow:
      e.fusion = FusionKind::Opaque;
      break;
    }
  }
  auto set = [&](std::initializer_list<const char *> ops, FusionKind kind) {
    for (const char *op : ops)
      t[op].fusion = kind;
  };
  // Pooling windows compute each output from a fixed window, as a
  // convolution does, and take elementwise consumers the same way.
  set({"MaxPool", "AveragePool", "LpPool"}, FusionKind::OutElementwiseFusable);
  // Inference BatchNormalization is a per-channel scale and shift.
  set({"BatchNormalization"}, FusionKind::Broadcast);
  set({"Trilu"}, FusionKind::Injective);
  set({"RandomUniform",
       "RandomNormal",
       "RandomUniformLike",
       "RandomNormalLike",
       "Bernoulli",
       "EyeLike",
       "BlackmanWindow",
       "HammingWindow",
       "HannWindow",
       "MelWeightMatrix",
       "Range",
       "ConstantOfShape",
       "Constant",
       "DynamicQuantizeLinear",
       "Adagrad",
       "Momentum",
       "Adam",
       "LRN",
       "TopK",
       "Unique",
       "NonZero",
       "Compress",
       "NonMaxSuppression",
       "Det",
       "TfIdfVectorizer",
       "StringNormalizer",
       "Gradient",
       "NegativeLogLikelihoodLoss",
       "SoftmaxCrossEntropyLoss",
       "CumSum",
       "ScatterND",
       "ScatterElements",
       "Scatter",
       "MaxUnpool",
       "GridSample",
       "RoiAlign",
       "ConcatFromSequence",
       "SplitToSequence",
       "SequenceConstruct",
       "SequenceInsert",
       "SequenceErase",
       "SequenceEmpty",
       "SequenceAt",
       "SequenceLength",
       "Shape",
       "Size",
       "Optional",
       "OptionalGetElement",
       "OptionalHasElement",
       "LSTM",
       "GRU",
       "RNN",
       "DFT",
       "STFT"},
      FusionKind::Opaque);
}

/// Counting conventions: +, -, *, /, max, compare are 1 FLOP; exp, log,
/// sqrt, erf, tanh and sigmoid are 1 FLOP each plus the arithmetic around
/// them; a multiply-add is 2. BatchNormalization in inference is a scale and
/// a shift (2); Softmax is max, subtract, exp, sum and divide (5);
/// LayerNormalization is mean, subtract, square, mean, add, sqrt, divide,
/// scale and shift (9). Ops whose work is data-dependent (NonMaxSuppression,
/// Unique, TopK, RoiAlign...) count a documented constant per output or
/// input element; docs/CostModel.md lists them.
const llvm::StringMap<OpEntry> &getOpTable() {
  static const llvm::StringMap<OpEntry> table = [] {
    llvm::StringMap<OpEntry> t;
    auto elementwise = [&](std::initializer_list<const char *> ops,
                           double perElement) {
      for (const char *op : ops)
        t[op] = {Work::PerOutputElement, perElement, OpClass::Elementwise,
                 Traffic::All,           false,      true};
    };
    elementwise({"Add",
                 "Sub",
                 "Mul",
                 "Div",
                 "Neg",
                 "Abs",
                 "Relu",
                 "Max",
                 "Min",
                 "Sum",
                 "Mean",
                 "Equal",
                 "Greater",
                 "Less",
                 "GreaterOrEqual",
                 "LessOrEqual",
                 "Not",
                 "And",
                 "Or",
                 "Xor",
                 "Where",
                 "Sqrt",
                 "Exp",
                 "Log",
                 "Reciprocal",
                 "Floor",
                 "Ceil",
                 "Round",
                 "Sign",
                 "Erf",
                 "Pow",
                 "Mod",
                 "Clip",
                 "Tanh",
                 "Sin",
                 "Cos",
                 "Tan",
                 "Asin",
                 "Acos",
                 "Atan",
                 "Sinh",
                 "Cosh",
                 "Asinh",
                 "Acosh",
                 "Atanh",
                 "PRelu",
                 "LeakyRelu",
                 "IsInf",
                 "IsNaN",
                 "BitShift",
                 "ThresholdedRelu",
                 "Shrink",
                 "Softsign",
                 "CastLike",
                 "QuantizeLinear",
                 "DequantizeLinear",
                 "Bernoulli",
                 "RandomUniformLike",
                 "RandomNormalLike",
                 "RandomUniform",
                 "RandomNormal",
                 "EyeLike",
                 "Trilu"},
                1);
    elementwise({"Sigmoid", "HardSigmoid", "Elu", "Celu", "Softplus"}, 3);
    elementwise({"HardSwish", "Selu"}, 4);
    elementwise({"Gelu"}, 8);
    // Windows and mel matrices: a few operations per generated element.
    elementwise(
        {"BlackmanWindow", "HammingWindow", "HannWindow", "MelWeightMatrix"},
        4);
    elementwise({"DynamicQuantizeLinear"}, 4);
    // Training-domain optimizers (ai.onnx.preview.training): a handful of
    // operations per updated element.
    elementwise({"Adagrad", "Momentum"}, 6);
    elementwise({"Adam"}, 10);
    auto normalization = [&](const char *op, double perElement) {
      t[op] = {Work::PerOutputElement, perElement, OpClass::Normalization,
               Traffic::All,           false,      false};
    };
    normalization("BatchNormalization", 2);
    normalization("InstanceNormalization", 9);
    normalization("LayerNormalization", 9);
    normalization("MeanVarianceNormalization", 9);
    normalization("LRN", 6);
    normalization("Softmax", 5);
    normalization("LogSoftmax", 5);
    normalization("Hardmax", 2);
    auto reduction = [&](std::initializer_list<const char *> ops,
                         double perElement) {
      for (const char *op : ops)
        t[op] = {Work::PerInputElement, perElement, OpClass::Reduction,
                 Traffic::All,          false,      false};
    };
    reduction({"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
               "ReduceProd", "ReduceL1", "ReduceSumSquare", "ArgMax", "ArgMin",
               "GlobalAveragePool", "GlobalMaxPool", "CumSum", "GlobalLpPool"},
              1);
    reduction({"ReduceL2", "ReduceLogSum", "ReduceLogSumExp"}, 2);
    // Data-dependent selection: about log2(k) comparisons per element are
    // counted as 4; suppression and losses a few per element.
    reduction({"TopK", "Unique", "NonZero", "Compress"}, 4);
    reduction({"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}, 6);
    reduction({"NonMaxSuppression"}, 8);
    reduction({"Det"}, 3);
    reduction({"TfIdfVectorizer", "StringNormalizer"}, 2);
    reduction({"Gradient"}, 2);
    auto movement = [&](std::initializer_list<const char *> ops,
                        Traffic traffic) {
      for (const char *op : ops)
        t[op] = {Work::None, 0, OpClass::DataMovement, traffic, false, false};
    };
    movement({"Transpose",
              "Concat",
              "Split",
              "Expand",
              "Tile",
              "Pad",
              "Cast",
              "ConstantOfShape",
              "Range",
              "DepthToSpace",
              "SpaceToDepth",
              "ScatterND",
              "ScatterElements",
              "Scatter",
              "OneHot",
              "ReverseSequence",
              "MaxUnpool",
              "ConcatFromSequence",
              "SplitToSequence",
              "SequenceConstruct",
              "SequenceInsert",
              "SequenceErase",
              "SequenceEmpty",
              "SequenceAt",
              "SequenceLength",
              "Constant"},
             Traffic::All);
    movement({"Slice", "Gather", "GatherND", "GatherElements"},
             Traffic::OutputSized);
    // Resampling: a few multiply-adds per output element.
    t["Resize"] = {Work::PerOutputElement, 4,     OpClass::DataMovement,
                   Traffic::All,           false, false};
    t["Upsample"] = t["Resize"];
    t["GridSample"] = {Work::PerOutputElement, 8,     OpClass::DataMovement,
                       Traffic::All,           false, false};
    t["RoiAlign"] = {Work::PerOutputElement, 16,    OpClass::DataMovement,
                     Traffic::All,           false, false};
    for (const char *op :
         {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
          "Optional", "OptionalGetElement"})
      t[op] = {Work::None,    0,    OpClass::View, Traffic::None,
               /*view=*/true, false};
    // Dropout in inference and the Optional wrappers return their input;
    // only the first five are views of a tensor's bytes (isViewNode).
    for (const char *op : {"Shape", "Size", "OptionalHasElement"})
      t[op] = {Work::None, 0, OpClass::View, Traffic::None, false, false};
    for (const char *op : {"If", "Loop", "Scan", "SequenceMap"})
      t[op] = {Work::None,    0,     OpClass::ControlFlow,
               Traffic::None, false, false};
    t["Conv"] = {Work::Conv, 1, OpClass::Convolution};
    t["ConvInteger"] = t["Conv"];
    t["QLinearConv"] = t["Conv"];
    t["ConvTranspose"] = {Work::ConvTranspose, 1, OpClass::Convolution};
    t["MatMul"] = {Work::MatMul, 1, OpClass::MatMulLike};
    t["MatMulInteger"] = t["MatMul"];
    t["QLinearMatMul"] = t["MatMul"];
    t["Gemm"] = {Work::Gemm, 1, OpClass::MatMulLike};
    t["Einsum"] = {Work::Einsum, 1, OpClass::MatMulLike};
    t["LSTM"] = {Work::Recurrent, 4, OpClass::MatMulLike};
    t["GRU"] = {Work::Recurrent, 3, OpClass::MatMulLike};
    t["RNN"] = {Work::Recurrent, 1, OpClass::MatMulLike};
    // Fourier transforms: 5 N log2 N per transform is the usual count; as a
    // per-output-element constant for the sizes in use.
    t["DFT"] = {Work::PerOutputElement, 40, OpClass::MatMulLike};
    t["STFT"] = {Work::PerOutputElement, 40, OpClass::MatMulLike};
    t["MaxPool"] = {Work::Pool, 1, OpClass::Reduction};
    t["AveragePool"] = {Work::Pool, 1, OpClass::Reduction};
    t["LpPool"] = {Work::Pool, 2, OpClass::Reduction};
    setFusionKinds(t);
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

/// The weight operand of a convolution: QLinearConv puts scales and zero
/// points between the data and the weights.
unsigned convWeightIndex(NodeOp node) {
  return node.getOpType() == "QLinearConv" ? 3 : 1;
}

/// Whether every element of the integer-array attribute `name` equals
/// `value`, or the attribute is absent (its default is all `value`).
bool allEqualOrAbsent(NodeOp node, StringRef name, int64_t value) {
  auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(node.getOnnxAttr(name));
  if (!attr)
    return true;
  return llvm::all_of(attr.asArrayRef(), [&](int64_t v) { return v == value; });
}

/// The contiguous rows an im2col expansion of convolution `node` copies:
/// for every input channel and kernel element, one row of the output's
/// last spatial dim per position of the others. 0 when the convolution
/// reads its input directly (a 1x1 kernel with unit strides and no
/// padding), as CPU runtimes do without expanding.
std::optional<double> convExpandedRows(NodeOp node) {
  unsigned wIndex = convWeightIndex(node);
  if (node.getInputs().size() <= wIndex || node.getOutputs().empty())
    return std::nullopt;
  std::optional<ArrayRef<int64_t>> w =
      staticShape(node.getInputs()[wIndex].getType());
  std::optional<ArrayRef<int64_t>> y =
      staticShape(node.getOutputs()[0].getType());
  if (!w || !y)
    return std::nullopt;
  if (w->size() < 3 || y->size() != w->size())
    return 0.0; // not a convolution ONNX defines: no expansion to count
  ArrayRef<int64_t> kernel = w->drop_front(2);
  bool direct = llvm::all_of(kernel, [](int64_t d) { return d == 1; }) &&
                allEqualOrAbsent(node, "strides", 1) &&
                allEqualOrAbsent(node, "pads", 0);
  if (direct)
    return 0.0;
  return getIm2colRows(*w, *y,
                       static_cast<double>(getIntAttr(node, "group", 1)));
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
    unsigned wIndex = convWeightIndex(node);
    if (node.getInputs().size() <= wIndex || !out)
      return std::nullopt;
    std::optional<ArrayRef<int64_t>> w =
        staticShape(node.getInputs()[wIndex].getType());
    if (!w || w->size() < 2)
      return std::nullopt;
    double window = 1;
    for (int64_t d : w->drop_front(1))
      window *= d; // C/group times the kernel
    bool bias = node.getOpType() == "QLinearConv" ? hasOperand(node, 8)
                                                  : hasOperand(node, 2);
    return 2 * *out * window + (bias ? *out : 0);
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
  case Work::Einsum: {
    auto equation = dyn_cast_or_null<StringAttr>(node.getOnnxAttr("equation"));
    if (!equation || !out)
      return std::nullopt;
    StringRef eq = equation.getValue();
    if (eq.contains("..."))
      return std::nullopt;
    auto [lhs, rhs] = eq.split("->");
    llvm::SmallVector<StringRef> terms;
    lhs.split(terms, ',');
    if (terms.size() != node.getInputs().size())
      return std::nullopt;
    std::map<char, int64_t> extent;
    for (auto [term, input] : llvm::zip(terms, node.getInputs())) {
      std::optional<ArrayRef<int64_t>> shape = staticShape(input.getType());
      StringRef letters = term.trim();
      if (!shape || shape->size() != letters.size())
        return std::nullopt;
      for (auto [letter, dim] : llvm::zip(letters, *shape))
        extent[letter] = std::max(extent[letter], dim);
    }
    double product = 1;
    for (auto [letter, dim] : extent)
      product *= dim;
    // A contraction is a multiply-add per point of the full index space;
    // a pure permutation or diagonal is one operation per output.
    bool contracts = rhs.trim().size() < extent.size() || terms.size() > 1;
    return contracts ? 2 * product : *out;
  }
  case Work::Recurrent: {
    // X [seq, batch, input], W [dirs, gates*hidden, input],
    // R [dirs, gates*hidden, hidden].
    if (node.getInputs().size() < 3)
      return std::nullopt;
    std::optional<ArrayRef<int64_t>> x =
        staticShape(node.getInputs()[0].getType());
    std::optional<ArrayRef<int64_t>> w =
        staticShape(node.getInputs()[1].getType());
    std::optional<ArrayRef<int64_t>> r =
        staticShape(node.getInputs()[2].getType());
    if (!x || !w || !r || x->size() != 3 || w->size() != 3 || r->size() != 3)
      return std::nullopt;
    double steps = static_cast<double>((*x)[0]) * (*x)[1] * (*w)[0];
    double gateRows = (*w)[1];
    double matmuls = 2 * steps * gateRows * ((*w)[2] + (*r)[2]);
    // Gate activations and the state update, a few per gate element.
    return matmuls + 4 * steps * gateRows;
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

/// The table entry for `node`, or null for ops it does not know.
static const OpEntry *lookup(NodeOp node) {
  StringRef domain = node.getDomain();
  if (!domain.empty() && domain != "ai.onnx" &&
      domain != "ai.onnx.preview.training")
    return nullptr;
  const llvm::StringMap<OpEntry> &table = getOpTable();
  auto it = table.find(node.getOpType());
  return it == table.end() ? nullptr : &it->second;
}

std::optional<OpClass> chorus::getOpTypeClass(llvm::StringRef opType) {
  const llvm::StringMap<OpEntry> &table = getOpTable();
  auto it = table.find(opType);
  if (it == table.end())
    return std::nullopt;
  return it->second.opClass;
}

bool chorus::isTranscendentalOpType(llvm::StringRef opType) {
  static const llvm::StringSet<> ops = {
      "Sigmoid",  "Tanh", "Erf",   "Exp",   "Log",   "Softplus",
      "Softsign", "Elu",  "Selu",  "Celu",  "Gelu",  "Mish",
      "Sin",      "Cos",  "Tan",   "Asin",  "Acos",  "Atan",
      "Sinh",     "Cosh", "Asinh", "Acosh", "Atanh", "Pow"};
  return ops.contains(opType);
}

bool chorus::isPermutationOpType(llvm::StringRef opType) {
  return opType == "Transpose" || opType == "DepthToSpace" ||
         opType == "SpaceToDepth";
}

std::optional<FlopCount> chorus::getNodeFlops(NodeOp node) {
  const OpEntry *entry = lookup(node);
  if (!entry) {
    if (node.getOutputs().empty())
      return FlopCount{0, true};
    std::optional<double> out = elementCount(node.getOutputs()[0].getType());
    if (!out)
      return std::nullopt;
    return FlopCount{*out, true};
  }
  std::optional<double> flops = computeFlops(node, *entry);
  if (!flops)
    return std::nullopt;
  return FlopCount{*flops, false};
}

/// getValueStorageBytes as a double, the unit of the cost model.
static std::optional<double> bytesOf(Type type) {
  if (std::optional<int64_t> bytes = getValueStorageBytes(type))
    return static_cast<double>(*bytes);
  return std::nullopt;
}

double chorus::getIm2colRows(ArrayRef<int64_t> filter, ArrayRef<int64_t> output,
                             double groups) {
  if (filter.size() < 3 || output.size() != filter.size())
    return 0;
  double rows = static_cast<double>(std::max<int64_t>(output[0], 0)) * groups;
  for (int64_t d : filter.drop_front())
    rows *= static_cast<double>(std::max<int64_t>(d, 0));
  for (int64_t d : output.drop_front(2).drop_back())
    rows *= static_cast<double>(std::max<int64_t>(d, 0));
  return rows;
}

std::optional<NodeWork> chorus::getNodeWork(NodeOp node) {
  std::optional<FlopCount> flops = getNodeFlops(node);
  if (!flops)
    return std::nullopt;
  const OpEntry *entry = lookup(node);
  NodeWork work;
  work.flops = flops->flops;
  work.estimated = flops->estimated;
  work.opClass = entry ? entry->opClass : OpClass::Elementwise;
  if (entry && work.opClass == OpClass::Elementwise &&
      isTranscendentalOpType(node.getOpType()))
    work.opClass = OpClass::ElementwiseMath;
  if (work.opClass == OpClass::Convolution) {
    work.groups = static_cast<double>(getIntAttr(node, "group", 1));
    if (work.groups > 1)
      work.opClass = OpClass::GroupedConvolution;
    if (entry && entry->work == Work::Conv) {
      std::optional<double> rows = convExpandedRows(node);
      if (!rows)
        return std::nullopt;
      work.expandedRows = *rows;
    }
  }
  Traffic traffic = entry ? entry->traffic : Traffic::All;
  if (traffic == Traffic::None)
    return work;
  double written = 0;
  for (Value out : node.getOutputs()) {
    std::optional<double> b = bytesOf(out.getType());
    if (!b)
      return std::nullopt;
    written += *b;
  }
  work.bytesWritten = written;
  if (traffic == Traffic::OutputSized) {
    // The data read equals what is written; index inputs are read whole.
    work.bytesRead = written;
    for (Value in : llvm::drop_begin(node.getInputs())) {
      std::optional<double> b = bytesOf(in.getType());
      if (!b)
        return std::nullopt;
      work.bytesRead += *b;
    }
    return work;
  }
  for (Value in : node.getInputs()) {
    std::optional<double> b = bytesOf(in.getType());
    if (!b)
      return std::nullopt;
    work.bytesRead += *b;
  }
  return work;
}

bool chorus::isKnownOp(NodeOp node) { return lookup(node) != nullptr; }

bool chorus::mayRunInPlace(NodeOp node) {
  const OpEntry *entry = lookup(node);
  return entry && entry->inPlace;
}

llvm::StringRef chorus::getOpClassName(OpClass opClass) {
  switch (opClass) {
  case OpClass::MatMulLike:
    return "matmul";
  case OpClass::Convolution:
    return "conv";
  case OpClass::GroupedConvolution:
    return "conv_grouped";
  case OpClass::Elementwise:
    return "elementwise";
  case OpClass::ElementwiseMath:
    return "elementwise_math";
  case OpClass::Reduction:
    return "reduction";
  case OpClass::Normalization:
    return "normalization";
  case OpClass::DataMovement:
    return "data_movement";
  case OpClass::View:
    return "view";
  case OpClass::ControlFlow:
    return "control_flow";
  }
  return "";
}

std::optional<OpClass> chorus::parseOpClass(llvm::StringRef name) {
  for (OpClass c : allOpClasses())
    if (getOpClassName(c) == name)
      return c;
  return std::nullopt;
}

llvm::ArrayRef<OpClass> chorus::allOpClasses() {
  static const OpClass all[] = {OpClass::MatMulLike,
                                OpClass::Convolution,
                                OpClass::GroupedConvolution,
                                OpClass::Elementwise,
                                OpClass::ElementwiseMath,
                                OpClass::Reduction,
                                OpClass::Normalization,
                                OpClass::DataMovement,
                                OpClass::View,
                                OpClass::ControlFlow};
  return all;
}

/// Whether `type` is a tensor of exactly `shape`.
static bool hasShape(Type type, ArrayRef<int64_t> shape) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  return ranked && ranked.hasStaticShape() && ranked.getShape() == shape;
}

FusionKind chorus::getFusionKind(NodeOp node) {
  const OpEntry *entry = lookup(node);
  if (!entry || node->getNumRegions() || node.getOutputs().empty())
    return FusionKind::Opaque;
  FusionKind kind = entry->fusion;
  // Several results only where the op is a split of its input.
  if (node.getOutputs().size() > 1 && kind != FusionKind::Injective)
    return FusionKind::Opaque;
  if (kind != FusionKind::Broadcast || node.getOpType() == "BatchNormalization")
    return kind;
  auto result = dyn_cast<RankedTensorType>(node.getOutputs()[0].getType());
  if (!result || !result.hasStaticShape())
    return FusionKind::Broadcast;
  for (Value input : node.getInputs())
    if (!isa<NoneType>(input.getType()) &&
        !hasShape(input.getType(), result.getShape()))
      return FusionKind::Broadcast;
  return FusionKind::Elementwise;
}

FusionKind chorus::getOperandFusionKind(NodeOp node, unsigned index) {
  FusionKind kind = getFusionKind(node);
  if (kind != FusionKind::Broadcast || node.getOutputs().size() != 1)
    return kind;
  auto result = dyn_cast<RankedTensorType>(node.getOutputs()[0].getType());
  if (result && result.hasStaticShape() &&
      hasShape(node.getInputs()[index].getType(), result.getShape()))
    return FusionKind::Elementwise;
  return kind;
}

llvm::ArrayRef<unsigned> chorus::getShapeValueOperands(NodeOp node) {
  if (!node.getDomain().empty() && node.getDomain() != "ai.onnx")
    return {};
  static const llvm::StringMap<std::vector<unsigned>> table = {
      {"Reshape", {1}},
      {"Expand", {1}},
      {"Tile", {1}},
      {"ConstantOfShape", {0}},
      {"Range", {0, 1, 2}},
      {"Resize", {1, 2, 3}},
      {"Upsample", {1}},
      {"Pad", {1, 3}},
      {"Slice", {1, 2, 3, 4}},
      {"OneHot", {1}},
      {"TopK", {1}},
      {"Squeeze", {1}},
      {"Unsqueeze", {1}},
      {"Split", {1}},
      {"ReduceSum", {1}},
      {"ReduceMean", {1}},
      {"ReduceMax", {1}},
      {"ReduceMin", {1}},
      {"ReduceProd", {1}},
      {"ReduceL1", {1}},
      {"ReduceL2", {1}},
      {"ReduceLogSum", {1}},
      {"ReduceLogSumExp", {1}},
      {"ReduceSumSquare", {1}},
      {"CenterCropPad", {1}},
      {"NonMaxSuppression", {2}},
  };
  auto it = table.find(node.getOpType());
  if (it == table.end())
    return {};
  return it->second;
}

Folding chorus::getFolding(NodeOp node) {
  return getFoldingRule(node.getDomain(), node.getOpType(),
                        node->getNumRegions() != 0);
}

bool chorus::isViewNode(NodeOp node) {
  if (!node.getDomain().empty() && node.getDomain() != "ai.onnx")
    return false;
  if (node.getInputs().empty() || node.getOutputs().size() != 1)
    return false;
  const OpEntry *entry = lookup(node);
  return entry && entry->view;
}
