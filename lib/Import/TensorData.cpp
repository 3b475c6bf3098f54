//===- TensorData.cpp - ONNX tensor payloads and their digests ------------===//

#include "chorus/Import/TensorData.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

using namespace chorus;
using llvm::Expected;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::ArrayRef<uint8_t> TensorBytes::getBytes() const {
  auto asBytes = [](const char *data, size_t size) {
    return llvm::ArrayRef(reinterpret_cast<const uint8_t *>(data), size);
  };
  if (rawData)
    return asBytes(rawData->data(), rawData->size());
  if (buffer)
    return asBytes(buffer->getBufferStart(), buffer->getBufferSize());
  return asBytes(storage.data(), storage.size());
}

Expected<int64_t> chorus::getElementCount(llvm::ArrayRef<int64_t> dims) {
  int64_t count = 1;
  for (int64_t dim : dims) {
    if (dim < 0)
      return makeError("negative dim " + llvm::Twine(dim));
    if (llvm::MulOverflow(count, dim, count))
      return makeError(
          "the product of dims [" +
          llvm::join(llvm::map_range(
                         dims, [](int64_t d) { return std::to_string(d); }),
                     ", ") +
          "] overflows 64 bits");
  }
  return count;
}

int chorus::getOnnxElementBytes(int dataType) {
  using T = onnx::TensorProto;
  switch (dataType) {
  case T::FLOAT:
  case T::INT32:
  case T::UINT32:
    return 4;
  case T::UINT8:
  case T::INT8:
  case T::BOOL:
  case 17: // FLOAT8E4M3FN
  case 18: // FLOAT8E4M3FNUZ
  case 19: // FLOAT8E5M2
  case 20: // FLOAT8E5M2FNUZ
  case 21: // UINT4 (packed two to a byte by getPayloadBytes)
  case 22: // INT4
    return 1;
  case T::UINT16:
  case T::INT16:
  case T::FLOAT16:
  case T::BFLOAT16:
    return 2;
  case T::INT64:
  case T::UINT64:
  case T::DOUBLE:
  case T::COMPLEX64:
    return 8;
  case T::COMPLEX128:
    return 16;
  case T::STRING:
    return 0;
  default:
    return -1;
  }
}

static bool isInt4(int dataType) { return dataType == 21 || dataType == 22; }

Expected<int64_t> chorus::getPayloadBytes(int dataType, int64_t elements) {
  int elementBytes = getOnnxElementBytes(dataType);
  if (elementBytes < 0)
    return makeError("unsupported ONNX data type " + llvm::Twine(dataType));
  if (isInt4(dataType))
    return elements / 2 + elements % 2;
  int64_t bytes;
  if (llvm::MulOverflow(elements, static_cast<int64_t>(elementBytes), bytes))
    return makeError("the payload size overflows 64 bits");
  return bytes;
}

std::string chorus::computeTensorDigest(int dataType,
                                        llvm::ArrayRef<int64_t> dims,
                                        llvm::ArrayRef<uint8_t> bytes) {
  // The header makes tensors with equal bytes but different types or shapes
  // digest differently; the payload is hashed in one pass.
  std::string header =
      "onnx-tensor;dtype=" + std::to_string(dataType) + ";dims=" +
      llvm::join(
          llvm::map_range(dims, [](int64_t d) { return std::to_string(d); }),
          ",") +
      ";";
  llvm::XXH128_hash_t headerHash = llvm::xxh3_128bits(llvm::ArrayRef(
      reinterpret_cast<const uint8_t *>(header.data()), header.size()));
  llvm::XXH128_hash_t bodyHash = llvm::xxh3_128bits(bytes);
  uint8_t combined[32];
  llvm::support::endian::write64le(combined, headerHash.high64);
  llvm::support::endian::write64le(combined + 8, headerHash.low64);
  llvm::support::endian::write64le(combined + 16, bodyHash.high64);
  llvm::support::endian::write64le(combined + 24, bodyHash.low64);
  llvm::XXH128_hash_t digest = llvm::xxh3_128bits(combined);
  return "xxh3-128:" +
         llvm::utohexstr(digest.high64, /*LowerCase=*/true,
                         /*Width=*/16) +
         llvm::utohexstr(digest.low64, /*LowerCase=*/true, /*Width=*/16);
}

