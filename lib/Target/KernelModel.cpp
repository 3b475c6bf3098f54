//===- KernelModel.cpp - Time of the runtime's own kernels ----------------===//

#include "chorus/Target/KernelModel.h"

#include "chorus/Analysis/ModelSummary.h"
#include "chorus/Analysis/OpTable.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace chorus;

llvm::ArrayRef<std::string> chorus::getKernelClasses() {
  static const std::vector<std::string> classes = {"nchwc_conv",
                                                   "nchwc_conv_depthwise",
                                                   "conv",
                                                   "conv_depthwise",
                                                   "conv_pointwise",
                                                   "matmul",
                                                   "matvec",
                                                   "pool",
                                                   "reorder",
                                                   "elementwise",
                                                   "elementwise_math",
                                                   "normalization",
                                                   "data_movement",
                                                   "transpose",
                                                   "gpu_matmul",
                                                   "gpu_matmul_scalar",
                                                   "gpu_gemm",
                                                   "gpu_transpose"};
  return classes;
}

double KernelTensor::elements() const {
  double n = 1;
  for (int64_t d : dims)
    n *= static_cast<double>(std::max<int64_t>(d, 0));
  return n;
}

/// A convolution's stride along a spatial dim, from its input and output
/// sizes there (what a profile's shapes say).
static int64_t inferStride(int64_t in, int64_t out) {
  return out > 0 ? std::max<int64_t>(1, (in + out / 2) / out) : 1;
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
    int64_t stride = inferStride(in, out);
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

/// The workgroups, tile steps and whole-tile FLOPs of ONNX Runtime Web's
/// packed matrix product (matmul_packed, also run by conv2d_mm): 8x8
/// invocations of 4x4 results each (4x1 where M <= 8), so a workgroup
/// covers 32 columns and 32 (or 8) rows; K in steps of `tileInner`, each
/// loading an A and a B tile into workgroup memory between barriers.
static void setPackedMatMul(double m, double n, double k, double batch,
                            bool vec4, double tileInner, KernelFeatures &f) {
  double tileM = m <= 8 ? 8 : 32, tileN = 32;
  f.workgroups = std::ceil(n / tileN) * std::ceil(m / tileM) * batch;
  f.tileSteps = f.workgroups * std::ceil(k / tileInner);
  f.flops = 2 * f.tileSteps * tileM * tileN * tileInner;
  f.kernelClass = vec4 ? "gpu_matmul" : "gpu_matmul_scalar";
}

/// The WebGPU provider's program for a kernel of these shapes, where it is
/// one that shares tiles in workgroup memory (or reduces rows in one
/// workgroup each): sets its class, workgroups and tile steps. Mirrors
/// onnxruntime-web's conv.ts, matmul.ts, gemm.ts, transpose.ts and
/// softmax/layer-norm/reduce-shared programs.
static void setWebGpuFeatures(StringRef base, ArrayRef<KernelTensor> inputs,
                              ArrayRef<KernelTensor> outputs,
                              KernelFeatures &f) {
  auto d = [](int64_t v) { return static_cast<double>(v); };
  if (outputs.empty() || inputs.empty())
    return;
  // A dim not known (negative in a profile) leaves the generic features.
  for (ArrayRef<KernelTensor> tensors : {inputs, outputs})
    for (const KernelTensor &t : tensors)
      if (llvm::any_of(t.dims, [](int64_t v) { return v < 0; }))
        return;
  const std::vector<int64_t> &y = outputs[0].dims;
  if ((base == "Conv" || base == "FusedConv") && inputs.size() >= 2 &&
      inputs[0].dims.size() == 4 && inputs[1].dims.size() == 4 &&
      y.size() == 4) {
    const std::vector<int64_t> &x = inputs[0].dims, &w = inputs[1].dims;
    // Grouped convolutions run GroupedConv(-Vectorize), one invocation
    // per output: FLOPs time them.
    if (w[1] != x[1])
      return;
    double batch = d(y[0]), ic = d(x[1]), oc = d(y[1]);
    bool pointwise = w[2] == 1 && w[3] == 1 && x[2] == y[2] && x[3] == y[3];
    bool sameSize = w[2] == x[2] && w[3] == x[3] && y[2] == 1 && y[3] == 1;
    if (pointwise || sameSize) {
      // A matrix product of the NHWC input: [N, HW, C] x [C, M] (one row
      // per image for a filter the size of its input).
      double m = sameSize ? batch : d(y[2]) * d(y[3]);
      double k = sameSize ? ic * d(x[2]) * d(x[3]) : ic;
      if (oc < 8 && k < 8)
        return;
      bool vec4 = std::fmod(k, 4) == 0 && std::fmod(oc, 4) == 0;
      setPackedMatMul(m, oc, k, sameSize ? 1 : batch, vec4, 32, f);
      return;
    }
    // conv2d_mm over the NHWC input: M = output positions, N = output
    // channels, K = taps x input channels, read 4 (or 3) channels at a
    // time where the channels allow, else one.
    bool vec4 = (std::fmod(ic, 4) == 0 || std::fmod(ic, 3) == 0) &&
                std::fmod(oc, 4) == 0;
    double inner = vec4 ? (std::fmod(ic, 4) != 0 ? 3 : 4) : 1;
    setPackedMatMul(d(y[2]) * d(y[3]), oc, d(w[2]) * d(w[3]) * ic, batch, vec4,
                    std::max(8 * inner, 8.0), f);
    return;
  }
  if (base == "MatMul" && inputs.size() >= 2 && !inputs[0].dims.empty() &&
      !inputs[1].dims.empty() && !y.empty()) {
    const std::vector<int64_t> &a = inputs[0].dims, &b = inputs[1].dims;
    double k = d(a.back()), n = d(b.back());
    double m = a.size() >= 2 ? d(a[a.size() - 2]) : 1;
    if (b.size() < 2)
      n = 1;
    if (n < 8 && k < 8)
      return;
    double batch = std::max(1.0, std::round(outputs[0].elements() / (m * n)));
    // A batch of single rows against one matrix runs as one product.
    double batchB = 1;
    for (size_t i = 0; i + 2 < b.size(); ++i)
      batchB *= d(b[i]);
    if (m == 1 && batch > 1 && batchB == 1)
      std::swap(m, batch);
    bool vec4 = std::fmod(k, 4) == 0 && std::fmod(n, 4) == 0;
    setPackedMatMul(m, n, k, batch, vec4, 32, f);
    return;
  }
  if (base == "Gemm" && y.size() == 2 && !inputs[0].dims.empty()) {
    // GemmShared: 16x16 tiles, K in steps of 16.
    double m = d(y[0]), n = d(y[1]);
    double k = m > 0 ? std::round(inputs[0].elements() / m) : 0;
    f.workgroups = std::ceil(n / 16) * std::ceil(m / 16);
    f.tileSteps = f.workgroups * std::ceil(k / 16);
    f.flops = 2 * f.tileSteps * 16 * 16 * 16;
    f.kernelClass = "gpu_gemm";
    return;
  }
  if (base == "Transpose" && inputs[0].dims.size() == y.size()) {
    const std::vector<int64_t> &x = inputs[0].dims;
    size_t rank = x.size();
    // The permutation: a profile carries shapes only; NCHW <-> NHWC first.
    // A layout Transpose Chorus inserts has its value's NCHW shape on
    // both sides.
    std::vector<size_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    bool found = false;
    if (rank == 4 && x == y) {
      perm = {0, 2, 3, 1};
      found = true;
    }
    std::vector<std::vector<size_t>> candidates;
    if (rank == 4)
      candidates = {{0, 2, 3, 1}, {0, 3, 1, 2}};
    std::vector<size_t> p = perm;
    do
      candidates.push_back(p);
    while (rank <= 6 && std::next_permutation(p.begin(), p.end()));
    for (const std::vector<size_t> &c : candidates) {
      if (found)
        break;
      bool match = true;
      for (size_t i = 0; i < rank && match; ++i)
        match = y[i] == x[c[i]];
      if (match) {
        perm = c;
        found = true;
      }
    }
    if (!found)
      return;
    // A Transpose that keeps the order of the axes that are not 1 is a
    // copy (TransposeCopy).
    std::vector<int64_t> shape;
    std::vector<size_t> kept;
    for (size_t i = 0; i < rank; ++i) {
      if (x[i] != 1)
        shape.push_back(x[i]);
      if (x[perm[i]] != 1)
        kept.push_back(perm[i]);
    }
    if (std::is_sorted(kept.begin(), kept.end()))
      return;
    double rows, cols;
    if (kept == std::vector<size_t>{2, 3, 1} && shape.size() == 3) {
      rows = d(shape[0]);
      cols = d(shape[1]) * d(shape[2]);
    } else if (kept == std::vector<size_t>{3, 1, 2} && shape.size() == 3) {
      rows = d(shape[0]) * d(shape[1]);
      cols = d(shape[2]);
    } else if (shape.size() == 2) {
      rows = d(shape[0]);
      cols = d(shape[1]);
    } else {
      return; // The per-element Transpose program.
    }
    // TransposeShared: 16x16 tiles through workgroup memory.
    f.workgroups = std::ceil(rows / 16) * std::ceil(cols / 16);
    f.kernelClass = "gpu_transpose";
    return;
  }
  if (f.kernelClass == "normalization" && !inputs[0].dims.empty()) {
    // Softmax and layer normalization reduce each row in one workgroup;
    // the shared reductions one workgroup per result.
    f.workgroups = base.starts_with("Reduce")
                       ? outputs[0].elements()
                       : inputs[0].elements() /
                             std::max<double>(1, d(inputs[0].dims.back()));
  }
}

KernelFeatures chorus::getKernelFeatures(llvm::StringRef op,
                                         llvm::ArrayRef<KernelTensor> inputs,
                                         llvm::ArrayRef<KernelTensor> outputs,
                                         KernelBackend backend) {
  bool webGpu = backend == KernelBackend::WebGpu;
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
    // padding, which MLAS's NCHWc kernels skip (the unblocked ones, below,
    // count every tap).
    f.flops = 2 * outputs[0].elements() * perOutput *
              validTapShare(inputs[0].dims, w, outputs[0].dims);
    bool depthwise =
        w[1] == 1 && inputs[0].dims.size() >= 2 && inputs[0].dims[1] > 1;
    f.kernelClass = std::string(nchwc ? "nchwc_conv" : "conv") +
                    (depthwise ? "_depthwise" : "");
    // Its filter and bias are weights.
    f.weightBytes = inputs[1].elements() * inputs[1].elementBytes;
    // Its filter is read row by row, one per output channel (the SGEMM's
    // A unblocked; in NCHWc one per block of them, in proportion).
    f.weightRows = static_cast<double>(std::max<int64_t>(w[0], 0));
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
    // A pointwise convolution left in NCHW is one SGEMM over its input as
    // it is (MLAS's direct GEMM); the others first expand their input
    // (im2col): the two run at rates of their own.
    if (!nchwc && !depthwise && pointwise && groups <= 1)
      f.kernelClass = "conv_pointwise";
    // ONNX Runtime's CPU provider has no direct depthwise kernel on x86
    // (MLAS has one for ARM64 and scalar wasm only): a depthwise
    // convolution left in NCHW is run as a grouped one, each channel
    // expanded (im2col) and multiplied by its filter in the SGEMM.
    bool gemmDepthwise = depthwise && backend == KernelBackend::Cpu;
    // Its filter is k x k floats per channel, a few kilobytes however large
    // the model: no measure of reading weights from memory. With the term,
    // four calibrations of one VM gave such a byte 0.17 to 1.5 ns, and a
    // held-out MnasNet's depthwise time moved by a tenth with it.
    if (gemmDepthwise && !nchwc)
      f.weightBytes = 0;
    if (!nchwc && (!depthwise || gemmDepthwise) && !pointwise && w[0] > 0 &&
        x.size() >= 2) {
      double positions = outputs[0].elements() / static_cast<double>(w[0]);
      // The SGEMM reads every tap; im2col copies those inside the input
      // and writes the padding's as zeros, reading nothing: a tap inside
      // counts twice, one in the padding once. On a map a few rows high
      // under a 5x5 filter (a PaddleOCR classifier's: 2 rows by 96) most
      // taps are padding; counted as copies, its depthwise convolutions
      // were predicted 50-60% over their time at level disabled
      // (docs/Rationale.md).
      double share = validTapShare(x, w, y);
      f.bytes += (1 + share) * positions * perOutput * std::max(groups, 1.0) *
                 inputs[0].elementBytes;
    }
    // MLAS runs an unblocked grouped convolution group by group.
    if (!nchwc && groups > 1)
      f.groups = groups * static_cast<double>(std::max<int64_t>(x[0], 1));
    // A dense convolution left in NCHW (ONNX Runtime's CPU provider with
    // its layout rewrites off, or where they do not apply, and every one
    // in ONNX Runtime Web's wasm build), and the CPU provider's depthwise
    // ones, run through MLAS's im2col and SGEMM (a pointwise one straight
    // through the SGEMM): the expanded matrix holds every tap, those in
    // the padding included (zeros, multiplied all the same), and the SGEMM
    // packs it in strips of 16 columns (output positions), so a map of
    // 7x7 = 49 positions costs 64.
    if (backend != KernelBackend::WebGpu && !nchwc &&
        (!depthwise || gemmDepthwise) && y.size() >= 3 && w[0] > 0) {
      double positions = 1;
      for (size_t i = 2; i < y.size(); ++i)
        positions *= static_cast<double>(std::max<int64_t>(y[i], 0));
      double strips = std::ceil(positions / 16);
      f.flops = 2 * static_cast<double>(std::max<int64_t>(y[0], 1)) *
                static_cast<double>(y[1]) * strips * 16 * perOutput;
      // A depthwise one's product per channel is one filter row by its
      // im2col matrix: FLOPs in proportion to the im2col bytes. A fit of
      // both terms split the time between them differently from one
      // calibration to the next; its time is by bytes alone.
      if (gemmDepthwise)
        f.flops = 0;
      // im2col copies the input row by row: one loop per input channel,
      // filter tap and output row (all output positions but the last
      // spatial dim), in each group.
      if (!pointwise)
        f.rows = getIm2colRows(w, y, std::max(groups, 1.0));
      // Along a strided last dim, MLAS's im2col (on the CPU provider's
      // x86 build) copies element by element instead of four at a time:
      // a strided depthwise convolution or a network's stem spends most
      // of its time there.
      if (!pointwise && backend == KernelBackend::Cpu && x.size() == y.size() &&
          inferStride(x.back(), y.back()) > 1)
        f.stridedElements = static_cast<double>(std::max<int64_t>(y[0], 1)) *
                            positions * perOutput * std::max(groups, 1.0);
    }
  } else if (base == "ConvTranspose" && inputs.size() >= 2 &&
             !outputs.empty() && inputs[1].dims.size() >= 3 &&
             inputs[0].dims.size() == inputs[1].dims.size() &&
             backend != KernelBackend::WebGpu) {
    // ONNX Runtime's CPU provider runs a transposed convolution group by
    // group as one SGEMM (filter taps x input positions, over the input
    // channels) into a column buffer, then adds the columns into the
    // output (col2im): a convolution's arithmetic and im2col's traffic,
    // the other way round.
    const std::vector<int64_t> &x = inputs[0].dims;
    const std::vector<int64_t> &w = inputs[1].dims; // C_in, C_out/g, k...
    double taps = 1;
    for (size_t i = 1; i < w.size(); ++i)
      taps *= static_cast<double>(std::max<int64_t>(w[i], 0));
    double positions = 1;
    for (size_t i = 2; i < x.size(); ++i)
      positions *= static_cast<double>(std::max<int64_t>(x[i], 0));
    double batch = static_cast<double>(std::max<int64_t>(x[0], 1));
    double inChannels = static_cast<double>(std::max<int64_t>(w[0], 0));
    f.flops = 2 * batch * inChannels * taps * positions;
    const std::vector<int64_t> &y = outputs[0].dims;
    double groups = y.size() >= 2 && w[1] > 0
                        ? std::max(1.0, static_cast<double>(y[1]) /
                                            static_cast<double>(w[1]))
                        : 1;
    // The column buffer, written by the SGEMM and read by col2im, which
    // adds it into the output element by element (math::Col2im: a scalar
    // loop, timed as MLAS's element-wise im2col is).
    double columns = batch * groups * taps * positions;
    f.bytes += 2 * columns * inputs[0].elementBytes;
    f.stridedElements = columns;
    f.weightBytes = inputs[1].elements() * inputs[1].elementBytes;
    f.kernelClass = "conv";
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
    // A product of two batched operands (attention's scores and weighted
    // sums) is one MLAS SGEMM per matrix of the batch, each packing its
    // own B: a term per such product. (A batched A times a 2-D B is one
    // SGEMM over A's rows.)
    if (!packed && inputs[1].dims.size() >= 3 && outputs[0].dims.size() >= 3) {
      double products =
          outputs[0].elements() / std::max(last2(outputs[0]), 1.0);
      if (products > 1)
        f.groups = products;
    }
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
    // ONNX Runtime's views (Reshape, Flatten, Squeeze, Unsqueeze, Identity)
    // alias their input (Alias(0, 0) in their kernel definitions): they
    // copy no byte, so only the ops that copy set the class's byte rate.
    // Its Dropout at inference copies its input to its output (MayInplace
    // only: measured, a Swin Transformer's take as long as a copy).
    if (opClass == OpClass::View && base != "Dropout")
      f.bytes = 0;
  }
  if (webGpu) {
    // No im2col buffer and no MLAS group loop on the GPU.
    f.bytes = 0;
    for (const KernelTensor &t : inputs)
      f.bytes += t.elements() * t.elementBytes;
    for (const KernelTensor &t : outputs)
      f.bytes += t.elements() * t.elementBytes;
    f.groups = 0;
    f.rows = 0;
    f.stridedElements = 0;
    setWebGpuFeatures(base, inputs, outputs, f);
  }
  return f;
}

