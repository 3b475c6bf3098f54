//===- DimBindings.h - Bindings of ONNX model inputs ------------*- C++ -*-===//
//
// What every tool that imports ONNX shares about `--dim`, `--input-shape`,
// `--input-value` and `--trip-count`: parsing them, which model a MODEL
// prefix names, and the checks that each binding reached a dim, an input or
// a Loop node, so a misspelt one is an error rather than silently ignored.
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

/// An `--input-shape` binding: `target` is `INPUT` or `MODEL:INPUT` (input
/// names may hold ':' themselves, so which it is is decided against the
/// models: see inputShapeApplies); `dims` its shape, outermost first.
struct InputShape {
  std::string target;
  std::vector<int64_t> dims;
  /// The binding as the user wrote it, for messages.
  std::string spec;
};

/// Parses `[MODEL:]INPUT=D0xD1x...` (`INPUT=scalar` for a 0-D input).
llvm::Expected<InputShape> parseInputShape(llvm::StringRef spec);

/// Parses every spec; the first bad one is the error.
llvm::Expected<std::vector<InputShape>>
parseInputShapes(llvm::ArrayRef<std::string> specs);

/// Whether `shape` applies to input `input` of the model in file `path`:
/// its target is the input's name, or MODEL:INPUT with MODEL naming the
/// model (namesModel).
bool inputShapeApplies(const InputShape &shape, llvm::StringRef input,
                       llvm::StringRef path);

/// Checks that each shape reached an input of some model; `inputs[i]`
/// holds the input names of the model in `paths[i]`.
llvm::Error
checkInputShapes(llvm::ArrayRef<InputShape> shapes,
                 llvm::ArrayRef<std::string> paths,
                 llvm::ArrayRef<const std::vector<std::string> *> inputs);

/// The flag that would give input `input` of the model in `path` a static
/// shape: `--input-shape STEM:INPUT=1x?x80` with each dim as `dims` has it
/// (a dynamic dim, < 0, as '?': the value the user must choose).
std::string suggestInputShape(llvm::StringRef path, llvm::StringRef input,
                              llvm::ArrayRef<int64_t> dims);

/// An `--input-value` binding: input `target` (as for InputShape) holds
/// `values` (row-major), known to the importer's folding: an If whose
/// condition derives from it takes one branch, a Loop one trip count.
struct InputValue {
  std::string target;
  std::vector<double> values;
  std::string spec;
};

/// Parses `[MODEL:]INPUT=V[,V...]`.
llvm::Expected<InputValue> parseInputValue(llvm::StringRef spec);
llvm::Expected<std::vector<InputValue>>
parseInputValues(llvm::ArrayRef<std::string> specs);

/// A `--trip-count` binding: the Loop node `node` names (`NODE` or
/// `MODEL:NODE`, matched as InputShape targets are) runs `count`
/// iterations.
struct TripCount {
  std::string node;
  int64_t count = 0;
  std::string spec;
};

/// Parses `[MODEL:]NODE=N`.
llvm::Expected<TripCount> parseTripCount(llvm::StringRef spec);
llvm::Expected<std::vector<TripCount>>
parseTripCounts(llvm::ArrayRef<std::string> specs);

/// Checks that each trip count names a Loop node of some model;
/// `loops[i]` holds the names of the Loop nodes of the model in `paths[i]`.
llvm::Error
checkTripCounts(llvm::ArrayRef<TripCount> counts,
                llvm::ArrayRef<std::string> paths,
                llvm::ArrayRef<const std::vector<std::string> *> loops);

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
