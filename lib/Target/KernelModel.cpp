//===- KernelModel.cpp - Time of the runtime's own kernels ----------------===//

#include "chorus/Target/KernelModel.h"

#include "chorus/Analysis/ModelSummary.h"
#include "chorus/Analysis/OpTable.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace chorus;

llvm::ArrayRef<std::string> chorus::getKernelClasses() {
  static const std::vector<std::string> classes = {
      "nchwc_conv",    "nchwc_conv_depthwise",
      "conv",          "conv_depthwise",
      "matmul",        "matvec",
      "pool",          "reorder",
      "elementwise",   "elementwise_math",
      "normalization", "data_movement",
      "transpose"};
  return classes;
}

double KernelTensor::elements() const {
  double n = 1;
  for (int64_t d : dims)
    n *= static_cast<double>(std::max<int64_t>(d, 0));
  return n;
}

/// The share of a convolution's filter taps that fall inside its input,
/// over all output positions. Profiles carry shapes but no attributes: a
/// spatial dim's stride is taken as the input over the output size
/// (rounded), its padding as what makes the sizes agree, split evenly
/// (dilation 1).
static double validTapShare(const std::vector<int64_t> &x,
                            const std::vector<int64_t> &w,
                            const std::vector<int64_t> &y) {
  if (x.size() != w.size() || y.size() != w.size() || w.size() < 3)
    return 1;
  double share = 1;
  for (size_t d = 2; d < w.size(); ++d) {
    int64_t in = x[d], k = w[d], out = y[d];
    if (in <= 0 || k <= 0 || out <= 0)
      return 1;
    int64_t stride = std::max<int64_t>(1, (in + out / 2) / out);
    int64_t pad = std::max<int64_t>(0, (out - 1) * stride + k - in);
    int64_t begin = pad / 2;
    int64_t valid = 0;
    for (int64_t o = 0; o < out; ++o) {
      int64_t first = o * stride - begin;
      valid += std::max<int64_t>(0, std::min(first + k, in) -
                                        std::max<int64_t>(first, 0));
    }
    share *= static_cast<double>(valid) / static_cast<double>(out * k);
  }
  return share;
}