std::array<double, 3> chorus::getKernelTerms(const KernelModel &model,
                                             const KernelFeatures &f) {
  return {model.perFlopSeconds * f.flops +
              model.perStridedElementSeconds * f.stridedElements,
          model.byteSeconds(f.bytes) +
              model.coldWeightSeconds(f.weightBytes, f.modelWeightBytes,
                                      f.runBytes, f.weightRows),
          model.perKernelSeconds + model.perGroupSeconds * f.groups +
              model.perRowSeconds * f.rows +
              model.workgroupSeconds(f.workgroups, f.tileSteps)};
}

double KernelModel::seconds(double flops, double bytes, double groups,
                            double rows, double weightBytes,
                            double modelWeightBytes, double stridedElements,
                            double runBytes, double weightRows) const {
  KernelFeatures f;
  f.flops = flops;
  f.bytes = bytes;
  f.groups = groups;
  f.rows = rows;
  f.weightBytes = weightBytes;
  f.modelWeightBytes = modelWeightBytes;
  f.stridedElements = stridedElements;
  f.runBytes = runBytes;
  f.weightRows = weightRows;
  std::array<double, 3> terms = getKernelTerms(*this, f);
  return terms[0] + terms[1] + terms[2];
}

const KernelModel *chorus::findKernelModel(const Target &target,
                                           llvm::StringRef kernelClass) {
  auto it = target.kernelModels.find(kernelClass.str());
  // A target fitted before elementwise math, transposes and pointwise
  // convolutions had classes of their own (or a fit with too few pointwise
  // convolutions to fit theirs).
  if (it == target.kernelModels.end() && kernelClass == "elementwise_math")
    it = target.kernelModels.find("elementwise");
  if (it == target.kernelModels.end() && kernelClass == "conv_pointwise")
    it = target.kernelModels.find("conv");
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
  s.webGpu = getKernelBackend(target) == KernelBackend::WebGpu;
  return s;
}

