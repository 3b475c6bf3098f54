//===- ImporterTest.cpp - Tests of importer helpers -----------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusTypes.h"
#include "chorus/Import/OnnxFile.h"
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

#include <regex>
#include <set>

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

/// A binary model with weights on both sides of kStrippedPayloadBytes: a
/// 64x64 initializer (16 KiB), two 8x128 ones of the same shape, a small
/// bias, and a Constant node of 32x32 (4 KiB, stripped: at least the
/// threshold) beside a ConstantOfShape whose tensor attribute stays.
static onnx::ModelProto weightsModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  onnx::GraphProto &g = *model.mutable_graph();
  g.set_name("g");
  auto addTensor = [](onnx::TensorProto &t, const std::string &name,
                      std::vector<int64_t> dims, float seed) {
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t.add_dims(d);
      n *= d;
    }
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i)
      v[i] = seed + 0.25f * static_cast<float>(i % 97);
    t.set_raw_data(std::string(reinterpret_cast<const char *>(v.data()),
                               v.size() * sizeof(float)));
  };
  addTensor(*g.add_initializer(), "w", {64, 64}, 1);
  addTensor(*g.add_initializer(), "u", {8, 128}, 2);
  addTensor(*g.add_initializer(), "v", {8, 128}, 3);
  addTensor(*g.add_initializer(), "b", {64}, 4);
  onnx::NodeProto &c = *g.add_node();
  c.set_op_type("Constant");
  c.add_output("k");
  onnx::AttributeProto &value = *c.add_attribute();
  value.set_name("value");
  value.set_type(onnx::AttributeProto::TENSOR);
  addTensor(*value.mutable_t(), "k", {32, 32}, 5);
  auto node = [&](const char *op, std::vector<std::string> in,
                  std::string out) {
    onnx::NodeProto &n = *g.add_node();
    n.set_op_type(op);
    for (const std::string &i : in)
      n.add_input(i);
    n.add_output(out);
    return &n;
  };
  node("MatMul", {"x", "w"}, "m");
  node("Add", {"m", "b"}, "y");
  node("MatMul", {"k", "w"}, "z");
  node("Add", {"u", "v"}, "s");
  onnx::NodeProto *fill = node("ConstantOfShape", {"shape"}, "f");
  onnx::AttributeProto &fillValue = *fill->add_attribute();
  fillValue.set_name("value");
  fillValue.set_type(onnx::AttributeProto::TENSOR);
  addTensor(*fillValue.mutable_t(), "fv", {1}, 6);
  onnx::TensorProto &shape = *g.add_initializer();
  shape.set_name("shape");
  shape.set_data_type(onnx::TensorProto::INT64);
  shape.add_dims(2);
  shape.add_int64_data(3);
  shape.add_int64_data(5);
  auto io = [](onnx::ValueInfoProto &v, const char *name,
               std::vector<int64_t> dims) {
    v.set_name(name);
    auto &t = *v.mutable_type()->mutable_tensor_type();
    t.set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t.mutable_shape()->add_dim()->set_dim_value(d);
  };
  io(*g.add_input(), "x", {2, 64});
  io(*g.add_output(), "y", {2, 64});
  io(*g.add_output(), "z", {32, 64});
  io(*g.add_output(), "s", {8, 128});
  io(*g.add_output(), "f", {3, 5});
  return model;
}

/// What stripLargePayloads should give for `model`: each stripped tensor
/// without its raw_data, marked with the byte count.
static void markStripped(onnx::TensorProto &t) {
  int64_t bytes = t.raw_data().size();
  t.clear_raw_data();
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  auto *entry = t.add_external_data();
  entry->set_key(kStrippedPayloadKey);
  entry->set_value(std::to_string(bytes));
}

