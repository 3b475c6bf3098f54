//===- ToolOptions.h - How the tools read their command line ----*- C++ -*-===//

#ifndef CHORUS_SUPPORT_TOOLOPTIONS_H
#define CHORUS_SUPPORT_TOOLOPTIONS_H

#include "llvm/Support/CommandLine.h"

namespace chorus {

/// Parses the command line the way every chorus tool does: `--help` shows
/// the tool's own options (those in `category`) under `overview`.
inline void parseToolOptions(int argc, char **argv,
                             llvm::cl::OptionCategory &category,
                             const char *overview) {
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(argc, argv, overview);
}

} // namespace chorus

#endif // CHORUS_SUPPORT_TOOLOPTIONS_H
