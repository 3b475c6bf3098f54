//===- WeightPayloads.h - Reading weight payloads back ---------*- C++ -*-===//
//
// The IR keeps a digest of each weight, not its bytes. Before two weights
// with equal digests are merged, their bytes are compared; this reads them
// back from the model files they were imported from.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_WEIGHTPAYLOADS_H
#define CHORUS_IMPORT_WEIGHTPAYLOADS_H

#include "chorus/Import/TensorData.h"

#include "llvm/ADT/StringMap.h"

#include <deque>
#include <memory>

namespace onnx {
class ModelProto;
class GraphProto;
} // namespace onnx

namespace chorus {

class WeightPayloadReader {
public:
  WeightPayloadReader();
  ~WeightPayloadReader();

  /// The payload of the tensor named `onnxName` (an initializer of any
  /// graph, or a Constant node's output) in the model file `path`. Each file
  /// is parsed once and kept while the reader lives.
  llvm::Expected<TensorBytes> read(llvm::StringRef path,
                                   llvm::StringRef onnxName);

private:
  struct Model;
  llvm::Expected<Model *> load(llvm::StringRef path);
  llvm::StringMap<std::unique_ptr<Model>> models;
};

} // namespace chorus

#endif // CHORUS_IMPORT_WEIGHTPAYLOADS_H
