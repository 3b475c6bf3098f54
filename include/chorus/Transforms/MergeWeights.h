//===- MergeWeights.h - One symbol for identical weights --------*- C++ -*-===//
//
// The transform behind chorus-share: weights with the same bytes become one
// chorus.weight symbol that every model references.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TRANSFORMS_MERGEWEIGHTS_H
#define CHORUS_TRANSFORMS_MERGEWEIGHTS_H

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

/// What merging identical weights did.
struct WeightMergeStats {
  int64_t weightsBefore = 0;
  int64_t weightsAfter = 0;
  /// Weights whose digest, type and size matched a kept weight but whose
  /// payloads could not be compared; they were left unmerged.
  std::vector<std::string> unverified;
};

/// Merges weights with equal digest, type and byte size into the first of
/// them (in module order), redirecting every chorus.weight_ref and keeping
/// all ONNX names. `payloadsEqual(kept, other)` must confirm the bytes are
/// equal: true merges, false keeps them apart (a digest collision), failure
/// means the bytes could not be compared and the weight is left unmerged.
WeightMergeStats mergeIdenticalWeights(
    mlir::ModuleOp module,
    llvm::function_ref<mlir::FailureOr<bool>(WeightOp, WeightOp)>
        payloadsEqual);

} // namespace chorus

#endif // CHORUS_TRANSFORMS_MERGEWEIGHTS_H
