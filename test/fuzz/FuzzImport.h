//===- FuzzImport.h - Shared body of the ONNX importer fuzzers -*- C++ -*-===//

#ifndef CHORUS_TEST_FUZZ_FUZZIMPORT_H
#define CHORUS_TEST_FUZZ_FUZZIMPORT_H

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

/// Imports `data` as a model of `format` in a fresh context, dropping all
/// diagnostics: any outcome but a crash, hang or sanitizer report is fine.
/// External data is looked up beside a path that does not exist, so the
/// fuzzer never reads the file system.
inline int fuzzImport(const uint8_t *data, size_t size,
                      chorus::OnnxFormat format) {
  mlir::DialectRegistry registry;
  registry.insert<chorus::ChorusDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
  ctx.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler handler(
      &ctx, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  chorus::ImportOptions options;
  options.format = format;
  (void)chorus::importOnnxBuffer(
      *module,
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "/nonexistent-chorus-fuzz/model.onnx", options);
  return 0;
}

#endif // CHORUS_TEST_FUZZ_FUZZIMPORT_H
