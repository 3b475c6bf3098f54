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

/// Parses `node` in a func with arguments `args` and returns the node.
NodeOp parseNode(const std::string &args, const std::string &node) {
  static MLIRContext ctx;
  ctx.loadDialect<ChorusDialect, func::FuncDialect>();
  static std::vector<OwningOpRef<ModuleOp>> keep;
  std::string text = "func.func @f(" + args + ") {\n" + node + "\nreturn\n}";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  EXPECT_TRUE(module) << text;
  if (!module)
    return nullptr;
  NodeOp found;
  module->walk([&](NodeOp op) {
    if (!found)
      found = op;
  });
  keep.push_back(std::move(module));
  return found;
}

/// The FLOPs of the node parsed by parseNode.
std::optional<FlopCount> flopsOf(const std::string &args,
                                 const std::string &node) {
  NodeOp op = parseNode(args, node);
  if (!op)
    return std::nullopt;
  return getNodeFlops(op);
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

TEST(OpTable, ConvExpandedRows) {
  auto rowsOf = [](const std::string &args, const std::string &node) {
    NodeOp op = parseNode(args, node);
    std::optional<NodeWork> w = op ? getNodeWork(op) : std::nullopt;
    EXPECT_TRUE(w) << node;
    return w ? w->expandedRows : -1.0;
  };
  // 3x3, stride 2, padded: 3 input channels x 9 kernel elements x 8 rows
  // of the 8x8 output, batch 2.
  EXPECT_EQ(rowsOf("%x: tensor<2x3x16x16xf32>, %w: tensor<8x3x3x3xf32>",
                   "%0 = chorus.node \"Conv\"(%x, %w) {strides = array<i64: "
                   "2, 2>, pads = array<i64: 1, 1, 1, 1>} : "
                   "(tensor<2x3x16x16xf32>, tensor<8x3x3x3xf32>) -> "
                   "tensor<2x8x8x8xf32>"),
            2.0 * 3 * 9 * 8);
  // Grouped, C/group = 2: the input channels are group x C/group = 8.
  EXPECT_EQ(rowsOf("%x: tensor<1x8x6x6xf32>, %w: tensor<8x2x1x3xf32>",
                   "%0 = chorus.node \"Conv\"(%x, %w) {group = 4 : i64} : "
                   "(tensor<1x8x6x6xf32>, tensor<8x2x1x3xf32>) -> "
                   "tensor<1x8x6x4xf32>"),
            8.0 * 3 * 6);
  // 1x1, unit strides, no padding: read directly, no expansion.
  EXPECT_EQ(rowsOf("%x: tensor<1x4x5x5xf32>, %w: tensor<6x4x1x1xf32>",
                   "%0 = chorus.node \"Conv\"(%x, %w) {pads = array<i64: 0, "
                   "0, 0, 0>} : (tensor<1x4x5x5xf32>, tensor<6x4x1x1xf32>) "
                   "-> tensor<1x6x5x5xf32>"),
            0.0);
  // 1x1 with stride 2 gathers: 4 channels x 3 rows.
  EXPECT_EQ(rowsOf("%x: tensor<1x4x5x5xf32>, %w: tensor<6x4x1x1xf32>",
                   "%0 = chorus.node \"Conv\"(%x, %w) {strides = array<i64: "
                   "2, 2>} : (tensor<1x4x5x5xf32>, tensor<6x4x1x1xf32>) -> "
                   "tensor<1x6x3x3xf32>"),
            4.0 * 3);
  // 1-D: one row per channel and kernel element.
  EXPECT_EQ(rowsOf("%x: tensor<1x4x10xf32>, %w: tensor<2x4x3xf32>",
                   "%0 = chorus.node \"Conv\"(%x, %w) : (tensor<1x4x10xf32>, "
                   "tensor<2x4x3xf32>) -> tensor<1x2x8xf32>"),
            4.0 * 3);
  // Not a convolution: none.
  EXPECT_EQ(rowsOf("%x: tensor<1x4xf32>",
                   "%0 = chorus.node \"Relu\"(%x) : (tensor<1x4xf32>) -> "
                   "tensor<1x4xf32>"),
            0.0);
}

TEST(OpTable, QLinearConvReadsItsWeightsAtOperandThree) {
  // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
  // y_zero_point: 2x3x3 products per output, 1x2x4x4 outputs, no bias.
  std::optional<FlopCount> f = flopsOf(
      "%x: tensor<1x2x6x6xi8>, %s: tensor<f32>, %z: tensor<i8>, "
      "%w: tensor<2x2x3x3xi8>",
      "%0 = chorus.node \"QLinearConv\"(%x, %s, %z, %w, %s, %z, %s, %z) : "
      "(tensor<1x2x6x6xi8>, tensor<f32>, tensor<i8>, tensor<2x2x3x3xi8>, "
      "tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>) -> "
      "tensor<1x2x4x4xi8>");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->flops, 2.0 * 32 * 18);
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

TEST(OpTable, BytesAndClasses) {
  // Elementwise: both inputs read, the output written; may run in place.
  NodeOp add = parseNode("%a: tensor<4x8xf32>, %b: tensor<8xf32>",
                         "%0 = chorus.node \"Add\"(%a, %b) : (tensor<4x8xf32>, "
                         "tensor<8xf32>) -> tensor<4x8xf32>");
  std::optional<NodeWork> w = getNodeWork(add);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->bytesRead, 128.0 + 32);
  EXPECT_EQ(w->bytesWritten, 128.0);
  EXPECT_EQ(w->opClass, OpClass::Elementwise);
  EXPECT_TRUE(mayRunInPlace(add));

  // A view moves nothing and is a view.
  NodeOp reshape =
      parseNode("%x: tensor<2x8xf32>, %s: tensor<1xi64>",
                "%0 = chorus.node \"Reshape\"(%x, %s) : (tensor<2x8xf32>, "
                "tensor<1xi64>) -> tensor<16xf32>");
  w = getNodeWork(reshape);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->bytesRead + w->bytesWritten, 0.0);
  EXPECT_EQ(w->opClass, OpClass::View);
  EXPECT_TRUE(isViewNode(reshape));
  EXPECT_FALSE(mayRunInPlace(reshape));

  // Gather reads what it writes plus its indices, not the whole table.
  NodeOp gather =
      parseNode("%t: tensor<1000x16xf32>, %i: tensor<4xi64>",
                "%0 = chorus.node \"Gather\"(%t, %i) : (tensor<1000x16xf32>, "
                "tensor<4xi64>) -> tensor<4x16xf32>");
  w = getNodeWork(gather);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->bytesWritten, 256.0);
  EXPECT_EQ(w->bytesRead, 256.0 + 32);
  EXPECT_EQ(w->opClass, OpClass::DataMovement);

  // Depthwise convolution: its own class, one group per channel; 9
  // multiply-adds per output.
  NodeOp dw = parseNode(
      "%x: tensor<1x8x8x8xf32>, %w: tensor<8x1x3x3xf32>",
      "%0 = chorus.node \"Conv\"(%x, %w) {group = 8 : i64} : "
      "(tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x6x6xf32>");
  w = getNodeWork(dw);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->opClass, OpClass::GroupedConvolution);
  EXPECT_EQ(w->groups, 8.0);
  EXPECT_EQ(w->flops, 2.0 * 288 * 9);
  EXPECT_EQ(w->bytesRead, 2048.0 + 288);
  EXPECT_EQ(w->bytesWritten, 1152.0);
  // im2col rows: 8 channels x 3x3 kernel elements x 6 output rows.
  EXPECT_EQ(w->expandedRows, 8.0 * 9 * 6);

  // Normalization: LayerNormalization counts 9 per element.
  NodeOp ln = parseNode(
      "%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>",
      "%0 = chorus.node \"LayerNormalization\"(%x, %g, %b) : "
      "(tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>");
  w = getNodeWork(ln);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->flops, 9.0 * 8);
  EXPECT_EQ(w->opClass, OpClass::Normalization);

  // Reduction: one per input element.
  NodeOp sum =
      parseNode("%x: tensor<3x5xf32>", "%0 = chorus.node \"ReduceSum\"(%x) : "
                                       "(tensor<3x5xf32>) -> tensor<1x5xf32>");
  w = getNodeWork(sum);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->flops, 15.0);
  EXPECT_EQ(w->opClass, OpClass::Reduction);

  // Control flow is its own class (its bodies are costed by the model).
  NodeOp cond = parseNode("%c: tensor<i1>, %a: tensor<2xf32>",
                          "%0 = chorus.node \"If\"(%c) : (tensor<i1>) -> "
                          "tensor<2xf32> \"then_branch\" {\n chorus.yield %a : "
                          "tensor<2xf32>\n} \"else_branch\" {\n chorus.yield "
                          "%a : tensor<2xf32>\n}");
  w = getNodeWork(cond);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->opClass, OpClass::ControlFlow);
}

