//===- chorus-opt.cpp - The chorus optimizer driver -----------------------===//
//
// Parses, verifies, transforms and prints chorus IR. Registers only the
// chorus and func dialects and a chosen list of upstream passes.
//
//===----------------------------------------------------------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  chorus::registerChorusPasses();

  mlir::DialectRegistry registry;
  registry.insert<chorus::ChorusDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Chorus optimizer: passes over imported ONNX models\n",
      registry));
}
