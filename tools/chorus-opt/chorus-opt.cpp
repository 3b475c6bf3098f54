//===- chorus-opt.cpp - The chorus optimizer driver -----------------------===//
//
// Parses, verifies, transforms and prints chorus IR. Registers only the
// chorus and func dialects and a chosen list of upstream passes. Input is
// measured before MLIR's parser sees it: the parser recurses once per
// bracket level, so deeply nested input would overflow the stack.
//
//===----------------------------------------------------------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Support/Diagnostics.h"
#include "chorus/Support/Nesting.h"
#include "chorus/Support/ToolOptions.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

static llvm::cl::opt<unsigned> maxNestingDepth(
    "max-nesting-depth",
    llvm::cl::desc("Refuse input whose brackets nest deeper than this "
                   "(MLIR's parser recurses once per level)"),
    llvm::cl::init(1000));

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  chorus::registerChorusPasses();
  chorus::registerChorusTestPasses();
  chorus::registerPlanningPipeline();

  mlir::DialectRegistry registry;
  registry.insert<chorus::ChorusDialect, mlir::func::FuncDialect>();
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv, "Chorus optimizer: passes over imported ONNX models\n",
      registry);
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects()) {
    llvm::outs() << "Available Dialects: ";
    llvm::interleave(registry.getDialectNames(), llvm::outs(), ",");
    llvm::outs() << "\n";
    return 0;
  }

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      mlir::openInputFile(inputFilename, &errorMessage);
  if (!file) {
    return chorus::printToolError("chorus-opt", errorMessage);
  }
  if (chorus::getMlirNesting(file->getBuffer()) > maxNestingDepth) {
    return chorus::printToolError(
        "chorus-opt", "'" + inputFilename +
                          "' nests brackets deeper than --max-nesting-depth=" +
                          llvm::Twine(maxNestingDepth) + " allows");
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    return chorus::printToolError("chorus-opt", errorMessage);
  }
  if (mlir::failed(
          mlir::MlirOptMain(output->os(), std::move(file), registry, config)))
    return 1;
  output->keep();
  return 0;
}
