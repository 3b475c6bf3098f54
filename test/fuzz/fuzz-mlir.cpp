//===- fuzz-mlir.cpp - Fuzz parsing and verifying chorus IR ---------------===//

#include "FuzzSupport.h"
#include "chorus/Support/Nesting.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // chorus-opt refuses input nested deeper than this before MLIR's
  // recursive parser sees it; the harness applies the same guard.
  std::string input(reinterpret_cast<const char *>(data), size);
  if (chorus::getMlirNesting(input) > 1000)
    return 0;
  FuzzContext fuzz;
  // MLIR's lexer reads up to a NUL, as files read by the tools have; the
  // copy provides one. The parser verifies what it parses; printing it back
  // reaches the printers.
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(input, &fuzz.ctx);
  if (module && mlir::succeeded(mlir::verify(*module))) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  return 0;
}
