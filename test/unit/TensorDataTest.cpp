//===- TensorDataTest.cpp - Tests of ONNX payload reading and digests -----===//

#include "chorus/Import/TensorData.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace chorus;

namespace {

std::string errorOf(llvm::Error error) {
  return llvm::toString(std::move(error));
}

TEST(TensorData, ElementCount) {
  EXPECT_EQ(*getElementCount({}), 1);
  EXPECT_EQ(*getElementCount({2, 3, 4}), 24);
  EXPECT_EQ(*getElementCount({0, 7}), 0);
  llvm::Expected<int64_t> negative = getElementCount({2, -1});
  ASSERT_FALSE(negative);
  EXPECT_NE(errorOf(negative.takeError()).find("negative dim -1"),
            std::string::npos);
  llvm::Expected<int64_t> overflow =
      getElementCount({int64_t(1) << 40, int64_t(1) << 40});
  ASSERT_FALSE(overflow);
  EXPECT_NE(errorOf(overflow.takeError()).find("overflows"), std::string::npos);
}

TEST(TensorData, PayloadBytes) {
  using T = onnx::TensorProto;
  EXPECT_EQ(*getPayloadBytes(T::FLOAT, 10), 40);
  EXPECT_EQ(*getPayloadBytes(T::BOOL, 3), 3);
  EXPECT_EQ(*getPayloadBytes(T::COMPLEX128, 2), 32);
  EXPECT_EQ(*getPayloadBytes(22 /*INT4*/, 5), 3);
  EXPECT_FALSE(static_cast<bool>(getPayloadBytes(T::FLOAT, INT64_MAX / 2)));
  llvm::consumeError(getPayloadBytes(T::FLOAT, INT64_MAX / 2).takeError());
  llvm::Expected<int64_t> unknown = getPayloadBytes(99, 1);
  ASSERT_FALSE(unknown);
  EXPECT_NE(errorOf(unknown.takeError()).find("unsupported ONNX data type 99"),
            std::string::npos);
}

// The same values stored as raw_data and as float_data digest alike, and
// a change of shape or type changes the digest.
TEST(TensorData, DigestIgnoresStorageFormButNotShapeOrType) {
  onnx::TensorProto typed;
  typed.set_data_type(onnx::TensorProto::FLOAT);
  typed.add_dims(2);
  typed.add_float_data(1.0f);
  typed.add_float_data(-2.5f);
  onnx::TensorProto raw = typed;
  raw.clear_float_data();
  float values[] = {1.0f, -2.5f};
  raw.set_raw_data(std::string(reinterpret_cast<char *>(values), 8));

  llvm::Expected<TensorBytes> a = readTensorBytes(typed, ".");
  llvm::Expected<TensorBytes> b = readTensorBytes(raw, ".");
  ASSERT_TRUE(static_cast<bool>(a));
  ASSERT_TRUE(static_cast<bool>(b));
  EXPECT_EQ(a->payloadBytes, 8);
  EXPECT_EQ(a->getBytes(), b->getBytes());
  std::string digest = computeTensorDigest(1, {2}, a->getBytes());
  EXPECT_EQ(digest, computeTensorDigest(1, {2}, b->getBytes()));
  EXPECT_EQ(digest.size(), std::string("xxh3-128:").size() + 32);
  EXPECT_NE(digest, computeTensorDigest(1, {1, 2}, a->getBytes()));
  EXPECT_NE(digest, computeTensorDigest(6, {2}, a->getBytes()));
}

TEST(TensorData, SizeMismatchesAreErrors) {
  onnx::TensorProto tensor;
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  tensor.add_dims(3);
  tensor.set_raw_data(std::string(8, '\0'));
  llvm::Expected<TensorBytes> raw = readTensorBytes(tensor, ".");
  ASSERT_FALSE(raw);
  EXPECT_EQ(errorOf(raw.takeError()),
            "raw_data holds 8 bytes but its type needs 12");

  tensor.clear_raw_data();
  tensor.add_float_data(1.0f);
  llvm::Expected<TensorBytes> typed = readTensorBytes(tensor, ".");
  ASSERT_FALSE(typed);
  EXPECT_EQ(errorOf(typed.takeError()),
            "tensor holds 1 values but its dims need 3");
}

TEST(TensorData, Float16FromInt32Data) {
  onnx::TensorProto tensor;
  tensor.set_data_type(onnx::TensorProto::FLOAT16);
  tensor.add_dims(2);
  tensor.add_int32_data(0x3c00); // 1.0
  tensor.add_int32_data(0xc000); // -2.0
  llvm::Expected<TensorBytes> data = readTensorBytes(tensor, ".");
  ASSERT_TRUE(static_cast<bool>(data));
  std::vector<uint8_t> expected = {0x00, 0x3c, 0x00, 0xc0};
  EXPECT_EQ(data->getBytes(), llvm::ArrayRef(expected));
}

TEST(TensorData, StringsCountTheirBytes) {
  onnx::TensorProto tensor;
  tensor.set_data_type(onnx::TensorProto::STRING);
  tensor.add_dims(2);
  tensor.add_string_data("ab");
  tensor.add_string_data("cde");
  llvm::Expected<TensorBytes> data = readTensorBytes(tensor, ".");
  ASSERT_TRUE(static_cast<bool>(data));
  EXPECT_EQ(data->payloadBytes, 5);
  // Each string is preceded by its length, so ["ab","cde"] and ["abc","de"]
  // differ.
  onnx::TensorProto other = tensor;
  other.set_string_data(0, "abc");
  other.set_string_data(1, "de");
  llvm::Expected<TensorBytes> otherData = readTensorBytes(other, ".");
  ASSERT_TRUE(static_cast<bool>(otherData));
  EXPECT_NE(data->getBytes(), otherData->getBytes());
}

/// A scratch folder with a model folder inside, removed at the end.
class ExternalDataTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("chorus-test", root));
    modelDir = root;
    llvm::sys::path::append(modelDir, "model");
    ASSERT_FALSE(llvm::sys::fs::create_directory(modelDir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(root); }

  std::string path(llvm::StringRef dir, llvm::StringRef name) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  void write(const std::string &file, llvm::StringRef contents) {
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    ASSERT_FALSE(ec);
    os << contents;
  }
  onnx::TensorProto external(llvm::StringRef location, int64_t elements) {
    onnx::TensorProto tensor;
    tensor.set_data_type(onnx::TensorProto::FLOAT);
    tensor.add_dims(elements);
    tensor.set_data_location(onnx::TensorProto::EXTERNAL);
    auto *entry = tensor.add_external_data();
    entry->set_key("location");
    entry->set_value(location.str());
    return tensor;
  }
  std::string errorFor(const onnx::TensorProto &tensor) {
    llvm::Expected<TensorBytes> data = readTensorBytes(tensor, modelDir);
    if (data)
      return "no error";
    return errorOf(data.takeError());
  }

  llvm::SmallString<256> root, modelDir;
};

