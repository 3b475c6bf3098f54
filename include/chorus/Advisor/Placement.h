//===- Placement.h - Spread models over several targets ---------*- C++ -*-===//
//
// Given several targets (e.g. the browser targets of several probed
// browsers and backends) and N models, assigns each model to one target:
// by op support (on a browser backend, nodes its op-support table lacks
// fall back to the CPU, and the values crossing between the two are
// charged at the target's memory bandwidth), by memory (weights plus the
// activation arena within the target's memory; on WebGPU every tensor
// within the adapter's max_buffer_size) and by predicted time. Models on
// one target run one after another (ONNX Runtime Web runs one session at a
// time per page); targets run side by side. The assignment minimizes the
// makespan, then the total time, over every assignment (deterministic: the
// first best in a fixed order), or, beyond 2^20 of them, longest model
// first onto the target that finishes it earliest.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ADVISOR_PLACEMENT_H
#define CHORUS_ADVISOR_PLACEMENT_H

#include "chorus/Target/OpSupport.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace chorus {

/// One model on one target.
struct PlacementOption {
  /// Predicted latency, transfers included, and the transfers alone.
  double seconds = 0, transferSeconds = 0;
  uint64_t weightBytes = 0, arenaBytes = 0, largestTensorBytes = 0;
  /// For targets with an op-support table.
  std::optional<OpSupportVerdict> ops;
  /// Why the model cannot run there; empty when it can.
  std::string unfit;
  /// Whether that is because the runtime fails on some of its nodes (the
  /// op-support table's refusals), rather than memory.
  bool refused = false;
};

struct Placement {
  std::vector<std::string> models, targets;
  /// [model][target].
  std::vector<std::vector<PlacementOption>> options;
  /// Per model: the target's index.
  std::vector<unsigned> assignment;
  /// Per target: seconds of work and bytes of memory assigned; the limit.
  std::vector<double> load;
  std::vector<uint64_t> memory, memoryLimit;
  double makespan = 0;
  uint64_t assignmentsTried = 0;
  bool exhaustive = true;
};

/// Places `models` on `targets`. Fails with an error on a model that fits
/// no target or whose cost cannot be estimated, or when no assignment
/// fits the targets' memory.
mlir::FailureOr<Placement>
placeModels(llvm::ArrayRef<mlir::func::FuncOp> models,
            llvm::ArrayRef<Target> targets, uint64_t alignment);

/// The placement as a table, with the reason for each model's target.
void printPlacement(llvm::raw_ostream &os, const Placement &p);

} // namespace chorus

#endif // CHORUS_ADVISOR_PLACEMENT_H
