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
#include "chorus/Advisor/LoadWorkload.h"
#include "chorus/Advisor/OnDemand.h"
#include "chorus/Advisor/Placement.h"
#include "chorus/Analysis/FusionGroups.h"
#include "chorus/Deploy/Deployment.h"
#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Import/ImportFlags.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Plan/PlanExport.h"
#include "chorus/Support/Diagnostics.h"
#include "chorus/Support/Nesting.h"
#include "chorus/Support/ToolContext.h"
#include "chorus/Support/ToolOptions.h"
#include "chorus/Target/OpSupport.h"
#include "chorus/Target/OrtArena.h"
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

static ImportFlags importFlags(category);

static llvm::cl::list<std::string>
    batches("batch",
            llvm::cl::desc("MODEL=B: B requests of MODEL (its file stem), "
                           "which the batched strategy runs as one batch "
                           "of B"),
            llvm::cl::value_desc("MODEL=B"), llvm::cl::cat(category));

namespace {
/// --strategy: one strategy by its advisor name, or every one.
enum class StrategyChoice { Auto, Sequential, Parallel, Batched, Threads };
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
                                "identical requests as one batched job"),
                     clEnumValN(StrategyChoice::Threads, "threads",
                                "one model after another, each session with "
                                "every other intra-op thread count the "
                                "target measured")),
    llvm::cl::cat(category));

static llvm::cl::opt<Goal>
    goal("goal", llvm::cl::desc("What the recommendation optimizes"),
         llvm::cl::init(Goal::Latency),
         llvm::cl::values(
             clEnumValN(Goal::Latency, "latency", "mean request latency"),
             clEnumValN(Goal::Throughput, "throughput", "requests per second"),
             clEnumValN(Goal::Memory, "memory",
                        "peak bytes (the runtime's footprint where the "
                        "target models its memory)")),
         llvm::cl::cat(category));

