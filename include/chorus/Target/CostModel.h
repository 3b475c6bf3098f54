//===- CostModel.h - Predicted time of nodes on a target --------*- C++ -*-===//
//
// Roofline with per-class efficiency plus per-kernel overhead, in additive
// form: time = FLOPs / (peak[dtype] x compute efficiency)
//            + bytes / (bandwidth x memory efficiency) + overhead,
// where a node whose bytes fit in the last-level cache uses the class's
// cached-memory efficiency instead.
// The largest term names the bound. The additive form is what calibration
// fits by least squares (docs/CostModel.md says why).
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_COSTMODEL_H
#define CHORUS_TARGET_COSTMODEL_H

#include "chorus/Analysis/OpTable.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <vector>

namespace chorus {

enum class Bound { Compute, Memory, Overhead };
llvm::StringRef getBoundName(Bound bound);

struct NodeCost {
  NodeWork work;
  std::string dtype;
  double computeSeconds = 0, memorySeconds = 0, overheadSeconds = 0;
  /// What the cost took for granted where the model leaves it open (an If
  /// whose condition is not known, a Loop of unknown trip count), one
  /// sentence each, for the user.
  std::vector<std::string> assumptions;
  double seconds() const {
    return computeSeconds + memorySeconds + overheadSeconds;
  }
  Bound bound() const;
};

/// The data type a node computes in, as target files name it: its first
/// result's (else first operand's) element type; integer and other types
/// count as f32 except 8-bit integers (int8).
std::string getComputeType(NodeOp node);

/// The cost of one node, or std::nullopt when a type it needs is not
/// static. Control flow adds its bodies' costs as they run: an If the
/// branch it takes (`chorus.taken_branch`, set by the importer when the
/// condition folds), else its more expensive branch, noted as an
/// assumption; a Loop its body times `chorus.trip_count`, else once,
/// noted; a Scan its body once per element of the scanned axis; other
/// nodes with regions their bodies once.
std::optional<NodeCost> estimateNodeCost(NodeOp node, const Target &target);

/// The cost of a fused group as one kernel: its nodes' compute time, the
/// bytes of its inputs and results only, and one overhead, with the
/// efficiencies of its anchor's class (the node of the group's kind with
/// the most FLOPs). std::nullopt when a type is not static.
std::optional<NodeCost> estimateGroupCost(FusedOp group, const Target &target);

/// estimateNodeCost or estimateGroupCost, for a model's top-level kernel.
std::optional<NodeCost> estimateKernelCost(mlir::Operation *op,
                                           const Target &target);

struct ModelCost {
  double flops = 0, bytes = 0, seconds = 0;
  /// Kernels (isKernel): top-level nodes and fused groups.
  unsigned kernels = 0;
  /// Each kernel's cost, in body order.
  std::vector<std::pair<mlir::Operation *, NodeCost>> kernelCosts;
  /// Nodes whose op has no op table entry, and their FLOPs.
  unsigned estimatedNodes = 0;
  double estimatedFlops = 0;
  std::map<std::string, unsigned> estimatedOps;
  std::map<OpClass, double> secondsByClass;
  std::map<Bound, double> secondsByBound;
  /// What the import and the cost took for granted (the func's
  /// `chorus.assumptions`, then each kernel's), one sentence each.
  std::vector<std::string> assumptions;
};

/// The importer's assumptions about `func` (`chorus.assumptions`).
std::vector<std::string> getImportAssumptions(mlir::func::FuncOp func);

/// The cost of every top-level node and group of `func`; fails with an error at
/// the first node whose types are not static.
mlir::FailureOr<ModelCost> estimateModelCost(mlir::func::FuncOp func,
                                             const Target &target);

} // namespace chorus

#endif // CHORUS_TARGET_COSTMODEL_H
