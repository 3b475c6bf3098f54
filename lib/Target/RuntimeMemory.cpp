//===- RuntimeMemory.cpp - What a runtime session holds in memory ---------===//

#include "chorus/Target/RuntimeMemory.h"

#include "chorus/Analysis/OpTable.h"
#include "chorus/Analysis/OrtKernels.h"
#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Target/OrtArena.h"

#include "mlir/IR/SymbolTable.h"

#include <algorithm>
#include <vector>

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
            func, StringAttr::get(func.getContext(), name))) {
      addWeightBytes(f.weightBytes, weight.getByteSize(), use);
      if (weight.getConstantNode())
        f.constantNodeBytes += static_cast<double>(weight.getByteSize());
      if (use == WeightUse::Conv && weight.getByteSize() < kLargeWeightBytes)
        f.largestHeapConvTensorBytes =
            std::max(f.largestHeapConvTensorBytes,
                     static_cast<double>(weight.getByteSize()));
      f.largestTensorBytes =
          std::max(f.largestTensorBytes, weight.getByteSize());
      if (use == WeightUse::Conv)
        f.largestConvTensorBytes =
            std::max(f.largestConvTensorBytes, weight.getByteSize());
      if (weight.getByteSize() < kLargeWeightBytes)
        f.largestWeightTensor =
            std::max(f.largestWeightTensor, weight.getByteSize());
    }
  // What a session keeps per node is its kernel's: where the runtime
  // folds nodes into constants and fuses others, the kernels it keeps
  // (ONNX Runtime at `all` keeps 541 kernels of Swin-T's 3,864 nodes;
  // counted by node, its sessions were predicted 33 MB, 15%, above
  // what they hold).
  std::optional<OrtKernels> kernels;
  if (ort) {
    kernels = computeOrtKernels(func, *ort);
    f.nodes = static_cast<double>(kernels->kernels.size());
  } else {
    func.walk([&](NodeOp) { ++f.nodes; });
  }
  std::vector<uint64_t> live = lifetimes.liveBytesPerStep(64);
  if (!live.empty())
    f.arenaBytes =
        static_cast<double>(*std::max_element(live.begin(), live.end()));
  for (const LiveTensor &t : lifetimes.getTensors())
    if (t.kind == LiveTensor::Kind::Output)
      f.outputBytes += static_cast<double>(t.bytes);
    else if (t.kind == LiveTensor::Kind::Input)
      f.inputBytes += static_cast<double>(t.bytes);
  if (ort)
    if (FailureOr<OrtRunAllocations> run =
            computeOrtRunAllocations(func, *ort, *kernels);
        succeeded(run)) {
      OrtArenaSimulator arena;
      arena.firstRun(*run);
      f.ortArenaBytes = static_cast<double>(arena.touched());
      f.ortArenaRegions = arena.regionUse();
      arena.patternRun(*run);
      f.ortServiceArenaBytes = static_cast<double>(arena.touched());
      f.ortServiceRegions = arena.regionUse();
    }
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
                                  const RuntimeMemoryFeatures &f) {
  return m.perConvWeightByte * f.weightBytes[0] +
         m.perMatMulWeightByte * f.weightBytes[1] +
         m.perOtherWeightByte * f.weightBytes[2] +
         m.perLargeWeightByte * f.weightBytes[3] +
         m.perConstantNodeByte * f.constantNodeBytes +
         m.perLargestConvTensorByte * f.largestHeapConvTensorBytes;
}

double chorus::predictAfterLoad(const RuntimeMemoryModel &m,
                                const RuntimeMemoryFeatures &f) {
  return m.sessionBytes + m.perNodeBytes * f.nodes + predictWeightBytes(m, f);
}

/// Features of a model of these weights (initializers) and nodes alone.
static RuntimeMemoryFeatures weightsOnly(const double weightBytes[4],
                                         double nodes) {
  RuntimeMemoryFeatures f;
  std::copy(weightBytes, weightBytes + 4, f.weightBytes);
  f.nodes = nodes;
  return f;
}

double chorus::predictRetained(const RuntimeMemoryModel &m,
                               const double weightBytes[4], double nodes) {
  return predictRetained(m, weightsOnly(weightBytes, nodes));
}

