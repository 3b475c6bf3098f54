//===- IntervalProblem.cpp - Interval problems, bounds and CSV ------------===//

#include "chorus/Plan/IntervalProblem.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>

using namespace chorus;

uint64_t chorus::alignUp(uint64_t size, uint64_t alignment) {
  if (alignment <= 1)
    return size;
  return (size + alignment - 1) / alignment * alignment;
}

uint64_t chorus::computeLowerBound(const IntervalProblem &problem,
                                   uint64_t alignment) {
  // (time, +size) at starts and (time, -size) at ends; ends sort first at
  // the same time because intervals are half-open.
  std::vector<std::pair<int64_t, int64_t>> events;
  events.reserve(2 * problem.buffers.size());
  for (const IntervalBuffer &b : problem.buffers) {
    int64_t size = static_cast<int64_t>(alignUp(b.size, alignment));
    events.push_back({b.lower, size});
    events.push_back({b.upper, -size});
  }
  std::sort(events.begin(), events.end());
  int64_t live = 0, peak = 0;
  for (auto [time, delta] : events) {
    live += delta;
    peak = std::max(peak, live);
  }
  return static_cast<uint64_t>(peak);
}

static llvm::Error lineError(llvm::StringRef name, size_t line,
                             const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ":" + llvm::Twine(line) + ": " +
                                     message);
}

llvm::Expected<IntervalProblem>
chorus::parseIntervalsCSV(llvm::StringRef text, llvm::StringRef name) {
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  IntervalProblem problem;
  int columns[4] = {-1, -1, -1, -1}; // id, lower, upper, size
  static const char *const kColumnNames[4] = {"id", "lower", "upper", "size"};
  size_t fieldCount = 0;
  bool haveHeader = false;
  llvm::StringMap<size_t> seen;
  for (size_t index = 0; index < lines.size(); ++index) {
    size_t lineNo = index + 1;
    llvm::StringRef line = lines[index].trim();
    if (line.empty())
      continue;
    llvm::SmallVector<llvm::StringRef> fields;
    line.split(fields, ',');
    for (llvm::StringRef &f : fields)
      f = f.trim();
    if (!haveHeader) {
      haveHeader = true;
      fieldCount = fields.size();
      for (auto [i, f] : llvm::enumerate(fields))
        for (int c = 0; c < 4; ++c)
          if (f.equals_insensitive(kColumnNames[c])) {
            if (columns[c] >= 0)
              return lineError(name, lineNo,
                               "column '" + f + "' appears twice");
            columns[c] = i;
          }
      for (int c = 0; c < 4; ++c)
        if (columns[c] < 0)
          return lineError(name, lineNo,
                           llvm::Twine("the header has no '") +
                               kColumnNames[c] +
                               "' column (expected id,lower,upper,size)");
      continue;
    }
    if (fields.size() != fieldCount)
      return lineError(name, lineNo,
                       "expected " + llvm::Twine(fieldCount) +
                           " fields as in the header, found " +
                           llvm::Twine(fields.size()));
    IntervalBuffer buffer;
    buffer.id = fields[columns[0]].str();
    if (buffer.id.empty())
      return lineError(name, lineNo, "empty id");
    auto readInt = [&](int column, int64_t &value) -> llvm::Error {
      if (fields[columns[column]].getAsInteger(10, value))
        return lineError(name, lineNo,
                         llvm::Twine(kColumnNames[column]) + " '" +
                             fields[columns[column]] + "' is not an integer");
      return llvm::Error::success();
    };
    int64_t size;
    if (llvm::Error e = readInt(1, buffer.lower))
      return std::move(e);
    if (llvm::Error e = readInt(2, buffer.upper))
      return std::move(e);
    if (llvm::Error e = readInt(3, size))
      return std::move(e);
    if (size < 0)
      return lineError(name, lineNo,
                       "size " + llvm::Twine(size) + " is negative");
    if (buffer.upper <= buffer.lower)
      return lineError(name, lineNo,
                       "buffer '" + buffer.id + "' has upper " +
                           llvm::Twine(buffer.upper) + " <= lower " +
                           llvm::Twine(buffer.lower) +
                           " (intervals are half-open [lower, upper))");
    buffer.size = static_cast<uint64_t>(size);
    auto [it, inserted] = seen.try_emplace(buffer.id, lineNo);
    if (!inserted)
      return lineError(name, lineNo,
                       "id '" + buffer.id + "' already used on line " +
                           llvm::Twine(it->second));
    problem.buffers.push_back(std::move(buffer));
  }
  if (!haveHeader)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   name + ": empty file (expected a header "
                                          "id,lower,upper,size)");
  return problem;
}

void chorus::writeIntervalsCSV(const IntervalProblem &problem,
                               llvm::raw_ostream &os) {
  os << "id,lower,upper,size\n";
  for (const IntervalBuffer &b : problem.buffers)
    os << b.id << ',' << b.lower << ',' << b.upper << ',' << b.size << '\n';
}
