//===- TensorLifetimes.h - Live intervals of a model's tensors --*- C++ -*-===//
//
// For one model (a func.func of chorus.node ops) in a given order: each
// tensor's live interval in steps, with views folded into their source,
// weights kept apart, and subgraph bodies charged to the node that owns
// them. The result is the planner's IntervalProblem.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_TENSORLIFETIMES_H
#define CHORUS_ANALYSIS_TENSORLIFETIMES_H

#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Plan/IntervalProblem.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace chorus {

/// One buffer of the activation arena.
struct LiveTensor {
  enum class Kind { Input, Activation, Output, Workspace };
  /// The value that owns the bytes (views map to it); null for workspaces.
  mlir::Value value;
  /// The node that defines it (null for inputs).
  mlir::Operation *definingNode = nullptr;
  std::string name;
  Kind kind = Kind::Activation;
  /// Live over steps [lower, upper): step i is the i-th node of the order.
  int64_t lower = 0, upper = 0;
  uint64_t bytes = 0;
  /// How many view values read these bytes.
  unsigned views = 0;
};

/// Live intervals of one model. Best case: every value has a static shape
/// and the intervals are exact for the order. Worst case: subgraph bodies
/// (If/Loop/Scan) are charged as one workspace of all their values live
/// while their node runs, an over-estimate.
class TensorLifetimes {
public:
  /// `order` is the node order to analyse; empty: the order in the body.
  explicit TensorLifetimes(mlir::func::FuncOp func,
                           llvm::ArrayRef<mlir::Operation *> order = {});

  /// Computes the intervals; emits an error at the first value of the top
  /// level without a static size (naming the node and the --dim fix).
  mlir::LogicalResult run();

  const std::vector<LiveTensor> &getTensors() const { return tensors; }
  /// The nodes in step order.
  llvm::ArrayRef<mlir::Operation *> getSchedule() const { return schedule; }
  /// Bytes of the weights the model reads (each symbol once).
  uint64_t getWeightBytes() const { return weightBytes; }
  /// Values inside subgraphs whose size is unknown and so not charged.
  unsigned getUncountedSubgraphValues() const { return uncounted; }
  /// The arena tensor holding `value`'s bytes, or std::nullopt (weights,
  /// none values).
  std::optional<size_t> lookup(mlir::Value value) const;

  /// The intervals as a planner problem, ids from the tensor names.
  IntervalProblem toProblem() const;

  /// Bytes live while each step runs (its inputs, outputs and everything
  /// else alive), sizes rounded up to `alignment`.
  std::vector<uint64_t> liveBytesPerStep(uint64_t alignment = 1) const;

  /// Prints the intervals and the per-step memory profile, marking the
  /// peak step and the largest tensors live there.
  void print(llvm::raw_ostream &os) const;

private:
  mutable mlir::func::FuncOp func;
  std::vector<mlir::Operation *> schedule;
  std::vector<LiveTensor> tensors;
  llvm::DenseMap<mlir::Value, size_t> owner;
  uint64_t weightBytes = 0;
  unsigned uncounted = 0;
};

/// The memory `node`'s bodies need while it runs: for an If the branch it
/// takes (`chorus.taken_branch`), else the larger branch; for other nodes
/// the largest body (a Loop or Scan body reuses its memory from one
/// iteration to the next). Values without a static size add to
/// `uncounted`, those of an If branch not taken excepted.
uint64_t bodyWorkspace(NodeOp node, unsigned &uncounted);

/// A topological order of `func`'s nodes that lowers the peak of live
/// bytes: repeatedly run the ready node that allocates the least minus what
/// it frees, ties broken by the original order. Deterministic.
std::vector<mlir::Operation *> memoryAwareOrder(mlir::func::FuncOp func);

/// The maximum over steps of live bytes for `func` in `order` (empty: the
/// body's), sizes rounded up to `alignment`, or std::nullopt when some
/// value has no static size.
std::optional<uint64_t> peakLiveBytes(mlir::func::FuncOp func,
                                      llvm::ArrayRef<mlir::Operation *> order,
                                      uint64_t alignment = 1);

} // namespace chorus

#endif // CHORUS_ANALYSIS_TENSORLIFETIMES_H
