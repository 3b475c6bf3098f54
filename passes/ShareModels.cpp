//===- ShareModels.cpp - Merge weights, mark shared computations ----------===//

#include "passes/Passes.h"

#include "chorus/Analysis/Sharing.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Import/WeightPayloads.h"
#include "chorus/Transforms/MergeWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "chorus-share"

namespace chorus {
#define GEN_PASS_DEF_SHAREMODELSPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct ShareModelsPass
    : public chorus::impl::ShareModelsPassBase<ShareModelsPass> {
  using ShareModelsPassBase::ShareModelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<std::vector<SameInput>> pairs =
        parseSameInputs(sameInputs, module.getLoc());
    if (failed(pairs))
      return signalPassFailure();
    if (mergeWeights)
      merge(module);

    SharingAnalysis analysis(module, std::move(*pairs));
    if (failed(analysis.run()))
      return signalPassFailure();
    Builder builder(module.getContext());
    module.walk([&](NodeOp node) {
      node->removeAttr("chorus.compute_id");
      if (std::optional<int64_t> id = analysis.getComputeId(node)) {
        node->setAttr("chorus.compute_id", builder.getI64IntegerAttr(*id));
        ++numSharedNodes;
      }
    });
  }

  /// Merges identical weights, comparing bytes from the IR's small values
  /// or from the model files the weights were imported from.
  void merge(ModuleOp module) {
    // The model file each weight came from: that of its first reader.
    llvm::DenseMap<StringAttr, StringRef> sourceOf;
    for (auto func : module.getOps<func::FuncOp>()) {
      auto source = func->getAttrOfType<StringAttr>("chorus.source");
      if (!source)
        continue;
      func.walk([&](WeightRefOp ref) {
        sourceOf.try_emplace(ref.getWeightAttr().getAttr(), source.getValue());
      });
    }
    WeightPayloadReader reader;
    std::string firstProblem;
    auto payloadsEqual = [&](WeightOp kept, WeightOp other) -> FailureOr<bool> {
      if (trustDigest)
        return true;
      if (kept.getValue() && other.getValue())
        return *kept.getValue() == *other.getValue();
      auto keptSource = sourceOf.find(kept.getSymNameAttr());
      auto otherSource = sourceOf.find(other.getSymNameAttr());
      if (keptSource == sourceOf.end() || otherSource == sourceOf.end()) {
        if (firstProblem.empty())
          firstProblem = "@" + other.getSymName().str() +
                         " has no model file to read it from";
        return failure();
      }
      auto name = [](WeightOp w) {
        return cast<StringAttr>(w.getOnnxNames()[0]).getValue();
      };
      llvm::Expected<TensorBytes> a =
          reader.read(keptSource->second, name(kept));
      llvm::Expected<TensorBytes> b =
          reader.read(otherSource->second, name(other));
      bool aOk = static_cast<bool>(a), bOk = static_cast<bool>(b);
      if (!aOk || !bOk) {
        std::string message =
            llvm::toString(!aOk ? a.takeError() : b.takeError());
        if (!aOk && !bOk)
          llvm::consumeError(b.takeError());
        if (firstProblem.empty())
          firstProblem = message;
        return failure();
      }
      return a->getBytes() == b->getBytes();
    };
    WeightMergeStats stats = mergeIdenticalWeights(module, payloadsEqual);
    numWeightsMerged += stats.weightsBefore - stats.weightsAfter;
    numUnverified += stats.unverified.size();
    if (!stats.unverified.empty())
      module.emitWarning()
          << stats.unverified.size()
          << " weight(s) with the digest of another were not merged because "
             "their bytes could not be compared ("
          << firstProblem
          << "); run where the model files are, or pass trust-digest=true";
  }
};

} // namespace
