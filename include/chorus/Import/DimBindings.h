//===- DimBindings.h - --dim bindings of symbolic ONNX dims -----*- C++ -*-===//
//
// What every tool that imports ONNX shares about `--dim`: parsing
// `[MODEL:]NAME=VALUE`, which model a MODEL prefix names, and the check that
// each binding reached a symbolic dim, so a misspelt one is an error rather
// than silently ignored.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_DIMBINDINGS_H
#define CHORUS_IMPORT_DIMBINDINGS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

/// A `--dim` binding: symbolic dim `name` is `value`, in every model when
/// `model` is empty, else only in the model `model` names (namesModel).
struct DimBinding {
  std::string model;
  std::string name;
  int64_t value = 0;
};

/// Parses `NAME=VALUE` or `MODEL:NAME=VALUE`.
llvm::Expected<DimBinding> parseDimBinding(llvm::StringRef spec);

/// Parses every spec; the first bad one is the error.
llvm::Expected<std::vector<DimBinding>>
parseDimBindings(llvm::ArrayRef<std::string> specs);

/// A name made of the characters MLIR prints in a symbol without quotes;
/// a model's func is named so after its file's stem.
std::string sanitizeSymbol(llvm::StringRef name);

/// Whether `name`, as a user writes a model in `--dim MODEL:...` or
/// `--batch MODEL=B`, names the model in file `path`: the path as given,
/// its stem, or the stem as the func's symbol.
bool namesModel(llvm::StringRef name, llvm::StringRef path);

/// Checks that each binding names a model among `paths` (when it names one)
/// and matches a symbolic dim that model declares; `dimParams[i]` holds the
/// dim names of the model in `paths[i]`. The error quotes the binding.
llvm::Error
checkDimBindings(llvm::ArrayRef<DimBinding> bindings,
                 llvm::ArrayRef<std::string> paths,
                 llvm::ArrayRef<const llvm::StringSet<> *> dimParams);

} // namespace chorus

#endif // CHORUS_IMPORT_DIMBINDINGS_H
