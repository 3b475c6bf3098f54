//===- LeastSquaresTest.cpp - The calibration's least-squares solves ----===//

#include "chorus/Target/Calibration.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

// Rows: (1, t + e, t) and the target 0.5 t - (t + e), weight 1. Fitted
// freely the second term is -1 and the third 0.5; with the second left
// out the third turns negative (-0.5), so it must go too, leaving the
// mean.
std::vector<std::vector<double>> collinearRows() {
  std::vector<std::vector<double>> rows;
  const double e[] = {0.1, -0.1, 0.2, 0, -0.2};
  for (int i = 0; i < 5; ++i) {
    double t = i + 1, u = t + e[i];
    rows.push_back({1, u, t, 0.5 * t - u, 1});
  }
  return rows;
}

TEST(LeastSquares, SolvesTheActiveUnknowns) {
  std::vector<double> x;
  ASSERT_TRUE(solveLeastSquares(collinearRows(), {true, true, true}, x));
  ASSERT_EQ(x.size(), 3u);
  EXPECT_NEAR(x[0], 0, 1e-9);
  EXPECT_NEAR(x[1], -1, 1e-9);
  EXPECT_NEAR(x[2], 0.5, 1e-9);
  ASSERT_TRUE(solveLeastSquares(collinearRows(), {true, false, true}, x));
  EXPECT_EQ(x[1], 0);
  EXPECT_LT(x[2], 0);
}

TEST(LeastSquares, LeavesOutEveryTermThatTurnsNegative) {
  std::vector<double> x;
  ASSERT_TRUE(solveLeastSquaresNonNegative(collinearRows(), {true, true, true},
                                           {false, true, true}, x));
  EXPECT_NEAR(x[0], -1.5, 1e-9); // the mean of the targets
  EXPECT_EQ(x[1], 0);
  EXPECT_EQ(x[2], 0);
  // An unknown that may be negative keeps its value.
  ASSERT_TRUE(solveLeastSquaresNonNegative(collinearRows(), {true, true, true},
                                           {false, false, true}, x));
  EXPECT_NEAR(x[1], -1, 1e-9);
  EXPECT_NEAR(x[2], 0.5, 1e-9);
}

TEST(LeastSquares, SingularIsFalse) {
  std::vector<std::vector<double>> rows = {{1, 2, 3, 1}, {2, 4, 6, 1}};
  std::vector<double> x;
  EXPECT_FALSE(solveLeastSquares(rows, {true, true}, x));
  EXPECT_FALSE(
      solveLeastSquaresNonNegative(rows, {true, true}, {true, true}, x));
}

} // namespace
