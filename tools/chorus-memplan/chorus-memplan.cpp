//===- chorus-memplan.cpp - Solve interval memory-planning problems -------===//
//
// Reads a MiniMalloc-format CSV (id,lower,upper,size), plans arena offsets
// with every planner, checks the plan with the independent verifier and
// prints arena, lower bound, ratio and time; optionally writes the plan as
// JSON and an SVG picture.
//
//===----------------------------------------------------------------------===//

#include "chorus/Plan/IntervalProblem.h"
#include "chorus/Plan/MemoryPlanner.h"
#include "chorus/Plan/PlanExport.h"
#include "chorus/Support/Format.h"
#include "chorus/Support/ToolOptions.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace chorus;

static llvm::cl::OptionCategory category("chorus-memplan options");

static llvm::cl::opt<std::string> inputFile(
    llvm::cl::Positional, llvm::cl::Required,
    llvm::cl::desc("<problem.csv> (id,lower,upper,size; - for stdin)"),
    llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    jsonFile("o", llvm::cl::desc("Write the plan as JSON to this file"),
             llvm::cl::value_desc("plan.json"), llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    svgFile("svg", llvm::cl::desc("Write an SVG picture of the plan"),
            llvm::cl::value_desc("plan.svg"), llvm::cl::cat(category));

static llvm::cl::opt<uint64_t> alignment(
    "alignment",
    llvm::cl::desc("Align every offset to this many bytes; sizes are rounded "
                   "up to it, and so is the lower bound (default 1: the CSV "
                   "format has no alignment)"),
    llvm::cl::init(1), llvm::cl::cat(category));

static llvm::cl::list<std::string> algorithms(
    "algorithms", llvm::cl::CommaSeparated,
    llvm::cl::desc("Planners to run (default: all); see --list-algorithms"),
    llvm::cl::value_desc("name,..."), llvm::cl::cat(category));

static llvm::cl::opt<bool>
    listAlgorithms("list-algorithms",
                   llvm::cl::desc("Print the planner names and exit"),
                   llvm::cl::cat(category));

static llvm::cl::opt<uint64_t> searchBudget(
    "search-budget",
    llvm::cl::desc("Work budget of the exact search (all of it) and the "
                   "improvement phase (30%), in buffers or neighbours "
                   "visited (0: constructive planners only). A count, not a "
                   "time, so results do not depend on the machine"),
    llvm::cl::init(PlannerOptions().searchBudget), llvm::cl::cat(category));

static llvm::cl::opt<uint64_t> capacity(
    "capacity",
    llvm::cl::desc("Decide whether a plan with an arena of at most N bytes "
                   "exists: print it, or prove that none does (exit 1), or "
                   "say the search budget ran out first (exit 1)"),
    llvm::cl::value_desc("N"), llvm::cl::cat(category));

static llvm::cl::list<std::string> disableRules(
    "disable-rules", llvm::cl::CommaSeparated,
    llvm::cl::desc("Turn off pruning rules of the exact search, to measure "
                   "them (canonical, dominance, floor-inference, hatless, "
                   "decomposition); the answer stays the same"),
    llvm::cl::value_desc("rule,..."), llvm::cl::cat(category));

static llvm::cl::opt<bool>
    printRuns("runs",
              llvm::cl::desc("Also print each algorithm's arena and time"),
              llvm::cl::cat(category));

static int fail(const llvm::Twine &message) {
  return printToolError("chorus-memplan", message);
}

static std::string withSeparators(uint64_t v) {
  return formatWithSeparators(v);
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  parseToolOptions(
      argc, argv, category,
      "chorus-memplan: arena offsets for buffers live over intervals\n\n"
      "Reads an interval problem in the CSV format of Google's MiniMalloc\n"
      "benchmarks (header id,lower,upper,size; each buffer live over the\n"
      "half-open [lower, upper)), runs every planner, keeps the best plan,\n"
      "checks it with the independent plan verifier and prints the arena,\n"
      "the lower bound (maximum live bytes), their ratio and the time.\n"
      "See docs/MemoryPlanning.md.\n");
  if (listAlgorithms) {
    for (const std::string &name : listPlannerAlgorithms())
      llvm::outs() << name << "\n";
    return 0;
  }

  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFileOrSTDIN(inputFile, /*IsText=*/true);
  if (!buffer)
    return fail("cannot read '" + inputFile +
                "': " + buffer.getError().message());
  llvm::Expected<IntervalProblem> problem =
      parseIntervalsCSV((*buffer)->getBuffer(), inputFile);
  if (!problem)
    return fail(llvm::toString(problem.takeError()));

  PlannerOptions options;
  options.alignment = alignment;
  options.algorithms.assign(algorithms.begin(), algorithms.end());
  options.searchBudget = searchBudget;
  if (capacity.getNumOccurrences())
    options.capacity = capacity;
  if (llvm::Error err = disableExactRules(disableRules, options.exactRules))
    return fail(llvm::toString(std::move(err)));
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<MemoryPlan> plan = planMemory(*problem, options);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!plan)
    return fail(llvm::toString(plan.takeError()));

  llvm::raw_ostream &os = llvm::outs();
  if (plan->verdict && *plan->verdict != CapacityVerdict::Fits) {
    os << "buffers:      " << withSeparators(problem->buffers.size()) << "\n";
    os << "lower bound:  " << withSeparators(plan->lowerBound) << " bytes\n";
    os << "best arena:   " << withSeparators(plan->arenaBytes) << " bytes\n";
    os.flush();
    if (*plan->verdict == CapacityVerdict::Infeasible)
      return fail(
          "no plan fits in " + withSeparators(*options.capacity) + " bytes: " +
          (plan->lowerBound > *options.capacity
               ? "the lower bound (maximum live bytes) is " +
                     withSeparators(plan->lowerBound)
               : std::string("the exact search finished without one (" +
                             withSeparators(plan->exactNodes) + " nodes)")) +
          "; nothing was written");
    return fail("undecided: the search budget ran out before a plan within " +
                withSeparators(*options.capacity) +
                " bytes was found or ruled out (" +
                withSeparators(plan->exactNodes) +
                " nodes); raise --search-budget; nothing was written");
  }

  auto writeFile = [&](const std::string &path,
                       llvm::function_ref<void(llvm::raw_ostream &)> body) {
    std::error_code ec;
    llvm::ToolOutputFile file(path, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + path + "': " + ec.message());
    body(file.os());
    file.keep();
    return 0;
  };
  if (!jsonFile.empty())
    if (int rc = writeFile(jsonFile, [&](llvm::raw_ostream &os) {
          os << llvm::formatv("{0:2}",
                              memoryPlanToJSON(*problem, *plan, alignment))
             << "\n";
        }))
      return rc;
  if (!svgFile.empty())
    if (int rc = writeFile(svgFile, [&](llvm::raw_ostream &os) {
          writeMemoryPlanSVG(*problem, *plan, os);
        }))
      return rc;

  os << "buffers:      " << withSeparators(problem->buffers.size()) << "\n";
  os << "lower bound:  " << withSeparators(plan->lowerBound) << " bytes\n";
  os << "arena:        " << withSeparators(plan->arenaBytes) << " bytes\n";
  os << "ratio:        " << llvm::format("%.6f", plan->ratio())
     << (plan->atLowerBound() ? " (at the lower bound: optimal)"
         : plan->optimal()
             ? " (optimal: the exact search proved every smaller arena "
               "infeasible)"
             : "")
     << "\n";
  if (plan->provedBound > plan->lowerBound && !plan->optimal())
    os << "proved bound: " << withSeparators(plan->provedBound)
       << " bytes (no smaller arena exists)\n";
  if (options.capacity)
    os << "capacity:     " << withSeparators(*options.capacity)
       << " bytes: the plan fits\n";
  os << "fragmentation: " << llvm::format("%.4f%%", 100 * plan->fragmentation())
     << "\n";
  os << "algorithm:    " << plan->algorithm << "\n";
  if (printRuns)
    for (const PlannerRun &run : plan->runs)
      os << "  " << llvm::left_justify(run.algorithm, 20)
         << (run.arenaBytes || problem->buffers.empty()
                 ? withSeparators(run.arenaBytes) + " bytes  " +
                       llvm::formatv("{0:f6}", run.arenaBytes /
                                                   (double)std::max<uint64_t>(
                                                       1, plan->lowerBound))
                           .str()
                 : std::string("no plan"))
         << "  " << llvm::format("%.3f s", run.seconds) << "\n";
  if (printRuns && plan->exactNodes)
    os << "exact search: " << withSeparators(plan->exactNodes) << " nodes, "
       << withSeparators(plan->exactWork) << " work\n";
  os << "time:         " << llvm::format("%.3f s", seconds) << "\n";
  return 0;
}
