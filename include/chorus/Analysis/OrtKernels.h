//===- OrtKernels.h - The kernels ONNX Runtime's CPU provider runs -*- C++
//-*-===//
//
// ONNX Runtime rewrites a graph before it runs it: at level "basic" it
// folds constants, removes no-ops, merges common subexpressions and folds
// BatchNormalization, Add and Mul into Conv; at "extended" it fuses Conv
// with its activation (FusedConv), MatMul with its bias (Gemm), GELU,
// x*sigmoid(x) (QuickGelu), LayerNormalization and Transpose or scale into
// MatMul (FusedMatMul); at "all" its NCHWc transformer runs 2-D
// convolutions and pools in a channel-blocked layout and inserts the
// ReorderInput and ReorderOutput nodes between the two layouts.
// computeOrtKernels mirrors those rewrites on a model as ONNX Runtime sees
// it (the shapes the file declares, not the dims Chorus bound) and lists
// the kernels that run, each with the model's nodes it covers.
// docs/Fusion.md ("ONNX Runtime's kernels") lists the rules and where the
// mirror is known to differ.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_ORTKERNELS_H
#define CHORUS_ANALYSIS_ORTKERNELS_H

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chorus {

/// ONNX Runtime's graph optimization levels (GraphOptimizationLevel).
enum class OrtLevel { Disabled, Basic, Extended, All };

/// "disabled", "basic", "extended", "all".
llvm::StringRef getOrtLevelName(OrtLevel level);
std::optional<OrtLevel> parseOrtLevel(llvm::StringRef name);

/// What decides the kernels of ONNX Runtime's CPU provider.
struct OrtCpuSettings {
  OrtLevel level = OrtLevel::All;
  /// MLAS's NCHWc block: 8 channels with AVX2, 16 with AVX-512, 0 where the
  /// CPU has neither (no NCHWc transform).
  unsigned nchwcBlock = 8;
  /// ONNX Runtime Web's WebGPU provider: convolutions and pools run in
  /// NHWC, with a Transpose wherever a value enters or leaves a region of
  /// them (its layout transformation and transpose optimizer), and only
  /// the fusions that provider gets (no ConvAddActivationFusion, which is
  /// the CPU provider's).
  bool webGpu = false;
};

/// One kernel ONNX Runtime runs.
struct OrtKernel {
  /// Its op as ONNX Runtime's saved graph names it: "Conv",
  /// "com.microsoft:FusedConv", "com.microsoft.nchwc:ReorderInput".
  std::string op;
  /// The model's nodes it computes (empty for a reorder or a reshape the
  /// NCHWc transform inserts).
  std::vector<NodeOp> nodes;
  /// For an inserted kernel: the model's value it converts.
  mlir::Value value;
  /// The fused activation of a Conv, if any ("Relu", "HardSigmoid"...).
  std::string activation;
  /// A Conv that also adds another tensor (NCHWc Sum fusion).
  bool sum = false;
  /// With OrtCpuSettings::webGpu: a kernel that dispatches no GPU work, a
  /// view (Reshape, Flatten, Squeeze, Unsqueeze, Identity: the provider
  /// aliases its input) or a computation on integers or booleans only
  /// (shape arithmetic, which the CPU provider runs).
  bool noGpuWork = false;
};

struct OrtKernels {
  /// In the order ONNX Runtime's graph lists them after optimization is
  /// not reproduced; in the model's order, inserted kernels after the node
  /// that produces their value.
  std::vector<OrtKernel> kernels;
  /// Nodes that run as no kernel: folded into constants at session
  /// creation, or removed as no-ops.
  std::vector<NodeOp> folded;

  /// Kernels per op, for comparison with a saved optimized graph.
  std::map<std::string, unsigned> histogram() const;
};

/// The values a kernel with nodes reads from outside itself (each once, in
/// order; none values left out).
std::vector<mlir::Value> getKernelOperands(const OrtKernel &kernel);
/// The values it produces for others: results read outside the kernel,
/// and every result of its last node (none values left out).
std::vector<mlir::Value> getKernelResults(const OrtKernel &kernel);

/// The input a kernel may write its output over (MayInplace in ONNX
/// Runtime's kernel definitions): a convolution's fused Sum (the Add's
/// operand from outside the kernel) or a unary activation's input; null
/// for the others. ONNX Runtime's planner does so only where that input
/// has no later reader, has the output's size and the output is not the
/// model's.
mlir::Value getKernelInPlaceInput(const OrtKernel &kernel);

/// The kernels of `func` under `settings`. Deterministic. Nodes with
/// subgraphs are one kernel each (their bodies are not rewritten).
OrtKernels computeOrtKernels(mlir::func::FuncOp func,
                             const OrtCpuSettings &settings);

} // namespace chorus

#endif // CHORUS_ANALYSIS_ORTKERNELS_H
