//===- OpTable.h - What Chorus knows about each ONNX operator --*- C++ -*-===//
//
// The one place that holds operator knowledge: for each ONNX op (default
// domain and ai.onnx.preview.training) its FLOPs and bytes moved as
// functions of its types and attributes, its class, and whether it is a
// view of its input or may run in place. docs/CostModel.md lists the
// counting conventions.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_OPTABLE_H
#define CHORUS_ANALYSIS_OPTABLE_H

#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/FoldingRule.h"

#include <optional>

namespace chorus {

/// The arithmetic work of one node. A multiply-add counts 2 FLOPs.
struct FlopCount {
  double flops = 0;
  /// True when the op table has no entry for the op and the count is the
  /// conservative default (one FLOP per output element).
  bool estimated = false;
};

/// FLOPs of `node` from its operand and result types and attributes, or
/// std::nullopt when a type it needs has no static shape.
std::optional<FlopCount> getNodeFlops(NodeOp node);

/// What an op is, for the cost model's per-class efficiencies.
enum class OpClass {
  MatMulLike,
  Convolution,
  /// Convolutions with group > 1 (depthwise, grouped): other kernels, far
  /// fewer FLOPs per byte.
  GroupedConvolution,
  Elementwise,
  /// Elementwise nodes that evaluate a transcendental function per element
  /// (isTranscendentalOpType): a runtime may run them at a small fraction
  /// of plain arithmetic's rate (ONNX Runtime Web's wasm does), so a
  /// target may give them efficiencies of their own; one that does not
  /// uses its `elementwise` entry. A class of the cost model's node work
  /// only: the op table, fusion and getOpTypeClass still say Elementwise.
  ElementwiseMath,
  Reduction,
  Normalization,
  DataMovement,
  View,
  ControlFlow,
};

/// The class's name in target files ("matmul", "conv", ...).
llvm::StringRef getOpClassName(OpClass opClass);
/// The class of the default-domain op `opType` (a runtime's profile names
/// ops, not nodes), or nothing for ops the table does not know.
std::optional<OpClass> getOpTypeClass(llvm::StringRef opType);
/// Whether the default-domain elementwise op `opType` evaluates a
/// transcendental function per element (Sigmoid, Erf, Exp...): runtimes
/// run those at a fraction of plain arithmetic's rate.
bool isTranscendentalOpType(llvm::StringRef opType);
/// Whether the default-domain op `opType` permutes its input's elements
/// (Transpose, DepthToSpace, SpaceToDepth): reads or writes with strides.
bool isPermutationOpType(llvm::StringRef opType);
std::optional<OpClass> parseOpClass(llvm::StringRef name);
llvm::ArrayRef<OpClass> allOpClasses();

/// FLOPs and bytes of one node. Bytes: every input read and every output
/// written once, except views and shape queries (nothing: metadata) and
/// gathers and slices (they read what they write, plus their indices).
struct NodeWork {
  double flops = 0;
  double bytesRead = 0;
  double bytesWritten = 0;
  OpClass opClass = OpClass::Elementwise;
  /// Convolution groups (1 for other ops): runtimes run one inner kernel
  /// per group, so grouped convolutions pay a cost per group.
  double groups = 1;
  /// Convolutions (not ConvTranspose): the contiguous rows an im2col
  /// expansion copies, input channels x kernel elements x output positions
  /// but the last spatial dim (batch included); 0 for a 1x1 kernel with
  /// unit strides and no padding, which runtimes read directly, and for
  /// other ops. CPU runtimes pay a fixed cost per row.
  double expandedRows = 0;
  /// No table entry: conservative default (one FLOP per output element,
  /// all bytes moved, elementwise class).
  bool estimated = false;
};

/// The rows an im2col expansion copies for a convolution of filter dims
/// `filter` (out channels, in channels per group, kernel...) and output
/// dims `output` (batch, channels, spatial...) in `groups` groups: input
/// channels x kernel elements x output positions but the last spatial
/// dim, batch included (NodeWork::expandedRows).
double getIm2colRows(llvm::ArrayRef<int64_t> filter,
                     llvm::ArrayRef<int64_t> output, double groups);

/// The work of `node`, or std::nullopt when a type it needs has no static
/// shape.
std::optional<NodeWork> getNodeWork(NodeOp node);

/// Whether the op table has an entry for `node`'s op.
bool isKnownOp(NodeOp node);

/// Whether `node` may write its output over its first input (elementwise
/// ops whose output has the input's type).
bool mayRunInPlace(NodeOp node);

/// Whether `node`'s first result is a view of its first operand: the same
/// bytes, reinterpreted (Reshape, Flatten, Squeeze, Unsqueeze, Identity).
/// A view takes no memory of its own; it keeps its source alive.
bool isViewNode(NodeOp node);

/// The operands of `node` whose values (not only shapes) decide the shape
/// of its results: Reshape's shape, Expand's and Tile's, Range's bounds,
/// Resize's scales and sizes, Slice's starts and ends... Empty for ops
/// whose result shapes follow from operand shapes alone.
llvm::ArrayRef<unsigned> getShapeValueOperands(NodeOp node);

/// How constant folding (ONNX Runtime's, before its execution providers
/// claim nodes) treats `node`: getFoldingRule (chorus/Support/FoldingRule.h),
/// the rule the importer's evaluator of shape computations follows too.
Folding getFolding(NodeOp node);

/// The fusion kind of `node`: from the op table, Elementwise rather than
/// Broadcast when every operand has the result's shape; Opaque for ops the
/// table does not know, nodes with subgraphs and multi-result nodes other
/// than splits.
FusionKind getFusionKind(NodeOp node);

/// The kind of the edge from operand `index` into `node`: a broadcasting
/// node reads an operand of its result's shape elementwise (TVM's edge
/// pattern).
FusionKind getOperandFusionKind(NodeOp node, unsigned index);

} // namespace chorus

#endif // CHORUS_ANALYSIS_OPTABLE_H
