//===- ToolOptions.h - Command line and errors of the tools -----*- C++ -*-===//
//
// Header-only and free of MLIR, so that a tool without IR (chorus-memplan)
// does not load it.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_SUPPORT_TOOLOPTIONS_H
#define CHORUS_SUPPORT_TOOLOPTIONS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace chorus {

/// Parses the command line the way every chorus tool does: `--help` shows
/// the tool's own options (those in `category`) under `overview`.
inline void parseToolOptions(int argc, char **argv,
                             llvm::cl::OptionCategory &category,
                             const char *overview) {
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(argc, argv, overview);
}

/// Prints a tool's own error (one without a location), as printDiagnostic
/// prints those: "tool: error: message". Returns 1, the tools' exit code
/// for an error.
inline int printToolError(llvm::StringRef tool, const llvm::Twine &message) {
  llvm::errs() << tool << ": error: " << message << "\n";
  return 1;
}

} // namespace chorus

#endif // CHORUS_SUPPORT_TOOLOPTIONS_H
