//===- Nesting.cpp - Bracket nesting of text inputs -----------------------===//

#include "chorus/Support/Nesting.h"

#include <algorithm>

using namespace chorus;

unsigned chorus::getBracketNesting(llvm::StringRef text, llvm::StringRef open,
                                   llvm::StringRef close,
                                   llvm::StringRef lineComment) {
  unsigned depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (!lineComment.empty() &&
               text.substr(i).starts_with(lineComment)) {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (open.contains(c)) {
      deepest = std::max(deepest, ++depth);
    } else if (close.contains(c) && depth > 0 &&
               !(c == '>' && i > 0 && text[i - 1] == '-')) {
      --depth;
    }
  }
  return deepest;
}