RunIoBytes chorus::getRunIoBytes(func::FuncOp func) {
  RunIoBytes io;
  auto add = [&](Type type, double &bytes) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return;
    std::optional<int64_t> size =
        getElementStorageBytes(tensor.getElementType());
    bytes += static_cast<double>(tensor.getNumElements()) *
             static_cast<double>(size.value_or(4));
  };
  for (Type t : func.getFunctionType().getInputs())
    add(t, io.inputs);
  for (Type t : func.getFunctionType().getResults()) {
    double bytes = 0;
    add(t, bytes);
    io.outputs += bytes;
    io.pages += std::floor(bytes / 4096);
  }
  return io;
}

KernelBackend chorus::getKernelBackend(const Target &target) {
  if (!target.browser)
    return KernelBackend::Cpu;
  if (target.browser->backend == "webgpu")
    return KernelBackend::WebGpu;
  return target.browser->backend == "wasm" ? KernelBackend::Wasm
                                           : KernelBackend::Cpu;
}

void chorus::padNchwcConvChannels(std::vector<KernelTensor> &inputs,
                                  std::vector<KernelTensor> &outputs,
                                  int64_t block) {
  if (block <= 1 || inputs.size() < 2 || inputs[0].dims.size() != 4 ||
      inputs[1].dims.size() != 4 || outputs.empty() ||
      outputs[0].dims.size() != 4)
    return;
  auto pad = [&](int64_t &c) {
    if (c > 0)
      c = (c + block - 1) / block * block;
  };
  int64_t outC = outputs[0].dims[1];
  bool depthwise = inputs[1].dims[1] == 1 && inputs[0].dims[1] > 1;
  // A dense convolution's input of fewer channels than the block stays
  // NCHW as it is (the convolution reads it unblocked); the others,
  // depthwise ones' included, arrive blocked.
  if (depthwise || inputs[0].dims[1] >= block) {
    pad(inputs[0].dims[1]);
    if (!depthwise)
      pad(inputs[1].dims[1]);
  }
  pad(inputs[1].dims[0]);
  pad(outputs[0].dims[1]);
  // The bias, and a fused Sum's other operand (blocked like the output).
  for (size_t i = 2; i < inputs.size(); ++i) {
    std::vector<int64_t> &d = inputs[i].dims;
    if (d.size() == 1 && d[0] == outC)
      pad(d[0]);
    else if (d.size() == 4 && d[1] == outC)
      pad(d[1]);
  }
}

