//===- RuntimeMemoryTest.cpp - Fitting the runtime's memory and kernels -===//

#include "chorus/Target/RuntimeMemory.h"
#include "chorus/Target/Calibration.h"
#include "chorus/Target/KernelModel.h"

#include "gtest/gtest.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cmath>
#include <iterator>
#include <map>

using namespace chorus;

namespace {

MemorySample sample(double conv, double matmul, double other, double large,
                    double arena, const RuntimeMemoryModel &truth,
                    double outputs = 4e3, double nodes = 0) {
  MemorySample s;
  s.features.nodes = nodes;
  s.features.weightBytes[0] = conv;
  s.features.weightBytes[1] = matmul;
  s.features.weightBytes[2] = other;
  s.features.weightBytes[3] = large;
  s.features.arenaBytes = arena;
  s.features.outputBytes = outputs;
  s.afterLoadBytes = predictAfterLoad(truth, s.features);
  s.afterRunBytes = s.afterLoadBytes + predictFirstRun(truth, s.features);
  s.processBytes = truth.processBytes;
  return s;
}

/// Sessions of every kind of weight, arena and output, measured as `truth`
/// predicts them.
std::vector<MemorySample> samplesOf(const RuntimeMemoryModel &truth) {
  return {sample(10e6, 0, 0, 0, 1e6, truth),
          sample(40e6, 1e6, 0, 0, 5e6, truth),
          sample(0, 20e6, 1e5, 0, 2e6, truth),
          sample(0, 60e6, 0, 0, 1e5, truth),
          sample(1e5, 0, 16e6, 0, 30e6, truth, 16e6),
          sample(0, 0, 0, 64e6, 1e5, truth),
          sample(0, 0, 0, 192e6, 8e6, truth, 2e6),
          sample(1e4, 0, 0, 0, 60e6, truth, 8e6),
          sample(2e5, 0, 1e5, 0, 1e6, truth, 4e3, 360),
          sample(5e6, 1e6, 2e5, 0, 3e6, truth, 4e3, 900)};
}

/// A runtime as a calibration fits one: fixed parts, a factor per kind
/// of weight, the arena and the outputs' copies.
RuntimeMemoryModel typicalRuntime() {
  RuntimeMemoryModel truth;
  truth.processBytes = 12e6;
  truth.sessionBytes = 27e6;
  truth.perConvWeightByte = 2.8;
  truth.perMatMulWeightByte = 1.5;
  truth.perOtherWeightByte = 1.1;
  truth.perLargeWeightByte = 1.0;
  truth.runBytes = 0.5e6;
  truth.perArenaByte = 1.3;
  truth.perOutputByte = 1; // onnxruntime-node's copy of each output
  truth.perNodeBytes = 9e3;
  return truth;
}

TEST(RuntimeMemory, FitRecoversTheModelThatMadeTheSamples) {
  RuntimeMemoryModel truth = typicalRuntime();
  std::vector<MemorySample> samples = samplesOf(truth);
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_NEAR(fit->sessionBytes, truth.sessionBytes, 1e3);
  EXPECT_NEAR(fit->perConvWeightByte, truth.perConvWeightByte, 1e-6);
  EXPECT_NEAR(fit->perMatMulWeightByte, truth.perMatMulWeightByte, 1e-6);
  EXPECT_NEAR(fit->perOtherWeightByte, truth.perOtherWeightByte, 1e-6);
  EXPECT_NEAR(fit->perLargeWeightByte, truth.perLargeWeightByte, 1e-6);
  EXPECT_NEAR(fit->runBytes, truth.runBytes, 1e3);
  EXPECT_NEAR(fit->perArenaByte, truth.perArenaByte, 1e-6);
  EXPECT_NEAR(fit->perOutputByte, truth.perOutputByte, 1e-6);
  EXPECT_NEAR(fit->perNodeBytes, truth.perNodeBytes, 1e-3);
  EXPECT_EQ(fit->processBytes, truth.processBytes);
  EXPECT_EQ(fit->samples, samples.size());
}

TEST(RuntimeMemory, FitPricesWeightsHeldInConstantNodes) {
  RuntimeMemoryModel truth = typicalRuntime();
  truth.perConstantNodeByte = 0.65;
  std::vector<MemorySample> samples = samplesOf(truth);
  // The first two models again, their weights in Constant nodes: each
  // byte costs its kind's factor and the copy the runtime makes of it.
  for (unsigned i : {0u, 1u}) {
    MemorySample s = samples[i];
    s.features.constantNodeBytes =
        s.features.weightBytes[0] + s.features.weightBytes[1];
    s.afterLoadBytes = predictAfterLoad(truth, s.features);
    EXPECT_NEAR(s.afterLoadBytes - samples[i].afterLoadBytes,
                0.65 * s.features.constantNodeBytes, 1);
    samples.push_back(s);
  }
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_NEAR(fit->perConstantNodeByte, 0.65, 1e-6);
  EXPECT_NEAR(fit->perConvWeightByte, truth.perConvWeightByte, 1e-6);
  EXPECT_NEAR(fit->perMatMulWeightByte, truth.perMatMulWeightByte, 1e-6);
  // With one such model there is nothing to tell the copy from the
  // model's noise: the term is not fitted.
  samples.pop_back();
  fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_EQ(fit->perConstantNodeByte, 0);
}

TEST(RuntimeMemory, FitFindsTheRoomTheLargestFilterTakes) {
  RuntimeMemoryModel truth = typicalRuntime();
  truth.perConvWeightByte = 2.0;
  truth.perLargestConvTensorByte = 5.5;
  std::vector<MemorySample> samples = samplesOf(truth);
  // Convolution models of one total and different largest filters.
  for (double largest : {0.6e6, 2.4e6, 4.7e6, 9.4e6}) {
    MemorySample s = samples[0];
    s.features.weightBytes[0] = 20e6;
    s.features.largestHeapConvTensorBytes = largest;
    s.afterLoadBytes = predictAfterLoad(truth, s.features);
    samples.push_back(s);
  }
  // A filter of 32 MiB or more is mapped apart: it is not the heap's.
  MemorySample big = samples.back();
  big.features.largestHeapConvTensorBytes = 0;
  big.features.largestConvTensorBytes = 40e6;
  EXPECT_DOUBLE_EQ(predictAfterLoad(truth, big.features),
                   samples.back().afterLoadBytes - 5.5 * 9.4e6);
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_NEAR(fit->perLargestConvTensorByte, 5.5, 1e-6);
  EXPECT_NEAR(fit->perConvWeightByte, 2.0, 1e-6);
}

TEST(RuntimeMemory, FitRecoversWhatASessionKeeps) {
  RuntimeMemoryModel truth;
  truth.processBytes = 12e6;
  truth.sessionBytes = 27e6;
  truth.perConvWeightByte = 2.8;
  truth.perMatMulWeightByte = 1.5;
  truth.runBytes = 0.5e6;
  truth.perArenaByte = 1.3;
  RuntimeMemoryModel::Retained kept;
  kept.sessionBytes = 0.2e6;
  kept.perConvWeightByte = 1.9;
  kept.perMatMulWeightByte = 1.4;
  kept.perOtherWeightByte = 1.0;
  kept.perLargeWeightByte = 1.0;
  kept.perNodeBytes = 6e3;
  truth.retained = kept;
  std::vector<MemorySample> samples = samplesOf(truth);
  // What the second session of the same model keeps, per node its own
  // figure (the prediction for another model's session takes the load's).
  for (MemorySample &s : samples)
    s.retainedBytes = kept.sessionBytes + kept.perNodeBytes * s.features.nodes +
                      kept.perConvWeightByte * s.features.weightBytes[0] +
                      kept.perMatMulWeightByte * s.features.weightBytes[1] +
                      kept.perOtherWeightByte * s.features.weightBytes[2] +
                      kept.perLargeWeightByte * s.features.weightBytes[3];
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  ASSERT_TRUE(fit->retained.has_value());
  EXPECT_NEAR(fit->retained->sessionBytes, kept.sessionBytes, 1e3);
  EXPECT_NEAR(fit->retained->perConvWeightByte, kept.perConvWeightByte, 1e-6);
  EXPECT_NEAR(fit->retained->perMatMulWeightByte, kept.perMatMulWeightByte,
              1e-6);
  EXPECT_NEAR(fit->retained->perOtherWeightByte, kept.perOtherWeightByte, 1e-6);
  EXPECT_NEAR(fit->retained->perNodeBytes, kept.perNodeBytes, 1e-3);
  EXPECT_EQ(fit->retained->samples, samples.size());
  // A session of another model keeps its load's bytes per node.
  RuntimeMemoryModel nodal = truth;
  nodal.perNodeBytes = 9e3;
  double none[4] = {0, 0, 0, 0};
  EXPECT_DOUBLE_EQ(predictRetained(nodal, none, 100),
                   kept.sessionBytes + 100 * 9e3);
  // A second session that reads as less than nothing (a model that keeps
  // a few kilobytes, on a kernel whose resident counters lag) is a
  // reading: it is fitted, not taken for a missing one.
  for (auto [i, s] : llvm::enumerate(samples))
    if (i % 2)
      s.retainedBytes = -40e3;
  fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  ASSERT_TRUE(fit->retained.has_value());
  EXPECT_EQ(fit->retained->samples, samples.size());
  // Without second sessions there is nothing to fit.
  for (MemorySample &s : samples)
    s.retainedBytes.reset();
  fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_FALSE(fit->retained.has_value());
}

TEST(RuntimeMemory, SetsReuseWhatEarlierLoadsFreed) {
  RuntimeMemoryModel m;
  m.processBytes = 10;
  m.sessionBytes = 30; // 25 of it once per process
  RuntimeMemoryModel::Retained kept;
  kept.sessionBytes = 5;
  m.retained = kept;
  // A large load that frees 60 (loads 105 beyond the process's 25, keeps
  // 45), then two small ones that fit in what it freed.
  SessionMemory large{130, 45, 0}, small{45, 15, 0};
  SetMemory set = predictSetMemory(m, {large, small, small});
  EXPECT_DOUBLE_EQ(set.afterLoad, 10 + 25 + 105);
  // The other way round the large one loads on top of what they keep.
  set = predictSetMemory(m, {small, small, large});
  EXPECT_DOUBLE_EQ(set.afterLoad, 10 + 25 + 15 + 15 + 105);
  // Without `retained`, a session keeps all it loads (predictRetained):
  // the sum of each alone.
  RuntimeMemoryModel sum = m;
  sum.retained.reset();
  RuntimeMemoryFeatures none;
  EXPECT_DOUBLE_EQ(predictRetained(sum, none), predictAfterLoad(sum, none));
  SessionMemory largeAll{130, 130, 0}, smallAll{45, 45, 0};
  set = predictSetMemory(sum, {largeAll, smallAll, smallAll});
  EXPECT_DOUBLE_EQ(set.afterLoad, 10 + 130 + 45 + 45);
}

/// A runtime whose sessions take and keep exactly what they are given:
/// no fixed bytes, one byte per arena byte, `retained` measured.
static RuntimeMemoryModel heapOnlyModel() {
  RuntimeMemoryModel m;
  m.sessionBytes = 0;
  m.perArenaByte = 1;
  m.retained = RuntimeMemoryModel::Retained{};
  m.retained->sessionBytes = 0;
  return m;
}

TEST(RuntimeMemory, ArenaRegionsAboveTheMmapThresholdAreMappedApart) {
  RuntimeMemoryModel m = heapOnlyModel();
  // The load frees 100 bytes, in holes of its largest convolution
  // weight (1 MiB); the first run writes 20 in a region under the
  // threshold (taken from the freed space) and 50 in one above it.
  SessionMemory s{200, 100, 70};
  s.arenaRegions = {{1 << 20, 20}, {64ull << 20, 50}};
  s.largestWeightTensor = 2 << 20;
  s.largestConvTensor = 1 << 20;
  EXPECT_EQ(mmapThreshold(m, s.largestWeightTensor), 2u << 20);
  EXPECT_EQ(mmapThreshold(m, 10), 128u << 10);
  EXPECT_EQ(mmapThreshold(m, 1ull << 40), kLargeWeightBytes);
  EXPECT_DOUBLE_EQ(mappedRunBytes(m, s.arenaRegions, s.firstRun, 2 << 20), 50);
  SetMemory set = predictSetMemory(m, {s});
  EXPECT_DOUBLE_EQ(set.afterLoad, 200);
  EXPECT_DOUBLE_EQ(set.afterFirstRuns, 200 + 50);
  // Holes of half a MiB do not hold the region of 1 MiB: it goes on top
  // of the heap, not into the freed space.
  s.largestConvTensor = 512 << 10;
  EXPECT_DOUBLE_EQ(holelessRunBytes(m, s.arenaRegions, 20, 512 << 10, 2 << 20),
                   20);
  EXPECT_DOUBLE_EQ(predictSetMemory(m, {s}).afterFirstRuns, 200 + 20 + 50);
  s.largestConvTensor = 1 << 20;
  // In service the second run's memory pattern took a region of its own
  // (60 bytes written), mapped apart too; the peak is there.
  s.serviceRuns = 130;
  s.serviceRegions = {{1 << 20, 20}, {64ull << 20, 50}, {64ull << 20, 60}};
  set = predictSetMemory(m, {s});
  EXPECT_DOUBLE_EQ(set.afterFirstRuns, 200 + 50);
  EXPECT_DOUBLE_EQ(set.inService, 200 + 50 + 60);
  EXPECT_DOUBLE_EQ(set.peak, set.inService);
  s.serviceRuns = 0;
  // glibc's threshold fixed under the region of 1 MiB: that region is
  // mapped apart as well, instead of taking the space the load freed.
  m.fixedMmapThreshold = 128 << 10;
  EXPECT_EQ(mmapThreshold(m, s.largestWeightTensor), 128u << 10);
  EXPECT_EQ(mmapThreshold(m, 1ull << 40), 128u << 10);
  set = predictSetMemory(m, {s});
  EXPECT_DOUBLE_EQ(set.afterFirstRuns, 200 + 20 + 50);
}

TEST(RuntimeMemory, ALoadPeaksAboveWhatItLeaves) {
  RuntimeMemoryModel m;
  m.processBytes = 10;
  m.sessionBytes = 30; // 25 of it once per process
  m.retained = RuntimeMemoryModel::Retained{};
  m.retained->sessionBytes = 5;
  // A load whose transient copies hold 40 more for a moment: the peak is
  // on top of what the sessions before it keep, not of the heap's
  // high-water mark.
  SessionMemory large{130, 45, 0}, small{45, 15, 0};
  small.loadTransient = 40;
  SetMemory set = predictSetMemory(m, {large, small});
  EXPECT_DOUBLE_EQ(set.afterFirstRuns, 10 + 25 + 105);
  EXPECT_DOUBLE_EQ(set.peak, set.afterFirstRuns);
  set = predictSetMemory(m, {large, small, small, small});
  // The fourth loads on 45 + 15 + 15 kept, its 20 beyond the process on
  // top: 10 + 25 + 95, and 40 more for a moment.
  EXPECT_DOUBLE_EQ(set.afterLoad, 10 + 25 + 105);
  EXPECT_DOUBLE_EQ(set.peak, 10 + 25 + 45 + 15 + 15 + 20 + 40);
  // The fit: the peak above what the load leaves, the higher of 0.9 per
  // byte of the largest weight tensor and 1.2 per byte of convolution
  // weights with 2.5 per byte of the largest of them. Half the samples
  // have no convolution weights (they fit the first term).
  RuntimeMemoryModel truth;
  std::vector<MemorySample> samples = samplesOf(truth);
  for (auto [i, s] : llvm::enumerate(samples)) {
    s.features.largestTensorBytes = (i + 1) * 1000000;
    if (i % 2) {
      s.features.weightBytes[0] = 0;
      s.features.largestConvTensorBytes = 0;
    } else {
      s.features.weightBytes[0] = (20 + 7 * i) * 1000000.0;
      s.features.largestConvTensorBytes = (i % 3 + 1) * 1000000;
    }
    RuntimeMemoryModel::LoadPeak p{0.9, 0, 1.2, 2.5};
    s.loadPeakBytes = s.afterLoadBytes + predictLoadTransient(p, s.features);
  }
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit));
  ASSERT_TRUE(fit->loadPeak.has_value());
  EXPECT_NEAR(fit->loadPeak->perLargestTensorByte, 0.9, 1e-9);
  EXPECT_NEAR(fit->loadPeak->perConvWeightByte, 1.2, 1e-9);
  EXPECT_NEAR(fit->loadPeak->perLargestConvTensorByte, 2.5, 1e-9);
  EXPECT_EQ(fit->loadPeak->samples, samples.size());
  // predictSession carries the higher phase into the load's transient:
  // the reorders here, the copy of a large tensor there.
  RuntimeMemoryFeatures f;
  f.largestTensorBytes = 800;
  f.weightBytes[0] = 500;
  f.largestConvTensorBytes = 100;
  EXPECT_DOUBLE_EQ(predictSession(*fit, f).loadTransient,
                   1.2 * 500 + 2.5 * 100);
  f.largestTensorBytes = 10000;
  EXPECT_DOUBLE_EQ(predictSession(*fit, f).loadTransient, 0.9 * 10000);
  // Without the measurement, no term.
  for (MemorySample &s : samples)
    s.loadPeakBytes.reset();
  fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit));
  EXPECT_FALSE(fit->loadPeak.has_value());
}

