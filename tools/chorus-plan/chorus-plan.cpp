//===- chorus-plan.cpp - N models, one device: the plan
//--------------------===//
//
// Imports the models (ONNX, binary or text; or one .mlir module), runs the
// planning pipeline (chorus-share, chorus-fuse, chorus-annotate-cost: the
// one chorus-opt registers as chorus-planning-pipeline), simulates each
// strategy on the target, plans memory over the simulated timeline and
// recommends a strategy for the goal. Prints a table; writes plan.json, a
// Chrome trace and an SVG of the recommended strategy's memory.
//
//===----------------------------------------------------------------------===//

#include "chorus/Advisor/Advisor.h"
#include "chorus/Advisor/Placement.h"
#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Plan/PlanExport.h"
#include "chorus/Support/Diagnostics.h"
#include "chorus/Support/Nesting.h"
#include "chorus/Support/ToolContext.h"
#include "chorus/Support/ToolOptions.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace chorus;

static llvm::cl::OptionCategory category("chorus-plan options");

static llvm::cl::list<std::string> inputFiles(
    llvm::cl::Positional, llvm::cl::OneOrMore,
    llvm::cl::desc("<model.onnx | model.onnxtxt>... (a model given twice is "
                   "two requests of it), or one <module.mlir>"),
    llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    targetName("target",
               llvm::cl::desc("Built-in target (default host): host, "
                              "x86-avx2, h100-sxm, h200, a100-80gb, l4"),
               llvm::cl::value_desc("name"), llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    targetFile("target-file", llvm::cl::desc("Target JSON file"),
               llvm::cl::value_desc("target.json"), llvm::cl::cat(category));

static llvm::cl::list<std::string>
    dimBindings("dim",
                llvm::cl::desc("Bind a symbolic dim (NAME=VALUE, or "
                               "MODEL:NAME=VALUE for one model)"),
                llvm::cl::value_desc("[MODEL:]NAME=VALUE"),
                llvm::cl::cat(category));

static llvm::cl::list<std::string>
    batches("batch",
            llvm::cl::desc("MODEL=B: B requests of MODEL (its file stem), "
                           "which the batched strategy runs as one batch "
                           "of B"),
            llvm::cl::value_desc("MODEL=B"), llvm::cl::cat(category));

namespace {
/// --strategy: one strategy by its advisor name, or every one.
enum class StrategyChoice { Auto, Sequential, Parallel, Batched };
} // namespace

static llvm::cl::opt<StrategyChoice> strategy(
    "strategy", llvm::cl::desc("The strategy to evaluate (default: all)"),
    llvm::cl::init(StrategyChoice::Auto),
    llvm::cl::values(clEnumValN(StrategyChoice::Auto, "auto",
                                "evaluate every strategy, recommend one"),
                     clEnumValN(StrategyChoice::Sequential, "sequential",
                                "one model after another"),
                     clEnumValN(StrategyChoice::Parallel, "parallel",
                                "the models side by side"),
                     clEnumValN(StrategyChoice::Batched, "batched",
                                "identical requests as one batched job")),
    llvm::cl::cat(category));

static llvm::cl::opt<Goal>
    goal("goal", llvm::cl::desc("What the recommendation optimizes"),
         llvm::cl::init(Goal::Latency),
         llvm::cl::values(
             clEnumValN(Goal::Latency, "latency", "mean request latency"),
             clEnumValN(Goal::Throughput, "throughput", "requests per second"),
             clEnumValN(Goal::Memory, "memory", "peak bytes")),
         llvm::cl::cat(category));

static llvm::cl::opt<uint64_t>
    memoryLimit("memory-limit",
                llvm::cl::desc("Bytes available (default: the target's memory "
                               "capacity); strategies above it are infeasible"),
                llvm::cl::init(0), llvm::cl::cat(category));

static llvm::cl::list<std::string> sameInputs(
    "same-input",
    llvm::cl::desc("MODEL:INPUT=MODEL:INPUT: two models read the same tensor"),
    llvm::cl::cat(category));

static llvm::cl::opt<bool> noFuse("no-fuse",
                                  llvm::cl::desc("Do not run chorus-fuse"),
                                  llvm::cl::cat(category));

static llvm::cl::opt<uint64_t>
    alignment("alignment", llvm::cl::desc("Arena alignment in bytes"),
              llvm::cl::init(64), llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    planFile("o", llvm::cl::desc("Write the plan as JSON"),
             llvm::cl::value_desc("plan.json"), llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    traceFile("trace",
              llvm::cl::desc("Write the simulated timelines as a Chrome "
                             "trace (Perfetto, chrome://tracing)"),
              llvm::cl::value_desc("trace.json"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> memorySvg(
    "memory-svg",
    llvm::cl::desc("Write the recommended strategy's memory plan as SVG"),
    llvm::cl::value_desc("memory.svg"), llvm::cl::cat(category));

static llvm::cl::list<std::string> placeOn(
    "place-on",
    llvm::cl::desc("Also place the models over these targets (e.g. the "
                   "browser targets of tools/chorus-probe): each model on "
                   "one target, by op support, memory and predicted time; "
                   "prints the assignment and the reason for each model"),
    llvm::cl::value_desc("target.json,..."), llvm::cl::CommaSeparated,
    llvm::cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "chorus-plan: error: " << message << "\n";
  return 1;
}

namespace {
struct Request {
  std::string path;
  func::FuncOp func;
  /// The dim_param of the first input's leading dim, "" if fixed.
  std::string batchDim;
};
} // namespace

static int run(MLIRContext &context) {
  if (alignment == 0)
    return fail("--alignment must be at least 1");
  if (!targetName.empty() && !targetFile.empty())
    return fail("give --target or --target-file, not both");
  llvm::Expected<Target> target = loadTarget(targetName, targetFile);
  if (!target)
    return fail(llvm::toString(target.takeError()));

  ImportOptions importOptions;
  llvm::Expected<std::vector<DimBinding>> dims = parseDimBindings(dimBindings);
  if (!dims)
    return fail(llvm::toString(dims.takeError()));
  importOptions.dims = std::move(*dims);
  // Requests: the files in order, each --batch adding B - 1 more of one.
  std::vector<std::string> paths(inputFiles.begin(), inputFiles.end());
  for (const std::string &spec : batches) {
    auto [model, count] = llvm::StringRef(spec).rsplit('=');
    unsigned b = 0;
    if (model.empty() || count.getAsInteger(10, b) || b < 1 || b > 4096)
      return fail("--batch '" + spec + "' is not MODEL=B (1 <= B <= 4096)");
    auto it = llvm::find_if(
        paths, [&](const std::string &p) { return namesModel(model, p); });
    if (it == paths.end())
      return fail("--batch names '" + model.str() +
                  "', which is not among the models");
    std::string path = *it;
    for (unsigned i = 1; i < b; ++i)
      paths.push_back(path);
  }

  OwningOpRef<ModuleOp> module;
  std::vector<Request> requests;
  bool fromMlir =
      paths.size() == 1 && llvm::StringRef(paths[0]).ends_with(".mlir");
  if (fromMlir && !importOptions.dims.empty())
    return fail("--dim binds symbolic dims of ONNX models; '" + paths[0] +
                "' is a .mlir module, whose shapes are already bound");
  if (fromMlir) {
    std::string error;
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFileOrSTDIN(paths[0]);
    if (!buffer)
      return fail("cannot read '" + paths[0] +
                  "': " + buffer.getError().message());
    if (getMlirNesting((*buffer)->getBuffer()) > 1000)
      return fail("'" + paths[0] + "' nests brackets too deeply");
    module = parseSourceString<ModuleOp>((*buffer)->getBuffer(),
                                         ParserConfig(&context), paths[0]);
    if (!module)
      return 1;
    for (func::FuncOp func : module->getOps<func::FuncOp>())
      requests.push_back({paths[0], func, ""});
    if (requests.empty())
      return fail("'" + paths[0] + "' holds no model (func.func)");
  } else {
    // Each file once; its requests share the func.
    module = ModuleOp::create(UnknownLoc::get(&context));
    std::vector<std::string> files;
    llvm::StringMap<size_t> fileIndex;
    for (const std::string &path : paths) {
      if (llvm::StringRef(path).ends_with(".mlir"))
        return fail("a .mlir module must be the only input ('" + path + "')");
      if (fileIndex.try_emplace(path, files.size()).second)
        files.push_back(path);
    }
    FailureOr<std::vector<ImportedModel>> models =
        importOnnxFiles(*module, files, importOptions);
    if (failed(models))
      return 1;
    if (llvm::Error err =
            checkDimBindings(importOptions.dims, files, dimParamsOf(*models)))
      return fail(llvm::toString(std::move(err)));
    for (const std::string &path : paths) {
      const ImportedModel &model = (*models)[fileIndex[path]];
      std::string batchDim;
      if (!model.inputDimParams.empty() &&
          !model.inputDimParams.front().empty())
        batchDim = model.inputDimParams.front().front();
      requests.push_back({path, model.func, batchDim});
    }
  }

  // Batched variants: a model requested k > 1 times, imported again with
  // its leading input dim k times larger.
  std::vector<std::pair<std::vector<unsigned>, func::FuncOp>> batchFuncs;
  std::string noBatchReason =
      "no model is requested more than once (give it twice or use --batch)";
  if (!fromMlir) {
    llvm::StringMap<std::vector<unsigned>> byPath;
    std::vector<std::string> order;
    for (auto [i, r] : llvm::enumerate(requests)) {
      if (!byPath.count(r.path))
        order.push_back(r.path);
      byPath[r.path].push_back(i);
    }
    for (const std::string &path : order) {
      std::vector<unsigned> &group = byPath[path];
      if (group.size() < 2)
        continue;
      func::FuncOp first = requests[group.front()].func;
      std::string dim = requests[group.front()].batchDim;
      auto type = first.getNumArguments()
                      ? dyn_cast<RankedTensorType>(first.getArgumentTypes()[0])
                      : RankedTensorType();
      if (dim.empty() || !type || type.getRank() == 0 || type.isDynamicDim(0)) {
        noBatchReason = "the leading input dim of '" +
                        first.getSymName().str() +
                        "' is not a bound symbolic dim";
        continue;
      }
      ImportOptions batched = importOptions;
      llvm::erase_if(batched.dims,
                     [&](const DimBinding &b) { return b.name == dim; });
      batched.dims.push_back(
          {"", dim, type.getDimSize(0) * static_cast<int64_t>(group.size())});
      FailureOr<ImportedModel> model = importOnnxFile(*module, path, batched);
      if (failed(model))
        return 1;
      batchFuncs.push_back({group, model->func});
    }
  } else {
    noBatchReason = "batching needs the ONNX files (the input is a module)";
  }
  if (failed(verify(*module)))
    return fail("the imported module does not verify");

  PassManager pm(&context);
  PlanningPipelineOptions pipeline;
  pipeline.target = std::string(targetName);
  pipeline.targetFile = std::string(targetFile);
  pipeline.sameInputs =
      std::vector<std::string>(sameInputs.begin(), sameInputs.end());
  pipeline.fuse = !noFuse;
  buildPlanningPipeline(pm, pipeline);
  if (failed(pm.run(*module)))
    return 1;

  Workload workload;
  for (WeightOp weight : module->getOps<WeightOp>())
    workload.weightBytes[weight.getSymName()] = weight.getByteSize();
  llvm::DenseMap<Operation *, unsigned> modelIndex;
  auto addModel = [&](func::FuncOp func) -> FailureOr<unsigned> {
    auto it = modelIndex.find(func);
    if (it != modelIndex.end())
      return it->second;
    FailureOr<ModelInfo> info = describeModel(func, *target);
    if (failed(info))
      return failure();
    workload.models.push_back(std::move(*info));
    modelIndex[func] = workload.models.size() - 1;
    return workload.models.size() - 1;
  };
  for (const Request &r : requests) {
    FailureOr<unsigned> index = addModel(r.func);
    if (failed(index))
      return 1;
    workload.requests.push_back(*index);
  }
  for (auto &[group, func] : batchFuncs) {
    FailureOr<unsigned> index = addModel(func);
    if (failed(index))
      return 1;
    workload.batches.push_back({group, *index});
  }
  workload.noBatchReason = noBatchReason;

  AdvisorOptions options;
  options.goal = goal;
  options.memoryLimit = memoryLimit;
  options.alignment = alignment;
  if (strategy != StrategyChoice::Auto)
    options.strategies = {strategy == StrategyChoice::Sequential ? "sequential"
                          : strategy == StrategyChoice::Parallel ? "parallel"
                                                                 : "batched"};
  Recommendation recommendation;
  std::vector<StrategyResult> results =
      evaluateStrategies(workload, *target, options, recommendation);
  if (results.empty())
    return fail(recommendation.reason);

  printPlanTable(llvm::outs(), workload, *target, options, results,
                 recommendation);

  if (!placeOn.empty()) {
    std::vector<Target> pool;
    for (const std::string &file : placeOn) {
      llvm::Expected<Target> t = loadTarget("", file);
      if (!t)
        return fail(llvm::toString(t.takeError()));
      if (llvm::any_of(pool,
                       [&](const Target &o) { return o.name == t->name; }))
        return fail("--place-on names target '" + t->name + "' twice");
      pool.push_back(std::move(*t));
    }
    // Each model once, in the order first requested.
    std::vector<func::FuncOp> placed;
    for (const Request &r : requests)
      if (!llvm::is_contained(placed, r.func))
        placed.push_back(r.func);
    FailureOr<Placement> placement = placeModels(placed, pool, alignment);
    if (failed(placement))
      return 1;
    llvm::outs() << "\n";
    printPlacement(llvm::outs(), *placement);
  }

  auto write = [&](const std::string &path, auto &&emit) -> bool {
    std::error_code ec;
    llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      fail("cannot write '" + path + "': " + ec.message());
      return false;
    }
    emit(out.os());
    out.keep();
    return true;
  };
  if (!planFile.empty() && !write(planFile, [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", planToJSON(workload, *target, options,
                                                results, recommendation))
           << "\n";
      }))
    return 1;
  if (!traceFile.empty() && !write(traceFile, [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", traceToJSON(workload, results)) << "\n";
      }))
    return 1;
  if (!memorySvg.empty()) {
    const StrategyResult *chosen = nullptr;
    for (const StrategyResult &s : results)
      if (s.name == recommendation.strategy)
        chosen = &s;
    if (!chosen)
      return fail("no strategy was recommended: no memory picture to draw");
    if (!write(memorySvg, [&](llvm::raw_ostream &os) {
          writeMemoryPlanSVG(chosen->memoryProblem, chosen->memory, os);
        }))
      return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  parseToolOptions(
      argc, argv, category,
      "chorus-plan: several models on one device. Imports the models, runs "
      "the planning pipeline (chorus-share, chorus-fuse, "
      "chorus-annotate-cost), simulates sequential, parallel and batched "
      "execution on the target, plans memory over each simulated timeline, "
      "and recommends a strategy for the goal under the memory limit.\n");
  ToolContext context("chorus-plan");
  return run(context.get());
}