Expected<std::string> chorus::resolveExternalLocation(StringRef modelDir,
                                                      StringRef location) {
  if (location.empty())
    return makeError("external data has an empty location");
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/"))
    return makeError("external data location '" + location +
                     "' is absolute; it must be relative to the model's "
                     "folder");
  for (StringRef component : llvm::make_range(llvm::sys::path::begin(location),
                                              llvm::sys::path::end(location)))
    if (component == "..")
      return makeError("external data location '" + location +
                       "' contains '..'; it must stay inside the model's "
                       "folder");
  llvm::SmallString<256> dirReal, fileReal;
  if (std::error_code ec = llvm::sys::fs::real_path(
          modelDir.empty() ? StringRef(".") : modelDir, dirReal))
    return makeError("cannot resolve the model folder '" + modelDir +
                     "': " + ec.message());
  llvm::SmallString<256> joined(modelDir.empty() ? StringRef(".") : modelDir);
  llvm::sys::path::append(joined, location);
  if (std::error_code ec = llvm::sys::fs::real_path(joined, fileReal))
    return makeError("cannot open external data file '" + location +
                     "': " + ec.message());
  llvm::SmallString<256> prefix(dirReal);
  if (!prefix.ends_with("/"))
    prefix += "/";
  if (!fileReal.str().starts_with(prefix))
    return makeError("external data location '" + location + "' resolves to '" +
                     fileReal + "', outside the model's folder '" + dirReal +
                     "'");
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(fileReal, status))
    return makeError("cannot stat external data file '" + location +
                     "': " + ec.message());
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return makeError("external data location '" + location +
                     "' is not a regular file");
  return std::string(fileReal);
}

/// Parses a non-negative decimal integer of an external-data entry.
static Expected<int64_t> parseExternalInteger(StringRef key, StringRef value) {
  int64_t result;
  if (value.getAsInteger(10, result) || result < 0)
    return makeError("external data '" + key + "' is '" + value +
                     "', not a non-negative integer");
  return result;
}

static Expected<TensorBytes> readExternal(const onnx::TensorProto &tensor,
                                          StringRef modelDir,
                                          int64_t expectedBytes) {
  std::string location;
  int64_t offset = 0;
  std::optional<int64_t> length;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset") {
      Expected<int64_t> value = parseExternalInteger("offset", entry.value());
      if (!value)
        return value.takeError();
      offset = *value;
    } else if (entry.key() == "length") {
      Expected<int64_t> value = parseExternalInteger("length", entry.value());
      if (!value)
        return value.takeError();
      length = *value;
    }
  }
  Expected<std::string> path = resolveExternalLocation(modelDir, location);
  if (!path)
    return path.takeError();
  if (length && *length != expectedBytes)
    return makeError("external data length " + llvm::Twine(*length) +
                     " does not match the " + llvm::Twine(expectedBytes) +
                     " bytes its type needs");
  uint64_t fileSize = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(*path, fileSize))
    return makeError("cannot read external data file '" + location +
                     "': " + ec.message());
  int64_t end;
  if (llvm::AddOverflow(offset, expectedBytes, end) ||
      static_cast<uint64_t>(end) > fileSize)
    return makeError("external data for this tensor needs bytes [" +
                     llvm::Twine(offset) + ", " + llvm::Twine(offset) + "+" +
                     llvm::Twine(expectedBytes) + ") but '" + location +
                     "' has only " + llvm::Twine(fileSize) + " bytes");
  TensorBytes result;
  result.payloadBytes = expectedBytes;
  result.externalLocation = location;
  if (expectedBytes == 0)
    return result;
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFileSlice(*path, expectedBytes, offset);
  if (!buffer)
    return makeError("cannot read external data file '" + location +
                     "': " + buffer.getError().message());
  result.buffer = std::move(*buffer);
  return result;
}