TEST(SessionLoad, FitRecoversTheCostOfASession) {
  SessionLoadModel truth;
  truth.perSessionSeconds = 2e-3;
  truth.perWeightByteSeconds = 2.5e-9;
  truth.perLargeWeightByteSeconds = 4e-9;
  truth.perNodeSeconds = 1e-4;
  truth.perSymbolicNodeSeconds = 2e-4;
  truth.perWeightTensorSeconds = 3e-5;
  std::vector<LoadSample> samples;
  // Bytes, bytes in large tensors, nodes, of them in a symbolic graph,
  // weight tensors.
  for (auto [bytes, large, nodes, symbolic, tensors] :
       std::vector<std::tuple<double, double, double, double, double>>{
           {1e5, 0, 5, 0, 2},
           {2e7, 0, 10, 0, 8},
           {1e6, 0, 300, 0, 600},
           {6e7, 0, 60, 60, 40},
           {5e5, 0, 100, 0, 0},
           {3e6, 6.7e7, 20, 0, 12},
           {0, 2e8, 6, 0, 3},
           {2e6, 0, 400, 400, 380},
           {1e5, 0, 180, 180, 300}}) {
    SessionLoadFeatures f{bytes, large, nodes, symbolic, tensors};
    samples.push_back({f, truth.seconds(f)});
  }
  // The first runs' extra time, per byte of arena, fitted apart.
  for (auto [i, s] : llvm::enumerate(samples)) {
    s.features.arenaBytes = (i + 1) * 4e6;
    s.firstRunExtraSeconds = 0.6e-9 * s.features.arenaBytes;
  }
  SessionLoadModel fit = fitSessionLoad(samples);
  EXPECT_NEAR(fit.perArenaByteSeconds, 0.6e-9, 1e-15);
  EXPECT_NEAR(fit.perSessionSeconds, truth.perSessionSeconds, 1e-9);
  EXPECT_NEAR(fit.perWeightByteSeconds, truth.perWeightByteSeconds, 1e-15);
  EXPECT_NEAR(fit.perLargeWeightByteSeconds, truth.perLargeWeightByteSeconds,
              1e-15);
  EXPECT_NEAR(fit.perNodeSeconds, truth.perNodeSeconds, 1e-10);
  EXPECT_NEAR(fit.perSymbolicNodeSeconds, truth.perSymbolicNodeSeconds, 1e-10);
  EXPECT_NEAR(fit.perWeightTensorSeconds, truth.perWeightTensorSeconds, 1e-10);
  EXPECT_EQ(fit.samples, samples.size());
}

