//===- DialectTest.cpp - Tests of dialect helpers -------------------------===//

#include "chorus/Dialect/ChorusOps.h"

#include "mlir/IR/Builders.h"

#include "gtest/gtest.h"

using namespace chorus;
using namespace mlir;

namespace {

TEST(StorageBytes, FollowsOnnxStorage) {
  MLIRContext ctx;
  ctx.loadDialect<ChorusDialect>();
  Builder b(&ctx);
  auto tensor = [&](ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  };
  EXPECT_EQ(getTensorStorageBytes(tensor({2, 3}, b.getF32Type())), 24);
  EXPECT_EQ(getTensorStorageBytes(tensor({}, b.getF16Type())), 2);
  // Bool takes a byte, int4 half of one, complex64 eight.
  EXPECT_EQ(getTensorStorageBytes(tensor({5}, b.getI1Type())), 5);
  EXPECT_EQ(getTensorStorageBytes(tensor({5}, b.getIntegerType(4))), 3);
  EXPECT_EQ(
      getTensorStorageBytes(tensor({2}, ComplexType::get(b.getF32Type()))), 16);
  EXPECT_EQ(getTensorStorageBytes(tensor({0, 9}, b.getF64Type())), 0);
  EXPECT_FALSE(
      getTensorStorageBytes(tensor({ShapedType::kDynamic, 3}, b.getF32Type())));
  EXPECT_FALSE(getTensorStorageBytes(tensor({2}, StringType::get(&ctx))));
  EXPECT_FALSE(
      getTensorStorageBytes(tensor({int64_t(1) << 62, 8}, b.getF32Type())));
}

} // namespace
