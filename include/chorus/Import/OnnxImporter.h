//===- OnnxImporter.h - ONNX models into the chorus dialect ----*- C++ -*-===//
//
// Imports ONNX models, binary (.onnx) or in ONNX's text syntax, into one
// module: one func.func per model, module-level chorus.weight symbols, and a
// chorus.node per ONNX node. See docs/Importer.md for the mapping.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_IMPORT_ONNXIMPORTER_H
#define CHORUS_IMPORT_ONNXIMPORTER_H

#include "chorus/Import/DimBindings.h"
#include "chorus/Import/OnnxFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace chorus {

struct ImportOptions {
  std::vector<DimBinding> dims;
  /// Shapes of model inputs (`--input-shape`): the input's dims take these
  /// values, and a symbolic dim among them is bound to its value in the
  /// whole model, as `--dim` would.
  std::vector<InputShape> inputShapes;
  /// Values of model inputs (`--input-value`), for folding only: the
  /// inputs stay inputs, but an If whose condition they decide takes one
  /// branch and a Loop whose trip count they give is costed so.
  std::vector<InputValue> inputValues;
  /// Trip counts of Loop nodes whose count does not fold (`--trip-count`).
  std::vector<TripCount> tripCounts;
  /// Run ONNX shape inference (skipped anyway, with a warning, for opsets
  /// newer than the ONNX library knows).
  bool shapeInference = true;
  /// Fail when a model input keeps a dim that is not a known number.
  bool requireStaticInputs = false;
  /// Read the weights' sizes, not their bytes (importOnnxFile and
  /// importOnnxFiles, binary models): each initializer of 4 KiB and more
  /// becomes a weight of its type with no value, whose digest is made of
  /// its file and name rather than its bytes, so no two weights are taken
  /// for copies of each other. For a caller that needs the shapes, FLOPs and
  /// bytes of each model on its own and never shares weights across models
  /// (chorus-calibrate's fits): a model's gigabyte of weights is then never
  /// read, where reading it took most of the import.
  bool weightSizesOnly = false;
  OnnxLimits limits;
  OnnxFormat format = OnnxFormat::Detect;
};

/// What importing one model produced besides the IR.
struct ImportedModel {
  mlir::func::FuncOp func;
  /// Every symbolic dim name (dim_param) the model declares, bound or not.
  llvm::StringSet<> dimParams;
  /// Per model input (the func's arguments, in order): the dim_param of
  /// each dim as the file declares it ("" for a fixed dim), before binding.
  std::vector<std::vector<std::string>> inputDimParams;
  /// The names of the model's inputs (initializers excluded), in order.
  std::vector<std::string> inputNames;
  /// The names of the model's Loop nodes (subgraphs included).
  std::vector<std::string> loopNames;
};

/// Each model's Loop node names, for checkTripCounts.
inline std::vector<const std::vector<std::string> *>
loopNamesOf(llvm::ArrayRef<ImportedModel> models) {
  std::vector<const std::vector<std::string> *> names;
  for (const ImportedModel &model : models)
    names.push_back(&model.loopNames);
  return names;
}

/// Each model's input names, for checkInputShapes.
inline std::vector<const std::vector<std::string> *>
inputNamesOf(llvm::ArrayRef<ImportedModel> models) {
  std::vector<const std::vector<std::string> *> names;
  for (const ImportedModel &model : models)
    names.push_back(&model.inputNames);
  return names;
}

/// Each model's dim names, for checkDimBindings.
inline std::vector<const llvm::StringSet<> *>
dimParamsOf(llvm::ArrayRef<ImportedModel> models) {
  std::vector<const llvm::StringSet<> *> dims;
  for (const ImportedModel &model : models)
    dims.push_back(&model.dimParams);
  return dims;
}

/// The highest IR version the importer accepts.
constexpr int64_t kMaxIrVersion = 10;

/// Imports the model in file `path` into `module` as a func named after the
/// file's stem (made unique in `module`). Diagnostics name the file and, where
/// there is one, the node; on failure `module` is left unchanged.
mlir::FailureOr<ImportedModel> importOnnxFile(mlir::ModuleOp module,
                                              llvm::StringRef path,
                                              const ImportOptions &options);

/// importOnnxFile for several files, in order: the same result as one call
/// each, faster, because each model's shape inference (a child process)
/// runs while the next file is read. On failure `module` may hold the
/// models before the failing one.
mlir::FailureOr<std::vector<ImportedModel>>
importOnnxFiles(mlir::ModuleOp module, llvm::ArrayRef<std::string> paths,
                const ImportOptions &options);

/// importOnnxFile for a model already in memory; `path` names it in
/// diagnostics and its folder is where external data is looked up.
mlir::FailureOr<ImportedModel> importOnnxBuffer(mlir::ModuleOp module,
                                                llvm::StringRef contents,
                                                llvm::StringRef path,
                                                const ImportOptions &options);

/// importOnnxFile for a parsed model, which it may modify (dim binding,
/// shape inference).
mlir::FailureOr<ImportedModel> importOnnxModel(mlir::ModuleOp module,
                                               onnx::ModelProto &model,
                                               llvm::StringRef path,
                                               const ImportOptions &options);

} // namespace chorus

#endif // CHORUS_IMPORT_ONNXIMPORTER_H
