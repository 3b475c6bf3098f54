//===- OpTableTest.cpp - Hand-computed FLOP counts ------------------------===//

#include "chorus/Analysis/OpTable.h"
#include "chorus/Dialect/ChorusDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

using namespace chorus;
using namespace mlir;

namespace {

/// Parses `body` as the body of a func and returns the FLOPs of its first
/// chorus.node.
std::optional<FlopCount> flopsOf(const std::string &args,
                                 const std::string &node) {
  static MLIRContext ctx;
  ctx.loadDialect<ChorusDialect, func::FuncDialect>();
  std::string text = "func.func @f(" + args + ") {\n" + node + "\nreturn\n}";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  EXPECT_TRUE(module) << text;
  if (!module)
    return std::nullopt;
  NodeOp found;
  module->walk([&](NodeOp op) {
    if (!found)
      found = op;
  });
  return getNodeFlops(found);
}

TEST(OpTable, Conv) {
  // 1x8x8x8 outputs, each summing 3 channels x 3x3 = 27 products: 2*512*27,
  // plus one add per output for the bias.
  std::optional<FlopCount> f = flopsOf(
      "%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>",
      "%0 = chorus.node \"Conv\"(%x, %w, %b) {strides = array<i64: 2, 2>, "
      "pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x16x16xf32>, "
      "tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>");
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->estimated);
  EXPECT_EQ(f->flops, 2.0 * 512 * 27 + 512);

  // Depthwise (group = channels): W is [8, 1, 3, 3], 9 products per output.
  std::optional<FlopCount> dw = flopsOf(
      "%x: tensor<1x8x8x8xf32>, %w: tensor<8x1x3x3xf32>",
      "%0 = chorus.node \"Conv\"(%x, %w) {group = 8 : i64} : "
      "(tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x6x6xf32>");
  ASSERT_TRUE(dw);
  EXPECT_EQ(dw->flops, 2.0 * 288 * 9);
}

TEST(OpTable, MatMulAndGemm) {
  // Batched: 2x(3x4 @ 4x5) = 2*30 outputs, K = 4.
  std::optional<FlopCount> mm =
      flopsOf("%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>",
              "%0 = chorus.node \"MatMul\"(%a, %b) : (tensor<2x3x4xf32>, "
              "tensor<4x5xf32>) -> tensor<2x3x5xf32>");
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->flops, 2.0 * 30 * 4);
  // Gemm with transA: A is [K, M] = [7, 3]; C adds one per output.
  std::optional<FlopCount> gemm = flopsOf(
      "%a: tensor<7x3xf32>, %b: tensor<7x2xf32>, %c: tensor<2xf32>",
      "%0 = chorus.node \"Gemm\"(%a, %b, %c) {transA = 1 : i64} : "
      "(tensor<7x3xf32>, tensor<7x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>");
  ASSERT_TRUE(gemm);
  EXPECT_EQ(gemm->flops, 2.0 * 6 * 7 + 6);
}

TEST(OpTable, PoolingReductionsAndMovement) {
  std::optional<FlopCount> pool = flopsOf(
      "%x: tensor<1x4x8x8xf32>",
      "%0 = chorus.node \"MaxPool\"(%x) {kernel_shape = array<i64: 2, 2>, "
      "strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> "
      "tensor<1x4x4x4xf32>");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->flops, 64.0 * 4);
  std::optional<FlopCount> gap =
      flopsOf("%x: tensor<1x4x8x8xf32>",
              "%0 = chorus.node \"GlobalAveragePool\"(%x) : "
              "(tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>");
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->flops, 256.0);
  std::optional<FlopCount> reshape =
      flopsOf("%x: tensor<2x8xf32>, %s: tensor<1xi64>",
              "%0 = chorus.node \"Reshape\"(%x, %s) : (tensor<2x8xf32>, "
              "tensor<1xi64>) -> tensor<16xf32>");
  ASSERT_TRUE(reshape);
  EXPECT_EQ(reshape->flops, 0.0);
}

TEST(OpTable, UnknownOpsAreEstimatedAndDynamicShapesUnknown) {
  std::optional<FlopCount> custom =
      flopsOf("%x: tensor<3x5xf32>",
              "%0 = chorus.node \"Frobnicate\"(%x) : (tensor<3x5xf32>) -> "
              "tensor<3x5xf32>");
  ASSERT_TRUE(custom);
  EXPECT_TRUE(custom->estimated);
  EXPECT_EQ(custom->flops, 15.0);
  EXPECT_FALSE(flopsOf("%x: tensor<?x5xf32>",
                       "%0 = chorus.node \"Relu\"(%x) : (tensor<?x5xf32>) -> "
                       "tensor<?x5xf32>"));
}

} // namespace
