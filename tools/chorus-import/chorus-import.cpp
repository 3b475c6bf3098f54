//===- chorus-import.cpp - ONNX models into chorus IR ---------------------===//
//
// Imports one or more ONNX models (binary or ONNX text syntax) into one
// module, one func per model, and prints it, or prints a per-model summary.
// Output is written only when every model imports.
//
//===----------------------------------------------------------------------===//

#include "chorus/Analysis/ModelSummary.h"
#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Import/ImportFlags.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Support/Diagnostics.h"
#include "chorus/Support/ToolContext.h"
#include "chorus/Support/ToolOptions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace chorus;

static llvm::cl::OptionCategory importCategory("chorus-import options");

static llvm::cl::list<std::string>
    inputFiles(llvm::cl::Positional, llvm::cl::OneOrMore,
               llvm::cl::desc("<model.onnx | model.onnxtxt>..."),
               llvm::cl::cat(importCategory));

static llvm::cl::opt<std::string>
    outputFile("o", llvm::cl::desc("Output file (default: stdout)"),
               llvm::cl::value_desc("file"), llvm::cl::init("-"),
               llvm::cl::cat(importCategory));

static ImportFlags importFlags(importCategory);

static llvm::cl::opt<bool> noShapeInference(
    "no-shape-inference",
    llvm::cl::desc("Do not run ONNX shape inference; take types from the "
                   "file's value_info and outputs only"),
    llvm::cl::cat(importCategory));

static llvm::cl::opt<bool> requireStatic(
    "require-static",
    llvm::cl::desc("Fail when a model input keeps a dim without a value "
                   "(bind it with --dim or --input-shape)"),
    llvm::cl::cat(importCategory));

static llvm::cl::opt<OnnxFormat> inputFormat(
    "format", llvm::cl::desc("How the model files are written"),
    llvm::cl::init(OnnxFormat::Detect),
    llvm::cl::values(
        clEnumValN(OnnxFormat::Detect, "auto",
                   "tell by content (default): text starts with '<', '#' "
                   "or a letter"),
        clEnumValN(OnnxFormat::Binary, "binary", "binary protobuf (.onnx)"),
        clEnumValN(OnnxFormat::Text, "text", "ONNX text syntax")),
    llvm::cl::cat(importCategory));

static llvm::cl::opt<unsigned> maxNestingDepth(
    "max-nesting-depth",
    llvm::cl::desc("Refuse models whose subgraphs nest deeper than this"),
    llvm::cl::init(OnnxLimits().maxNestingDepth),
    llvm::cl::cat(importCategory));

static llvm::cl::opt<int64_t> maxNodes(
    "max-nodes",
    llvm::cl::desc("Refuse models with more nodes than this, subgraphs "
                   "included"),
    llvm::cl::init(OnnxLimits().maxNodes), llvm::cl::cat(importCategory));

static llvm::cl::opt<bool>
    printSummary("summary",
                 llvm::cl::desc("Print a per-model summary (inputs, outputs, "
                                "weights, nodes by op type) instead of IR"),
                 llvm::cl::cat(importCategory));

static LogicalResult reportError(const llvm::Twine &message) {
  printToolError("chorus-import", message);
  return failure();
}

static LogicalResult run(MLIRContext &context) {
  ImportOptions options;
  options.shapeInference = !noShapeInference;
  options.requireStaticInputs = requireStatic;
  options.limits.maxNestingDepth = maxNestingDepth;
  options.limits.maxNodes = maxNodes;
  options.format = inputFormat;
  if (llvm::Error err = importFlags.fill(options))
    return reportError(llvm::toString(std::move(err)));

  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  FailureOr<std::vector<ImportedModel>> models =
      importOnnxFiles(*module, inputFiles, options);
  if (failed(models))
    return failure();
  if (llvm::Error err = checkImportBindings(options, inputFiles, *models))
    return reportError(llvm::toString(std::move(err)));
  if (failed(verify(*module)))
    return reportError("the imported module does not verify");

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &errorMessage);
  if (!output)
    return reportError(errorMessage);
  if (printSummary) {
    for (auto [index, model] : llvm::enumerate(*models)) {
      if (index)
        output->os() << "\n";
      ModelSummary(model.func).print(output->os());
    }
  } else {
    module->print(output->os());
    output->os() << "\n";
  }
  output->keep();
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  parseToolOptions(
      argc, argv, importCategory,
      "chorus-import: ONNX models into the chorus dialect\n\n"
      "Imports each model file, ONNX binary protobuf or ONNX text syntax,\n"
      "into one module: one func.func per model (named after the file),\n"
      "module-level chorus.weight symbols with content digests, and one\n"
      "chorus.node per ONNX node. Symbolic dims are bound with --dim and\n"
      "inputs given shapes with --input-shape, then\n"
      "ONNX shape inference types every value. Nothing is written unless\n"
      "every model imports. See docs/Importer.md.\n");

  ToolContext context("chorus-import");
  return failed(run(context.get())) ? 1 : 0;
}
