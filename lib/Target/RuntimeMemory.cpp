//===- RuntimeMemory.cpp - What a runtime session holds in memory ---------===//

#include "chorus/Target/RuntimeMemory.h"

#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Dialect/ChorusOps.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>

using namespace mlir;
using namespace chorus;

llvm::StringRef chorus::getWeightUseName(WeightUse use) {
  switch (use) {
  case WeightUse::Conv:
    return "conv";
  case WeightUse::MatMul:
    return "matmul";
  case WeightUse::Other:
    return "other";
  }
  return "other";
}

WeightUse chorus::classifyWeightUse(Operation *weightRef) {
  WeightUse use = WeightUse::Other;
  for (Operation *user : weightRef->getUsers()) {
    auto node = dyn_cast<NodeOp>(user);
    if (!node || !node.getDomain().empty())
      continue;
    llvm::StringRef type = node.getOpType();
    if (type == "Conv" || type == "ConvTranspose")
      return WeightUse::Conv;
    if (type == "MatMul" || type == "Gemm")
      use = WeightUse::MatMul;
  }
  return use;
}

FailureOr<RuntimeMemoryFeatures>
chorus::computeRuntimeMemoryFeatures(func::FuncOp func) {
  RuntimeMemoryFeatures f;
  SymbolTableCollection symbols;
  // Each symbol once, under the strongest use any of its references has.
  llvm::DenseMap<Operation *, WeightUse> uses;
  func.walk([&](WeightRefOp ref) {
    auto weight = dyn_cast_or_null<WeightOp>(
        symbols.lookupNearestSymbolFrom(ref, ref.getWeightAttr()));
    if (!weight)
      return;
    WeightUse use = classifyWeightUse(ref);
    auto [it, inserted] = uses.try_emplace(weight, use);
    if (!inserted)
      it->second = std::min(it->second, use);
  });
  for (auto [weight, use] : uses) {
    uint64_t bytes = cast<WeightOp>(weight).getByteSize();
    f.weightBytes[bytes >= kLargeWeightBytes ? 3 : static_cast<int>(use)] +=
        static_cast<double>(bytes);
  }
  TensorLifetimes lifetimes(func);
  if (failed(lifetimes.run()))
    return failure();
  std::vector<uint64_t> live = lifetimes.liveBytesPerStep(64);
  if (!live.empty())
    f.arenaBytes =
        static_cast<double>(*std::max_element(live.begin(), live.end()));
  return f;
}

double chorus::predictAfterLoad(const RuntimeMemoryModel &m,
                                const double weightBytes[4]) {
  return m.sessionBytes + m.perConvWeightByte * weightBytes[0] +
         m.perMatMulWeightByte * weightBytes[1] +
         m.perOtherWeightByte * weightBytes[2] +
         m.perLargeWeightByte * weightBytes[3];
}

double chorus::predictFirstRun(const RuntimeMemoryModel &m, double arenaBytes) {
  return m.runBytes + m.perArenaByte * arenaBytes;
}