TEST(RuntimeMemory, FitNeedsSixSessions) {
  RuntimeMemoryModel truth;
  std::vector<MemorySample> samples(5, sample(1e6, 0, 0, 0, 1e6, truth));
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_FALSE(static_cast<bool>(fit));
  EXPECT_EQ(llvm::toString(fit.takeError()),
            "the runtime's memory needs at least 6 measured sessions to fit; "
            "got 5");
}

TEST(CoRun, FitRecoversTheSlowdownOfEachTerm) {
  // Extra time = 0.9 x FLOP share + 0.3 x byte share + 0.6 x kernel share,
  // and 150 us a run handing it to the other thread and back: a small
  // model's relative slowdown is mostly that, which must not be read as
  // its kernels slowing.
  std::vector<CoRunSample> samples;
  for (std::array<double, 3> terms : {std::array<double, 3>{8e-3, 1e-3, 1e-3},
                                      {1e-3, 8e-3, 1e-3},
                                      {1e-4, 1e-4, 2e-3},
                                      {2e-3, 2e-3, 2e-3},
                                      {1e-4, 5e-5, 5e-5}}) {
    double total = terms[0] + terms[1] + terms[2];
    CoRunSample s;
    s.terms = terms;
    s.aloneSeconds = total * 1.1; // measured a little off the prediction
    s.pairSeconds =
        s.aloneSeconds *
            (1 + (0.9 * terms[0] + 0.3 * terms[1] + 0.6 * terms[2]) / total) +
        150e-6;
    samples.push_back(s);
  }
  llvm::Expected<CoRunModel> fit = fitCoRun(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_NEAR(fit->perFlop, 0.9, 1e-9);
  EXPECT_NEAR(fit->perByte, 0.3, 1e-9);
  EXPECT_NEAR(fit->perKernel, 0.6, 1e-9);
  EXPECT_NEAR(fit->perRunSeconds, 150e-6, 1e-12);
  EXPECT_EQ(fit->samples, 5u);
  // A kernel's slowdown weighs the terms by their share of its time.
  EXPECT_NEAR(fit->slowdown(1, 1, 0), 0.6, 1e-9);
}

TEST(CoRun, FitTrustsLongRunsOverShortOnes) {
  // Kernels slow by 0.1 x their FLOP share and 0.2 x their byte share,
  // and 200 us a run goes to the hand-off. Models of 2 to 20 ms are
  // measured so; three of 0.1 to 0.3 ms read 0.3 to 0.8 off (the spread
  // such short co-runs show from one calibration to the next).
  auto sample = [](double flopMs, double byteMs, double offBy) {
    CoRunSample s;
    s.terms = {flopMs * 1e-3, byteMs * 1e-3, 0};
    s.aloneSeconds = (flopMs + byteMs) * 1e-3;
    double share = 0.1 * flopMs / (flopMs + byteMs) +
                   0.2 * byteMs / (flopMs + byteMs) + offBy;
    s.pairSeconds = s.aloneSeconds * (1 + share) + 200e-6;
    return s;
  };
  std::vector<CoRunSample> samples = {
      sample(18, 2, 0),     sample(2, 8, 0),       sample(4, 4, 0),
      sample(1.5, 0.5, 0),  sample(0.5, 1.5, 0),   sample(0.1, 0, 0.8),
      sample(0, 0.2, -0.3), sample(0.3, 0.02, 0.5)};
  llvm::Expected<CoRunModel> fit = fitCoRun(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  // A CNN of 20 ms, nine tenths FLOPs, beside a second session of itself.
  EXPECT_NEAR(fit->slowdown(18e-3, 2e-3, 0), 0.11, 0.02);
  EXPECT_NEAR(fit->perFlop, 0.1, 0.03);
}

TEST(CoRun, FitNeedsFourModels) {
  std::vector<CoRunSample> samples(3);
  for (CoRunSample &s : samples) {
    s.terms = {1, 1, 1};
    s.aloneSeconds = 3;
    s.pairSeconds = 4;
  }
  llvm::Expected<CoRunModel> fit = fitCoRun(samples);
  ASSERT_FALSE(static_cast<bool>(fit));
  EXPECT_EQ(llvm::toString(fit.takeError()),
            "co-runs need at least 4 measured models to fit; got 3");
}

} // namespace

namespace {

/// An elementwise Add of n floats (two operands, one result) timed by
/// `truth`.
ProfiledNode add(int64_t n, const KernelModel &truth) {
  ProfiledNode k;
  k.op = "Add";
  k.inputs = {{{1, n}}, {{1, n}}};
  k.outputs = {{{1, n}}};
  KernelFeatures f = getKernelFeatures(k.op, k.inputs, k.outputs);
  k.seconds = truth.seconds(f.flops, f.bytes, f.groups);
  return k;
}

/// The model fitted to `kernels` for `kernelClass`.
KernelModel fitClass(const std::vector<ProfiledNode> &kernels,
                     llvm::StringRef kernelClass) {
  std::vector<KernelModelFit> fits;
  return fitKernelModels(kernels, 4, fits).at(kernelClass.str());
}

/// What model `m` says profiled kernel `k` takes.
double modelled(const KernelModel &m, const ProfiledNode &k) {
  KernelFeatures f = getKernelFeatures(k.op, k.inputs, k.outputs);
  return m.seconds(f.flops, f.bytes, f.groups, f.rows, f.weightBytes,
                   k.modelWeightBytes, f.stridedElements, k.runBytes,
                   f.weightRows);
}

/// An unblocked depthwise class: bytes, a dispatch, each group's GEMM and
/// each im2col row.
KernelModel depthwiseTruth() {
  KernelModel truth;
  truth.perByteSeconds = 20e-12;
  truth.perKernelSeconds = 3e-6;
  truth.perGroupSeconds = 50e-9;
  truth.perRowSeconds = 4e-9;
  return truth;
}

/// A class whose bytes beyond a 4 MiB cache cost 30 ps more each.
KernelModel streamingPastTheCache() {
  KernelModel truth;
  truth.perByteSeconds = 20e-12;
  truth.perKernelSeconds = 1e-6;
  truth.perStreamedByteSeconds = 30e-12;
  truth.cacheBytes = 4 * 1024 * 1024;
  return truth;
}

} // namespace

TEST(KernelModels, FitFindsTheBytesStreamedPastTheCache) {
  KernelModel truth = streamingPastTheCache();
  std::vector<ProfiledNode> kernels;
  // Eight kernels on each side of the cache (an Add of n floats moves
  // 12 n bytes).
  for (int64_t n :
       {1024, 4096, 16384, 32768, 65536, 131072, 200000, 262144, 400000, 600000,
        1000000, 1500000, 2000000, 3000000, 4000000, 6000000})
    kernels.push_back(add(n, truth));
  KernelModel m = fitClass(kernels, "elementwise");
  EXPECT_EQ(m.cacheBytes, truth.cacheBytes);
  EXPECT_GT(m.perStreamedByteSeconds, 0);
  // An Add's FLOPs are proportional to its bytes, so the fit may put the
  // time per byte on either: its times are what it must recover, also for
  // a kernel eight times larger than any it saw.
  for (int64_t n : {4096, 300000, 3000000, 32000000}) {
    ProfiledNode k = add(n, truth);
    EXPECT_NEAR(modelled(m, k), k.seconds, 1e-6 * k.seconds) << n;
  }
}

TEST(KernelModels, ACacheTermNeedsEightKernelsBeyondTheCache) {
  // Three kernels beyond the cache (as one calibration model's layers
  // are) do not earn a term of their own: the fit keeps one rate per byte.
  KernelModel truth = streamingPastTheCache();
  std::vector<ProfiledNode> kernels;
  for (int64_t n : {1024, 4096, 16384, 32768, 65536, 131072, 200000, 262144,
                    300000, 1000000, 2000000, 4000000})
    kernels.push_back(add(n, truth));
  KernelModel m = fitClass(kernels, "elementwise");
  EXPECT_EQ(m.perStreamedByteSeconds, 0);
  EXPECT_EQ(m.cacheBytes, 0);
}

TEST(KernelModels, NoCacheTermWhereEveryByteCostsTheSame) {
  KernelModel truth;
  truth.perByteSeconds = 25e-12;
  truth.perKernelSeconds = 2e-6;
  std::vector<ProfiledNode> kernels;
  for (int64_t n :
       {1024, 16384, 65536, 262144, 1000000, 2000000, 4000000, 8000000})
    kernels.push_back(add(n, truth));
  KernelModel m = fitClass(kernels, "elementwise");
  EXPECT_EQ(m.perStreamedByteSeconds, 0);
  EXPECT_EQ(m.streamedBytes(1e9), 0);
  ProfiledNode k = add(32000000, truth);
  EXPECT_NEAR(modelled(m, k), k.seconds, 1e-6 * k.seconds);
}

TEST(KernelModels, BlockedConvolutionFlopsCountTheTapsInsideTheInput) {
  // MLAS's NCHWc kernels skip the padding. A 5x5 depthwise filter over a
  // map 2 rows high (padding 2): in each output row 2 of the 5 filter rows
  // fall inside the input; along the 96 columns all but the edges' 6 of
  // 480 taps do.
  KernelFeatures short_ = getKernelFeatures(
      "com.microsoft.nchwc:Conv",
      {{{1, 200, 2, 96}}, {{200, 1, 5, 5}}, {{200}}}, {{{1, 200, 2, 96}}});
  EXPECT_EQ(short_.kernelClass, "nchwc_conv_depthwise");
  EXPECT_DOUBLE_EQ(short_.flops,
                   2.0 * 200 * 2 * 96 * 25 * (4.0 / 10) * (474.0 / 480));
  // Stride 2 (56 to 28), one row and one column of padding: the output
  // row and column at that edge lose one tap of 3.
  KernelFeatures strided = getKernelFeatures(
      "com.microsoft.nchwc:Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}},
      {{{1, 64, 28, 28}}});
  EXPECT_EQ(strided.kernelClass, "nchwc_conv");
  EXPECT_DOUBLE_EQ(strided.flops,
                   2.0 * 64 * 28 * 28 * 64 * 9 * (83.0 / 84) * (83.0 / 84));
}

TEST(KernelModels, BlockedConvolutionsPadTheirChannelsToTheBlock) {
  using Dims = std::vector<int64_t>;
  // The dims of every operand, then of the result, padded at block 16.
  auto padded = [](std::vector<KernelTensor> in, KernelTensor out) {
    std::vector<KernelTensor> outs = {out};
    padNchwcConvChannels(in, outs, 16);
    std::vector<Dims> dims;
    for (const KernelTensor &t : in)
      dims.push_back(t.dims);
    dims.push_back(outs[0].dims);
    return dims;
  };
  // ShuffleNet's 116 channels run as 128 in blocks of 16 (ONNX Runtime's
  // profile says [1,128,14,14]); the bias and a fused Sum's operand too.
  EXPECT_EQ(
      padded(
          {{{1, 116, 14, 14}}, {{116, 116, 1, 1}}, {{116}}, {{1, 116, 14, 14}}},
          {{1, 116, 14, 14}}),
      (std::vector<Dims>{{1, 128, 14, 14},
                         {128, 128, 1, 1},
                         {128},
                         {1, 128, 14, 14},
                         {1, 128, 14, 14}}));
  // A depthwise filter keeps its one channel per group, and its input is
  // blocked however few its channels.
  EXPECT_EQ(
      padded({{{1, 116, 28, 28}}, {{116, 1, 3, 3}}}, {{1, 116, 14, 14}}),
      (std::vector<Dims>{{1, 128, 28, 28}, {128, 1, 3, 3}, {1, 128, 14, 14}}));
  EXPECT_EQ(
      padded({{{1, 8, 28, 28}}, {{8, 1, 3, 3}}}, {{1, 8, 28, 28}}),
      (std::vector<Dims>{{1, 16, 28, 28}, {16, 1, 3, 3}, {1, 16, 28, 28}}));
  // The 3-channel image stays NCHW; only the output is blocked.
  EXPECT_EQ(
      padded({{{1, 3, 224, 224}}, {{24, 3, 3, 3}}}, {{1, 24, 112, 112}}),
      (std::vector<Dims>{{1, 3, 224, 224}, {32, 3, 3, 3}, {1, 32, 112, 112}}));
}

TEST(KernelModels, AnActivationOtherThanReluIsASecondPassOverTheOutput) {
  std::vector<KernelTensor> out = {{{1, 32, 112, 112}}};
  OrtKernel conv;
  conv.op = "com.microsoft.nchwc:Conv";
  conv.activation = "Clip";
  std::optional<KernelFeatures> pass = getActivationPassFeatures(conv, out);
  ASSERT_TRUE(pass.has_value());
  EXPECT_EQ(pass->kernelClass, "elementwise");
  // Read and written once: the output, 32 x 112 x 112 floats.
  EXPECT_DOUBLE_EQ(pass->bytes, 2.0 * 4 * 32 * 112 * 112);
  EXPECT_DOUBLE_EQ(pass->flops, 32.0 * 112 * 112);
  conv.activation = "Sigmoid";
  EXPECT_EQ(getActivationPassFeatures(conv, out)->kernelClass,
            "elementwise_math");
  // ReLU is applied as the kernel stores its output; an unblocked
  // convolution's activation is timed with it (the calibration's chains).
  conv.activation = "Relu";
  EXPECT_FALSE(getActivationPassFeatures(conv, out).has_value());
  conv.activation = "";
  EXPECT_FALSE(getActivationPassFeatures(conv, out).has_value());
  conv.op = "com.microsoft:FusedConv";
  conv.activation = "Clip";
  EXPECT_FALSE(getActivationPassFeatures(conv, out).has_value());
}

TEST(KernelModels, ViewsCopyNoBytes) {
  // The CPU provider's Reshape aliases its input; Concat copies both.
  KernelFeatures view = getKernelFeatures(
      "Reshape", {{{1, 116, 28, 28}}, {{4}, 8}}, {{{1, 2, 58, 28, 28}}});
  EXPECT_EQ(view.kernelClass, "data_movement");
  EXPECT_EQ(view.bytes, 0);
  KernelFeatures concat = getKernelFeatures(
      "Concat", {{{1, 58, 28, 28}}, {{1, 58, 28, 28}}}, {{{1, 116, 28, 28}}});
  EXPECT_EQ(concat.kernelClass, "data_movement");
  EXPECT_DOUBLE_EQ(concat.bytes, 2.0 * 4 * 116 * 28 * 28);
}

TEST(KernelModels, UnblockedConvolutionsRunEveryTapInWholeStrips) {
  // Left in NCHW, the CPU provider's convolutions are MLAS's im2col and
  // SGEMM: every tap, the padding's included, over the output positions
  // in strips of 16. The same strided convolution: 784 positions are 49
  // whole strips.
  KernelFeatures strided = getKernelFeatures(
      "Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}}, {{{1, 64, 28, 28}}});
  EXPECT_EQ(strided.kernelClass, "conv");
  EXPECT_DOUBLE_EQ(strided.flops, 2.0 * 64 * 784 * 64 * 9);
  // x86's MLAS expands a depthwise convolution channel by channel: im2col's
  // buffer of 2 x 96 = 192 positions of all 25 taps counts as bytes, and
  // its FLOPs (one filter row by that buffer, in proportion to it) are not
  // counted apart. The SGEMM reads every tap; im2col copies those inside
  // the input (4 of 10 rows under the filter, 474 of 480 columns) and
  // writes the padding's as zeros, reading nothing.
  KernelFeatures depthwise =
      getKernelFeatures("Conv", {{{1, 200, 2, 96}}, {{200, 1, 5, 5}}, {{200}}},
                        {{{1, 200, 2, 96}}});
  EXPECT_EQ(depthwise.kernelClass, "conv_depthwise");
  EXPECT_EQ(depthwise.flops, 0);
  EXPECT_DOUBLE_EQ(depthwise.bytes,
                   4.0 * (200 * 192 + 200 * 25 + 200 + 200 * 192) +
                       (1 + 0.4 * 474 / 480) * 192 * 25 * 200 * 4);
  EXPECT_EQ(depthwise.groups, 200);
  // im2col copies a row per channel, tap and output row: 200 x 25 x 2.
  EXPECT_DOUBLE_EQ(depthwise.rows, 200.0 * 25 * 2);
  // The strided dense one: 64 channels x 9 taps x 28 output rows.
  EXPECT_DOUBLE_EQ(strided.rows, 64.0 * 9 * 28);
  // A pointwise convolution that keeps its size goes straight to the
  // SGEMM, a class of its own: 7x7 = 49 positions cost 64, and no im2col.
  KernelFeatures pointwise = getKernelFeatures(
      "Conv", {{{1, 64, 7, 7}}, {{32, 64, 1, 1}}}, {{{1, 32, 7, 7}}});
  EXPECT_EQ(pointwise.kernelClass, "conv_pointwise");
  EXPECT_DOUBLE_EQ(pointwise.flops, 2.0 * 32 * 64 * 64);
  EXPECT_DOUBLE_EQ(pointwise.bytes, 4.0 * (64 * 49 + 32 * 64 + 32 * 49));
  EXPECT_EQ(pointwise.rows, 0);
  // MLAS's NCHWc kernels copy nothing.
  KernelFeatures blocked = getKernelFeatures(
      "com.microsoft.nchwc:Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}},
      {{{1, 64, 28, 28}}});
  EXPECT_EQ(blocked.rows, 0);
  EXPECT_EQ(blocked.stridedElements, 0);
  // A dense filter's bytes are weights the kernel reads (from memory
  // where the model outgrows the caches); a depthwise filter, a few
  // kilobytes in any model, is not timed as such.
  EXPECT_DOUBLE_EQ(strided.weightBytes, 4.0 * 64 * 64 * 9);
  EXPECT_EQ(depthwise.weightBytes, 0);
  KernelFeatures blockedDepthwise = getKernelFeatures(
      "com.microsoft.nchwc:Conv", {{{1, 64, 56, 56}}, {{64, 1, 3, 3}}},
      {{{1, 64, 56, 56}}});
  EXPECT_DOUBLE_EQ(blockedDepthwise.weightBytes, 4.0 * 64 * 9);
}

TEST(KernelModels, TransposedConvolutionIsSgemmThenCol2im) {
  // 24 channels at 160x160 up to 320x320 (2x2, stride 2): 24 x 96 filter
  // taps x 25600 input positions of multiply-adds, and a column buffer of
  // 96 x 25600 written, read back and added in element by element.
  KernelFeatures up = getKernelFeatures("ConvTranspose",
                                        {{{1, 24, 160, 160}}, {{24, 24, 2, 2}}},
                                        {{{1, 24, 320, 320}}});
  EXPECT_EQ(up.kernelClass, "conv");
  EXPECT_DOUBLE_EQ(up.flops, 2.0 * 24 * 96 * 25600);
  EXPECT_DOUBLE_EQ(up.stridedElements, 96.0 * 25600);
  EXPECT_DOUBLE_EQ(up.weightBytes, 4.0 * 24 * 24 * 4);
  EXPECT_DOUBLE_EQ(up.bytes, 4.0 * (24 * 25600 + 24 * 24 * 4 + 24 * 320 * 320 +
                                    2 * 96 * 25600));
  // Grouped (depthwise) upsampling: each group its own column buffer.
  KernelFeatures grouped = getKernelFeatures(
      "ConvTranspose", {{{1, 8, 10, 10}}, {{8, 1, 2, 2}}}, {{{1, 8, 20, 20}}});
  EXPECT_DOUBLE_EQ(grouped.flops, 2.0 * 8 * 4 * 100);
  EXPECT_DOUBLE_EQ(grouped.stridedElements, 8.0 * 4 * 100);
}

TEST(KernelModels, DropoutCopiesWhereViewsDoNot) {
  KernelFeatures dropout =
      getKernelFeatures("Dropout", {{{1, 3136, 96}}}, {{{1, 3136, 96}}});
  EXPECT_DOUBLE_EQ(dropout.bytes, 2 * 4.0 * 3136 * 96);
  KernelFeatures identity =
      getKernelFeatures("Identity", {{{1, 3136, 96}}}, {{{1, 3136, 96}}});
  EXPECT_EQ(identity.bytes, 0);
}

TEST(KernelModels, BatchedProductsAreOneSgemmEach) {
  // Windowed attention's scores: 64 windows x 3 heads of 49x32 by 32x49,
  // 192 SGEMMs.
  KernelFeatures scores = getKernelFeatures(
      "MatMul", {{{64, 3, 49, 32}}, {{64, 3, 32, 49}}}, {{{64, 3, 49, 49}}});
  EXPECT_EQ(scores.kernelClass, "matmul");
  EXPECT_DOUBLE_EQ(scores.groups, 192);
  EXPECT_DOUBLE_EQ(scores.flops, 2.0 * 192 * 49 * 49 * 32);
  // A batched A times a 2-D B (a linear layer) is one SGEMM over A's rows.
  KernelFeatures linear = getKernelFeatures(
      "MatMul", {{{1, 3136, 96}}, {{96, 288}, 4, true}}, {{{1, 3136, 288}}});
  EXPECT_EQ(linear.groups, 0);
  // ONNX Runtime Web's GPU programs have no such loop.
  EXPECT_EQ(getKernelFeatures("MatMul", {{{64, 3, 49, 32}}, {{64, 3, 32, 49}}},
                              {{{64, 3, 49, 49}}}, KernelBackend::WebGpu)
                .groups,
            0);
}

TEST(KernelModels, StridedIm2colCopiesElementByElement) {
  // Stride 2 along the last dim: every element of the expanded input,
  // 784 positions x 64 channels x 9 taps, is copied on its own.
  KernelFeatures strided = getKernelFeatures(
      "Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}}, {{{1, 64, 28, 28}}});
  EXPECT_DOUBLE_EQ(strided.stridedElements, 784.0 * 64 * 9);
  // A depthwise one: each of its 32 groups expands 1 channel x 25 taps
  // over 56 x 56 positions.
  KernelFeatures depthwise = getKernelFeatures(
      "Conv", {{{1, 32, 112, 112}}, {{32, 1, 5, 5}}}, {{{1, 32, 56, 56}}});
  EXPECT_DOUBLE_EQ(depthwise.stridedElements, 32.0 * 25 * 56 * 56);
  // A 1x1 convolution of stride 2 expands too (no direct SGEMM).
  KernelFeatures downsample = getKernelFeatures(
      "Conv", {{{1, 64, 56, 56}}, {{128, 64, 1, 1}}}, {{{1, 128, 28, 28}}});
  EXPECT_EQ(downsample.kernelClass, "conv");
  EXPECT_DOUBLE_EQ(downsample.stridedElements, 784.0 * 64);
  // Unit strides copy four at a time; so do the wasm build's and the
  // GPU's kernels not at all.
  KernelFeatures unit = getKernelFeatures(
      "Conv", {{{1, 64, 28, 28}}, {{64, 64, 3, 3}}}, {{{1, 64, 28, 28}}});
  EXPECT_EQ(unit.stridedElements, 0);
  for (KernelBackend backend : {KernelBackend::Wasm, KernelBackend::WebGpu})
    EXPECT_EQ(getKernelFeatures("Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}},
                                {{{1, 64, 28, 28}}}, backend)
                  .stridedElements,
              0);
}

TEST(KernelModels, FitFindsTheCostOfEachStridedElement) {
  // Depthwise convolutions with and without a stride: the strided ones
  // pay 0.3 ns more per element of their expanded input, which the fit
  // must tell from the bytes and rows they share with the others.
  KernelModel truth = depthwiseTruth();
  truth.perStridedElementSeconds = 0.3e-9;
  std::vector<ProfiledNode> kernels;
  for (auto [c, hw] : std::vector<std::array<int64_t, 2>>{
           {32, 112}, {96, 56}, {144, 28}, {240, 14}, {576, 8}, {72, 56}})
    for (int64_t k : {3, 5})
      for (int64_t stride : {1, 2}) {
        ProfiledNode n;
        n.op = "Conv";
        n.inputs = {{{1, c, hw, hw}}, {{c, 1, k, k}}};
        n.outputs = {{{1, c, hw / stride, hw / stride}}};
        KernelFeatures f = getKernelFeatures(n.op, n.inputs, n.outputs);
        n.seconds = truth.seconds(f.flops, f.bytes, f.groups, f.rows, 0, 0,
                                  f.stridedElements);
        kernels.push_back(n);
      }
  KernelModel m = fitClass(kernels, "conv_depthwise");
  EXPECT_NEAR(m.perStridedElementSeconds, truth.perStridedElementSeconds,
              1e-3 * truth.perStridedElementSeconds);
  for (const ProfiledNode &k : kernels)
    EXPECT_NEAR(modelled(m, k), k.seconds, 1e-6 * k.seconds);
  // Three strided kernels are too few to fit the term: none.
  std::vector<ProfiledNode> few;
  int stridedKept = 0;
  for (const ProfiledNode &k : kernels) {
    bool isStrided = k.outputs[0].dims[2] != k.inputs[0].dims[2];
    if (!isStrided || stridedKept++ < 3)
      few.push_back(k);
  }
  ASSERT_EQ(few.size(), 12u + 3u);
  EXPECT_EQ(fitClass(few, "conv_depthwise").perStridedElementSeconds, 0);
}

/// Depthwise convolutions over C x H x W maps, a 3x3 and a 5x5 filter
/// each, appended to `kernels`, timed as `truth` says.
static void addDepthwise(std::vector<ProfiledNode> &kernels,
                         const KernelModel &truth,
                         llvm::ArrayRef<std::array<int64_t, 3>> maps) {
  for (auto [c, h, w] : maps)
    for (int64_t k : {3, 5}) {
      ProfiledNode n;
      n.op = "Conv";
      n.inputs = {{{1, c, h, w}}, {{c, 1, k, k}}};
      n.outputs = {{{1, c, h, w}}};
      KernelFeatures f = getKernelFeatures(n.op, n.inputs, n.outputs);
      n.seconds = truth.seconds(f.flops, f.bytes, f.groups, f.rows);
      kernels.push_back(n);
    }
}

TEST(KernelModels, FitFindsTheCostOfEachIm2colRow) {
  // Depthwise convolutions of as many channels, taps and positions per
  // channel over maps of different shapes: square ones copy a row per
  // few elements, wide and short ones a row per many. The fit must tell
  // the rows' time from the bytes' and recover both.
  KernelModel truth = depthwiseTruth();
  std::vector<ProfiledNode> kernels;
  addDepthwise(kernels, truth,
               {{32, 112, 112},
                {96, 56, 56},
                {144, 28, 28},
                {240, 14, 14},
                {576, 7, 7},
                {200, 2, 96},
                {88, 3, 96},
                {40, 6, 96},
                {64, 1, 200}});
  KernelModel m = fitClass(kernels, "conv_depthwise");
  EXPECT_NEAR(m.perRowSeconds, truth.perRowSeconds, 1e-3 * truth.perRowSeconds);
  for (const ProfiledNode &k : kernels)
    EXPECT_NEAR(modelled(m, k), k.seconds, 1e-6 * k.seconds);
}

TEST(KernelModels, AClassOfFewKernelsIsFittedWithItsThreeTermsAlone) {
  // Depthwise convolutions at five shapes, two filter sizes each, every
  // kernel profiled twice: 10 distinct kernels, too few for the terms per
  // group and per im2col row, which stay 0.
  KernelModel truth = depthwiseTruth();
  std::vector<ProfiledNode> kernels;
  for (int twice = 0; twice < 2; ++twice)
    addDepthwise(kernels, truth,
                 {{32, 112, 112},
                  {96, 56, 56},
                  {144, 28, 28},
                  {200, 2, 96},
                  {88, 3, 96}});
  KernelModel m = fitClass(kernels, "conv_depthwise");
  EXPECT_EQ(m.perGroupSeconds, 0);
  EXPECT_EQ(m.perRowSeconds, 0);
  EXPECT_GT(m.perByteSeconds + m.perFlopSeconds, 0);
  // A sixth shape makes 12: the further terms are fitted again, and the
  // model recovers the kernels' times.
  addDepthwise(kernels, truth, {{40, 6, 96}});
  m = fitClass(kernels, "conv_depthwise");
  EXPECT_NEAR(m.perRowSeconds, truth.perRowSeconds, 1e-3 * truth.perRowSeconds);
  for (const ProfiledNode &k : kernels)
    EXPECT_NEAR(modelled(m, k), k.seconds, 1e-6 * k.seconds);
}

TEST(KernelModels, WasmConvolutionsRunWholeStripsOfEveryTap) {
  // In wasm, MLAS's im2col multiplies the padding's taps too, and its
  // SGEMM packs the output positions in strips of 16: 7x7 = 49 positions
  // cost 64.
  std::vector<KernelTensor> in = {{{1, 512, 7, 7}}, {{512, 512, 3, 3}}};
  std::vector<KernelTensor> out = {{{1, 512, 7, 7}}};
  KernelFeatures wasm = getKernelFeatures("Conv", in, out, KernelBackend::Wasm);
  EXPECT_EQ(wasm.kernelClass, "conv");
  EXPECT_DOUBLE_EQ(wasm.flops, 2.0 * 512 * 64 * 512 * 9);
  // The CPU provider's unblocked convolutions are counted alike.
  EXPECT_DOUBLE_EQ(getKernelFeatures("Conv", in, out).flops, wasm.flops);
  // A map of 28x28 = 784 positions is 49 whole strips; a grouped
  // convolution's strips are per group (its filter's channels).
  EXPECT_DOUBLE_EQ(getKernelFeatures("Conv",
                                     {{{1, 64, 28, 28}}, {{64, 16, 3, 3}}},
                                     {{{1, 64, 28, 28}}}, KernelBackend::Wasm)
                       .flops,
                   2.0 * 64 * 784 * 16 * 9);
  // Wasm's depthwise convolutions keep the count over the taps inside the
  // input (a 7x7 map under a 3x3 filter: 19 of 21 per dim); the CPU
  // provider's are timed by their im2col bytes.
  std::vector<KernelTensor> dw = {{{1, 32, 7, 7}}, {{32, 1, 3, 3}}};
  EXPECT_DOUBLE_EQ(
      getKernelFeatures("Conv", dw, {{{1, 32, 7, 7}}}, KernelBackend::Wasm)
          .flops,
      2.0 * 32 * 49 * 9 * (19.0 / 21) * (19.0 / 21));
  EXPECT_EQ(getKernelFeatures("Conv", dw, {{{1, 32, 7, 7}}}).flops, 0);
}

TEST(KernelModels, BatchNormalizationIsElementwise) {
  std::vector<KernelTensor> c = {{{64}}};
  KernelFeatures f = getKernelFeatures(
      "BatchNormalization", {{{1, 64, 56, 56}}, c[0], c[0], c[0], c[0]},
      {{{1, 64, 56, 56}}});
  EXPECT_EQ(f.kernelClass, "elementwise");
  EXPECT_EQ(f.flops, 64 * 56 * 56);
}

TEST(KernelModels, TranscendentalsAndTransposesHaveClassesOfTheirOwn) {
  std::vector<KernelTensor> t = {{{1, 64, 56, 56}}};
  EXPECT_EQ(getKernelFeatures("Sigmoid", t, t).kernelClass, "elementwise_math");
  EXPECT_EQ(getKernelFeatures("QuickGelu", t, t).kernelClass,
            "elementwise_math");
  EXPECT_EQ(getKernelFeatures("Mul", {t[0], t[0]}, t).kernelClass,
            "elementwise");
  EXPECT_EQ(getKernelFeatures("Transpose", t, t).kernelClass, "transpose");
  EXPECT_EQ(getKernelFeatures("Concat", {t[0], t[0]}, t).kernelClass,
            "data_movement");
  // A target without those classes times them as it did before.
  Target target;
  target.kernelModels["elementwise"].perKernelSeconds = 1e-6;
  target.kernelModels["data_movement"].perKernelSeconds = 2e-6;
  target.kernelModels["default"].perKernelSeconds = 3e-6;
  target.kernelModels["conv"].perKernelSeconds = 4e-6;
  EXPECT_EQ(findKernelModel(target, "elementwise_math")->perKernelSeconds,
            1e-6);
  EXPECT_EQ(findKernelModel(target, "conv_pointwise")->perKernelSeconds, 4e-6);
  EXPECT_EQ(findKernelModel(target, "transpose")->perKernelSeconds, 2e-6);
  EXPECT_EQ(findKernelModel(target, "pool")->perKernelSeconds, 3e-6);
}

TEST(KernelModels, WebGpuProgramsCountWorkgroupsAndTileSteps) {
  auto features = [](llvm::StringRef op, std::vector<KernelTensor> in,
                     std::vector<KernelTensor> out) {
    return getKernelFeatures(op, in, out, KernelBackend::WebGpu);
  };
  // conv2d_mm, vec4: M = 56x56 positions, N = 64 channels, K = 3x3x64
  // taps: 2 x 98 workgroups of 32x32 results, ceil(576 / 32) = 18 steps.
  KernelFeatures conv = features("Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}},
                                 {{{1, 64, 56, 56}}});
  EXPECT_EQ(conv.kernelClass, "gpu_matmul");
  EXPECT_EQ(conv.workgroups, 196);
  EXPECT_EQ(conv.tileSteps, 196 * 18);
  EXPECT_EQ(conv.flops, 2.0 * 196 * 18 * 32 * 32 * 32);
  // Three input channels are read three at a time: K = 27 in steps of 24.
  KernelFeatures stem = features("Conv", {{{1, 3, 224, 224}}, {{16, 3, 3, 3}}},
                                 {{{1, 16, 112, 112}}});
  EXPECT_EQ(stem.kernelClass, "gpu_matmul");
  EXPECT_EQ(stem.workgroups, 1 * 392);
  EXPECT_EQ(stem.tileSteps, 392 * 2);
  // Neither: one channel per read, K in steps of 8.
  KernelFeatures odd = features("Conv", {{{1, 58, 28, 28}}, {{116, 58, 3, 3}}},
                                {{{1, 116, 14, 14}}});
  EXPECT_EQ(odd.kernelClass, "gpu_matmul_scalar");
  EXPECT_EQ(odd.tileSteps, odd.workgroups * std::ceil(522.0 / 8));
  // A 1x1 convolution that keeps its size is a matrix product, K = 64.
  KernelFeatures pointwise = features(
      "Conv", {{{1, 64, 28, 28}}, {{128, 64, 1, 1}}}, {{{1, 128, 28, 28}}});
  EXPECT_EQ(pointwise.workgroups, 4 * 25);
  EXPECT_EQ(pointwise.tileSteps, 4 * 25 * 2);
  // A depthwise convolution is a per-output program: no workgroup terms.
  KernelFeatures depthwise = features(
      "Conv", {{{1, 32, 56, 56}}, {{32, 1, 3, 3}}}, {{{1, 32, 56, 56}}});
  EXPECT_EQ(depthwise.kernelClass, "conv_depthwise");
  EXPECT_EQ(depthwise.workgroups, 0);
  // A batch of single rows against one matrix is one product of 64 rows.
  KernelFeatures rows =
      features("MatMul", {{{64, 1, 256}}, {{256, 768}}}, {{{64, 1, 768}}});
  EXPECT_EQ(rows.workgroups, 24 * 2);
  EXPECT_EQ(rows.tileSteps, 24 * 2 * 8);
  // Few rows: 8-row tiles.
  KernelFeatures few =
      features("MatMul", {{{1, 4, 256}}, {{256, 64}}}, {{{1, 4, 64}}});
  EXPECT_EQ(few.workgroups, 2);
  EXPECT_EQ(few.flops, 2.0 * 2 * 8 * 8 * 32 * 32);
  // GemmShared: 16x16 tiles, K in steps of 16.
  KernelFeatures gemm =
      features("Gemm", {{{50, 768}}, {{768, 3072}}, {{3072}}}, {{{50, 3072}}});
  EXPECT_EQ(gemm.kernelClass, "gpu_gemm");
  EXPECT_EQ(gemm.workgroups, 192 * 4);
  EXPECT_EQ(gemm.tileSteps, 192 * 4 * 48);
  // NCHW to NHWC is a 2-D transpose of [C, HW] in 16x16 tiles; so is the
  // way back, and a layout Transpose Chorus inserts (its value's shape on
  // both sides).
  KernelFeatures toNhwc =
      features("Transpose", {{{1, 3, 224, 224}}}, {{{1, 224, 224, 3}}});
  EXPECT_EQ(toNhwc.kernelClass, "gpu_transpose");
  EXPECT_EQ(toNhwc.workgroups, 1 * 3136);
  EXPECT_EQ(features("Transpose", {{{1, 28, 28, 40}}}, {{{1, 40, 28, 28}}})
                .workgroups,
            3 * 49);
  EXPECT_EQ(features("Transpose", {{{1, 40, 28, 28}}}, {{{1, 40, 28, 28}}})
                .workgroups,
            3 * 49);
  // Moving an axis of 1 is a copy; a 3-D permutation runs per element.
  EXPECT_EQ(
      features("Transpose", {{{1, 1, 1, 960}}}, {{{1, 960, 1, 1}}}).kernelClass,
      "transpose");
  EXPECT_EQ(
      features("Transpose", {{{2, 3, 4, 5}}}, {{{3, 5, 2, 4}}}).kernelClass,
      "transpose");
  // Softmax reduces each row in a workgroup.
  EXPECT_EQ(
      features("Softmax", {{{1, 12, 50, 50}}}, {{{1, 12, 50, 50}}}).workgroups,
      600);
  // On the CPU the same kernels have no workgroups.
  EXPECT_EQ(getKernelFeatures("Conv", {{{1, 64, 56, 56}}, {{64, 64, 3, 3}}},
                              {{{1, 64, 56, 56}}})
                .workgroups,
            0);
}

namespace {

/// A fully connected layer at batch 1 (ONNX Runtime's Gemm with its
/// weights pre-packed: the profile lists the input and the bias) of a
/// model whose weights take `modelBytes`, timed by `truth`.
ProfiledNode matvec(int64_t in, int64_t out, double modelBytes,
                    const KernelModel &truth) {
  ProfiledNode k;
  k.op = "Gemm";
  k.inputs = {{{1, in}}, {{out}}};
  k.outputs = {{{1, out}}};
  k.modelWeightBytes = modelBytes;
  KernelFeatures f = getKernelFeatures(k.op, k.inputs, k.outputs);
  k.seconds = truth.seconds(f.flops, f.bytes, f.groups, f.rows, f.weightBytes,
                            k.modelWeightBytes);
  return k;
}

constexpr double kMB = 1e6;

/// Fully connected layers that read their weights 35 ps per byte slower
/// in models of more than 128 MiB of weights.
KernelModel coldAbove128MiB() {
  KernelModel truth;
  truth.perByteSeconds = 40e-12;
  truth.perKernelSeconds = 2e-6;
  truth.perColdWeightByteSeconds = 35e-12;
  truth.coldWeightsAbove = 128 * 1024 * 1024;
  return truth;
}

/// Three fully connected layers of each model size, timed by `truth`.
std::vector<ProfiledNode> layersOfModels(std::initializer_list<double> sizes,
                                         const KernelModel &truth) {
  std::vector<ProfiledNode> kernels;
  for (double model : sizes)
    for (auto [in, out] :
         {std::pair<int64_t, int64_t>{4096, 4096}, {1024, 4096}, {2048, 1000}})
      kernels.push_back(matvec(in, out, model, truth));
  return kernels;
}

} // namespace

TEST(KernelModels, WeightsAreTheFilterAndThePackedMatrix) {
  KernelFeatures conv =
      getKernelFeatures("Conv", {{{1, 64, 56, 56}}, {{128, 64, 3, 3}}, {{128}}},
                        {{{1, 128, 56, 56}}});
  EXPECT_EQ(conv.weightBytes, (128 * 64 * 9 + 128) * 4);
  // A profiled Gemm lists no pre-packed B: K x N of it.
  EXPECT_EQ(getKernelFeatures("Gemm", {{{1, 1024}}, {{4096}}}, {{{1, 4096}}})
                .weightBytes,
            1024 * 4096 * 4);
  // Where Chorus predicts, a B that is a weight says so; one computed by
  // the model (attention's) is no weight.
  KernelTensor b{{64, 50}};
  EXPECT_EQ(
      getKernelFeatures("MatMul", {{{50, 64}}, b}, {{{50, 50}}}).weightBytes,
      0);
  b.constant = true;
  EXPECT_EQ(
      getKernelFeatures("MatMul", {{{50, 64}}, b}, {{{50, 50}}}).weightBytes,
      64 * 50 * 4);
}

TEST(KernelModels, FitFindsWeightsThatOutgrowTheCachesBetweenRuns) {
  KernelModel truth = coldAbove128MiB();
  KernelModel m =
      fitClass(layersOfModels({17 * kMB, 50 * kMB, 67 * kMB, 75 * kMB,
                               110 * kMB, 201 * kMB, 226 * kMB, 300 * kMB},
                              truth),
               "matvec");
  EXPECT_GT(m.perColdWeightByteSeconds, 0);
  EXPECT_GE(m.coldWeightsAbove, 110 * kMB);
  EXPECT_LT(m.coldWeightsAbove, 201 * kMB);
  // A layer of a model that fits and of one that does not, at sizes the
  // fit never saw.
  for (double model : {30 * kMB, 500 * kMB}) {
    ProfiledNode k = matvec(9216, 4096, model, truth);
    EXPECT_NEAR(modelled(m, k), k.seconds, 1e-6 * k.seconds) << model;
  }
}

TEST(KernelModels, AGivenCacheSizeIsTheOneTheFitUses) {
  std::vector<ProfiledNode> kernels =
      layersOfModels({17 * kMB, 50 * kMB, 75 * kMB, 110 * kMB, 201 * kMB,
                      226 * kMB, 300 * kMB},
                     coldAbove128MiB());
  // As the fits at other thread counts take the one-thread fit's size.
  std::vector<KernelModelFit> fits;
  KernelModel m =
      fitKernelModels(kernels, 4, fits, 64 * 1024 * 1024).at("matvec");
  EXPECT_EQ(m.coldWeightsAbove, 64 * 1024 * 1024);
  fits.clear();
  m = fitKernelModels(kernels, 4, fits, 0.0).at("matvec");
  EXPECT_EQ(m.perColdWeightByteSeconds, 0);
}

TEST(KernelModels, NoColdWeightTermWhereEveryModelReadsItsWeightsAlike) {
  KernelModel truth = coldAbove128MiB();
  truth.perColdWeightByteSeconds = 0;
  KernelModel m = fitClass(
      layersOfModels({17 * kMB, 67 * kMB, 110 * kMB, 201 * kMB, 300 * kMB},
                     truth),
      "matvec");
  EXPECT_EQ(m.perColdWeightByteSeconds, 0);
  EXPECT_EQ(m.coldWeightSeconds(1e9, 1e12), 0);
}

namespace {

/// A pointwise convolution of `in` to `out` channels over a map of `hw` x
/// `hw`, in a run that touches `runBytes`, timed by `truth` as a
/// profile would give it.
ProfiledNode pointwise(int64_t in, int64_t out, int64_t hw, double runBytes,
                       const KernelModel &truth) {
  ProfiledNode k;
  k.op = "Conv";
  k.inputs = {{{1, in, hw, hw}}, {{out, in, 1, 1}}, {{out}}};
  k.outputs = {{{1, out, hw, hw}}};
  k.runBytes = runBytes;
  KernelFeatures f = getKernelFeatures(k.op, k.inputs, k.outputs);
  f.runBytes = runBytes;
  std::array<double, 3> terms = getKernelTerms(truth, f);
  k.seconds = terms[0] + terms[1] + terms[2];
  return k;
}

/// Pointwise convolutions whose filters come from memory, each row anew,
/// in runs touching more than 32 MiB.
KernelModel memoryBeyond32MiB() {
  KernelModel truth;
  truth.perFlopSeconds = 5e-12;
  truth.perByteSeconds = 15e-12;
  truth.perKernelSeconds = 1e-6;
  truth.perMemoryWeightRowSeconds = 40e-9;
  truth.perMemoryWeightByteSeconds = 10e-12;
  truth.memoryWeightsAbove = 32 * 1024 * 1024;
  return truth;
}

std::vector<ProfiledNode> pointwiseInRuns(std::initializer_list<double> runs,
                                          const KernelModel &truth) {
  std::vector<ProfiledNode> kernels;
  for (double run : runs)
    for (auto [in, out, hw] :
         {std::tuple<int64_t, int64_t, int64_t>{176, 1056, 7},
          {1056, 176, 7},
          {104, 624, 14},
          {624, 104, 14},
          {64, 256, 28},
          {256, 64, 28},
          {32, 192, 56}})
      kernels.push_back(pointwise(in, out, hw, run, truth));
  return kernels;
}

} // namespace

TEST(KernelModels, FitFindsWeightsReadFromMemoryBeyondTheSharedCache) {
  KernelModel truth = memoryBeyond32MiB();
  std::vector<KernelModelFit> fits;
  KernelModel m =
      fitKernelModels(pointwiseInRuns({4 * kMB, 12 * kMB, 24 * kMB, 50 * kMB,
                                       60 * kMB, 120 * kMB},
                                      truth),
                      4, fits, 0.0)
          .at("conv_pointwise");
  EXPECT_EQ(m.memoryWeightsAbove, 32 * 1024 * 1024);
  EXPECT_NEAR(m.perMemoryWeightRowSeconds, 40e-9, 1e-10);
  EXPECT_NEAR(m.perMemoryWeightByteSeconds, 10e-12, 1e-13);
  // A filter of short rows pays for them, one of long rows hardly: the
  // same bytes, in a run the fit never saw.
  ProfiledNode shortRows = pointwise(160, 960, 7, 200 * kMB, truth);
  ProfiledNode longRows = pointwise(960, 160, 7, 200 * kMB, truth);
  EXPECT_NEAR(modelled(m, shortRows), shortRows.seconds,
              1e-6 * shortRows.seconds);
  EXPECT_NEAR(modelled(m, longRows), longRows.seconds, 1e-6 * longRows.seconds);
  EXPECT_GT(shortRows.seconds - pointwise(160, 960, 7, 1 * kMB, truth).seconds,
            30e-6);
}

TEST(KernelModels, NoMemoryTermWhereRunsOfEverySizeReadTheirWeightsAlike) {
  KernelModel truth = memoryBeyond32MiB();
  truth.perMemoryWeightRowSeconds = truth.perMemoryWeightByteSeconds = 0;
  std::vector<KernelModelFit> fits;
  KernelModel m =
      fitKernelModels(
          pointwiseInRuns({4 * kMB, 24 * kMB, 50 * kMB, 120 * kMB}, truth), 4,
          fits, 0.0)
          .at("conv_pointwise");
  EXPECT_EQ(m.memoryWeightsAbove, 0);
  EXPECT_EQ(m.coldWeightSeconds(1e6, 1e9, 1e12, 1000), 0);
}

TEST(KernelModels, ARunTouchesItsWeightsAndEveryKernelsResults) {
  std::vector<ProfiledNode> run(2);
  run[0].op = "Relu";
  run[0].inputs = {{{1, 1000}}};
  run[0].outputs = {{{1, 1000}}};
  run[1].op = "Gemm";
  run[1].inputs = {{{1, 1000}}, {{10}}};
  run[1].outputs = {{{1, 10}}};
  for (ProfiledNode &k : run)
    k.modelWeightBytes = 40040;
  setProfiledRunBytes(run);
  for (const ProfiledNode &k : run)
    EXPECT_EQ(k.runBytes, 40040 + 4000 + 40);
}

namespace {
/// A CPU folder as Linux lays it out: each cache (type, size,
/// shared_cpu_list) under cache/indexN, and the core's hardware threads.
std::string fakeCpuFolder(llvm::StringRef siblings,
                          llvm::ArrayRef<std::array<const char *, 3>> caches) {
  llvm::SmallString<128> root;
  EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("cpu0", root));
  auto write = [](const llvm::Twine &path, llvm::StringRef text) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path.str(), ec);
    EXPECT_FALSE(ec);
    os << text << "\n";
  };
  EXPECT_FALSE(llvm::sys::fs::create_directories(root + "/topology"));
  write(root + "/topology/thread_siblings_list", siblings);
  for (auto [i, c] : llvm::enumerate(caches)) {
    std::string dir = (root + "/cache/index" + llvm::Twine(i)).str();
    EXPECT_FALSE(llvm::sys::fs::create_directories(dir));
    write(dir + "/type", c[0]);
    write(dir + "/size", c[1]);
    write(dir + "/shared_cpu_list", c[2]);
  }
  return root.str().str();
}
} // namespace

