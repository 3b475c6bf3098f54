//===- ImportFlags.h - The command-line flags of every ONNX tool -*- C++
//-*-===//
//
// `--dim`, `--input-shape`, `--input-value` and `--trip-count`, declared
// once for chorus-import, chorus-plan and chorus-calibrate: the same
// spelling, help and checks in every tool that imports ONNX.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_IMPORTFLAGS_H
#define CHORUS_IMPORT_IMPORTFLAGS_H

#include "chorus/Import/OnnxImporter.h"

#include "llvm/Support/CommandLine.h"

namespace chorus {

/// The binding flags, registered in `category` when constructed (make it a
/// static object of the tool, as cl options are).
class ImportFlags {
public:
  /// `note` is appended to the help of each flag (e.g. what the shapes
  /// must match).
  ImportFlags(llvm::cl::OptionCategory &category, llvm::StringRef note = "")
      : dimHelp(help("Bind symbolic dim NAME to VALUE in every model, or only "
                     "in MODEL (its file stem or func name); repeatable",
                     note)),
        shapeHelp(help("Give a model input its shape, e.g. "
                       "input=1x3x224x224 (every model's input of that name) "
                       "or MODEL:input=1x512; a symbolic dim in it is bound "
                       "in the whole model as --dim binds it; 'scalar' for "
                       "0-D; repeatable",
                       note)),
        dims("dim", llvm::cl::desc(dimHelp),
             llvm::cl::value_desc("[MODEL:]NAME=VALUE"),
             llvm::cl::cat(category)),
        shapes("input-shape", llvm::cl::desc(shapeHelp),
               llvm::cl::value_desc("[MODEL:]INPUT=D0xD1x..."),
               llvm::cl::cat(category)),
        values("input-value",
               llvm::cl::desc(
                   "Tell the importer what a model input holds (e.g. "
                   "sr=16000), so that an If it decides takes one branch and "
                   "a Loop whose trip count it gives is costed with it; the "
                   "input stays an input; repeatable"),
               llvm::cl::value_desc("[MODEL:]INPUT=V[,V...]"),
               llvm::cl::cat(category)),
        trips("trip-count",
              llvm::cl::desc("Iterations of the Loop node NODE where the "
                             "model does not fix them (otherwise a Loop of "
                             "unknown count is costed as one iteration, "
                             "and the plan says so); repeatable"),
              llvm::cl::value_desc("[MODEL:]NODE=N"), llvm::cl::cat(category)) {
  }

  /// Parses every flag into `options`.
  llvm::Error fill(ImportOptions &options) const {
    llvm::Expected<std::vector<DimBinding>> d = parseDimBindings(dims);
    if (!d)
      return d.takeError();
    llvm::Expected<std::vector<InputShape>> s = parseInputShapes(shapes);
    if (!s)
      return s.takeError();
    llvm::Expected<std::vector<InputValue>> v = parseInputValues(values);
    if (!v)
      return v.takeError();
    llvm::Expected<std::vector<TripCount>> t = parseTripCounts(trips);
    if (!t)
      return t.takeError();
    options.dims = std::move(*d);
    options.inputShapes = std::move(*s);
    options.inputValues = std::move(*v);
    options.tripCounts = std::move(*t);
    return llvm::Error::success();
  }

  /// Whether any binding was given.
  bool any() const {
    return !dims.empty() || !shapes.empty() || !values.empty() ||
           !trips.empty();
  }

private:
  static std::string help(llvm::StringRef text, llvm::StringRef note) {
    return note.empty() ? text.str() : (text + "; " + note).str();
  }

  // The help texts outlive the options, which keep only references to
  // them; members are built in this order.
  std::string dimHelp, shapeHelp;
  llvm::cl::list<std::string> dims, shapes, values, trips;
};

/// Checks, after import, that every binding of `options` reached a model:
/// a dim, an input, a Loop node.
inline llvm::Error checkImportBindings(const ImportOptions &options,
                                       llvm::ArrayRef<std::string> paths,
                                       llvm::ArrayRef<ImportedModel> models) {
  if (llvm::Error err =
          checkDimBindings(options.dims, paths, dimParamsOf(models)))
    return err;
  if (llvm::Error err =
          checkInputShapes(options.inputShapes, paths, inputNamesOf(models)))
    return err;
  for (const InputValue &value : options.inputValues) {
    bool found = false;
    for (auto [path, model] : llvm::zip(paths, models))
      for (const std::string &name : model.inputNames)
        found |= inputShapeApplies({value.target, {}, value.spec}, name, path);
    if (!found)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--input-value " + value.spec +
                                         " matches no input of the models");
  }
  return checkTripCounts(options.tripCounts, paths, loopNamesOf(models));
}

} // namespace chorus

#endif // CHORUS_IMPORT_IMPORTFLAGS_H