TEST(OpTable, EinsumAndRecurrent) {
  // bij,bjk->bik: a batched matmul, 2 x b*i*j*k.
  std::optional<FlopCount> e = flopsOf(
      "%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>",
      "%0 = chorus.node \"Einsum\"(%a, %b) {equation = \"bij,bjk->bik\"} : "
      "(tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->estimated);
  EXPECT_EQ(e->flops, 2.0 * 2 * 3 * 4 * 5);
  // A transpose written as Einsum: one per output element.
  std::optional<FlopCount> t =
      flopsOf("%a: tensor<3x4xf32>",
              "%0 = chorus.node \"Einsum\"(%a) {equation = \"ij->ji\"} : "
              "(tensor<3x4xf32>) -> tensor<4x3xf32>");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->flops, 12.0);
  // LSTM: seq 5, batch 2, input 3, hidden 4, one direction: 4 gates.
  // Multiply-adds: 5*2 steps x 16 gate rows x (3 + 4); plus 4 per gate row
  // and step for the activations and state.
  std::optional<FlopCount> lstm = flopsOf(
      "%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>",
      "%0 = chorus.node \"LSTM\"(%x, %w, %r) {hidden_size = 4 : i64} : "
      "(tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> "
      "tensor<5x1x2x4xf32>");
  ASSERT_TRUE(lstm);
  EXPECT_EQ(lstm->flops, 2.0 * 10 * 16 * 7 + 4.0 * 10 * 16);
}

