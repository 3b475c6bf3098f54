//===- PlanExport.cpp - Memory plans as JSON and SVG ----------------------===//

#include "chorus/Plan/PlanExport.h"

#include "llvm/Support/Format.h"

#include <algorithm>

using namespace chorus;

llvm::json::Value chorus::memoryPlanToJSON(const IntervalProblem &problem,
                                           const MemoryPlan &plan,
                                           uint64_t alignment, bool withTimes) {
  llvm::json::Array runs;
  for (const PlannerRun &run : plan.runs) {
    llvm::json::Object o{{"algorithm", run.algorithm},
                         {"arena_bytes", run.arenaBytes}};
    if (withTimes)
      o["seconds"] = run.seconds;
    runs.push_back(std::move(o));
  }
  llvm::json::Array buffers;
  for (auto [i, b] : llvm::enumerate(problem.buffers))
    buffers.push_back(llvm::json::Object{{"id", b.id},
                                         {"lower", b.lower},
                                         {"upper", b.upper},
                                         {"size", b.size},
                                         {"offset", plan.offsets[i]}});
  return llvm::json::Object{
      {"arena_bytes", plan.arenaBytes}, {"lower_bound_bytes", plan.lowerBound},
      {"ratio", plan.ratio()},          {"fragmentation", plan.fragmentation()},
      {"alignment", alignment},         {"algorithm", plan.algorithm},
      {"runs", std::move(runs)},        {"buffers", std::move(buffers)},
  };
}

/// Escapes text for XML.
static std::string xmlEscape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

void chorus::writeMemoryPlanSVG(const IntervalProblem &problem,
                                const MemoryPlan &plan, llvm::raw_ostream &os,
                                llvm::ArrayRef<std::string> caption) {
  constexpr int kWidth = 1000, kHeight = 600, kMargin = 50, kLine = 18;
  int64_t t0 = 0, t1 = 1;
  if (!problem.buffers.empty()) {
    t0 = problem.buffers.front().lower;
    t1 = problem.buffers.front().upper;
    for (const IntervalBuffer &b : problem.buffers) {
      t0 = std::min(t0, b.lower);
      t1 = std::max(t1, b.upper);
    }
  }
  double top = std::max<double>(1, plan.arenaBytes);
  double xScale = kWidth / std::max<double>(1, t1 - t0);
  double yScale = kHeight / top;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
     << kWidth + 2 * kMargin << "\" height=\""
     << kHeight + 2 * kMargin + kLine * caption.size()
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  os << "<title>arena " << plan.arenaBytes << " bytes, lower bound "
     << plan.lowerBound << " bytes</title>\n";
  os << "<rect x=\"" << kMargin << "\" y=\"" << kMargin << "\" width=\""
     << kWidth << "\" height=\"" << kHeight
     << "\" fill=\"#fafafa\" stroke=\"#888\"/>\n";
  for (auto [i, b] : llvm::enumerate(problem.buffers)) {
    if (b.size == 0)
      continue;
    double x = kMargin + (b.lower - t0) * xScale;
    double w = (b.upper - b.lower) * xScale;
    double h = b.size * yScale;
    double y = kMargin + kHeight - (plan.offsets[i] + b.size) * yScale;
    // A colour from the index, stable across runs.
    unsigned hue = (i * 47) % 360;
    os << "<rect x=\"" << llvm::format("%.2f", x) << "\" y=\""
       << llvm::format("%.2f", y) << "\" width=\"" << llvm::format("%.2f", w)
       << "\" height=\"" << llvm::format("%.2f", h) << "\" fill=\"hsl(" << hue
       << ",60%,65%)\" stroke=\"#333\" stroke-width=\"0.3\"><title>"
       << xmlEscape(b.id) << ": " << b.size << " bytes at " << plan.offsets[i]
       << ", live [" << b.lower << ", " << b.upper << ")</title></rect>\n";
  }
  double yBound = kMargin + kHeight - plan.lowerBound * yScale;
  os << "<line x1=\"" << kMargin << "\" x2=\"" << kMargin + kWidth << "\" y1=\""
     << llvm::format("%.2f", yBound) << "\" y2=\""
     << llvm::format("%.2f", yBound)
     << "\" stroke=\"#c00\" stroke-dasharray=\"6,4\"/>\n";
  os << "<text x=\"" << kMargin << "\" y=\"" << kMargin - 8 << "\">arena "
     << plan.arenaBytes << " B, lower bound " << plan.lowerBound
     << " B (dashed), algorithm " << xmlEscape(plan.algorithm) << "</text>\n";
  os << "<text x=\"" << kMargin << "\" y=\"" << kMargin + kHeight + 20
     << "\">time " << t0 << " .. " << t1 << " (x), address (y)</text>\n";
  for (auto [i, line] : llvm::enumerate(caption))
    os << "<text x=\"" << kMargin << "\" y=\""
       << kMargin + kHeight + 20 + kLine * (i + 1) << "\">" << xmlEscape(line)
       << "</text>\n";
  os << "</svg>\n";
}
