//===- OnnxSchema.h - Questions to ONNX's operator schemas ------*- C++ -*-===//
//
// Small lookups in the operator schemas of the ONNX library Chorus links,
// for analyses that need to know what an operator's inputs are called
// and what its attributes default to.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_ONNXSCHEMA_H
#define CHORUS_IMPORT_ONNXSCHEMA_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace chorus {

/// Where an input is in an operator's schema.
struct OnnxInputLookup {
  /// Whether ONNX has a schema for the operator at that opset.
  bool schemaFound = false;
  /// The input's position; std::nullopt when the schema has no input of
  /// that name (at another opset it may be an attribute).
  std::optional<unsigned> index;
};

/// Looks up the input called `inputName` in the schema of operator
/// `opType` of `domain` ("" or "ai.onnx" for the default domain) at opset
/// `opset`.
OnnxInputLookup findOnnxInput(llvm::StringRef domain, llvm::StringRef opType,
                              int64_t opset, llvm::StringRef inputName);

/// The default of an INT or STRING attribute in the operator's schema at
/// `opset`; std::nullopt when the schema, the attribute or its default is
/// not there (or the attribute is of another kind).
std::optional<std::variant<int64_t, std::string>>
findOnnxAttributeDefault(llvm::StringRef domain, llvm::StringRef opType,
                         int64_t opset, llvm::StringRef attrName);

} // namespace chorus

#endif // CHORUS_IMPORT_ONNXSCHEMA_H