std::optional<KernelFeatures>
chorus::getActivationPassFeatures(const OrtKernel &kernel,
                                  llvm::ArrayRef<KernelTensor> outputs) {
  // MLAS's NCHWc convolution kernels apply a ReLU as they store each
  // output block; any other activation (MLAS_CONV_KERNEL_FLAG_OTHER_
  // ACTIVATION) is a second pass over the block just written
  // (MlasActivation). Unblocked convolutions run every activation, ReLU
  // included, as such a pass after their GEMM: the calibration's ReLU
  // chains measure it with the convolution.
  if (kernel.activation.empty() || kernel.activation == "Relu" ||
      kernel.op != "com.microsoft.nchwc:Conv" || outputs.empty())
    return std::nullopt;
  return getKernelFeatures(kernel.activation, outputs[0], outputs[0]);
}

FailureOr<std::vector<RuntimeKernelCost>>
chorus::estimateRuntimeKernels(func::FuncOp func, const Target &target) {
  std::optional<OrtCpuSettings> settings = getOrtCpuSettings(target);
  OrtKernels kernels =
      computeOrtKernels(func, settings.value_or(OrtCpuSettings()));
  std::vector<RuntimeKernelCost> result;
  std::vector<const KernelModel *> models;
  std::vector<std::optional<KernelFeatures>> passes;
  double resultBytes = 0;
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
    if (kernel.op == "com.microsoft.nchwc:Conv")
      padNchwcConvChannels(inputs, outputs,
                           settings.value_or(OrtCpuSettings()).nchwcBlock);
    RuntimeKernelCost cost;
    cost.features =
        getKernelFeatures(kernel.op, inputs, outputs, getKernelBackend(target));
    const KernelModel *model =
        findKernelModel(target, cost.features.kernelClass);
    if (!model)
      return where->emitError()
             << "target '" << target.name << "' has no kernel model for "
             << cost.features.kernelClass << " and no default";
    cost.features.modelWeightBytes = modelWeightBytes;
    for (const KernelTensor &t : outputs)
      resultBytes += t.elements() * t.elementBytes;
    passes.push_back(getActivationPassFeatures(kernel, outputs));
    models.push_back(model);
    cost.kernel = std::move(kernel);
    result.push_back(std::move(cost));
  }
  // What the whole run touches, as a profile of it says
  // (setProfiledRunBytes): the weights and every kernel's results.
  double runBytes = modelWeightBytes + resultBytes;
  for (auto [cost, model, pass] : llvm::zip(result, models, passes)) {
    cost.features.runBytes = runBytes;
    std::array<double, 3> terms = getKernelTerms(*model, cost.features);
    cost.computeSeconds = terms[0];
    cost.memorySeconds = terms[1];
    cost.overheadSeconds = terms[2];
    if (pass) {
      // Its own class's rates, without a kernel's dispatch.
      if (const KernelModel *m = findKernelModel(target, pass->kernelClass)) {
        cost.computeSeconds += m->perFlopSeconds * pass->flops;
        cost.memorySeconds += m->byteSeconds(pass->bytes);
      }
    }
  }
  return result;
}
