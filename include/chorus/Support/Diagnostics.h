//===- Diagnostics.h - How the tools print diagnostics ----------*- C++ -*-===//

#ifndef CHORUS_SUPPORT_DIAGNOSTICS_H
#define CHORUS_SUPPORT_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

namespace chorus {

/// Prints `diag` and its notes one line each: "file: error: ...", with the
/// line and column when the location has them, the node or value name
/// when it names one ("file: node 'n' (Op): error: ..."), and `tool` when
/// the location has no file.
void printDiagnostic(mlir::Diagnostic &diag, llvm::raw_ostream &os,
                     llvm::StringRef tool);

} // namespace chorus

#endif // CHORUS_SUPPORT_DIAGNOSTICS_H
