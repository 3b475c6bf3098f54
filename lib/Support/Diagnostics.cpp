//===- Diagnostics.cpp - How the tools print diagnostics
//-------------------===//

#include "chorus/Support/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

using namespace mlir;

/// Renders a location as "file", "file:line:col" or "file: node 'n' (Op)";
/// false when it holds no file.
static bool printLocation(Location loc, llvm::raw_ostream &os) {
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    os << file.getFilename().getValue();
    if (file.getLine() != 0)
      os << ":" << file.getLine() << ":" << file.getColumn();
    return true;
  }
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (!printLocation(name.getChildLoc(), os))
      return false;
    os << ": " << name.getName().getValue();
    return true;
  }
  if (auto fused = dyn_cast<FusedLoc>(loc);
      fused && !fused.getLocations().empty())
    return printLocation(fused.getLocations().front(), os);
  return false;
}

void chorus::printDiagnostic(Diagnostic &diag, llvm::raw_ostream &os,
                             llvm::StringRef tool) {
  std::string where;
  llvm::raw_string_ostream whereOs(where);
  if (!printLocation(diag.getLocation(), whereOs))
    where = tool.str();
  os << where;
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << ": error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << ": warning: ";
    break;
  case DiagnosticSeverity::Note:
    os << ": note: ";
    break;
  case DiagnosticSeverity::Remark:
    os << ": remark: ";
    break;
  }
  os << diag.str() << "\n";
  for (Diagnostic &note : diag.getNotes())
    printDiagnostic(note, os, tool);
}
