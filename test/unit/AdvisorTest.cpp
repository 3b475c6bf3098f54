//===- AdvisorTest.cpp - Strategies, bound and recommendation -------------===//

#include "chorus/Advisor/Advisor.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

/// A model of one kernel with the given compute and memory seconds, and
/// one activation of `bytes` live while it runs.
ModelInfo oneKernel(const std::string &name, double compute, double memory,
                    uint64_t bytes) {
  ModelInfo m;
  m.name = name;
  KernelInfo k;
  k.name = name + "_k";
  k.computeSeconds = compute;
  k.memorySeconds = memory;
  m.kernels.push_back(k);
  m.intervals.buffers.push_back({name + "_t", 0, 1, bytes});
  return m;
}

/// Two units; `gain` is what a second concurrent kernel adds.
Target twoUnits(double gain) {
  Target t;
  t.name = "two";
  t.kind = "cpu";
  t.peakFlops["f32"] = 1e9;
  t.memoryBandwidth = 1e9;
  t.memoryCapacity = 1e9;
  t.parallelUnits = 2;
  t.concurrencyGain = gain;
  return t;
}

/// A (2 ms of compute) and B (3 ms of memory traffic), one request each.
Workload pair() {
  Workload w;
  w.models = {oneKernel("a", 2e-3, 0, 1024), oneKernel("b", 0, 3e-3, 1024)};
  w.requests = {0, 1};
  return w;
}

const StrategyResult &byName(const std::vector<StrategyResult> &results,
                             const std::string &name) {
  for (const StrategyResult &s : results)
    if (s.name == name)
      return s;
  ADD_FAILURE() << "no strategy " << name;
  return results.front();
}

TEST(Advisor, PerfectConcurrencyRecommendsParallel) {
  AdvisorOptions options;
  options.alignment = 1;
  Recommendation rec;
  std::vector<StrategyResult> results =
      evaluateStrategies(pair(), twoUnits(1.0), options, rec);
  // Sequential: a ends at 2 ms, b at 5 ms. Parallel with a gain of 1: each
  // runs as if alone, a ends at 2 ms and b at 3 ms.
  const StrategyResult &seq = byName(results, "sequential");
  const StrategyResult &par = byName(results, "parallel");
  EXPECT_NEAR(seq.makespan, 5e-3, 1e-9);
  EXPECT_NEAR(seq.meanLatency, 3.5e-3, 1e-9);
  EXPECT_NEAR(par.makespan, 3e-3, 1e-9);
  EXPECT_NEAR(par.meanLatency, 2.5e-3, 1e-9);
  // Not slowed by sharing (3 ms is the longer job alone); of its 5 ms of
  // kernel time, 3 are memory traffic.
  EXPECT_EQ(par.bound, "bandwidth");
  EXPECT_EQ(rec.strategy, "parallel");
  EXPECT_NE(rec.reason.find("parallel has the best latency"), std::string::npos)
      << rec.reason;
  EXPECT_NE(rec.reason.find("bound by bandwidth"), std::string::npos)
      << rec.reason;
}

TEST(Advisor, NoConcurrencyGainIsSharingBoundAndSequentialWins) {
  AdvisorOptions options;
  options.alignment = 1;
  Recommendation rec;
  std::vector<StrategyResult> results =
      evaluateStrategies(pair(), twoUnits(0.0), options, rec);
  // Parallel with no gain: the two share one unit's throughput. Both run
  // at half speed until a is done at 4 ms; b's last 1 ms runs alone: 5 ms.
  const StrategyResult &par = byName(results, "parallel");
  EXPECT_NEAR(par.makespan, 5e-3, 1e-9);
  EXPECT_NEAR(par.meanLatency, 4.5e-3, 1e-9);
  EXPECT_EQ(par.bound, "sharing");
  EXPECT_EQ(rec.strategy, "sequential");
}

TEST(Advisor, ThroughputGoalAndMemoryGoal) {
  Recommendation rec;
  AdvisorOptions options;
  options.alignment = 1;
  options.goal = Goal::Throughput;
  evaluateStrategies(pair(), twoUnits(1.0), options, rec);
  // 2 requests in 3 ms against 2 in 5 ms.
  EXPECT_EQ(rec.strategy, "parallel");
  options.goal = Goal::Memory;
  std::vector<StrategyResult> results =
      evaluateStrategies(pair(), twoUnits(1.0), options, rec);
  // One after the other, the two activations share 1,024 bytes; side by
  // side they need 2,048.
  EXPECT_EQ(byName(results, "sequential").arenaBytes, 1024u);
  EXPECT_EQ(byName(results, "parallel").arenaBytes, 2048u);
  EXPECT_EQ(rec.strategy, "sequential");
}

TEST(Advisor, TheMemoryLimitRulesOutWhatDoesNotFit) {
  AdvisorOptions options;
  options.alignment = 1;
  options.memoryLimit = 1500;
  Recommendation rec;
  std::vector<StrategyResult> results =
      evaluateStrategies(pair(), twoUnits(1.0), options, rec);
  const StrategyResult &par = byName(results, "parallel");
  EXPECT_FALSE(par.feasible);
  EXPECT_EQ(par.overLimitBytes, 548u);
  EXPECT_EQ(rec.strategy, "sequential");
  EXPECT_NE(rec.reason.find("parallel exceeds the memory limit by 548 bytes"),
            std::string::npos)
      << rec.reason;
  // Nothing fits: the one that needs the least is named.
  options.memoryLimit = 1000;
  evaluateStrategies(pair(), twoUnits(1.0), options, rec);
  EXPECT_EQ(rec.strategy, "sequential");
  EXPECT_NE(rec.reason.find("no strategy fits the memory limit; sequential "
                            "needs the least (24 bytes over)"),
            std::string::npos)
      << rec.reason;
}

} // namespace
