//===- ModelSummary.h - What an imported model holds -----------*- C++ -*-===//

#ifndef CHORUS_ANALYSIS_MODELSUMMARY_H
#define CHORUS_ANALYSIS_MODELSUMMARY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>

namespace chorus {

/// Counts over one model (func): nodes by op type (subgraph nodes included),
/// the weights it reads, and its inputs and outputs.
class ModelSummary {
public:
  explicit ModelSummary(mlir::func::FuncOp model);

  int64_t getNodeCount() const { return nodeCount; }
  int64_t getSubgraphNodeCount() const { return subgraphNodeCount; }
  /// Distinct weight symbols the model reads, and their payload bytes.
  int64_t getWeightCount() const { return weightCount; }
  int64_t getWeightBytes() const { return weightBytes; }
  /// Node count per op type ("Conv", or "domain::Op" outside ai.onnx),
  /// ordered by name.
  const std::map<std::string, int64_t> &getOpCounts() const { return opCounts; }

  /// Prints the summary as text, deterministically.
  void print(llvm::raw_ostream &os) const;

private:
  mlir::func::FuncOp model;
  int64_t nodeCount = 0;
  int64_t subgraphNodeCount = 0;
  int64_t weightCount = 0;
  int64_t weightBytes = 0;
  std::map<std::string, int64_t> opCounts;
};

} // namespace chorus

#endif // CHORUS_ANALYSIS_MODELSUMMARY_H
