//===- Format.cpp - Number formatting for reports -------------------------===//

#include "chorus/Support/Format.h"

#include "llvm/Support/FormatVariadic.h"

std::string chorus::formatWithSeparators(double value) {
  std::string digits = llvm::formatv("{0:F0}", value).str();
  std::string result;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count && count % 3 == 0 && *it != '-')
      result.insert(result.begin(), ',');
    result.insert(result.begin(), *it);
    ++count;
  }
  return result;
}