// The stripped model is the model with exactly the large payloads of its
// initializers and Constant nodes taken out and marked: nothing else moves.
TEST(StripLargePayloads, LeavesOutLargePayloadsOnly) {
  onnx::ModelProto model = weightsModel();
  std::string bytes = model.SerializeAsString();
  std::optional<std::string> stripped =
      stripLargePayloads(bytes, kStrippedPayloadBytes);
  ASSERT_TRUE(stripped);
  EXPECT_LT(stripped->size(), 4096u) << "the payloads are still there";
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(*stripped));

  onnx::ModelProto expected = model;
  onnx::GraphProto &g = *expected.mutable_graph();
  for (int i = 0; i < 3; ++i) // w, u, v; not the bias, not the shape
    markStripped(*g.mutable_initializer(i));
  markStripped(*g.mutable_node(0)->mutable_attribute(0)->mutable_t());
  EXPECT_EQ(parsed.DebugString(), expected.DebugString());

  int64_t left = 0;
  EXPECT_TRUE(isStrippedPayload(parsed.graph().initializer(0), &left));
  EXPECT_EQ(left, 64 * 64 * 4);
  EXPECT_FALSE(isStrippedPayload(parsed.graph().initializer(3)));
  EXPECT_FALSE(isStrippedPayload(
      parsed.graph().node(5).attribute(0).t())); // ConstantOfShape's

  // Nothing as large as a megabyte: nothing to leave out.
  EXPECT_FALSE(stripLargePayloads(bytes, 1 << 20));
}

// Of two raw_data fields the parser keeps the last: a large one followed by
// a small one leaves the tensor as it is.
TEST(StripLargePayloads, TakesTheLastRawData) {
  onnx::ModelProto model = weightsModel();
  onnx::TensorProto small;
  small.set_raw_data(std::string(16, '\0'));
  // The 16 KiB initializer w with a 16-byte raw_data after its own.
  std::string tensor = model.graph().initializer(0).SerializeAsString() +
                       small.SerializeAsString();
  auto field = [](unsigned number, const std::string &payload) {
    std::string out(1, static_cast<char>(number << 3 | 2));
    for (uint64_t n = payload.size();; n >>= 7) {
      out.push_back(static_cast<char>((n & 0x7f) | (n >> 7 ? 0x80 : 0)));
      if (!(n >> 7))
        break;
    }
    return out + payload;
  };
  model.mutable_graph()->clear_initializer();
  // Protobuf merges a message field that occurs twice: the graph's second
  // occurrence adds the initializer.
  std::string file = model.SerializeAsString() + field(7, field(5, tensor));
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(file));
  ASSERT_EQ(parsed.graph().initializer_size(), 1);
  EXPECT_EQ(parsed.graph().initializer(0).raw_data().size(), 16u);
  // The Constant node's 4 KiB go; the initializer keeps its last raw_data.
  std::optional<std::string> stripped =
      stripLargePayloads(file, kStrippedPayloadBytes);
  ASSERT_TRUE(stripped);
  onnx::ModelProto again;
  ASSERT_TRUE(again.ParseFromString(*stripped));
  ASSERT_EQ(again.graph().initializer_size(), 1);
  EXPECT_FALSE(isStrippedPayload(again.graph().initializer(0)));
  EXPECT_EQ(again.graph().initializer(0).raw_data().size(), 16u);
}

// Bytes that are not wire format this walk knows are left to the parser.
TEST(StripLargePayloads, RefusesMalformedBytes) {
  std::string bytes = weightsModel().SerializeAsString();
  EXPECT_FALSE(stripLargePayloads(bytes.substr(0, bytes.size() / 2),
                                  kStrippedPayloadBytes));
  EXPECT_FALSE(stripLargePayloads("\x0b\x0c", kStrippedPayloadBytes)); // groups
  EXPECT_FALSE(stripLargePayloads("\xff\xff\xff", kStrippedPayloadBytes));
  EXPECT_FALSE(stripLargePayloads("", kStrippedPayloadBytes));
}

