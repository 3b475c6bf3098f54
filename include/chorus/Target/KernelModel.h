//===- KernelModel.h - Time of the runtime's own kernels --------*- C++ -*-===//
//
// Where a target describes the runtime (Target::runtime), a model's time is
// the sum over the kernels that runtime runs (computeOrtKernels), each
// timed by the fitted model of its kernel class from FLOPs and bytes. The
// same features are computed from ONNX Runtime's profiles (each event
// carries its op and its tensors' shapes) when fitting, and from Chorus's
// shapes when predicting, by one function.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_KERNELMODEL_H
#define CHORUS_TARGET_KERNELMODEL_H

#include "chorus/Analysis/OrtKernels.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <array>
#include <string>
#include <vector>

namespace chorus {

/// The kernel classes: nchwc_conv, nchwc_conv_depthwise, conv,
/// conv_depthwise, matmul, matvec (one row), pool, reorder, elementwise,
/// elementwise_math, normalization, data_movement, transpose; and ONNX
/// Runtime Web's WebGPU programs that share tiles in workgroup memory:
/// gpu_matmul (vec4 tiles), gpu_matmul_scalar, gpu_gemm and gpu_transpose.
llvm::ArrayRef<std::string> getKernelClasses();

struct KernelTensor {
  std::vector<int64_t> dims;
  unsigned elementBytes = 4;
  /// A weight of the model (known where Chorus predicts; a profile's
  /// weights are known by their role: a convolution's filter, a pre-packed
  /// matrix).
  bool constant = false;
  double elements() const;
};

/// What runs the kernels: ONNX Runtime's CPU provider built for the
/// machine, the same provider built for WebAssembly (ONNX Runtime Web's
/// wasm backend: MLAS's portable kernels, no NCHWc), or ONNX Runtime Web's
/// WebGPU provider.
enum class KernelBackend { Cpu, Wasm, WebGpu };

struct KernelFeatures {
  std::string kernelClass;
  double flops = 0, bytes = 0;
  /// Groups an unblocked grouped (or depthwise) convolution runs one by
  /// one (batch x groups); 0 for other kernels.
  double groups = 0;
  /// The rows MLAS's im2col copies for an unblocked convolution that
  /// expands its input (input channels x filter taps x output positions
  /// but the last spatial dim): each is a loop of its own, whose overhead
  /// a map only a few positions wide pays per few elements. 0 for other
  /// kernels.
  double rows = 0;
  /// The elements MLAS's im2col copies one at a time because the
  /// convolution strides along its last spatial dim (a unit-stride row is
  /// copied four elements at a time): every element of its expanded input.
  /// 0 for other kernels.
  double stridedElements = 0;
  /// The bytes of the model's weights the kernel reads, and what the whole
  /// model's weights take: where they outgrow the caches, each run reads
  /// its weights from memory again (KernelModel::coldWeightSeconds).
  double weightBytes = 0, modelWeightBytes = 0;
  /// What the kernel's run touches: the model's weights and every
  /// kernel's results, what passes through the caches between the
  /// kernel's reading its weights in one run and in the next. Where it
  /// outgrows the cache the cores share, the weights come from memory
  /// (KernelModel::coldWeightSeconds).
  double runBytes = 0;
  /// The rows a convolution reads its filter in, each contiguous: its
  /// output channels (the SGEMM's A holds one row per output channel; an
  /// NCHWc filter one per block of them, in proportion). 0 for other
  /// kernels.
  double weightRows = 0;
  /// A WebGPU kernel's workgroups, and their steps along K (workgroups x
  /// K tiles) for the programs that loop over tiles in workgroup memory:
  /// each step loads two tiles between barriers. 0 on the CPU.
  double workgroups = 0, tileSteps = 0;
};

/// The class, FLOPs and bytes of a kernel of ONNX Runtime's op `op`
/// ("Conv", "com.microsoft.nchwc:Conv", "com.microsoft:FusedMatMul") with
/// these operands and results, as `backend` runs it. On WebGPU,
/// convolutions, matrix products and layout transposes get the workgroups
/// and tile steps of the program the provider picks for these shapes (and
/// FLOPs over whole tiles); normalizations one workgroup per row. In wasm,
/// an unblocked convolution's FLOPs are those of the matrix product MLAS
/// runs: every filter tap (padding included) over its positions rounded up
/// to whole strips of 16.
KernelFeatures getKernelFeatures(llvm::StringRef op,
                                 llvm::ArrayRef<KernelTensor> inputs,
                                 llvm::ArrayRef<KernelTensor> outputs,
                                 KernelBackend backend = KernelBackend::Cpu);

/// `model`'s time for a kernel of features `f`, by term: {compute (its
/// FLOPs, and the elements a strided im2col copies one at a time), memory
/// (its bytes, streamed bytes and cold weights), overhead (per kernel,
/// group, im2col row, WebGPU workgroup and tile step)}. The one sum both
/// the fit and the predictions use.
std::array<double, 3> getKernelTerms(const KernelModel &model,
                                     const KernelFeatures &f);

/// An NCHWc Conv's operands and results as ONNX Runtime's NCHWc transform
/// lays them out: channels padded up to a multiple of `block` (its
/// profile's shapes say 128 where the model has 116), except a dense
/// convolution's input of fewer channels than the block, which stays NCHW.
void padNchwcConvChannels(std::vector<KernelTensor> &inputs,
                          std::vector<KernelTensor> &outputs, int64_t block);

/// The second pass an ONNX Runtime CPU kernel makes over its output to
/// apply its fused activation (an NCHWc Conv's activation other than ReLU,
/// which MLAS applies as the output is stored): the features of that
/// activation as an elementwise kernel over `outputs[0]`, whose class's
/// rates it runs at (no kernel's dispatch). None for other kernels.
std::optional<KernelFeatures>
getActivationPassFeatures(const OrtKernel &kernel,
                          llvm::ArrayRef<KernelTensor> outputs);

/// The model of `kernelClass` in `target`, else its "default".
const KernelModel *findKernelModel(const Target &target,
                                   llvm::StringRef kernelClass);

struct RuntimeKernelCost {
  OrtKernel kernel;
  KernelFeatures features;
  double computeSeconds = 0, memorySeconds = 0, overheadSeconds = 0;
  double seconds() const {
    return computeSeconds + memorySeconds + overheadSeconds;
  }
  /// The kernel's name for reports: its op and first node.
  std::string label() const;
};

/// The bytes of `func`'s inputs and of its results (those with a static
/// shape): what a run hands over in and out.
RunIoBytes getRunIoBytes(mlir::func::FuncOp func);

/// What runs the kernels `target` predicts: its browser's backend, else
/// the CPU provider.
KernelBackend getKernelBackend(const Target &target);

/// ONNX Runtime's CPU settings of a target that names the runtime.
std::optional<OrtCpuSettings> getOrtCpuSettings(const Target &target);

/// The kernels `target.runtime` runs for `func` and their times; fails
/// (with an error on the op) where a shape is not static or no model
/// applies.
mlir::FailureOr<std::vector<RuntimeKernelCost>>
estimateRuntimeKernels(mlir::func::FuncOp func, const Target &target);

} // namespace chorus

#endif // CHORUS_TARGET_KERNELMODEL_H
