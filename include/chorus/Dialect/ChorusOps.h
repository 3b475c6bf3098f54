//===- ChorusOps.h - Operations of the chorus dialect ----------*- C++ -*-===//

#ifndef CHORUS_DIALECT_CHORUSOPS_H
#define CHORUS_DIALECT_CHORUSOPS_H

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusTypes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "chorus/Dialect/ChorusOps.h.inc"

namespace chorus {

/// Whether `op` is a kernel: what a runtime launches as one unit, a
/// top-level chorus.node or a chorus.fused group. Costs, lifetimes and
/// schedules count kernels.
inline bool isKernel(mlir::Operation *op) {
  return mlir::isa<NodeOp, FusedOp>(op);
}
inline bool isKernel(mlir::Operation &op) { return isKernel(&op); }

} // namespace chorus

namespace chorus {

/// Bytes one element of `elementType` takes in ONNX storage, or std::nullopt
/// for elements without a fixed size (strings) or of sub-byte width (int4),
/// whose size depends on the element count.
std::optional<int64_t> getElementStorageBytes(mlir::Type elementType);

/// Bytes an ONNX payload of `type` takes, or std::nullopt when it has no
/// static size (dynamic dims, strings) or the size overflows int64.
std::optional<int64_t> getTensorStorageBytes(mlir::ShapedType type);

/// Bytes a value of `type` takes at run time: getTensorStorageBytes for
/// tensors, 0 for `none` (an absent optional), std::nullopt otherwise.
std::optional<int64_t> getValueStorageBytes(mlir::Type type);

/// How a node fuses with its neighbours, after TVM's op pattern kinds. The
/// order matters: fusion rules compare kinds ("at most injective").
enum class FusionKind {
  /// Each output element from the same element of each input.
  Elementwise = 0,
  /// Elementwise with some operand broadcast (a bias, a per-channel scale).
  Broadcast = 1,
  /// Each output element from one input element at a fixed index map
  /// (Transpose, Slice, Concat, Reshape...).
  Injective = 2,
  /// Reduces along axes (ReduceMean, Softmax, LayerNormalization...): may
  /// absorb elementwise producers.
  Reduction = 3,
  /// Conv, MatMul, Gemm, pooling: may take the elementwise ops that follow.
  OutElementwiseFusable = 4,
  /// Fuses with nothing: control flow, data-dependent outputs, state.
  Opaque = 8,
};

/// The kind's name ("elementwise", "out_elementwise_fusable", ...).
llvm::StringRef getFusionKindName(FusionKind kind);
std::optional<FusionKind> parseFusionKind(llvm::StringRef name);

} // namespace chorus

#endif // CHORUS_DIALECT_CHORUSOPS_H
