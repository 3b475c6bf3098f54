//===- MergeWeights.cpp - One symbol for identical weights ----------------===//

#include "chorus/Transforms/MergeWeights.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <map>
#include <tuple>

using namespace mlir;
using namespace chorus;

WeightMergeStats chorus::mergeIdenticalWeights(
    ModuleOp module,
    llvm::function_ref<FailureOr<bool>(WeightOp, WeightOp)> payloadsEqual) {
  WeightMergeStats stats;
  // Groups in module order, keyed by what must be equal to share.
  using Key = std::tuple<StringRef, const void *, int64_t>;
  auto keyOf = [](WeightOp weight) {
    return Key(weight.getDigest(), weight.getType().getAsOpaquePointer(),
               weight.getByteSizeAttr().getInt());
  };
  std::map<Key, std::vector<WeightOp>> groups;
  std::vector<WeightOp> order;
  for (auto weight : module.getOps<WeightOp>()) {
    ++stats.weightsBefore;
    order.push_back(weight);
    groups[keyOf(weight)].push_back(weight);
  }

  // Decide the replacement of every weight, then rewrite the uses once.
  llvm::DenseMap<StringAttr, FlatSymbolRefAttr> replacement;
  std::vector<WeightOp> erased;
  for (WeightOp weight : order) {
    std::vector<WeightOp> &group = groups[keyOf(weight)];
    if (group.front() == weight)
      continue;
    // Merge into the first kept weight of the group whose bytes are equal.
    WeightOp target;
    bool unverified = false;
    for (WeightOp kept : group) {
      if (kept == weight)
        break;
      if (replacement.count(kept.getSymNameAttr()))
        continue;
      FailureOr<bool> equal = payloadsEqual(kept, weight);
      if (failed(equal)) {
        unverified = true;
        continue;
      }
      if (*equal) {
        target = kept;
        break;
      }
    }
    if (!target) {
      if (unverified)
        stats.unverified.push_back(weight.getSymName().str());
      continue;
    }
    replacement[weight.getSymNameAttr()] =
        FlatSymbolRefAttr::get(target.getSymNameAttr());
    SmallVector<Attribute> names(target.getOnnxNames().begin(),
                                 target.getOnnxNames().end());
    for (Attribute name : weight.getOnnxNames())
      if (!llvm::is_contained(names, name))
        names.push_back(name);
    target.setOnnxNamesAttr(ArrayAttr::get(module.getContext(), names));
    // The runtime copies a Constant node's tensor on load: the merged
    // weight keeps the mark only where every file held it so (a model that
    // holds it as an initializer does not pay that copy).
    if (!weight.getConstantNode())
      target.setConstantNode(false);
    erased.push_back(weight);
  }
  if (!replacement.empty())
    module.walk([&](WeightRefOp ref) {
      auto it = replacement.find(ref.getWeightAttr().getAttr());
      if (it != replacement.end())
        ref.setWeightAttr(it->second);
    });
  for (WeightOp weight : erased)
    weight.erase();
  stats.weightsAfter = stats.weightsBefore - erased.size();
  return stats;
}
