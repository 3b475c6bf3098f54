//===- ImporterTest.cpp - Tests of importer helpers -----------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusTypes.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Import/OnnxTypes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "onnx/onnx_pb.h"

#include "gtest/gtest.h"

using namespace chorus;

namespace {

/// Two small models whose intermediate values get their types from shape
/// inference, written as ONNX text into a fresh folder.
struct ModelFiles {
  llvm::SmallString<128> dir;
  std::vector<std::string> paths;
  ModelFiles() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("chorus-import", dir));
    const char *texts[] = {
        R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[N,3] x) => (float[N,4] y)
<float[3,4] w = {1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0,12.0}>
{
  m = MatMul(x, w)
  y = Relu(m)
})",
        R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2,8] x) => (float[2,4,2] y)
{
  shape = Constant <value = int64[3] {2, 4, 2}> ()
  t = Sigmoid(x)
  y = Reshape(t, shape)
})"};
    const char *names[] = {"first.onnxtxt", "second.onnxtxt"};
    for (int i = 0; i < 2; ++i) {
      llvm::SmallString<128> path(dir);
      llvm::sys::path::append(path, names[i]);
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      EXPECT_FALSE(ec);
      os << texts[i];
      paths.push_back(std::string(path));
    }
  }
  ~ModelFiles() { llvm::sys::fs::remove_directories(dir); }
};

std::string printModule(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

// importOnnxFiles overlaps each model's shape inference with reading the
// next: the module must be the one that importing the files one by one
// gives, including the order and the names made unique (the first file is
// given twice).
TEST(ImportOnnxFiles, SameAsOneByOne) {
  ModelFiles files;
  mlir::MLIRContext ctx;
  ctx.loadDialect<ChorusDialect, mlir::func::FuncDialect>();
  ImportOptions options;
  options.dims.push_back({"", "N", 5});
  std::vector<std::string> paths = {files.paths[0], files.paths[1],
                                    files.paths[0]};

  mlir::OwningOpRef<mlir::ModuleOp> oneByOne =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  for (const std::string &path : paths)
    ASSERT_TRUE(mlir::succeeded(importOnnxFile(*oneByOne, path, options)));

  mlir::OwningOpRef<mlir::ModuleOp> together =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  mlir::FailureOr<std::vector<ImportedModel>> models =
      importOnnxFiles(*together, paths, options);
  ASSERT_TRUE(mlir::succeeded(models));
  ASSERT_EQ(models->size(), 3u);
  EXPECT_EQ((*models)[0].func.getSymName(), "first");
  EXPECT_EQ((*models)[1].func.getSymName(), "second");
  EXPECT_EQ((*models)[2].func.getSymName(), "first_1");
  EXPECT_TRUE((*models)[0].dimParams.contains("N"));
  std::string text = printModule(*together);
  EXPECT_EQ(text, printModule(*oneByOne));
  // Shape inference ran: the intermediate values are typed.
  EXPECT_NE(text.find("\"MatMul\"(%arg0, %0) : (tensor<5x3xf32>, "
                      "tensor<3x4xf32>) -> tensor<5x4xf32>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("-> tensor<2x4x2xf32>"), std::string::npos) << text;
}

// A file that cannot be read fails the whole call with its error, after
// the shape inference children of the files before it were started (and
// are stopped and reaped, not left behind).
TEST(ImportOnnxFiles, FailsOnAMissingFile) {
  ModelFiles files;
  mlir::MLIRContext ctx;
  ctx.loadDialect<ChorusDialect, mlir::func::FuncDialect>();
  std::string missing = std::string(files.dir) + "/missing.onnx";
  std::string message;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &diag) {
    message = diag.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  ImportOptions options;
  options.dims.push_back({"", "N", 5});
  EXPECT_TRUE(mlir::failed(importOnnxFiles(
      *module, {files.paths[0], files.paths[1], missing}, options)));
  EXPECT_NE(message.find("missing.onnx"), std::string::npos) << message;
  EXPECT_TRUE(module->getBody()->empty());
}

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