TEST_F(ExternalDataTest, ReadsInsideTheFolder) {
  write(path(modelDir, "w.bin"), llvm::StringRef("\0\0\x80\x3f", 4));
  llvm::Expected<TensorBytes> data =
      readTensorBytes(external("w.bin", 1), modelDir);
  ASSERT_TRUE(static_cast<bool>(data));
  EXPECT_EQ(data->payloadBytes, 4);
  EXPECT_EQ(data->getBytes().size(), 4u);
  EXPECT_EQ(data->externalLocation, "w.bin");
}

TEST_F(ExternalDataTest, RefusesEscapes) {
  write(path(root, "outside.bin"), std::string(16, 'x'));
  EXPECT_NE(errorFor(external("/etc/passwd", 1)).find("is absolute"),
            std::string::npos);
  EXPECT_NE(errorFor(external("../outside.bin", 1)).find("contains '..'"),
            std::string::npos);
  ASSERT_FALSE(llvm::sys::fs::create_link(path(root, "outside.bin"),
                                          path(modelDir, "link.bin")));
  EXPECT_NE(
      errorFor(external("link.bin", 1)).find("outside the model's folder"),
      std::string::npos);
  ASSERT_FALSE(llvm::sys::fs::create_directory(path(modelDir, "sub")));
  EXPECT_NE(errorFor(external("sub", 1)).find("is not a regular file"),
            std::string::npos);
  ASSERT_EQ(mkfifo(path(modelDir, "fifo").c_str(), 0600), 0);
  EXPECT_NE(errorFor(external("fifo", 1)).find("is not a regular file"),
            std::string::npos);
  EXPECT_NE(errorFor(external("missing.bin", 1)).find("cannot open"),
            std::string::npos);
}

TEST_F(ExternalDataTest, RefusesReadsPastTheEnd) {
  write(path(modelDir, "short.bin"), "abc");
  EXPECT_NE(errorFor(external("short.bin", 1)).find("has only 3 bytes"),
            std::string::npos);
  onnx::TensorProto tensor = external("short.bin", 1);
  auto *length = tensor.add_external_data();
  length->set_key("length");
  length->set_value("8");
  EXPECT_NE(errorFor(tensor).find("length 8 does not match the 4 bytes"),
            std::string::npos);
  onnx::TensorProto badOffset = external("short.bin", 0);
  auto *offset = badOffset.add_external_data();
  offset->set_key("offset");
  offset->set_value("-4");
  EXPECT_NE(errorFor(badOffset).find("not a non-negative integer"),
            std::string::npos);
}

} // namespace