TEST(PrivateCache, TheLargestCacheNoOtherCoreSharesCounts) {
  // A 2-vCPU VM: L1d, L1i and L2 of its own, L3 shared by both CPUs.
  std::string vm = fakeCpuFolder("0", {{"Data", "32K", "0"},
                                       {"Instruction", "32K", "0"},
                                       {"Unified", "1024K", "0"},
                                       {"Unified", "32768K", "0-1"}});
  EXPECT_EQ(readPrivateCacheBytes(vm), 1024u * 1024);
  // With SMT the core's caches list both of its threads; an instruction
  // cache never counts, and sizes may be in M.
  std::string smt = fakeCpuFolder("0,64", {{"Data", "48K", "0,64"},
                                           {"Instruction", "4M", "0,64"},
                                           {"Unified", "2M", "0,64"},
                                           {"Unified", "36M", "0-127"}});
  EXPECT_EQ(readPrivateCacheBytes(smt), 2u * 1024 * 1024);
  // Every cache shared: nothing is the core's own.
  std::string shared = fakeCpuFolder("0", {{"Unified", "8M", "0-3"}});
  EXPECT_EQ(readPrivateCacheBytes(shared), 0u);
  // No such folder (not Linux): unknown.
  EXPECT_EQ(readPrivateCacheBytes(vm + "/nowhere"), 0u);
  for (const std::string &dir : {vm, smt, shared})
    EXPECT_FALSE(llvm::sys::fs::remove_directories(dir));
}