TEST(OpTable, ConvTransposeAndGemmTransB) {
  // ConvTranspose: each of 1x2x3x3 inputs scatters into M/group=4 outputs x
  // 2x2 kernel positions: 2 x 18 x 16; plus the bias per output.
  std::optional<FlopCount> ct = flopsOf(
      "%x: tensor<1x2x3x3xf32>, %w: tensor<2x4x2x2xf32>, %b: tensor<4xf32>",
      "%0 = chorus.node \"ConvTranspose\"(%x, %w, %b) {strides = array<i64: "
      "2, 2>} : (tensor<1x2x3x3xf32>, tensor<2x4x2x2xf32>, tensor<4xf32>) -> "
      "tensor<1x4x6x6xf32>");
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->flops, 2.0 * 18 * 16 + 144);
  // Gemm with transB: B is [N, K] = [2, 7]; K = 7 from A's second dim.
  std::optional<FlopCount> gemm =
      flopsOf("%a: tensor<3x7xf32>, %b: tensor<2x7xf32>",
              "%0 = chorus.node \"Gemm\"(%a, %b) {transB = 1 : i64} : "
              "(tensor<3x7xf32>, tensor<2x7xf32>) -> tensor<3x2xf32>");
  ASSERT_TRUE(gemm);
  EXPECT_EQ(gemm->flops, 2.0 * 6 * 7);
}

TEST(OpTable, Folding) {
  EXPECT_EQ(getFolding(parseNode("", "%c = chorus.node \"Constant\"() "
                                     "{value = dense<1> : tensor<1xi64>} : "
                                     "() -> tensor<1xi64>")),
            Folding::Always);
  EXPECT_EQ(getFolding(parseNode("%x: tensor<2x3xf32>",
                                 "%s = chorus.node \"Shape\"(%x) : "
                                 "(tensor<2x3xf32>) -> tensor<2xi64>")),
            Folding::FromShape);
  EXPECT_EQ(getFolding(parseNode("%x: tensor<2xi64>",
                                 "%c = chorus.node \"Cast\"(%x) {to = 1 : "
                                 "i64} : (tensor<2xi64>) -> tensor<2xf32>")),
            Folding::FromOperands);
  EXPECT_EQ(getFolding(parseNode("%x: tensor<2xf32>",
                                 "%r = chorus.node \"RandomNormalLike\"(%x) "
                                 ": (tensor<2xf32>) -> tensor<2xf32>")),
            Folding::Never);
  EXPECT_EQ(getFolding(parseNode(
                "%x: tensor<2xf32>",
                "%r = chorus.node \"Relu\"(%x) attributes {domain = "
                "\"com.microsoft\"} : (tensor<2xf32>) -> tensor<2xf32>")),
            Folding::Never);
}

} // namespace