static llvm::cl::opt<uint64_t>
    memoryLimit("memory-limit",
                llvm::cl::desc("Bytes available (default: the target's memory "
                               "capacity); strategies above it are "
                               "infeasible. It applies to the runtime's "
                               "peak footprint where the target models it "
                               "(runtime_memory: the sessions in service, "
                               "each run twice, or a load's transient "
                               "copies), else to weights + arena"),
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

static llvm::cl::opt<std::string> emitOrt(
    "emit-ort",
    llvm::cl::desc("Write the recommended strategy as ONNX Runtime "
                   "configuration into DIR: a session file per model "
                   "(threads, optimization level, arena, spinning, shared "
                   "initializers), deployment.json and run.js, a Node loader "
                   "that runs it and prints measured against predicted "
                   "latencies (docs/Deployment.md)"),
    llvm::cl::value_desc("DIR"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> emitTriton(
    "emit-triton",
    llvm::cl::desc("Write the recommended strategy as a Triton model "
                   "repository into DIR: <model>/config.pbtxt and "
                   "<model>/1/model.onnx, model-analyzer.yaml (the "
                   "configurations the plan ranks best) and chorus-notes.txt "
                   "(what Triton cannot do that the plan assumed)"),
    llvm::cl::value_desc("DIR"), llvm::cl::cat(category));

namespace {
enum class ModelFiles { Link, Copy };
} // namespace

static llvm::cl::opt<ModelFiles> tritonModelFiles(
    "triton-model-files",
    llvm::cl::desc("How --emit-triton puts each model into its version "
                   "folder (an ONNX text model is always written as binary)"),
    llvm::cl::init(ModelFiles::Link),
    llvm::cl::values(clEnumValN(ModelFiles::Link, "link",
                                "a symbolic link to the file given"),
                     clEnumValN(ModelFiles::Copy, "copy", "a copy")),
    llvm::cl::cat(category));

static llvm::cl::opt<bool>
    force("force",
          llvm::cl::desc("Let --emit-ort and --emit-triton overwrite files "
                         "that already exist in their folders"),
          llvm::cl::cat(category));

static llvm::cl::list<std::string> rates(
    "rate",
    llvm::cl::desc(
        "MODEL=R: MODEL (its file stem) receives R requests per second. With "
        "a rate for every model, the plan adds the on-demand strategy: which "
        "models to keep loaded and which to load when requested, to minimize "
        "mean latency under the memory limit (needs a target from "
        "chorus-calibrate --measure); repeatable"),
    llvm::cl::value_desc("MODEL=R"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> dimSequence(
    "dim-sequence",
    llvm::cl::desc(
        "NAME=V1,V2,...: runs of every model at these values of symbolic dim "
        "NAME, in this order: the plan replays ONNX Runtime's arena over "
        "them (its regions stay; a run at a shape seen before takes its "
        "memory pattern in one block) and says what each session holds "
        "after each run, and after the values in growing order, each run "
        "twice (needs a target naming ONNX Runtime)"),
    llvm::cl::value_desc("NAME=V1,V2,..."), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> onDemandRequests(
    "on-demand-requests",
    llvm::cl::desc("Requests the on-demand strategy simulates (Poisson "
                   "arrivals at the --rate rates, from a fixed seed)"),
    llvm::cl::init(2000), llvm::cl::cat(category));

static llvm::cl::opt<std::string> keepLoaded(
    "keep-loaded",
    llvm::cl::desc("With --rate: plan this resident set (models by name, "
                   "comma-separated; 'none' for every model on demand) "
                   "instead of choosing one: it is simulated and reported "
                   "as given, whether or not it fits the memory limit"),
    llvm::cl::value_desc("MODEL,..."), llvm::cl::cat(category));

static int fail(const llvm::Twine &message) {
  return printToolError("chorus-plan", message);
}

/// The plan at one point of the --dim ranges.
struct PlannedPoint {
  std::vector<int64_t> values;
  LoadedWorkload loaded;
  std::vector<StrategyResult> results;
  Recommendation recommendation;
};

/// One session's arena replayed over runs at these values: the arena and
/// the session's resident bytes (alone, the process's own left out) after
/// each run.
struct ReplayStep {
  int64_t value;
  bool pattern;
  double arenaBytes, sessionBytes;
};
static std::vector<ReplayStep>
replayRuns(const Target &target, unsigned model, llvm::ArrayRef<int64_t> values,
           const std::map<int64_t, LoadedWorkload> &atValue) {
  OrtArenaSimulator arena;
  std::set<int64_t> seen;
  double held = 0;
  std::vector<ReplayStep> steps;
  for (int64_t v : values) {
    const ModelInfo &m = atValue.at(v).workload.models[model];
    bool pattern = !seen.insert(v).second;
    if (pattern)
      arena.patternRun(*m.ortRun);
    else
      arena.firstRun(*m.ortRun);
    // onnxruntime-node copies every run's outputs into buffers the
    // caller's JavaScript holds until it collects them, as it holds the
    // inputs it passed.
    held += m.memoryFeatures.callerBytes();
    double session = 0;
    if (target.runtimeMemory) {
      const RuntimeMemoryModel &rm = *target.runtimeMemory;
      // The session as predictSession has it, its first run replaced by
      // the runs so far.
      SessionMemory s = predictSession(rm, m.memoryFeatures);
      s.firstRun = rm.runBytes + rm.perArenaByte * arena.touched() +
                   rm.perOutputByte * held;
      s.arenaRegions = arena.regionUse();
      session = predictSetMemory(rm, s).afterFirstRuns - rm.processBytes;
    }
    steps.push_back(
        {v, pattern, static_cast<double>(arena.touched()), session});
  }
  return steps;
}

static llvm::Expected<llvm::json::Value>
replaySequence(llvm::raw_ostream &os, const Target &target, llvm::StringRef dim,
               llvm::ArrayRef<int64_t> sequence,
               const std::map<int64_t, LoadedWorkload> &atValue) {
  const Workload &first = atValue.begin()->second.workload;
  std::vector<int64_t> growing;
  for (const auto &entry : atValue) {
    growing.push_back(entry.first);
    growing.push_back(entry.first);
  }
  os << "\nshape sequence " << dim << "=";
  for (auto [i, v] : llvm::enumerate(sequence))
    os << (i ? "," : "") << v;
  os << " (ONNX Runtime's arena keeps its regions; a run at a shape seen "
        "before takes its memory pattern in one block):\n";
  os << llvm::formatv("{0,-32} {1,5} {2,8} {3,8} {4,11} {5,12}\n", "model",
                      "run", dim, "pattern", "arena MB", "session MB");
  llvm::json::Array models;
  for (unsigned i = 0; i < first.models.size(); ++i) {
    for (const auto &entry : atValue)
      if (!entry.second.workload.models[i].ortRun)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "--dim-sequence: model '" + first.models[i].name + "' at " + dim +
                "=" + std::to_string(entry.first) +
                " has a tensor of no static size; bind every dim");
    std::vector<ReplayStep> steps = replayRuns(target, i, sequence, atValue);
    std::vector<ReplayStep> worst = replayRuns(target, i, growing, atValue);
    llvm::json::Array stepsJSON;
    for (auto [k, s] : llvm::enumerate(steps)) {
      os << llvm::formatv("{0,-32} {1,5} {2,8} {3,8} {4,11:F1} {5,12:F1}\n",
                          first.models[i].name, k + 1, s.value,
                          s.pattern ? "yes" : "no", s.arenaBytes * 1e-6,
                          s.sessionBytes * 1e-6);
      stepsJSON.push_back(
          llvm::json::Object{{"value", s.value},
                             {"pattern", s.pattern},
                             {"arena_bytes", std::llround(s.arenaBytes)},
                             {"session_bytes", std::llround(s.sessionBytes)}});
    }
    os << llvm::formatv(
        "{0,-32} largest (values ascending, each "
        "repeated): arena {1:F1} MB, {2:F1} MB for the session\n",
        first.models[i].name, worst.back().arenaBytes * 1e-6,
        worst.back().sessionBytes * 1e-6);
    models.push_back(llvm::json::Object{
        {"name", first.models[i].name},
        {"steps", std::move(stepsJSON)},
        {"growing_order_arena_bytes", std::llround(worst.back().arenaBytes)},
        {"growing_order_session_bytes",
         std::llround(worst.back().sessionBytes)}});
  }
  llvm::json::Array values;
  for (int64_t v : sequence)
    values.push_back(v);
  return llvm::json::Value(llvm::json::Object{{"dim", dim},
                                              {"values", std::move(values)},
                                              {"models", std::move(models)}});
}

/// "N=1, S=128": the ranges' dims at `values`.
static std::string describePoint(llvm::ArrayRef<ImportFlags::DimRange> ranges,
                                 llvm::ArrayRef<int64_t> values) {
  std::string text;
  for (auto [r, v] : llvm::zip(ranges, values)) {
    if (!text.empty())
      text += ", ";
    text += llvm::StringRef(r.spec).rsplit('=').first.str() + "=" +
            std::to_string(v);
  }
  return text;
}

static void printShapePoints(llvm::raw_ostream &os,
                             llvm::ArrayRef<ImportFlags::DimRange> ranges,
                             llvm::ArrayRef<PlannedPoint> planned,
                             unsigned worst) {
  os << "\nshape ranges: the plan above is at the worst point ("
     << describePoint(ranges, planned[worst].values)
     << "); a strategy fits only where it fits at every point\n";
  os << llvm::formatv("{0,-24} {1,-22} {2,12} {3,16} {4,12}  {5}\n", "point",
                      "strategy", "makespan ms", "mean latency ms", "memory MB",
                      "fits");
  for (auto [i, p] : llvm::enumerate(planned))
    for (const StrategyResult &s : p.results) {
      if (!s.available)
        continue;
      std::string point = describePoint(ranges, p.values);
      if (i == worst)
        point += " (worst)";
      os << llvm::formatv(
          "{0,-24} {1,-22} {2,12:F3} {3,16:F3} {4,12:F1}  {5}\n", point, s.name,
          s.makespan * 1e3, s.meanLatency * 1e3, s.footprint() * 1e-6,
          s.feasible ? "yes" : "no");
    }
}

static llvm::json::Value
shapePointsToJSON(llvm::ArrayRef<ImportFlags::DimRange> ranges,
                  llvm::ArrayRef<PlannedPoint> planned, unsigned worst) {
  llvm::json::Array points;
  for (auto [i, p] : llvm::enumerate(planned)) {
    llvm::json::Object dims;
    for (auto [r, v] : llvm::zip(ranges, p.values))
      dims[llvm::StringRef(r.spec).rsplit('=').first] = v;
    llvm::json::Array strategies;
    for (const StrategyResult &s : p.results) {
      if (!s.available)
        continue;
      strategies.push_back(llvm::json::Object{
          {"name", s.name},
          {"makespan_s", s.makespan},
          {"mean_latency_s", s.meanLatency},
          {"footprint_bytes", static_cast<int64_t>(s.footprint())},
          {"feasible", s.feasible}});
    }
    points.push_back(llvm::json::Object{{"dims", std::move(dims)},
                                        {"worst", i == worst},
                                        {"strategies", std::move(strategies)}});
  }
  return points;
}

/// A browser target whose backend fails on a model's nodes (the op-support
/// table's refusals) cannot be planned for: the run would fail, and the
/// runtime does not fall back to the CPU for a kernel that fails.
static LogicalResult checkRunsOnTarget(LoadedWorkload &loaded,
                                       const Target &target) {
  if (!target.browser || target.browser->opSupport.empty())
    return success();
  llvm::Expected<OpSupportTable> table =
      getBuiltinOpSupport(target.browser->opSupport);
  if (!table)
    return fail(llvm::toString(table.takeError())), failure();
  bool ok = true;
  for (func::FuncOp func : loaded.requestedModels) {
    OpSupportVerdict v = checkOpSupport(func, *table, target.browser->webnnOps);
    if (v.refused.empty())
      continue;
    func.emitError() << "does not run on target '" << target.name
                     << "': " << table->runtime << "'s " << table->backend
                     << " backend fails on " << describeRefusals(v);
    ok = false;
  }
  return success(ok);
}

static int run(MLIRContext &context) {
  if (alignment == 0)
    return fail("--alignment must be at least 1");
  if (!targetName.empty() && !targetFile.empty())
    return fail("give --target or --target-file, not both");
  llvm::Expected<Target> target = loadTarget(targetName, targetFile);
  if (!target)
    return fail(llvm::toString(target.takeError()));
  OnDemandOptions o;
  if (rates.empty() && keepLoaded.getNumOccurrences())
    return fail("--keep-loaded needs --rate (the on-demand strategy)");
  if (!rates.empty()) {
    if (!target->runtimeMemory || !target->sessionLoad)
      return fail("--rate needs a target that measured the runtime's memory "
                  "and its session creation (runtime_memory and "
                  "session_load: chorus-calibrate --measure)");
    if (onDemandRequests == 0)
      return fail("--on-demand-requests must be at least 1");
    o.requestCount = onDemandRequests;
    if (keepLoaded.getNumOccurrences()) {
      std::vector<std::string> names;
      if (keepLoaded != "none") {
        llvm::SmallVector<llvm::StringRef> parts;
        llvm::StringRef(keepLoaded).split(parts, ',');
        for (llvm::StringRef p : parts) {
          if (p.empty())
            return fail("invalid --keep-loaded '" + keepLoaded +
                        "': expected model names separated by commas, or "
                        "'none'");
          names.push_back(p.str());
        }
      }
      o.keepLoaded = std::move(names);
    }
    for (const std::string &spec : rates) {
      auto [model, value] = llvm::StringRef(spec).rsplit('=');
      double rate = 0;
      if (model.empty() || value.getAsDouble(rate) || !(rate > 0) ||
          !std::isfinite(rate))
        return fail("invalid --rate '" + spec +
                    "': expected MODEL=R with R requests per second, a "
                    "positive number");
      if (!o.rates.emplace(sanitizeSymbol(model), rate).second)
        return fail("--rate gives model '" + model + "' twice");
    }
  }

  llvm::Expected<std::vector<ImportFlags::DimRange>> ranges =
      importFlags.ranges();
  if (!ranges)
    return fail(llvm::toString(ranges.takeError()));
  // Ranges of the same bounds move together (one axis: e.g. the batch
  // dims of several models); the points planned are every corner of the
  // axes (each at its low or its high end), all low first; one point
  // without ranges.
  std::vector<std::pair<int64_t, int64_t>> axes;
  for (const ImportFlags::DimRange &r : *ranges)
    if (!llvm::is_contained(axes, std::make_pair(r.low, r.high)))
      axes.push_back({r.low, r.high});
  if (axes.size() > 4)
    return fail("at most 4 distinct --dim ranges (every corner of them is "
                "planned); got " +
                llvm::Twine(axes.size()));
  std::vector<std::vector<int64_t>> points;
  for (unsigned corner = 0; corner < (1u << axes.size()); ++corner) {
    std::vector<int64_t> values;
    for (const ImportFlags::DimRange &r : *ranges) {
      unsigned axis =
          llvm::find(axes, std::make_pair(r.low, r.high)) - axes.begin();
      values.push_back(corner >> axis & 1 ? r.high : r.low);
    }
    points.push_back(values);
  }

  // --dim-sequence: the dim and its values.
  std::string sequenceDim;
  std::vector<int64_t> sequence;
  if (!dimSequence.empty()) {
    auto [name, values] = llvm::StringRef(dimSequence).split('=');
    llvm::SmallVector<llvm::StringRef> parts;
    values.split(parts, ',');
    for (llvm::StringRef part : parts) {
      int64_t v = 0;
      if (part.trim().getAsInteger(10, v) || v < 1)
        return fail("invalid --dim-sequence '" + dimSequence +
                    "': expected NAME=V1,V2,... with whole numbers >= 1");
      sequence.push_back(v);
    }
    if (name.empty() || values.empty())
      return fail("invalid --dim-sequence '" + dimSequence +
                  "': expected NAME=V1,V2,... with whole numbers >= 1");
    if (!ranges->empty())
      return fail("give --dim ranges or --dim-sequence, not both");
    if (!target->runtime)
      return fail("--dim-sequence replays ONNX Runtime's arena: it needs a "
                  "target that names its runtime (chorus-calibrate --measure)");
    sequenceDim = name.str();
  }

  AdvisorOptions options;
  options.goal = goal;
  options.memoryLimit = memoryLimit;
  options.alignment = alignment;
  if (strategy != StrategyChoice::Auto)
    options.strategies = {strategy == StrategyChoice::Sequential ? "sequential"
                          : strategy == StrategyChoice::Parallel ? "parallel"
                          : strategy == StrategyChoice::Threads  ? "threads"
                                                                 : "batched"};
  auto runPipeline = [&](ModuleOp module) {
    PassManager pm(&context);
    PlanningPipelineOptions pipeline;
    pipeline.target = std::string(targetName);
    pipeline.targetFile = std::string(targetFile);
    pipeline.sameInputs =
        std::vector<std::string>(sameInputs.begin(), sameInputs.end());
    // A target that names its runtime predicts that runtime's own kernels
    // (computed from the unfused model), not chorus-fuse's groups.
    pipeline.fuse = !noFuse && !target->predictsRuntime();
    // ONNX Runtime Web runs ONNX Runtime's own fusions, not TVM's groups.
    if (target->browser)
      for (llvm::StringRef rule : getOrtFusionRuleNames())
        pipeline.fuseRules.push_back(rule.str());
    buildPlanningPipeline(pm, pipeline);
    return pm.run(module);
  };
  std::vector<PlannedPoint> planned;
  for (const std::vector<int64_t> &values : points) {
    ImportOptions importOptions;
    if (llvm::Error err = importFlags.fill(importOptions, values))
      return fail(llvm::toString(std::move(err)));
    // With --dim-sequence the plan is made at its largest value.
    if (!sequence.empty())
      importOptions.dims.push_back(
          {"", sequenceDim, *llvm::max_element(sequence)});
    WorkloadSpec spec;
    spec.paths.assign(inputFiles.begin(), inputFiles.end());
    spec.batches.assign(batches.begin(), batches.end());
    spec.importOptions = std::move(importOptions);
    if (points.size() > 1)
      llvm::errs() << "chorus-plan: planning at "
                   << describePoint(*ranges, values) << "\n";
    FailureOr<LoadedWorkload> loaded =
        loadWorkload(context, spec, *target, runPipeline);
    if (failed(loaded))
      return 1;
    if (failed(checkRunsOnTarget(*loaded, *target)))
      return 1;
    PlannedPoint p{values, std::move(*loaded), {}, {}};
    p.results = evaluateStrategies(p.loaded.workload, *target, options,
                                   p.recommendation);
    if (p.results.empty())
      return fail(p.recommendation.reason);
    planned.push_back(std::move(p));
  }
  // The plan is made at the worst point, the one where a strategy needs
  // the most memory; a strategy fits only where it fits at every point.
  unsigned worst = 0;
  uint64_t most = 0;
  for (auto [i, p] : llvm::enumerate(planned))
    for (const StrategyResult &s : p.results)
      if (s.available && s.footprint() > most) {
        most = s.footprint();
        worst = i;
      }
  PlannedPoint &main = planned[worst];
  if (planned.size() > 1) {
    for (StrategyResult &s : main.results)
      for (const PlannedPoint &p : planned)
        for (const StrategyResult &o : p.results)
          if (o.name == s.name && o.available && !o.feasible) {
            s.feasible = false;
            s.overLimitBytes = std::max(s.overLimitBytes, o.overLimitBytes);
          }
    recommend(main.results, options, main.recommendation);
  }
  // The workload at each distinct value of the sequence, in growing order.
  std::map<int64_t, LoadedWorkload> atValue;
  for (int64_t v : sequence) {
    if (atValue.count(v))
      continue;
    ImportOptions importOptions;
    if (llvm::Error err = importFlags.fill(importOptions))
      return fail(llvm::toString(std::move(err)));
    importOptions.dims.push_back({"", sequenceDim, v});
    WorkloadSpec spec;
    spec.paths.assign(inputFiles.begin(), inputFiles.end());
    spec.batches.assign(batches.begin(), batches.end());
    spec.importOptions = std::move(importOptions);
    llvm::errs() << "chorus-plan: importing at " << sequenceDim << "=" << v
                 << "\n";
    FailureOr<LoadedWorkload> at =
        loadWorkload(context, spec, *target, runPipeline);
    if (failed(at))
      return 1;
    atValue.emplace(v, std::move(*at));
  }
  LoadedWorkload *loaded = &main.loaded;
  Workload &workload = main.loaded.workload;
  std::vector<StrategyResult> &results = main.results;
  Recommendation &recommendation = main.recommendation;

  printPlanTable(llvm::outs(), workload, *target, options, results,
                 recommendation);
  printFitReport(llvm::outs(), workload, *target, options, results,
                 recommendation);
  std::optional<llvm::json::Value> sequenceJSON;
  if (!sequence.empty()) {
    llvm::Expected<llvm::json::Value> replayed =
        replaySequence(llvm::outs(), *target, sequenceDim, sequence, atValue);
    if (!replayed)
      return fail(llvm::toString(replayed.takeError()));
    sequenceJSON = std::move(*replayed);
  }
  std::optional<OnDemandPlan> onDemand;
  if (!rates.empty()) {
    llvm::Expected<OnDemandPlan> plan =
        planOnDemand(workload, *target, options, o);
    if (!plan)
      return fail(llvm::toString(plan.takeError()));
    onDemand = std::move(*plan);
    printOnDemand(llvm::outs(), workload, *onDemand);
  }
  if (planned.size() > 1)
    printShapePoints(llvm::outs(), *ranges, planned, worst);

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
    FailureOr<Placement> placement =
        placeModels(loaded->requestedModels, pool, alignment);
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
        llvm::json::Value plan =
            planToJSON(workload, *target, options, results, recommendation);
        if (planned.size() > 1)
          (*plan.getAsObject())["shape_points"] =
              shapePointsToJSON(*ranges, planned, worst);
        if (sequenceJSON)
          (*plan.getAsObject())["shape_sequence"] = *sequenceJSON;
        if (onDemand)
          (*plan.getAsObject())["on_demand"] =
              onDemandToJSON(workload, *onDemand);
        os << llvm::formatv("{0:2}", plan) << "\n";
      }))
    return 1;
  if (!traceFile.empty() && !write(traceFile, [&](llvm::raw_ostream &os) {
        llvm::json::Value trace = traceToJSON(workload, results);
        if (onDemand) {
          llvm::json::Array &events =
              *trace.getAsObject()->getArray("traceEvents");
          int64_t pid = 0;
          for (const StrategyResult &s : results)
            pid += s.available;
          appendOnDemandTrace(events, pid + 1, workload, *onDemand);
        }
        os << llvm::formatv("{0:2}", trace) << "\n";
      }))
    return 1;
  if (!emitOrt.empty() || !emitTriton.empty()) {
    DeploymentSource source{*loaded->module, workload, *target,
                            options,         results,  recommendation};
    DeploymentOptions deploy;
    deploy.force = force;
    deploy.copyModels = tritonModelFiles == ModelFiles::Copy;
    if (!emitOrt.empty())
      if (llvm::Error err =
              writeOrtDeployment(source, emitOrt, deploy, llvm::outs()))
        return fail(llvm::toString(std::move(err)));
    if (!emitTriton.empty())
      if (llvm::Error err =
              writeTritonRepository(source, emitTriton, deploy, llvm::outs()))
        return fail(llvm::toString(std::move(err)));
  }
  if (!memorySvg.empty()) {
    const StrategyResult *chosen = nullptr;
    for (const StrategyResult &s : results)
      if (s.name == recommendation.strategy)
        chosen = &s;
    if (!chosen)
      return fail("no strategy was recommended: no memory picture to draw");
    // Under the arena as planned: the recommended strategy's footprint
    // against the memory limit, as the fit report has it.
    std::vector<std::string> caption = fitVerdicts(
        makeFitReport(workload, *target, options, results, recommendation));
    if (!write(memorySvg, [&](llvm::raw_ostream &os) {
          writeMemoryPlanSVG(chosen->memoryProblem, chosen->memory, os,
                             caption);
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
