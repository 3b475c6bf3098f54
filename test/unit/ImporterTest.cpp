//===- ImporterTest.cpp - Tests of importer helpers -----------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusTypes.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Import/OnnxTypes.h"

#include "onnx/onnx_pb.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

TEST(DimBinding, Parses) {
  llvm::Expected<DimBinding> global = parseDimBinding("N=4");
  ASSERT_TRUE(static_cast<bool>(global));
  EXPECT_EQ(global->model, "");
  EXPECT_EQ(global->name, "N");
  EXPECT_EQ(global->value, 4);

  // Dim names may contain '.', and the model part ends at the last ':'.
  llvm::Expected<DimBinding> scoped =
      parseDimBinding("det:p2o.DynamicDimension.0=640");
  ASSERT_TRUE(static_cast<bool>(scoped));
  EXPECT_EQ(scoped->model, "det");
  EXPECT_EQ(scoped->name, "p2o.DynamicDimension.0");
  EXPECT_EQ(scoped->value, 640);
}

TEST(DimBinding, RejectsMalformed) {
  for (const char *spec : {"N", "N=", "=3", "N=-1", "N=x", ":N=3", "m:=3"}) {
    llvm::Expected<DimBinding> binding = parseDimBinding(spec);
    EXPECT_FALSE(static_cast<bool>(binding)) << spec;
    if (!binding) {
      std::string message = llvm::toString(binding.takeError());
      EXPECT_NE(message.find(std::string("invalid --dim '") + spec + "'"),
                std::string::npos)
          << message;
    }
  }
}

TEST(OnnxTypes, ElementTypes) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<ChorusDialect>();
  using T = onnx::TensorProto;
  EXPECT_TRUE(convertOnnxElementType(&ctx, T::FLOAT).isF32());
  EXPECT_TRUE(convertOnnxElementType(&ctx, T::BOOL).isInteger(1));
  EXPECT_TRUE(convertOnnxElementType(&ctx, T::INT64).isSignlessInteger(64));
  EXPECT_TRUE(convertOnnxElementType(&ctx, T::UINT8).isUnsignedInteger(8));
  EXPECT_TRUE(convertOnnxElementType(&ctx, T::BFLOAT16).isBF16());
  EXPECT_TRUE(llvm::isa<StringType>(convertOnnxElementType(&ctx, T::STRING)));
  EXPECT_FALSE(convertOnnxElementType(&ctx, T::UNDEFINED));
  EXPECT_FALSE(convertOnnxElementType(&ctx, 23)); // FLOAT4E2M1
  EXPECT_EQ(getOnnxDataTypeName(T::FLOAT16), "FLOAT16");
}

TEST(OnnxTypes, NonTensorTypes) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<ChorusDialect>();
  onnx::TypeProto seq;
  auto *elem = seq.mutable_sequence_type()->mutable_elem_type();
  elem->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  mlir::Type type = convertOnnxType(&ctx, seq);
  auto sequence = llvm::dyn_cast<SequenceType>(type);
  ASSERT_TRUE(sequence);
  EXPECT_TRUE(llvm::isa<mlir::UnrankedTensorType>(sequence.getElementType()));

  onnx::TypeProto empty;
  EXPECT_TRUE(llvm::isa<UnknownType>(convertOnnxType(&ctx, empty)));
}

} // namespace