double chorus::predictFirstRun(const RuntimeMemoryModel &m,
                               const RuntimeMemoryFeatures &features) {
  return m.runBytes + m.perArenaByte * features.firstRunArenaBytes() +
         m.perOutputByte * features.callerBytes();
}

double chorus::predictServiceRuns(const RuntimeMemoryModel &m,
                                  const RuntimeMemoryFeatures &features) {
  return m.runBytes + m.perArenaByte * features.serviceArenaBytes() +
         2 * m.perOutputByte * features.callerBytes();
}

double chorus::predictRetained(const RuntimeMemoryModel &m,
                               const RuntimeMemoryFeatures &f) {
  double load = predictAfterLoad(m, f);
  if (!m.retained)
    return load;
  const RuntimeMemoryModel::Retained &r = *m.retained;
  // A node's kernel and bookkeeping are not copies the load frees: a
  // session of another model keeps them as its load took them. (The
  // calibration's second session, of the same model, finds part of that
  // state set up by the first: r.perNodeBytes is lower.)
  double kept = r.sessionBytes +
                std::max(r.perNodeBytes, m.perNodeBytes) * f.nodes +
                r.perConvWeightByte * f.weightBytes[0] +
                r.perMatMulWeightByte * f.weightBytes[1] +
                r.perOtherWeightByte * f.weightBytes[2] +
                r.perLargeWeightByte * f.weightBytes[3] +
                r.perConstantNodeByte * f.constantNodeBytes +
                r.perLargestConvTensorByte * f.largestHeapConvTensorBytes;
  return std::min(kept, load);
}

double chorus::processSessionBytes(const RuntimeMemoryModel &m) {
  return m.retained ? std::max(0.0, m.sessionBytes - m.retained->sessionBytes)
                    : 0;
}

SetMemory chorus::predictSetMemory(const RuntimeMemoryModel &m,
                                   llvm::ArrayRef<SessionMemory> sessions) {
  // What the first session's creation sets up once for the process is
  // the session bytes the second one does not take again.
  double once = sessions.empty() ? 0 : processSessionBytes(m);
  // `kept`: the bytes the sessions hold so far; `high`: the heap's
  // high-water mark, which stays resident. A load's transient copies go
  // on top of what the sessions before it keep (reusing what an earlier
  // load freed); a first run's arena and outputs go on top of all kept.
  double kept = 0, high = 0, transient = 0, holes = 0;
  for (const SessionMemory &s : sessions) {
    high = std::max(high, kept + s.load - once);
    transient = std::max(transient, kept + s.load - once + s.loadTransient);
    double keeps = std::min(s.retained, s.load - once);
    kept += keeps;
    holes = std::max(holes, s.load - once - keeps);
  }
  SetMemory set;
  set.afterLoad = m.processBytes + once + high;
  // The runs: the arena regions at or above glibc's mmap threshold are
  // mapped apart. The rest comes from the heap: into the space the loads
  // freed (as far as it goes) where a hole holds it, else on top of the
  // heap's high-water mark. The loads' holes are the copies their
  // convolutions' reorders freed, one weight tensor each, interleaved
  // with what the sessions keep: a region larger than the largest such
  // tensor finds none. Without a measured `retained` every byte adds.
  uint64_t largest = 0, hole = 0;
  for (const SessionMemory &s : sessions) {
    largest = std::max(largest, s.largestWeightTensor);
    hole = std::max(hole, s.largestConvTensor);
  }
  uint64_t threshold = mmapThreshold(m, largest);
  hole = std::min(hole, threshold);
  auto afterRuns = [&](bool service) {
    // The space one load freed stays free through the loads after it:
    // their pieces, smaller than its filters' holes, go elsewhere.
    double heap = std::min(kept, high - holes), top = high, mapped = 0,
           above = 0;
    for (const SessionMemory &s : sessions) {
      double run = service ? s.serviceRuns : s.firstRun;
      if (!m.retained) {
        mapped += run;
        continue;
      }
      const auto &regions = service ? s.serviceRegions : s.arenaRegions;
      double apart = mappedRunBytes(m, regions, run, threshold);
      double unheld =
          holelessRunBytes(m, regions, run - apart, hole, threshold);
      heap += run - apart - unheld;
      above += unheld;
      mapped += apart;
      top = std::max(top, heap);
    }
    return m.processBytes + once + top + above + mapped;
  };
  set.afterFirstRuns = afterRuns(false);
  set.inService = std::max(afterRuns(true), set.afterFirstRuns);
  set.peak = std::max(set.inService, m.processBytes + once + transient);
  return set;
}