/// Appends `count` little-endian values of `width` bytes taken from the
/// low bytes of each element of `values`.
template <typename Range>
static void appendLittleEndian(std::string &out, const Range &values,
                               unsigned width) {
  for (auto value : values) {
    uint64_t bits;
    if constexpr (std::is_same_v<decltype(value), float>) {
      bits = llvm::bit_cast<uint32_t>(value);
    } else if constexpr (std::is_same_v<decltype(value), double>) {
      bits = llvm::bit_cast<uint64_t>(value);
    } else {
      bits = static_cast<uint64_t>(value);
    }
    for (unsigned i = 0; i < width; ++i)
      out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
}

Expected<TensorBytes> chorus::readTensorBytes(const onnx::TensorProto &tensor,
                                              StringRef modelDir) {
  using T = onnx::TensorProto;
  int dataType = tensor.data_type();
  if (dataType == T::UNDEFINED)
    return makeError("tensor has no data type");
  std::vector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  Expected<int64_t> elements = getElementCount(dims);
  if (!elements)
    return elements.takeError();

  TensorBytes result;
  if (dataType == T::STRING) {
    if (tensor.string_data_size() != *elements)
      return makeError("string tensor holds " +
                       llvm::Twine(tensor.string_data_size()) +
                       " strings but its dims need " + llvm::Twine(*elements));
    for (const std::string &s : tensor.string_data()) {
      appendLittleEndian(result.storage, std::array<uint64_t, 1>{s.size()}, 8);
      result.storage += s;
      result.payloadBytes += s.size();
    }
    return result;
  }

  Expected<int64_t> expectedBytes = getPayloadBytes(dataType, *elements);
  if (!expectedBytes)
    return expectedBytes.takeError();

  if (tensor.data_location() == T::EXTERNAL)
    return readExternal(tensor, modelDir, *expectedBytes);

  result.payloadBytes = *expectedBytes;
  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if (static_cast<int64_t>(raw.size()) != *expectedBytes)
      return makeError("raw_data holds " + llvm::Twine(raw.size()) +
                       " bytes but its type needs " +
                       llvm::Twine(*expectedBytes));
    result.rawData = &raw;
    return result;
  }

  // Typed fields: check the count, then normalize to raw little-endian.
  std::string &out = result.storage;
  auto take = [&](const auto &values, int64_t need,
                  unsigned width) -> llvm::Error {
    if (values.size() != need)
      return makeError("tensor holds " + llvm::Twine(values.size()) +
                       " values but its dims need " + llvm::Twine(need));
    // Reserve only once the count is known to match: dims alone can claim
    // any size.
    out.reserve(static_cast<size_t>(values.size()) * width);
    appendLittleEndian(out, values, width);
    return llvm::Error::success();
  };
  unsigned width = getOnnxElementBytes(dataType);
  llvm::Error error = [&]() -> llvm::Error {
    switch (dataType) {
    case T::FLOAT:
      return take(tensor.float_data(), *elements, 4);
    case T::COMPLEX64:
      return take(tensor.float_data(), 2 * *elements, 4);
    case T::DOUBLE:
      return take(tensor.double_data(), *elements, 8);
    case T::COMPLEX128:
      return take(tensor.double_data(), 2 * *elements, 8);
    case T::INT64:
      return take(tensor.int64_data(), *elements, 8);
    case T::UINT32:
    case T::UINT64:
      return take(tensor.uint64_data(), *elements, width);
    default:
      // Int4 packs two elements into the low byte of each int32_data entry.
      if (isInt4(dataType))
        return take(tensor.int32_data(), *expectedBytes, 1);
      // INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16, FLOAT8*.
      return take(tensor.int32_data(), *elements, width);
    }
  }();
  if (error)
    return std::move(error);
  return result;
}