namespace {
/// A processor's CPUID answers, by (leaf, subleaf); leaves past the
/// highest of their range (leaf 0's EAX, or 0x80000000's) unanswered.
struct FakeCpuid {
  std::map<std::pair<unsigned, unsigned>, std::array<unsigned, 4>> leaves;
  bool operator()(unsigned leaf, unsigned sub,
                  std::array<unsigned, 4> &r) const {
    auto it = leaves.find({leaf, sub});
    r = it == leaves.end() ? std::array<unsigned, 4>{0, 0, 0, 0} : it->second;
    auto top = leaves.find({leaf & 0x80000000u, 0});
    return top != leaves.end() && leaf <= top->second[0];
  }
};
/// Leaf 4's (and 0x8000001D's) registers for a cache of `level` and
/// `type` (1 data, 2 instruction, 3 unified), `sharing` logical
/// processors, 64-byte lines, `ways` and `bytes` in all.
std::array<unsigned, 4> cacheLeaf(unsigned level, unsigned type,
                                  unsigned sharing, unsigned ways,
                                  uint64_t bytes) {
  unsigned sets = static_cast<unsigned>(bytes / (64 * ways));
  return {type | level << 5 | (sharing - 1) << 14, (ways - 1) << 22 | 63,
          sets - 1, 0};
}
} // namespace

