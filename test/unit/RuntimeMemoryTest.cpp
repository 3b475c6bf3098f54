//===- RuntimeMemoryTest.cpp - Fitting the runtime's memory ---------------===//

#include "chorus/Target/RuntimeMemory.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

MemorySample sample(double conv, double matmul, double other, double large,
                    double arena, const RuntimeMemoryModel &truth) {
  MemorySample s;
  s.features.weightBytes[0] = conv;
  s.features.weightBytes[1] = matmul;
  s.features.weightBytes[2] = other;
  s.features.weightBytes[3] = large;
  s.features.arenaBytes = arena;
  s.afterLoadBytes = predictAfterLoad(truth, s.features.weightBytes);
  s.afterRunBytes = s.afterLoadBytes + predictFirstRun(truth, arena);
  s.processBytes = truth.processBytes;
  return s;
}

TEST(RuntimeMemory, FitRecoversTheModelThatMadeTheSamples) {
  RuntimeMemoryModel truth;
  truth.processBytes = 12e6;
  truth.sessionBytes = 27e6;
  truth.perConvWeightByte = 2.8;
  truth.perMatMulWeightByte = 1.5;
  truth.perOtherWeightByte = 1.1;
  truth.perLargeWeightByte = 1.0;
  truth.runBytes = 0.5e6;
  truth.perArenaByte = 1.3;
  std::vector<MemorySample> samples = {
      sample(10e6, 0, 0, 0, 1e6, truth),    sample(40e6, 1e6, 0, 0, 5e6, truth),
      sample(0, 20e6, 1e5, 0, 2e6, truth),  sample(0, 60e6, 0, 0, 1e5, truth),
      sample(1e5, 0, 16e6, 0, 30e6, truth), sample(0, 0, 0, 64e6, 1e5, truth),
      sample(0, 0, 0, 192e6, 8e6, truth),   sample(1e4, 0, 0, 0, 60e6, truth)};
  llvm::Expected<RuntimeMemoryModel> fit = fitRuntimeMemory(samples);
  ASSERT_TRUE(static_cast<bool>(fit)) << llvm::toString(fit.takeError());
  EXPECT_NEAR(fit->sessionBytes, truth.sessionBytes, 1e3);
  EXPECT_NEAR(fit->perConvWeightByte, truth.perConvWeightByte, 1e-6);
  EXPECT_NEAR(fit->perMatMulWeightByte, truth.perMatMulWeightByte, 1e-6);
  EXPECT_NEAR(fit->perOtherWeightByte, truth.perOtherWeightByte, 1e-6);
  EXPECT_NEAR(fit->perLargeWeightByte, truth.perLargeWeightByte, 1e-6);
  EXPECT_NEAR(fit->runBytes, truth.runBytes, 1e3);
  EXPECT_NEAR(fit->perArenaByte, truth.perArenaByte, 1e-6);
  EXPECT_EQ(fit->processBytes, truth.processBytes);
  EXPECT_EQ(fit->samples, samples.size());
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

} // namespace
