//===- Format.h - Number formatting for reports ----------------*- C++ -*-===//

#ifndef CHORUS_SUPPORT_FORMAT_H
#define CHORUS_SUPPORT_FORMAT_H

#include <string>

namespace chorus {

/// `value` rounded to an integer with thousands separators: 1234567 ->
/// "1,234,567".
std::string formatWithSeparators(double value);

} // namespace chorus

#endif // CHORUS_SUPPORT_FORMAT_H