TEST(PrivateCache, CpuidSaysWhereTheSystemDoesNot) {
  constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
  // An Intel core of two hardware threads: L1d and L2 its own, L3 shared
  // by 128 logical processors; the instruction cache never counts.
  FakeCpuid intel;
  intel.leaves[{0, 0}] = {0x1f, 0x756e6547, 0x6c65746e, 0x49656e69};
  intel.leaves[{4, 0}] = cacheLeaf(1, 1, 2, 12, 48 * kKiB);
  intel.leaves[{4, 1}] = cacheLeaf(1, 2, 2, 8, 4 * kMiB);
  intel.leaves[{4, 2}] = cacheLeaf(2, 3, 2, 16, 2 * kMiB);
  intel.leaves[{4, 3}] = cacheLeaf(3, 3, 128, 12, 36 * kMiB);
  intel.leaves[{0x80000000, 0}] = {0x80000008, 0, 0, 0};
  EXPECT_EQ(privateCacheBytesFromCpuid(intel), 2 * kMiB);
  // Without hardware threads (the L1d not shared), a cache two logical
  // processors share is not one core's own.
  FakeCpuid oneThread = intel;
  oneThread.leaves[{4, 0}] = cacheLeaf(1, 1, 1, 12, 48 * kKiB);
  EXPECT_EQ(privateCacheBytesFromCpuid(oneThread), 48 * kKiB);
  // An AMD EPYC VM without topology extensions (no leaf 0x8000001D): the
  // L2 of leaf 0x80000006, 1024 KiB in ECX's upper half.
  FakeCpuid amd;
  amd.leaves[{0, 0}] = {0xd, 0x68747541, 0x444d4163, 0x69746e65};
  amd.leaves[{0x80000000, 0}] = {0x80000021, 0, 0, 0};
  amd.leaves[{0x80000006, 0}] = {0, 0, 1024u << 16 | 0x40, 0};
  EXPECT_EQ(privateCacheBytesFromCpuid(amd), 1 * kMiB);
  // With them, the cache parameters and their sharing decide, as on Intel.
  FakeCpuid topoext = amd;
  topoext.leaves[{0x80000001, 0}] = {0, 0, 1u << 22, 0};
  topoext.leaves[{0x8000001D, 0}] = cacheLeaf(1, 1, 1, 8, 32 * kKiB);
  topoext.leaves[{0x8000001D, 1}] = cacheLeaf(2, 3, 1, 8, 512 * kKiB);
  topoext.leaves[{0x8000001D, 2}] = cacheLeaf(3, 3, 16, 16, 32 * kMiB);
  EXPECT_EQ(privateCacheBytesFromCpuid(topoext), 512 * kKiB);
  // Another vendor, or no CPUID at all: unknown.
  FakeCpuid other = intel;
  other.leaves[{0, 0}] = {0x1f, 1, 2, 3};
  EXPECT_EQ(privateCacheBytesFromCpuid(other), 0u);
  EXPECT_EQ(privateCacheBytesFromCpuid(FakeCpuid()), 0u);
}

