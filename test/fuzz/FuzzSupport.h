//===- FuzzSupport.h - Shared parts of the fuzz targets ---------*- C++ -*-===//

#ifndef CHORUS_TEST_FUZZ_FUZZSUPPORT_H
#define CHORUS_TEST_FUZZ_FUZZSUPPORT_H

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

/// A context with the chorus and func dialects loaded that drops every
/// diagnostic: any outcome but a crash, hang or sanitizer report is fine.
struct FuzzContext {
  FuzzContext()
      : ctx(makeRegistry(), mlir::MLIRContext::Threading::DISABLED),
        handler(&ctx, [](mlir::Diagnostic &) { return mlir::success(); }) {
    ctx.loadAllAvailableDialects();
  }
  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registry.insert<chorus::ChorusDialect, mlir::func::FuncDialect>();
    return registry;
  }
  mlir::MLIRContext ctx;
  mlir::ScopedDiagnosticHandler handler;
};

/// Imports `data` as a model of `format` in a fresh context, dropping all
/// diagnostics: any outcome but a crash, hang or sanitizer report is fine.
/// External data is looked up beside a path that does not exist, so the
/// fuzzer never reads the file system.
inline int fuzzImport(const uint8_t *data, size_t size,
                      chorus::OnnxFormat format) {
  FuzzContext fuzz;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&fuzz.ctx));
  chorus::ImportOptions options;
  options.format = format;
  (void)chorus::importOnnxBuffer(
      *module, llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "/nonexistent-chorus-fuzz/model.onnx", options);
  return 0;
}

#endif // CHORUS_TEST_FUZZ_FUZZSUPPORT_H
