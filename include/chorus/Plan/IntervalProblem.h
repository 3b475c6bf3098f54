//===- IntervalProblem.h - Offset assignment over live intervals -*- C++
//-*-===//
//
// The memory planner's input: buffers live over half-open time intervals
// [lower, upper) needing `size` bytes each. One model, several models run
// one after another, or several run together all reduce to this.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_PLAN_INTERVALPROBLEM_H
#define CHORUS_PLAN_INTERVALPROBLEM_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

/// One buffer: live over [lower, upper), `size` bytes.
struct IntervalBuffer {
  std::string id;
  int64_t lower = 0;
  int64_t upper = 0;
  uint64_t size = 0;
};

struct IntervalProblem {
  std::vector<IntervalBuffer> buffers;
};

/// Rounds `size` up to a multiple of `alignment` (a power of two or any
/// positive value).
uint64_t alignUp(uint64_t size, uint64_t alignment);

/// The maximum over time of the bytes live at once, each buffer's size
/// rounded up to `alignment`: no plan's arena can be smaller.
uint64_t computeLowerBound(const IntervalProblem &problem,
                           uint64_t alignment = 1);

/// Reads the MiniMalloc CSV format: a header naming the columns id, lower,
/// upper and size (in any order), then one buffer a row. Errors name the
/// line. `name` is used in messages.
llvm::Expected<IntervalProblem> parseIntervalsCSV(llvm::StringRef text,
                                                  llvm::StringRef name);

/// Writes `problem` in the same format (columns id,lower,upper,size).
void writeIntervalsCSV(const IntervalProblem &problem, llvm::raw_ostream &os);

} // namespace chorus

#endif // CHORUS_PLAN_INTERVALPROBLEM_H