TEST(RuntimeMemory, TheCallerHoldsEachRunsInputsAndOutputs) {
  RuntimeMemoryModel m;
  m.runBytes = 100;
  m.perArenaByte = 2;
  m.perOutputByte = 1;
  RuntimeMemoryFeatures f;
  f.arenaBytes = 1000;
  f.outputBytes = 30;
  f.inputBytes = 20;
  EXPECT_DOUBLE_EQ(f.callerBytes(), 50);
  // One run: its arena, its input and its output's copy.
  EXPECT_DOUBLE_EQ(predictFirstRun(m, f), 100 + 2 * 1000 + 50);
  // In service: two runs' inputs and outputs.
  EXPECT_DOUBLE_EQ(predictServiceRuns(m, f), 100 + 2 * 1000 + 2 * 50);
}

TEST(RuntimeMemory, TheSpaceOneLoadFreedStaysFreeThroughLaterLoads) {
  RuntimeMemoryModel m = heapOnlyModel();
  // The first load takes 200 and keeps 100: 100 freed. The second keeps
  // all it takes (50) and runs 80 heap bytes.
  SessionMemory first{200, 100, 0}, second{50, 50, 80};
  SetMemory set = predictSetMemory(m, {first, second});
  EXPECT_DOUBLE_EQ(set.afterLoad, 200);
  // The run's 80 bytes go into the 100 the first load freed (the second
  // load's pieces went elsewhere), not on top of the 150 kept.
  EXPECT_DOUBLE_EQ(set.afterFirstRuns, 200);
  // 130 do not fit: 30 go on top.
  second.firstRun = 130;
  EXPECT_DOUBLE_EQ(predictSetMemory(m, {first, second}).afterFirstRuns, 230);
}
