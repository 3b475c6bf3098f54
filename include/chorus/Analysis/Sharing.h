//===- Sharing.h - What several models can share ---------------*- C++ -*-===//
//
// Finds, by content, what models in one module share: weights (after
// identical weights are merged into one symbol), computations (nodes that
// compute the same op on identical operands, given which model inputs are
// the same tensor), and whole models that are the same computation
// (batchable) or the same structure with other weights.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ANALYSIS_SHARING_H
#define CHORUS_ANALYSIS_SHARING_H

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace chorus {

/// `--same-input a:x=b:y`: input `x` of model `a` is the same tensor as
/// input `y` of model `b`. Models are named by func symbol or file stem,
/// inputs by ONNX name or `#N` (position).
struct SameInput {
  std::string modelA, inputA, modelB, inputB;
};
llvm::Expected<SameInput> parseSameInput(llvm::StringRef spec);
/// parseSameInput over a list, failing on the first malformed spec.
llvm::Expected<std::vector<SameInput>>
parseSameInputs(llvm::ArrayRef<std::string> specs);
/// parseSameInputs for a pass option: the error is emitted at `loc`.
mlir::FailureOr<std::vector<SameInput>>
parseSameInputs(llvm::ArrayRef<std::string> specs, mlir::Location loc);

enum class BatchKind {
  /// Different computations.
  None,
  /// The same structure (ops, attributes, types, wiring) with different
  /// weights: run in parallel, not batchable.
  SameStructure,
  /// The same computation on the same weights: one model, more requests.
  Batchable,
};
llvm::StringRef stringifyBatchKind(BatchKind kind);

class SharingAnalysis {
public:
  struct Model {
    mlir::func::FuncOp func;
    std::string name;
    int64_t weightCount = 0;
    int64_t weightBytes = 0;
    int64_t nodeCount = 0;
    double flops = 0;
    /// Nodes whose FLOPs are unknown (no static shape) or estimated.
    int64_t nodesWithoutFlops = 0;
    int64_t nodesWithEstimatedFlops = 0;
  };
  struct Pair {
    unsigned a = 0, b = 0;
    int64_t sharedWeights = 0;
    int64_t sharedWeightBytes = 0;
    /// Nodes of `a` whose computation `b` also performs, and their FLOPs.
    int64_t sharedNodes = 0;
    double sharedFlops = 0;
    /// Sizes (in nodes of `a`) of the maximal connected shared regions,
    /// largest first.
    std::vector<int64_t> regionSizes;
    BatchKind batch = BatchKind::None;
  };

  SharingAnalysis(mlir::ModuleOp module, std::vector<SameInput> sameInputs);

  /// Fails, with an error at the module, when a same-input names a model or
  /// input that does not exist or pairs values of different types.
  mlir::LogicalResult run();

  llvm::ArrayRef<Model> getModels() const { return models; }
  llvm::ArrayRef<Pair> getPairs() const { return pairs; }
  /// The id of the computation `node` performs when another model performs
  /// it too; nodes with equal ids compute the same value.
  std::optional<int64_t> getComputeId(NodeOp node) const;
  /// Bytes saved by holding each shared weight once rather than per model.
  int64_t getMemorySaved() const { return memorySaved; }
  /// FLOPs saved by computing each shared computation once.
  double getComputeSaved() const { return computeSaved; }

  /// A table for people, and the same figures as JSON for tools.
  void print(llvm::raw_ostream &os) const;
  void printJSON(llvm::raw_ostream &os) const;

private:
  mlir::ModuleOp module;
  std::vector<SameInput> sameInputs;
  std::vector<Model> models;
  std::vector<Pair> pairs;
  llvm::DenseMap<mlir::Operation *, int64_t> computeIds;
  int64_t memorySaved = 0;
  double computeSaved = 0;
};

} // namespace chorus

#endif // CHORUS_ANALYSIS_SHARING_H
