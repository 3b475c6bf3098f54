//===- TensorData.h - ONNX tensor payloads and their digests ---*- C++ -*-===//
//
// Reads the payload of an ONNX TensorProto, wherever it is stored (raw_data,
// the typed repeated fields, or an external file beside the model), as
// little-endian bytes, and digests it. External locations are confined to
// the model's folder.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_TENSORDATA_H
#define CHORUS_IMPORT_TENSORDATA_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <optional>
#include <string>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace chorus {

/// The payload of one tensor as little-endian bytes. For string tensors the
/// bytes are each string preceded by its 8-byte length, and `payloadBytes`
/// is the sum of the string lengths.
class TensorBytes {
public:
  /// The bytes, wherever they are held; valid while this object lives.
  llvm::ArrayRef<uint8_t> getBytes() const;

  int64_t payloadBytes = 0;
  /// Set when the payload lives in an external file.
  std::optional<std::string> externalLocation;

  /// Exactly one of these holds the bytes: the proto's own raw_data, a
  /// mapped slice of an external file, or bytes normalized here.
  const std::string *rawData = nullptr;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::string storage;
};

/// Number of elements of `dims`, or an error when a dim is negative or the
/// product overflows int64.
llvm::Expected<int64_t> getElementCount(llvm::ArrayRef<int64_t> dims);

/// Bytes per element of ONNX data type `dataType` in ONNX storage; 0 for
/// strings; -1 for a data type this build does not know. Int4 types report
/// 1 and are packed two to a byte by getPayloadBytes.
int getOnnxElementBytes(int dataType);

/// Bytes of a dense payload of `elements` elements of `dataType`.
llvm::Expected<int64_t> getPayloadBytes(int dataType, int64_t elements);

/// Reads the payload of `tensor`. `modelDir` is the folder of the model file
/// that external locations are relative to. Every inconsistency (size of
/// raw_data or of the typed fields against dims, external data outside the
/// folder, through a link, not a regular file, past its end) is an error.
llvm::Expected<TensorBytes> readTensorBytes(const onnx::TensorProto &tensor,
                                            llvm::StringRef modelDir);

/// The content digest of a tensor: 128-bit xxh3 over the data type, the dims
/// and the payload bytes, written as "xxh3-128:" and 32 hex digits.
std::string computeTensorDigest(int dataType, llvm::ArrayRef<int64_t> dims,
                                llvm::ArrayRef<uint8_t> bytes);

/// Resolves `location` against `modelDir` and refuses anything that is
/// absolute, contains "..", or whose real path is not inside the real path
/// of `modelDir`, or that is not a regular file. Returns the real path.
llvm::Expected<std::string> resolveExternalLocation(llvm::StringRef modelDir,
                                                    llvm::StringRef location);

} // namespace chorus

#endif // CHORUS_IMPORT_TENSORDATA_H