TEST(OpTable, FusionKinds) {
  auto kindOf = [](const std::string &args, const std::string &node) {
    NodeOp op = parseNode(args, node);
    return op ? getFusionKind(op) : FusionKind::Opaque;
  };
  // An Add is elementwise when both operands have the result's shape, a
  // broadcast otherwise; the edge from the full-shape operand is
  // elementwise either way (TVM's edge pattern).
  EXPECT_EQ(kindOf("%a: tensor<4x8xf32>, %b: tensor<4x8xf32>",
                   "%0 = chorus.node \"Add\"(%a, %b) : (tensor<4x8xf32>, "
                   "tensor<4x8xf32>) -> tensor<4x8xf32>"),
            FusionKind::Elementwise);
  NodeOp bias =
      parseNode("%a: tensor<4x8xf32>, %b: tensor<8xf32>",
                "%0 = chorus.node \"Add\"(%a, %b) : (tensor<4x8xf32>, "
                "tensor<8xf32>) -> tensor<4x8xf32>");
  ASSERT_TRUE(bias);
  EXPECT_EQ(getFusionKind(bias), FusionKind::Broadcast);
  EXPECT_EQ(getOperandFusionKind(bias, 0), FusionKind::Elementwise);
  EXPECT_EQ(getOperandFusionKind(bias, 1), FusionKind::Broadcast);
  EXPECT_EQ(kindOf("%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>",
                   "%0 = chorus.node \"Conv\"(%x, %w) : (tensor<1x3x8x8xf32>, "
                   "tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>"),
            FusionKind::OutElementwiseFusable);
  EXPECT_EQ(kindOf("%x: tensor<2x3xf32>",
                   "%0 = chorus.node \"Transpose\"(%x) : (tensor<2x3xf32>) "
                   "-> tensor<3x2xf32>"),
            FusionKind::Injective);
  EXPECT_EQ(kindOf("%x: tensor<2x3xf32>",
                   "%0 = chorus.node \"Softmax\"(%x) : (tensor<2x3xf32>) -> "
                   "tensor<2x3xf32>"),
            FusionKind::Reduction);
  // Data-dependent results, several results (not a split), unknown ops and
  // subgraphs are opaque.
  EXPECT_EQ(kindOf("%x: tensor<4xf32>", "%0 = chorus.node \"NonZero\"(%x) : "
                                        "(tensor<4xf32>) -> tensor<1x?xi64>"),
            FusionKind::Opaque);
  EXPECT_EQ(kindOf("%x: tensor<4xf32>, %s: tensor<4xf32>",
                   "%0:3 = chorus.node \"BatchNormalization\"(%x, %s, %s, %s, "
                   "%s) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, "
                   "tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, "
                   "tensor<4xf32>, tensor<4xf32>)"),
            FusionKind::Opaque);
  EXPECT_EQ(kindOf("%x: tensor<4xf32>",
                   "%0:2 = chorus.node \"Split\"(%x) : (tensor<4xf32>) -> "
                   "(tensor<2xf32>, tensor<2xf32>)"),
            FusionKind::Injective);
  EXPECT_EQ(kindOf("%x: tensor<4xf32>",
                   "%0 = chorus.node \"Frobnicate\"(%x) : (tensor<4xf32>) -> "
                   "tensor<4xf32>"),
            FusionKind::Opaque);
  for (FusionKind kind :
       {FusionKind::Elementwise, FusionKind::Broadcast, FusionKind::Injective,
        FusionKind::Reduction, FusionKind::OutElementwiseFusable,
        FusionKind::Opaque})
    EXPECT_EQ(parseFusionKind(getFusionKindName(kind)), kind);
  EXPECT_FALSE(parseFusionKind("pointwise"));
}
