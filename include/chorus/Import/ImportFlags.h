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

  /// A `--dim` whose value is a range LO..HI (taken where the tool
  /// evaluates ranges: chorus-plan).
  struct DimRange {
    /// The flag's text, its position among the --dim flags, the range.
    std::string spec;
    unsigned index = 0;
    int64_t low = 0, high = 0;
  };
  /// The ranges among the `--dim` flags; an error for a malformed one.
  llvm::Expected<std::vector<DimRange>> ranges() const {
    std::vector<DimRange> result;
    for (auto [index, spec] : llvm::enumerate(dims)) {
      llvm::StringRef value = llvm::StringRef(spec).rsplit('=').second;
      if (!value.contains(".."))
        continue;
      auto [lowText, highText] = value.split("..");
      DimRange r{spec, static_cast<unsigned>(index), 0, 0};
      if (lowText.getAsInteger(10, r.low) ||
          highText.getAsInteger(10, r.high) || r.low < 1 || r.high <= r.low)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "invalid --dim '" + spec +
                "': a range is LO..HI with whole numbers 1 <= LO < HI");
      result.push_back(r);
    }
    return result;
  }

  /// Parses every flag into `options`; the `--dim` ranges (ranges()) take
  /// the values `rangeValues`, one each in order. Without values a range
  /// is an error (the tool does not evaluate ranges).
  llvm::Error fill(ImportOptions &options,
                   llvm::ArrayRef<int64_t> rangeValues = {}) const {
    llvm::Expected<std::vector<DimRange>> r = ranges();
    if (!r)
      return r.takeError();
    if (!r->empty() && rangeValues.size() != r->size())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "invalid --dim '" + r->front().spec +
              "': this tool takes one value per dim, not a range");
    std::vector<std::string> specs(dims.begin(), dims.end());
    for (auto [range, value] : llvm::zip(*r, rangeValues))
      specs[range.index] = llvm::StringRef(range.spec).rsplit('=').first.str() +
                           "=" + std::to_string(value);
    llvm::Expected<std::vector<DimBinding>> d = parseDimBindings(specs);
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
