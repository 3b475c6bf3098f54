//===- SimulatorTest.cpp - Kernels sharing a device
//------------------------===//

#include "chorus/Plan/Simulator.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

SimJob job(std::initializer_list<std::pair<double, double>> kernels,
           unsigned lane) {
  SimJob j;
  for (auto [work, overhead] : kernels)
    j.kernels.push_back({work, overhead});
  j.lane = lane;
  return j;
}

TEST(Simulator, OneLaneRunsJobsOneAfterTheOther) {
  std::vector<SimJob> jobs = {job({{1, 0.5}, {2, 0}}, 0), job({{3, 1}}, 0)};
  SimResult r = simulate(jobs, {2, 1.0});
  EXPECT_DOUBLE_EQ(r.jobEnd[0], 3.5);
  EXPECT_DOUBLE_EQ(r.jobStart[1], 3.5);
  EXPECT_DOUBLE_EQ(r.jobEnd[1], 7.5);
  EXPECT_DOUBLE_EQ(r.makespan, 7.5);
  ASSERT_EQ(r.spans.size(), 3u);
  EXPECT_DOUBLE_EQ(r.spans[1].start, 1.5);
  EXPECT_DOUBLE_EQ(r.spans[1].end, 3.5);
}

TEST(Simulator, ConcurrentKernelsShareByTheGain) {
  // Two lanes, 2 s of work each. Perfect scaling: both end at 2 s. No
  // gain: they share one unit and both end at 4 s. Half: speedup 1.5,
  // each runs at 0.75: 2 / 0.75 s.
  std::vector<SimJob> jobs = {job({{2, 0}}, 0), job({{2, 0}}, 1)};
  EXPECT_DOUBLE_EQ(simulate(jobs, {2, 1.0}).makespan, 2);
  EXPECT_DOUBLE_EQ(simulate(jobs, {2, 0.0}).makespan, 4);
  EXPECT_NEAR(simulate(jobs, {2, 0.5}).makespan, 2 / 0.75, 1e-12);
  // More lanes than units: three kernels on two perfect units.
  jobs.push_back(job({{2, 0}}, 2));
  EXPECT_NEAR(simulate(jobs, {2, 1.0}).makespan, 3, 1e-12);
  // Gain 1 on one unit is still one unit.
  EXPECT_NEAR(simulate(jobs, {1, 1.0}).makespan, 6, 1e-12);
}

TEST(Simulator, OverheadIsNotSharedWhileUnitsSuffice) {
  // Lane 0: 1 s overhead then 1 s work; lane 1: 1 s work. Two units, no
  // gain: lane 1 works alone during lane 0's overhead and ends at 1 s;
  // lane 0 then works alone and ends at 2 s.
  std::vector<SimJob> jobs = {job({{1, 1}}, 0), job({{1, 0}}, 1)};
  SimResult r = simulate(jobs, {2, 0.0});
  EXPECT_DOUBLE_EQ(r.jobEnd[1], 1);
  EXPECT_DOUBLE_EQ(r.jobEnd[0], 2);
  // One unit: two busy lanes get half of it each, overhead or work: both
  // are done at 2 s, then lane 0 works alone until 3 s (all 3 s of time
  // on one unit).
  SimResult one = simulate(jobs, {1, 0.0});
  EXPECT_DOUBLE_EQ(one.jobEnd[1], 2);
  EXPECT_DOUBLE_EQ(one.jobEnd[0], 3);
}

TEST(Simulator, ShortJobFreesTheDevice) {
  // No gain: 1 s and 3 s of work share one unit; the short one ends at
  // 2 s, the long one has 2 s left and runs alone: ends at 4 s.
  std::vector<SimJob> jobs = {job({{1, 0}}, 0), job({{3, 0}}, 1)};
  SimResult r = simulate(jobs, {1, 0.0});
  EXPECT_DOUBLE_EQ(r.jobEnd[0], 2);
  EXPECT_DOUBLE_EQ(r.jobEnd[1], 4);
}

TEST(Simulator, PerKernelSlowdownsSlowEachKernelByItsOwn) {
  // Lane 0: a kernel of 2 s slowed by half beside another; lane 1: one of
  // 1 s slowed by a quarter. Together, lane 1's runs at 1 / 1.25: it ends
  // at 1.25 s, when lane 0's has done 1.25 / 1.5 s of its 2 s; the rest,
  // alone, ends at 1.25 + (2 - 1.25 / 1.5) = 2.41666... s.
  SimJob a, b;
  a.kernels.push_back({2, 0, 0.5});
  b.kernels.push_back({1, 0, 0.25});
  b.lane = 1;
  DeviceSharing device{2, 0.0, /*perKernel=*/true};
  SimResult r = simulate({a, b}, device);
  EXPECT_DOUBLE_EQ(r.jobEnd[1], 1.25);
  EXPECT_NEAR(r.jobEnd[0], 1.25 + (2 - 1.25 / 1.5), 1e-12);
  // On one unit, the two lanes share it evenly as well.
  DeviceSharing one{1, 0.0, true};
  SimResult shared = simulate({a, b}, one);
  EXPECT_DOUBLE_EQ(shared.jobEnd[1], 2);
  EXPECT_DOUBLE_EQ(shared.jobEnd[0], 3);
}

TEST(Simulator, EmptyJobsAndNoJobs) {
  EXPECT_EQ(simulate({}, {1, 0}).makespan, 0);
  std::vector<SimJob> jobs = {job({}, 0), job({{1, 0}}, 0)};
  SimResult r = simulate(jobs, {1, 0});
  EXPECT_EQ(r.jobEnd[0], 0);
  EXPECT_DOUBLE_EQ(r.jobEnd[1], 1);
}

} // namespace
