//===- RuntimeMemory.cpp - What a runtime session holds in memory ---------===//

#include "chorus/Target/RuntimeMemory.h"

#include "chorus/Analysis/OpTable.h"
#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Target/OrtArena.h"

#include "mlir/IR/SymbolTable.h"

#include <algorithm>

using namespace mlir;
using namespace chorus;

WeightUse chorus::classifyWeightUse(Operation *weightRef) {
  WeightUse use = WeightUse::Other;
  for (Operation *user : weightRef->getUsers()) {
    auto node = dyn_cast<NodeOp>(user);
    if (!node || !node.getDomain().empty())
      continue;
    std::optional<OpClass> opClass = getOpTypeClass(node.getOpType());
    if (opClass == OpClass::Convolution ||
        opClass == OpClass::GroupedConvolution)
      return WeightUse::Conv;
    if (opClass == OpClass::MatMulLike)
      use = WeightUse::MatMul;
  }
  return use;
}

std::map<std::string, WeightUse> chorus::getWeightUses(func::FuncOp func) {
  std::map<std::string, WeightUse> uses;
  func.walk([&](WeightRefOp ref) {
    WeightUse use = classifyWeightUse(ref);
    auto [it, inserted] = uses.try_emplace(ref.getWeight().str(), use);
    if (!inserted)
      it->second = std::min(it->second, use);
  });
  return uses;
}

void chorus::addWeightBytes(double weightBytes[4], uint64_t bytes,
                            WeightUse use) {
  weightBytes[bytes >= kLargeWeightBytes ? 3 : static_cast<int>(use)] +=
      static_cast<double>(bytes);
}

RuntimeMemoryFeatures chorus::computeRuntimeMemoryFeatures(
    func::FuncOp func, const std::map<std::string, WeightUse> &uses,
    const TensorLifetimes &lifetimes, const OrtCpuSettings *ort) {
  RuntimeMemoryFeatures f;
  for (const auto &[name, use] : uses)
    if (auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
            func, StringAttr::get(func.getContext(), name)))
      addWeightBytes(f.weightBytes, weight.getByteSize(), use);
  std::vector<uint64_t> live = lifetimes.liveBytesPerStep(64);
  if (!live.empty())
    f.arenaBytes =
        static_cast<double>(*std::max_element(live.begin(), live.end()));
  for (const LiveTensor &t : lifetimes.getTensors())
    if (t.kind == LiveTensor::Kind::Output)
      f.outputBytes += static_cast<double>(t.bytes);
  if (ort)
    if (FailureOr<uint64_t> arena = simulateOrtArena(func, *ort);
        succeeded(arena))
      f.ortArenaBytes = static_cast<double>(*arena);
  return f;
}

FailureOr<RuntimeMemoryFeatures>
chorus::computeRuntimeMemoryFeatures(func::FuncOp func,
                                     const OrtCpuSettings *ort) {
  TensorLifetimes lifetimes(func);
  if (failed(lifetimes.run()))
    return failure();
  return computeRuntimeMemoryFeatures(func, getWeightUses(func), lifetimes,
                                      ort);
}

double chorus::predictWeightBytes(const RuntimeMemoryModel &m,
                                  const double weightBytes[4]) {
  return m.perConvWeightByte * weightBytes[0] +
         m.perMatMulWeightByte * weightBytes[1] +
         m.perOtherWeightByte * weightBytes[2] +
         m.perLargeWeightByte * weightBytes[3];
}

double chorus::predictAfterLoad(const RuntimeMemoryModel &m,
                                const double weightBytes[4]) {
  return m.sessionBytes + predictWeightBytes(m, weightBytes);
}

double chorus::predictFirstRun(const RuntimeMemoryModel &m,
                               const RuntimeMemoryFeatures &features) {
  return m.runBytes + m.perArenaByte * features.firstRunArenaBytes() +
         m.perOutputByte * features.outputBytes;
}
