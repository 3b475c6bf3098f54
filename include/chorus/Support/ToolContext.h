//===- ToolContext.h - The context every chorus tool runs in ----*- C++ -*-===//

#ifndef CHORUS_SUPPORT_TOOLCONTEXT_H
#define CHORUS_SUPPORT_TOOLCONTEXT_H

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Support/Diagnostics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

namespace chorus {

/// An MLIRContext with the chorus and func dialects loaded, ops not printed
/// after their diagnostics, and every diagnostic printed one line each by
/// printDiagnostic, so that all tools report errors alike. Header-only:
/// only the tools, which link the dialect, use it.
class ToolContext {
public:
  explicit ToolContext(llvm::StringRef tool)
      : context(registry()),
        handler(&context, [name = tool.str()](mlir::Diagnostic &diag) {
          printDiagnostic(diag, llvm::errs(), name);
          return mlir::success();
        }) {
    context.loadAllAvailableDialects();
    context.printOpOnDiagnostic(false);
  }

  mlir::MLIRContext &get() { return context; }

private:
  static mlir::DialectRegistry registry() {
    mlir::DialectRegistry r;
    r.insert<ChorusDialect, mlir::func::FuncDialect>();
    return r;
  }

  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace chorus

#endif // CHORUS_SUPPORT_TOOLCONTEXT_H