KernelFeatures chorus::getKernelFeatures(llvm::StringRef op,
                                         llvm::ArrayRef<KernelTensor> inputs,
                                         llvm::ArrayRef<KernelTensor> outputs) {
  auto [domain, base] =
      op.contains(':') ? op.rsplit(':') : std::make_pair(StringRef(), op);
  KernelFeatures f;
  double in = 0, out = 0;
  for (const KernelTensor &t : inputs) {
    in += t.elements();
    f.bytes += t.elements() * t.elementBytes;
  }
  for (const KernelTensor &t : outputs) {
    out += t.elements();
    f.bytes += t.elements() * t.elementBytes;
  }
  bool nchwc = domain == "com.microsoft.nchwc";
  // ONNX Runtime's own (contrib) kernels by what they are; standard ops
  // by the op table's class.
  static const char *contribElementwise[] = {"QuickGelu", "Gelu", "BiasGelu",
                                             "FastGelu", "HardSwish"};
  static const char *contribNormalization[] = {"SkipLayerNormalization",
                                               "SimplifiedLayerNormalization"};
  std::optional<OpClass> opClass = getOpTypeClass(base);
  bool isElementwise = llvm::is_contained(contribElementwise, base) ||
                       opClass == OpClass::Elementwise;
  bool isNormalization = llvm::is_contained(contribNormalization, base) ||
                         opClass == OpClass::Normalization ||
                         opClass == OpClass::Reduction;
  if ((base == "Conv" || base == "FusedConv") && inputs.size() >= 2 &&
      !outputs.empty() && inputs[1].dims.size() >= 3) {
    const std::vector<int64_t> &w = inputs[1].dims;
    double perOutput = 1;
    for (size_t i = 1; i < w.size(); ++i)
      perOutput *= static_cast<double>(w[i]);
    // Multiply-adds over the taps that fall inside the input: a map only
    // a few rows high under a 5x5 filter has most of its taps in the
    // padding, which the kernels skip.
    f.flops = 2 * outputs[0].elements() * perOutput *
              validTapShare(inputs[0].dims, w, outputs[0].dims);
    bool depthwise =
        w[1] == 1 && inputs[0].dims.size() >= 2 && inputs[0].dims[1] > 1;
    f.kernelClass = std::string(nchwc ? "nchwc_conv" : "conv") +
                    (depthwise ? "_depthwise" : "");
    // Its filter and bias are weights.
    f.weightBytes = inputs[1].elements() * inputs[1].elementBytes;
    if (inputs.size() >= 3 && inputs[2].dims.size() == 1)
      f.weightBytes += inputs[2].elements() * inputs[2].elementBytes;
    // MLAS's unblocked convolution expands its input into im2col's
    // buffer (written, then read by the GEMM), except for a pointwise
    // convolution that keeps the spatial size: those bytes are moved too.
    const std::vector<int64_t> &x = inputs[0].dims;
    const std::vector<int64_t> &y = outputs[0].dims;
    bool pointwise = w.size() == 4 && w[2] == 1 && w[3] == 1 && x.size() == 4 &&
                     y.size() == 4 && x[2] == y[2] && x[3] == y[3];
    double groups = w[1] > 0 && x.size() >= 2
                        ? static_cast<double>(x[1]) / static_cast<double>(w[1])
                        : 1;
    if (!nchwc && !depthwise && !pointwise && w[0] > 0 && x.size() >= 2) {
      double positions = outputs[0].elements() / static_cast<double>(w[0]);
      f.bytes += 2 * positions * perOutput * std::max(groups, 1.0) *
                 inputs[0].elementBytes;
    }
    // MLAS runs an unblocked grouped convolution group by group.
    if (!nchwc && groups > 1)
      f.groups = groups * static_cast<double>(std::max<int64_t>(x[0], 1));
  } else if ((base == "MatMul" || base == "Gemm" || base == "FusedMatMul" ||
              base == "FusedGemm") &&
             !inputs.empty() && !inputs[0].dims.empty() && !outputs.empty() &&
             !outputs[0].dims.empty()) {
    auto last2 = [](const KernelTensor &t) {
      double n = 1;
      for (size_t i = t.dims.size() >= 2 ? t.dims.size() - 2 : 0;
           i < t.dims.size(); ++i)
        n *= static_cast<double>(t.dims[i]);
      return n;
    };
    // A constant B that ONNX Runtime pre-packed is missing from its
    // profile's operands (a Gemm then lists A and the bias): it is still
    // read, K x N of it.
    bool packed = inputs.size() < 2 || inputs[1].dims.size() < 2;
    double k;
    if (packed) {
      k = static_cast<double>(inputs[0].dims.back());
      f.weightBytes = k * static_cast<double>(outputs[0].dims.back()) *
                      inputs[0].elementBytes;
      f.bytes += f.weightBytes;
    } else {
      if (inputs[1].constant)
        f.weightBytes = inputs[1].elements() * inputs[1].elementBytes;
      double mn = last2(outputs[0]);
      k = mn > 0 ? std::sqrt(last2(inputs[0]) * last2(inputs[1]) / mn) : 0;
      if (inputs[0].dims.size() == 1)
        k = static_cast<double>(inputs[0].dims.back());
    }
    f.flops = 2 * outputs[0].elements() * k;
    // One row (a fully connected layer at batch 1) is a matrix-vector
    // product: MLAS's GEMV, bound by reading the weights.
    double rows = outputs[0].dims.empty()
                      ? 1
                      : outputs[0].elements() /
                            std::max<double>(outputs[0].dims.back(), 1);
    f.kernelClass = rows <= 1 ? "matvec" : "matmul";
    // Its FLOPs are proportional to the weight bytes it reads: a model of
    // both terms could not tell them apart (and split them differently
    // from one calibration to the next), so its time is by bytes alone.
    if (rows <= 1)
      f.flops = 0;
  } else if (base == "MaxPool" || base == "AveragePool" ||
             base == "GlobalAveragePool" || base == "GlobalMaxPool" ||
             base == "LpPool" || base == "Upsample") {
    f.flops = in;
    f.kernelClass = "pool";
  } else if (base == "ReorderInput" || base == "ReorderOutput") {
    f.kernelClass = "reorder";
  } else if (isElementwise ||
             (base == "BatchNormalization" && outputs.size() == 1)) {
    // Batch normalization at inference is a scale and a shift per channel:
    // an elementwise kernel, not a normalization's reductions.
    // Elementwise kernels that evaluate a transcendental function per
    // element run at a fraction of plain arithmetic's rate (the op table
    // says which standard ops do; ONNX Runtime's contrib activations
    // evaluate an erf or a sigmoid).
    static const char *contribMath[] = {"QuickGelu", "Gelu", "BiasGelu",
                                        "FastGelu"};
    f.flops = out;
    f.kernelClass =
        llvm::is_contained(contribMath, base) || isTranscendentalOpType(base)
            ? "elementwise_math"
            : "elementwise";
  } else if (isNormalization) {
    f.flops = in;
    f.kernelClass = "normalization";
  } else if (isPermutationOpType(base)) {
    // A permutation reads or writes with strides: slower per byte than
    // the copies of the other layout ops.
    f.kernelClass = "transpose";
  } else {
    f.kernelClass = "data_movement";
  }
  return f;
}

