//===- Nesting.h - Bracket nesting of text inputs --------------*- C++ -*-===//
//
// Recursive-descent parsers (MLIR's, ONNX's text parser) recurse once per
// bracket level and have no limit of their own, so deeply nested input
// overflows the stack. The tools measure nesting first and refuse input
// deeper than their --max-nesting-depth.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_SUPPORT_NESTING_H
#define CHORUS_SUPPORT_NESTING_H

#include "llvm/ADT/StringRef.h"

namespace chorus {

/// The deepest nesting of the bracket pairs in `open`/`close` (same order)
/// in `text`, outside "..." strings and comments that start with
/// `lineComment` and run to the end of the line. A '>' right after '-' (an
/// MLIR arrow) closes nothing.
unsigned getBracketNesting(llvm::StringRef text, llvm::StringRef open,
                           llvm::StringRef close, llvm::StringRef lineComment);

/// getBracketNesting for MLIR text: (), [], {}, <> and `//` comments.
inline unsigned getMlirNesting(llvm::StringRef text) {
  return getBracketNesting(text, "([{<", ")]}>", "//");
}

} // namespace chorus

#endif // CHORUS_SUPPORT_NESTING_H