SessionMemory chorus::predictSession(const RuntimeMemoryModel &m,
                                     const RuntimeMemoryFeatures &features) {
  SessionMemory s{predictAfterLoad(m, features), predictRetained(m, features),
                  predictFirstRun(m, features),
                  predictServiceRuns(m, features)};
  if (features.ortArenaBytes > 0)
    s.arenaRegions = features.ortArenaRegions;
  if (features.ortServiceArenaBytes > 0)
    s.serviceRegions = features.ortServiceRegions;
  s.largestWeightTensor = features.largestWeightTensor;
  s.largestConvTensor = features.largestConvTensorBytes;
  if (m.loadPeak)
    s.loadTransient = predictLoadTransient(*m.loadPeak, features);
  return s;
}

double chorus::predictLoadTransient(const RuntimeMemoryModel::LoadPeak &p,
                                    const RuntimeMemoryFeatures &features) {
  double copies =
      p.perLargestTensorByte * static_cast<double>(features.largestTensorBytes);
  double reorders = p.perConvWeightByte * features.weightBytes[0] +
                    p.perLargestConvTensorByte *
                        static_cast<double>(features.largestConvTensorBytes);
  return std::max(copies, reorders);
}

uint64_t chorus::mmapThreshold(const RuntimeMemoryModel &m,
                               uint64_t largestWeightTensor) {
  if (m.fixedMmapThreshold > 0)
    return m.fixedMmapThreshold;
  return std::clamp<uint64_t>(largestWeightTensor, 128u << 10,
                              kLargeWeightBytes);
}

double
chorus::mappedRunBytes(const RuntimeMemoryModel &m,
                       llvm::ArrayRef<std::pair<uint64_t, uint64_t>> regions,
                       double runBytes, uint64_t threshold) {
  double bytes = 0;
  for (auto [size, touched] : regions)
    if (size >= threshold)
      bytes += m.perArenaByte * static_cast<double>(touched);
  return std::min(bytes, runBytes);
}

double
chorus::holelessRunBytes(const RuntimeMemoryModel &m,
                         llvm::ArrayRef<std::pair<uint64_t, uint64_t>> regions,
                         double heapBytes, uint64_t hole, uint64_t threshold) {
  double bytes = 0;
  for (auto [size, touched] : regions)
    if (size > hole && size < threshold)
      bytes += m.perArenaByte * static_cast<double>(touched);
  return std::min(bytes, heapBytes);
}

SetMemory chorus::predictSessionAlone(const RuntimeMemoryModel &m,
                                      const RuntimeMemoryFeatures &features) {
  SessionMemory session = predictSession(m, features);
  SetMemory set = predictSetMemory(m, session);
  set.afterLoad -= m.processBytes;
  set.afterFirstRuns -= m.processBytes;
  set.inService -= m.processBytes;
  set.peak -= m.processBytes;
  return set;
}

SessionLoadFeatures chorus::sessionLoadFeatures(func::FuncOp func) {
  return sessionLoadFeatures(func, getWeightUses(func));
}

SessionLoadFeatures
chorus::sessionLoadFeatures(func::FuncOp func,
                            const std::map<std::string, WeightUse> &uses) {
  SessionLoadFeatures f;
  for (const auto &[name, use] : uses)
    if (auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
            func, StringAttr::get(func.getContext(), name))) {
      double bytes = static_cast<double>(weight.getByteSize());
      bool large = weight.getByteSize() >= kLargeWeightBytes;
      (large ? f.largeWeightBytes : f.weightBytes) += bytes;
      if (!large && use == WeightUse::Conv)
        f.convWeightBytes += bytes;
      ++f.weightTensors;
    }
  func.walk([&](NodeOp) { ++f.nodes; });
  // A dim the file leaves symbolic (bound or not by the import) other than
  // a leading batch runs through the graph from its input: the runtime's
  // shape inference then derives symbolic sizes node after node.
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (auto open = func.getArgAttrOfType<DenseI64ArrayAttr>(
            i, "chorus.declared_dynamic"))
      if (llvm::any_of(open.asArrayRef(), [](int64_t d) { return d != 0; }))
        f.symbolicNodes = f.nodes;
  return f;
}