const KernelModel *chorus::findKernelModel(const Target &target,
                                           llvm::StringRef kernelClass) {
  auto it = target.kernelModels.find(kernelClass.str());
  // A target fitted before elementwise math and transposes had classes of
  // their own.
  if (it == target.kernelModels.end() && kernelClass == "elementwise_math")
    it = target.kernelModels.find("elementwise");
  if (it == target.kernelModels.end() && kernelClass == "transpose")
    it = target.kernelModels.find("data_movement");
  if (it == target.kernelModels.end())
    it = target.kernelModels.find("default");
  return it == target.kernelModels.end() ? nullptr : &it->second;
}

std::string RuntimeKernelCost::label() const {
  std::string name = kernel.op;
  if (!kernel.nodes.empty()) {
    NodeOp first = kernel.nodes.front();
    name += "(" + (first.getName() ? first.getName()->str()
                                   : first.getOpType().str());
    if (kernel.nodes.size() > 1)
      name += " +" + std::to_string(kernel.nodes.size() - 1);
    name += ")";
  }
  return name;
}

static std::optional<KernelTensor> tensorOf(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  std::optional<int64_t> bytes = getElementStorageBytes(type.getElementType());
  KernelTensor t;
  t.dims.assign(type.getShape().begin(), type.getShape().end());
  t.elementBytes =
      bytes ? static_cast<unsigned>(std::max<int64_t>(*bytes, 1)) : 4;
  t.constant = v.getDefiningOp<WeightRefOp>() != nullptr;
  return t;
}

std::optional<OrtCpuSettings> chorus::getOrtCpuSettings(const Target &target) {
  if (!target.runtime)
    return std::nullopt;
  OrtCpuSettings s;
  s.level =
      parseOrtLevel(target.runtime->optimizationLevel).value_or(OrtLevel::All);
  s.nchwcBlock = target.runtime->nchwcBlock;
  s.webGpu = target.browser && target.browser->backend == "webgpu";
  return s;
}

FailureOr<std::vector<RuntimeKernelCost>>
chorus::estimateRuntimeKernels(func::FuncOp func, const Target &target) {
  OrtKernels kernels = computeOrtKernels(
      func, getOrtCpuSettings(target).value_or(OrtCpuSettings()));
  std::vector<RuntimeKernelCost> result;
  double modelWeightBytes =
      static_cast<double>(ModelSummary(func).getWeightBytes());
  for (OrtKernel &kernel : kernels.kernels) {
    // Views and the CPU's shape arithmetic beside WebGPU kernels: no
    // kernel of the device, microseconds against its milliseconds.
    if (kernel.noGpuWork)
      continue;
    std::vector<KernelTensor> inputs, outputs;
    Operation *where = func;
    bool ok = true;
    if (kernel.nodes.empty()) {
      std::optional<KernelTensor> t = tensorOf(kernel.value);
      ok = t.has_value();
      if (ok) {
        inputs.push_back(*t);
        outputs.push_back(*t);
      }
      if (Operation *def = kernel.value.getDefiningOp())
        where = def;
    } else {
      where = kernel.nodes.front();
      for (auto [values, tensors] :
           {std::pair{getKernelOperands(kernel), &inputs},
            std::pair{getKernelResults(kernel), &outputs}})
        for (Value v : values) {
          std::optional<KernelTensor> t = tensorOf(v);
          ok &= t.has_value();
          if (t)
            tensors->push_back(*t);
        }
    }
    if (!ok)
      return where->emitError()
             << "cannot estimate the runtime kernel " << kernel.op
             << ": an operand or result has no static shape";
    RuntimeKernelCost cost;
    cost.features = getKernelFeatures(kernel.op, inputs, outputs);
    const KernelModel *model =
        findKernelModel(target, cost.features.kernelClass);
    if (!model)
      return where->emitError()
             << "target '" << target.name << "' has no kernel model for "
             << cost.features.kernelClass << " and no default";
    cost.computeSeconds = model->perFlopSeconds * cost.features.flops;
    cost.features.modelWeightBytes = modelWeightBytes;
    cost.memorySeconds =
        model->byteSeconds(cost.features.bytes) +
        model->coldWeightSeconds(cost.features.weightBytes, modelWeightBytes);
    cost.overheadSeconds =
        model->perKernelSeconds + model->perGroupSeconds * cost.features.groups;
    cost.kernel = std::move(kernel);
    result.push_back(std::move(cost));
  }
  return result;
}