/// Imports `path` into a new module of `ctx` and prints it ("" on failure,
/// the last diagnostic in `message`).
static std::string importPrinted(mlir::MLIRContext &ctx,
                                 const std::string &path, bool sizesOnly,
                                 std::string *message = nullptr) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  ImportOptions options;
  options.weightSizesOnly = sizesOnly;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &diag) {
    if (message)
      *message = diag.str();
    return mlir::success();
  });
  if (mlir::failed(importOnnxFile(*module, path, options)))
    return "";
  return printModule(*module);
}

// Sizes only, the import is the full one but for the large weights'
// digests: the same ops, types and byte counts; and two weights of one
// shape keep digests of their own.
TEST(ImportOnnxFiles, WeightSizesOnlyMatchesTheFullImport) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("chorus-sizes", dir));
  std::string path = std::string(dir) + "/weights.onnx";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << weightsModel().SerializeAsString();
  }
  mlir::MLIRContext ctx;
  ctx.loadDialect<ChorusDialect, mlir::func::FuncDialect>();
  std::string full = importPrinted(ctx, path, false);
  std::string sized = importPrinted(ctx, path, true);
  ASSERT_FALSE(full.empty());
  ASSERT_FALSE(sized.empty());
  EXPECT_NE(full, sized);
  std::regex digest("xxh3-128:[0-9a-f]{32}");
  auto digests = [&](const std::string &text) {
    std::vector<std::string> found;
    for (std::sregex_iterator it(text.begin(), text.end(), digest), end;
         it != end; ++it)
      found.push_back(it->str());
    return found;
  };
  EXPECT_EQ(std::regex_replace(full, digest, "D"),
            std::regex_replace(sized, digest, "D"));
  std::vector<std::string> sizedDigests = digests(sized);
  ASSERT_EQ(sizedDigests.size(), 6u) << sized; // w, u, v, b, shape, k
  std::set<std::string> unique(sizedDigests.begin(), sizedDigests.end());
  EXPECT_EQ(unique.size(), sizedDigests.size()) << sized;

  // A payload the dims do not match is refused, as a full import does.
  onnx::ModelProto bad = weightsModel();
  std::string *raw =
      bad.mutable_graph()->mutable_initializer(0)->mutable_raw_data();
  raw->resize(raw->size() - 4);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << bad.SerializeAsString();
  }
  for (bool sizesOnly : {false, true}) {
    std::string message;
    EXPECT_EQ(importPrinted(ctx, path, sizesOnly, &message), "");
    EXPECT_NE(message.find("raw_data holds 16380 bytes but its type needs "
                           "16384"),
              std::string::npos)
        << message;
  }
  llvm::sys::fs::remove_directories(dir);
}

// The mark the sizes-only loader leaves on a tensor whose payload it left
// out is honoured only in a sizes-only import: a normal import of a file
// that carries it reads the tensor as the external data it claims to be,
// and refuses it (no location), rather than import a weight with no bytes.
TEST(ImportOnnxFiles, StrippedMarkOnlyInASizesOnlyImport) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("chorus-mark", dir));
  std::string path = std::string(dir) + "/marked.onnx";
  onnx::ModelProto marked = weightsModel();
  onnx::TensorProto *w = marked.mutable_graph()->mutable_initializer(0);
  int64_t bytes = static_cast<int64_t>(w->raw_data().size());
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  onnx::StringStringEntryProto *entry = w->add_external_data();
  entry->set_key(kStrippedPayloadKey);
  entry->set_value(std::to_string(bytes));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << marked.SerializeAsString();
  }
  mlir::MLIRContext ctx;
  ctx.loadDialect<ChorusDialect, mlir::func::FuncDialect>();
  std::string message;
  EXPECT_EQ(importPrinted(ctx, path, false, &message), "");
  EXPECT_NE(message.find("location"), std::string::npos) << message;
  std::string sized = importPrinted(ctx, path, true, &message);
  EXPECT_NE(sized.find("chorus.weight"), std::string::npos) << message;
  llvm::sys::fs::remove_directories(dir);
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
