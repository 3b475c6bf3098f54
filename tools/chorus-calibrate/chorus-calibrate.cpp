//===- chorus-calibrate.cpp - Fit a target to ONNX Runtime profiles -------===//
//
// Imports each model, matches its ONNX Runtime profile node by node, fits
// per op class the compute and memory efficiencies and the per-kernel
// overhead of a base target, and writes the calibrated target as JSON.
//
//===----------------------------------------------------------------------===//

#include "chorus/Analysis/FusionGroups.h"
#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Import/ImportFlags.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Support/ToolContext.h"
#include "chorus/Support/ToolOptions.h"
#include "chorus/Target/Calibration.h"
#include "chorus/Target/RuntimeMemory.h"
#include "chorus/Target/Target.h"

#include "CalibrationModels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <numeric>
#include <set>
#include <thread>

using namespace mlir;
using namespace chorus;

static llvm::cl::OptionCategory category("chorus-calibrate options");

static llvm::cl::list<std::string>
    inputs(llvm::cl::Positional, llvm::cl::ZeroOrMore,
           llvm::cl::desc("<model.onnx> <profile.json> [<model> <profile>]..."),
           llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    outputFile("o",
               llvm::cl::desc("Write the calibrated target here (required "
                              "but with --write-calibration-models)"),
               llvm::cl::value_desc("target.json"), llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    baseName("base",
             llvm::cl::desc("Built-in target whose peaks, bandwidth and "
                            "caches the fit starts from (default x86-avx2)"),
             llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    baseFile("base-file", llvm::cl::desc("Base target from a JSON file"),
             llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    name("name", llvm::cl::desc("Name of the calibrated target"),
         llvm::cl::init("host"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> note(
    "note",
    llvm::cl::desc("Provenance stored in the target's \"calibration\" field "
                   "(machine, command, runtime version)"),
    llvm::cl::cat(category));

static ImportFlags importFlags(category,
                               "must match the shapes the profiles were "
                               "made with");

static llvm::cl::list<std::string> latencies(
    "latency",
    llvm::cl::desc("Measured latency of a whole run without the profiler, "
                   "in milliseconds; with these the fit is corrected for "
                   "the time the profiler adds to every node (and, with a "
                   "wasm --browser-file, fits what a run costs beside its "
                   "kernels per byte of its inputs and outputs, at the "
                   "shapes --input-shape gives: the target's run_io)"),
    llvm::cl::value_desc("MODEL=MS"), llvm::cl::cat(category));

static llvm::cl::opt<bool> latencyOnly(
    "latency-only",
    llvm::cl::desc("Fit to whole-model latencies alone (no profiles): the "
                   "positional arguments are models, each with a --latency; "
                   "per op class a factor on the base's work and one "
                   "overhead per kernel (for runtimes that give no "
                   "per-kernel profile)"),
    llvm::cl::cat(category));

static llvm::cl::opt<double> minWorkShare(
    "min-work-share",
    llvm::cl::desc("With --latency-only: op classes with less than this "
                   "share of the work get the work-weighted mean factor "
                   "instead of their own (default 0.02)"),
    llvm::cl::init(0.02), llvm::cl::cat(category));

static llvm::cl::opt<double> timeWeight(
    "time-weight",
    llvm::cl::desc("With --latency-only: weigh each model's squared "
                   "relative error by (its time / the mean time) to this "
                   "power: 0 (default) counts every model the same, 1 by "
                   "its time, so that many short models do not outvote a "
                   "few long ones, 2 fits the absolute error"),
    llvm::cl::init(0.0), llvm::cl::cat(category));

static llvm::cl::opt<std::string> writeCalibrationModels(
    "write-calibration-models",
    llvm::cl::desc("Write the calibration models --measure generates into "
                   "this new folder, with models.json (each model's file "
                   "and input shape, and the speed reference timed beside "
                   "them), to run them in another runtime (a browser: "
                   "tools/chorus-probe/calibrate-browser.js), and exit"),
    llvm::cl::value_desc("dir"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> browserFile(
    "browser-file",
    llvm::cl::desc("Give the calibrated target this browser target's kind "
                   "and \"browser\" object (e.g. a file written by "
                   "tools/chorus-probe)"),
    llvm::cl::value_desc("target.json"), llvm::cl::cat(category));

static llvm::cl::opt<unsigned>
    minSamples("min-samples",
               llvm::cl::desc("Fit a class only with at least this many nodes"),
               llvm::cl::init(4), llvm::cl::cat(category));

static llvm::cl::opt<bool> kernelModels(
    "kernel-models",
    llvm::cl::desc("Fit the runtime's kernel models instead: per kernel class "
                   "of ONNX Runtime's own (optimized) graph, time from FLOPs "
                   "and bytes read from the profile's shapes; any "
                   "optimization level (docs/CostModel.md)"),
    llvm::cl::cat(category));

static llvm::cl::opt<std::string> ortLevel(
    "ort-level",
    llvm::cl::desc("With --kernel-models or --measure: the graph "
                   "optimization level of the sessions (disabled, basic, "
                   "extended, all)"),
    llvm::cl::init("all"), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> nchwcBlock(
    "nchwc-block",
    llvm::cl::desc("With --kernel-models or --measure: MLAS's NCHWc block "
                   "on the machine (8 with AVX2, 16 with AVX-512, 0: none)"),
    llvm::cl::init(8), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> intraOpThreads(
    "intra-op-threads",
    llvm::cl::desc("With --kernel-models or --measure: the sessions' "
                   "intra-op threads"),
    llvm::cl::init(1), llvm::cl::cat(category));

static llvm::cl::opt<uint64_t> mallocMmapThreshold(
    "malloc-mmap-threshold",
    llvm::cl::desc(
        "With --measure: run ONNX Runtime with glibc's mmap threshold fixed "
        "at these bytes (MALLOC_MMAP_THRESHOLD_, e.g. 131072; 0: glibc's "
        "default, which rises with every large block freed) and record it "
        "in the target's runtime profile. Fixed, a session keeps its "
        "weights at their size and the arena's regions are mapped apart, at "
        "some cost in session creation (docs/CostModel.md, \"glibc's mmap "
        "threshold\"). "
        "Default: MALLOC_MMAP_THRESHOLD_ from the environment, else 0"),
    llvm::cl::value_desc("bytes"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> ortVersion(
    "ort-version",
    llvm::cl::desc("With --kernel-models: the ONNX Runtime version profiled"),
    llvm::cl::cat(category));

static llvm::cl::opt<bool> measure(
    "measure",
    llvm::cl::desc("Calibrate this machine in one command: generate the "
                   "calibration models, run them with ONNX Runtime "
                   "(node and onnxruntime-node) at the session settings of "
                   "--ort-level and --intra-op-threads, fit the runtime's "
                   "kernel models and write the target"),
    llvm::cl::cat(category));

static llvm::cl::opt<std::string> repace(
    "repace",
    llvm::cl::desc("Bring a target of --measure to this machine's pace of "
                   "the moment: time the calibration's speed reference in a "
                   "few fresh processes (seconds) and scale the target's "
                   "kernel models by how much slower or faster it runs than "
                   "when they were fitted; writes -o"),
    llvm::cl::value_desc("target.json"), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> repaceProcesses(
    "repace-processes",
    llvm::cl::desc("With --repace: fresh processes to time the speed "
                   "reference in (their --pace counts)"),
    llvm::cl::init(9), llvm::cl::cat(category));

enum class PaceKind { Quiet, Median };
static llvm::cl::opt<PaceKind> paceKind(
    "pace",
    llvm::cl::desc("With --measure and --repace: the pace of the machine "
                   "a target's kernel models are at (every measurement is "
                   "brought to it by its process's speed reference)"),
    llvm::cl::values(
        clEnumValN(PaceKind::Quiet, "quiet",
                   "the median over the processes whose speed reference ran "
                   "within 12% of its 5th percentile: the machine without "
                   "the load of other work (default)"),
        clEnumValN(PaceKind::Median, "median",
                   "the median over all processes: the pace they met")),
    llvm::cl::init(PaceKind::Quiet), llvm::cl::cat(category));

static llvm::cl::opt<std::string> ortModules(
    "ort-modules",
    llvm::cl::desc(
        "With --measure or --repace: the node_modules folder "
        "holding onnxruntime-node (default: npm/node_modules of the build "
        "this tool belongs to, where bootstrap installs it)"),
    llvm::cl::cat(category));

static llvm::cl::opt<std::string> nodeProgram(
    "node",
    llvm::cl::desc("With --measure or --repace: the node executable "
                   "(default: node on PATH)"),
    llvm::cl::cat(category));

static llvm::cl::opt<unsigned> measureRuns(
    "runs",
    llvm::cl::desc("With --measure: timed runs per model, and as many "
                   "profiled ones"),
    llvm::cl::init(20), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> measureRounds(
    "rounds",
    llvm::cl::desc("With --measure: how many times every model is measured, "
                   "in turn (each round in one order that measures the "
                   "models of one kind far apart); each model's median "
                   "latency over them counts, and each of its kernels' "
                   "median time"),
    llvm::cl::init(3), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> scalingRounds(
    "scaling-rounds",
    llvm::cl::desc("With --measure: in how many of the rounds (the first "
                   "ones) each model also runs as two sessions at once and "
                   "at the other thread counts; models of large weights or "
                   "activations do so in the first round only. 0: every "
                   "round"),
    llvm::cl::init(1), llvm::cl::cat(category));

static llvm::cl::opt<std::string> keepMeasurements(
    "keep-measurements",
    llvm::cl::desc("With --measure: keep the generated models, the runner's "
                   "output per model and round (MODEL_rN.out: latencies and "
                   "resident sets) and ONNX Runtime's profiles in this new "
                   "folder, to inspect the fit or redo it with "
                   "--kernel-models"),
    llvm::cl::value_desc("dir"), llvm::cl::cat(category));

static llvm::cl::opt<std::string> fromMeasurements(
    "from-measurements",
    llvm::cl::desc("With --measure: run nothing; fit again to what "
                   "--keep-measurements kept in this folder, at the settings "
                   "it was measured with (its settings.json)"),
    llvm::cl::value_desc("dir"), llvm::cl::cat(category));

static llvm::cl::opt<double> maxDrift(
    "max-drift",
    llvm::cl::desc("With --measure: a model whose medians of the first and "
                   "second half of its runs (those that faulted in as many "
                   "pages as its median run) are further apart than this "
                   "percentage counts as noisy; with over a quarter noisy, "
                   "no target is written"),
    llvm::cl::init(20), llvm::cl::cat(category));

/// The speed reference's median, in percent behind its quickest tenth,
/// beyond which a calibration warns that its target will not be the next
/// one's (a pace calibrations of shared VMs kept only in quiet hours).
static constexpr int kSteadyPaceSpread = 5;
/// How far, in percent, a model's round's speed reference may be behind
/// its quickest round's for the round to count in its medians; and the
/// processes of a calibration that count as quiet: within this of the
/// reference's 5th percentile.
static constexpr int kQuietRoundSpread = 12;

static llvm::cl::opt<double> minQuietShare(
    "min-quiet-share",
    llvm::cl::desc("With --measure: when fewer than this percentage of the "
                   "calibration's processes ran at the machine's quiet pace "
                   "(their speed reference within 12% of its 5th "
                   "percentile), other load held the machine for nearly all "
                   "of the calibration, and no target is written "
                   "(default 10)"),
    llvm::cl::init(10), llvm::cl::cat(category));

/// The machine's pace over processes whose speed reference took `sorted`
/// (ascending; not empty): the time a target is at under `kind`, and how
/// many processes ran at the quiet pace (within kQuietRoundSpread of the
/// 5th percentile).
struct MachinePace {
  double ms;
  size_t quiet;
};
static MachinePace machinePace(llvm::ArrayRef<double> sorted, PaceKind kind) {
  double quick = sorted[sorted.size() / 20];
  size_t quiet =
      llvm::upper_bound(sorted, quick * (1 + kQuietRoundSpread / 100.0)) -
      sorted.begin();
  return {kind == PaceKind::Median ? sorted[sorted.size() / 2]
                                   : sorted[quiet / 2],
          quiet};
}

static llvm::cl::list<unsigned> threadCounts(
    "thread-counts",
    llvm::cl::desc("With --measure: other intra-op thread counts to measure "
                   "(default: 2 and the number of cores, where more than "
                   "--intra-op-threads), so that plans can weigh one "
                   "session with more threads against sessions side by side"),
    llvm::cl::CommaSeparated, llvm::cl::cat(category));

static int fail(const llvm::Twine &message) {
  return printToolError("chorus-calibrate", message);
}

/// The backend of --browser-file's browser target ("wasm", "webgpu"...),
/// or "" (none given, or not a browser target: writeTarget says so).
static std::string browserBackend() {
  if (browserFile.empty())
    return "";
  llvm::Expected<Target> browser = loadTarget("", browserFile);
  if (!browser) {
    llvm::consumeError(browser.takeError());
    return "";
  }
  return browser->browser ? browser->browser->backend : "";
}

/// What runs the profiled kernels: --browser-file's backend
/// (getKernelBackend), else ONNX Runtime's CPU provider.
static KernelBackend kernelBackend() {
  if (browserFile.empty())
    return KernelBackend::Cpu;
  llvm::Expected<Target> browser = loadTarget("", browserFile);
  if (!browser) {
    llvm::consumeError(browser.takeError());
    return KernelBackend::Cpu;
  }
  return getKernelBackend(*browser);
}

/// Writes `t` to -o, with the kind and browser object of --browser-file.
/// A fit chorus-plan would refuse writes nothing; the error ends with
/// `remedy`, what to do about it in the mode at hand.
static int writeTarget(Target t, llvm::StringRef remedy) {
  if (!browserFile.empty()) {
    llvm::Expected<Target> browser = loadTarget("", browserFile);
    if (!browser)
      return fail(llvm::toString(browser.takeError()));
    if (!browser->browser)
      return fail("--browser-file '" + browserFile +
                  "' is not a browser target (kind \"" + browser->kind + "\")");
    if (t.runtime && browser->browser->backend != "wasm" &&
        browser->browser->backend != "webgpu")
      return fail("--browser-file '" + browserFile + "' is a " +
                  browser->browser->backend +
                  " target: kernel models are fitted to the profiles of "
                  "ONNX Runtime Web's wasm and WebGPU backends");
    if (t.runtime && t.runtime->nchwcBlock != 0)
      return fail("--nchwc-block must be 0 with --browser-file (ONNX Runtime "
                  "Web has no NCHWc kernels)");
    t.kind = browser->kind;
    t.browser = browser->browser;
  }
  // What is written is what chorus-plan reads back: a fit that put a
  // term outside what a target may hold is an error here, not later.
  std::string text = llvm::formatv("{0:2}", targetToJSON(t)).str();
  if (llvm::Expected<Target> back = parseTarget(text, outputFile); !back)
    return fail("the fit gave a target chorus-plan would refuse (" +
                llvm::toString(back.takeError()) +
                "); no target written: " + remedy.str());
  std::error_code ec;
  llvm::ToolOutputFile out(outputFile, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + outputFile + "': " + ec.message());
  out.os() << text << "\n";
  out.keep();
  return 0;
}

static llvm::Expected<Target> loadBase() {
  return loadTarget(baseFile.empty() && baseName.empty()
                        ? std::string("x86-avx2")
                        : std::string(baseName),
                    baseFile);
}

static llvm::Expected<llvm::StringMap<double>> parseLatencies() {
  llvm::StringMap<double> latencyMs;
  for (const std::string &spec : latencies) {
    auto [model, ms] = llvm::StringRef(spec).rsplit('=');
    double value;
    if (model.empty() || ms.getAsDouble(value) || !(value > 0))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--latency '" + spec +
                                         "' is not MODEL=MILLISECONDS");
    latencyMs[model] = value;
  }
  return latencyMs;
}

static llvm::Expected<ImportOptions> parseDims() {
  ImportOptions options;
  if (llvm::Error err = importFlags.fill(options))
    return std::move(err);
  return options;
}

/// Fails when a binding reached no model.
static int checkDims(const ImportOptions &options,
                     llvm::ArrayRef<std::string> paths,
                     llvm::ArrayRef<ImportedModel> models) {
  if (llvm::Error err = checkImportBindings(options, paths, models))
    return fail(llvm::toString(std::move(err)));
  return 0;
}

/// What both modes read from the command line: the base target, the dim
/// bindings and the latencies; on an error, says so and returns nothing.
struct CommonInputs {
  Target base;
  ImportOptions options;
  llvm::StringMap<double> latencyMs;
};

static std::optional<CommonInputs> readCommonInputs() {
  llvm::Expected<Target> base = loadBase();
  if (!base)
    return fail(llvm::toString(base.takeError())), std::nullopt;
  llvm::Expected<ImportOptions> options = parseDims();
  if (!options)
    return fail(llvm::toString(options.takeError())), std::nullopt;
  llvm::Expected<llvm::StringMap<double>> latencyMs = parseLatencies();
  if (!latencyMs)
    return fail(llvm::toString(latencyMs.takeError())), std::nullopt;
  return CommonInputs{std::move(*base), std::move(*options),
                      std::move(*latencyMs)};
}

static std::unique_ptr<ToolContext> makeContext() {
  return std::make_unique<ToolContext>("chorus-calibrate");
}

/// --latency-only: models and their latencies, no profiles.
static int runLatencyOnly() {
  if (!(minWorkShare >= 0 && minWorkShare < 1))
    return fail("--min-work-share must be a fraction in [0, 1)");
  if (!(timeWeight >= 0 && timeWeight <= 2))
    return fail("--time-weight must be in [0, 2]");
  std::optional<CommonInputs> in = readCommonInputs();
  if (!in)
    return 1;
  const Target *base = &in->base;
  ImportOptions *options = &in->options;
  llvm::StringMap<double> *latencyMs = &in->latencyMs;
  std::unique_ptr<ToolContext> context = makeContext();
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(UnknownLoc::get(&context->get()));
  std::vector<std::pair<func::FuncOp, double>> timed;
  std::vector<std::string> names;
  std::vector<ImportedModel> imported;
  for (const std::string &path : inputs) {
    auto it = latencyMs->find(path);
    if (it == latencyMs->end())
      return fail("model '" + path +
                  "' has no --latency (--latency-only fits latencies alone)");
    FailureOr<ImportedModel> model = importOnnxFile(*module, path, *options);
    if (failed(model))
      return 1;
    timed.push_back({model->func, it->second * 1e-3});
    names.push_back(model->func.getSymName().str());
    latencyMs->erase(it);
    imported.push_back(std::move(*model));
  }
  if (int rc = checkDims(*options, inputs, imported))
    return rc;
  if (!latencyMs->empty())
    return fail("--latency names '" + latencyMs->begin()->first() +
                "', which is not one of the models given");
  // A browser target predicts ONNX Runtime Web, which runs ONNX Runtime's
  // own fusions: fitted on the kernels chorus-plan will plan it with.
  if (!browserFile.empty()) {
    std::vector<std::string> rules;
    for (llvm::StringRef rule : getOrtFusionRuleNames())
      rules.push_back(rule.str());
    FuseOpsPassOptions fuse;
    fuse.rules = rules;
    PassManager pm(&context->get());
    pm.addPass(createFuseOpsPass(fuse));
    if (failed(pm.run(*module)))
      return 1;
  }
  LatencyOnlyFit fit;
  FailureOr<Target> calibrated =
      calibrateToLatencies(*base, timed, name, fit, minWorkShare, timeWeight);
  if (failed(calibrated))
    return 1;
  calibrated->calibration = note;
  calibrated->description = "calibrated from the latencies of " +
                            std::to_string(timed.size()) +
                            " models on the base of '" + base->name + "'";
  llvm::raw_ostream &os = llvm::outs();
  os << "class          work factor\n";
  for (const auto &[cls, factor] : fit.scale)
    os << llvm::left_justify(getOpClassName(cls), 14)
       << llvm::format(" %11.4g", factor) << "\n";
  for (auto [cls, share] : fit.unfitted) {
    os << llvm::left_justify(getOpClassName(cls), 14);
    if (cls == OpClass::ElementwiseMath &&
        fit.scale.count(OpClass::Elementwise)) {
      if (share > 0)
        os << llvm::format("  (%.1f%% of the work, under --min-work-share: "
                           "elementwise's factor)\n",
                           100 * share);
      else
        os << "  (no work in these models: elementwise's factor)\n";
    } else if (share > 0)
      os << llvm::format("  (%.1f%% of the work, under --min-work-share: "
                         "the work-weighted mean)\n",
                         100 * share);
    else
      os << "  (no work in these models: the work-weighted mean)\n";
  }
  os << "overhead per kernel: "
     << llvm::format("%.3f", fit.overheadSeconds * 1e6) << " us\n";
  os << "model                                 measured ms   fitted ms   "
        "error\n";
  for (auto [i, m] : llvm::enumerate(fit.models)) {
    double error = 100 * (m.first - m.second) / m.second;
    // Rounding must not print a fit exact to the last digit as -0.0%.
    if (std::fabs(error) < 0.05)
      error = 0;
    os << llvm::left_justify(names[i], 36)
       << llvm::format(" %12.3f %11.3f %+6.1f%%", m.second * 1e3, m.first * 1e3,
                       error)
       << "\n";
  }
  return writeTarget(*calibrated, "check the latencies --latency gives");
}

/// One process's measurement of a model: the median latency of its timed
/// runs (seconds), the pages those runs faulted in, and the profile.
struct RoundMeasurement {
  double seconds = 0;
  double pages = 0;
  std::vector<ProfiledNode> kernels;
};

/// The timed runs of one process that share the allocator regime of most
/// of them (`ms` with the pages each faulted in, `pages`, or none where the
/// runner did not count them): their median time and their median pages.
/// onnxruntime-node hands every result over in new memory, faulted in page
/// by page, until the JavaScript engine collects earlier results, after
/// which runs fault in none; which runs do is the engine's choice, and on a
/// machine of costly faults a faulting run takes several times as long.
/// The median of all the runs of a process that ran in both regimes is a
/// time of neither, and it came with the pages of neither: the fit of what
/// a run costs beside its kernels read 2,273 pages at the time of runs that
/// faulted none (docs/Rationale.md).
struct RegimeRuns {
  std::vector<double> ms;
  double medianMs = 0, pages = 0;
};
static RegimeRuns typicalRegime(llvm::ArrayRef<double> ms,
                                llvm::ArrayRef<double> pages) {
  auto medianOf = [](std::vector<double> v) {
    llvm::sort(v);
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  RegimeRuns r;
  if (pages.size() != ms.size() || ms.empty()) {
    r.ms = ms.vec();
    r.medianMs = medianOf(r.ms);
    return r;
  }
  auto near = [](double a, double anchor) {
    return std::fabs(a - anchor) <= std::max(2.0, 0.1 * anchor);
  };
  // The regime most runs share: the run whose pages the most runs are near
  // (the first such run).
  size_t best = 0, bestCount = 0;
  for (size_t i = 0; i < pages.size(); ++i) {
    size_t count =
        llvm::count_if(pages, [&](double p) { return near(p, pages[i]); });
    if (count > bestCount)
      best = i, bestCount = count;
  }
  std::vector<double> regimePages;
  for (size_t i = 0; i < ms.size(); ++i)
    if (near(pages[i], pages[best])) {
      r.ms.push_back(ms[i]);
      regimePages.push_back(pages[i]);
    }
  r.medianMs = medianOf(r.ms);
  r.pages = medianOf(regimePages);
  return r;
}

/// The order a round measures `n` calibration models in: position i
/// measures model i x stride mod n. The stride is the first at or above
/// n / 1.618 (the golden ratio) that is coprime with n, so that models
/// next to each other in the generated list (one kind after another) are
/// measured far apart: for 87 models, 55, and the models of one kind 19
/// positions apart.
static size_t interleavingStride(size_t n) {
  if (n < 3)
    return 1;
  for (size_t s = std::max<size_t>(2, std::lround(n / 1.618)); s < n; ++s)
    if (std::gcd(s, n) == 1)
      return s;
  return 1;
}

/// What the shortest profiled kernels take: the 5th percentile.
static double
shortestKernelSeconds(const std::vector<std::vector<ProfiledNode>> &profiles) {
  std::vector<double> times;
  for (const std::vector<ProfiledNode> &p : profiles)
    for (const ProfiledNode &k : p)
      times.push_back(k.seconds);
  if (times.empty())
    return 0;
  std::nth_element(times.begin(), times.begin() + times.size() / 20,
                   times.end());
  return times[times.size() / 20];
}

/// Fits the kernel models to `profiles` (with the measured latencies of
/// `timed`: index into profiles, seconds), printing the table, the
/// profiler's correction included. With `ioBytes` (per profile: the bytes
/// a run copies in and out), what a run costs beside its kernels is fitted
/// too, per run and per byte, into `runIo`.
static std::map<std::string, KernelModel> fitKernelModelsWithCorrection(
    const std::vector<std::vector<ProfiledNode>> &profiles,
    llvm::ArrayRef<std::pair<size_t, double>> timed, size_t &kernelCount,
    std::optional<double> coldWeightsAbove = std::nullopt,
    std::optional<double> memoryWeightsAbove = std::nullopt, bool print = true,
    llvm::ArrayRef<RunIoBytes> ioBytes = {},
    std::optional<RunIoModel> *runIo = nullptr,
    bool boundByShortest = !browserFile.empty()) {
  llvm::raw_ostream &os = print ? llvm::outs() : llvm::nulls();
  // The profiler's own time per kernel: what the profiled runs add over
  // the timed ones. It is taken off every profiled kernel before the fit,
  // so that each class's terms are fitted to kernels as they run
  // unprofiled (taken off the fitted per-kernel times instead, it could
  // not reach classes whose fit put the added time on bytes or FLOPs).
  double d = 0;
  bool withIo = !ioBytes.empty() && runIo;
  if (timed.size() >= (withIo ? 3u : 2u)) {
    // measured = profiled - d x kernels + r per run (what a run costs
    // outside its kernels) [+ q x the bytes it copies in and out],
    // fitted by least squares in relative terms.
    std::vector<std::vector<double>> rows;
    for (auto [index, seconds] : timed) {
      double profiled = 0;
      for (const ProfiledNode &k : profiles[index])
        profiled += k.seconds;
      double kernels = profiles[index].size();
      RunIoBytes io = withIo ? ioBytes[index] : RunIoBytes();
      // Unknowns (d, r, input, output, page): row (-kernels, 1, input
      // bytes, output bytes, pages faulted in), target measured -
      // profiled, weight 1 / measured^2; with the run's terms 1 /
      // measured, as the kernels are fitted, so that the few models whose
      // runs hand over megabytes are not outvoted by the many that hand
      // over kilobytes.
      rows.push_back({-kernels, 1, io.inputs, io.outputs, io.pages,
                      seconds - profiled,
                      withIo ? 1 / seconds : 1 / (seconds * seconds)});
    }
    std::vector<double> x;
    // Page faults where the runner counted them.
    bool withPages = withIo && llvm::any_of(rows, [](const auto &row) {
                       return row[4] > 0;
                     });
    std::vector<bool> active = {true, true, withIo, withIo, withPages};
    // No negative cost per run, per byte or per page.
    std::vector<bool> nonNegative = {false, withIo, withIo, withIo, withIo};
    bool solved = solveLeastSquaresNonNegative(rows, active, nonNegative, x);
    // In a browser (ONNX Runtime Web) the profiler's time is held under
    // what the shortest kernels take, as its accuracy was measured
    // (docs/Targets.md); the run's terms are fitted again around it.
    double cap = solved && withIo && boundByShortest
                     ? shortestKernelSeconds(profiles)
                     : INFINITY;
    if (cap < INFINITY && x[0] > cap) {
      for (std::vector<double> &row : rows) {
        row[5] -= row[0] * cap; // measured - profiled + cap x kernels
        row[0] = 0;
      }
      active[0] = false;
      solved = solveLeastSquaresNonNegative(rows, active, nonNegative, x);
      x[0] = cap;
    }
    if (solved) {
      d = x[0];
      if (withIo && (x[1] > 0 || x[2] > 0 || x[3] > 0 || x[4] > 0)) {
        RunIoModel m;
        m.perRunSeconds = x[1];
        m.perInputByteSeconds = x[2];
        m.perOutputByteSeconds = x[3];
        m.perPageFaultSeconds = x[4];
        m.samples = static_cast<unsigned>(timed.size());
        *runIo = m;
      }
    }
  }
  std::vector<ProfiledNode> all;
  for (const std::vector<ProfiledNode> &p : profiles)
    all.insert(all.end(), p.begin(), p.end());
  kernelCount = all.size();
  if (d > 0 && !all.empty()) {
    // Natively not held under what the shortest kernels take: fitted to
    // whole runs, the profiler's time per kernel is 3 to 4 us on a machine
    // whose shortest profiled kernels take 2 to 3 (it is not all inside
    // the kernels' timestamps), and onnxruntime-node's profiles time
    // kernels in whole microseconds, so that such a bound (the 5th
    // percentile) moved from 2 to 3 us from one calibration to the next,
    // and with it every per-kernel time. A kernel keeps a tenth of its
    // profiled time.
    if (boundByShortest)
      d = std::min(d, shortestKernelSeconds(profiles));
    for (ProfiledNode &k : all)
      k.seconds = std::max(k.seconds - d, 0.1 * k.seconds);
  }
  // A GPU's timestamps (ONNX Runtime Web's WebGPU) time the kernels
  // alone: a run also spends the CPU's dispatch of each (d < 0), put on
  // every kernel. A CPU profiler's d is its own time, never below 0.
  if (d < 0 && kernelBackend() == KernelBackend::WebGpu)
    for (ProfiledNode &k : all)
      k.seconds -= d;
  else
    d = std::max(d, 0.0);
  std::vector<KernelModelFit> fits;
  std::map<std::string, KernelModel> models = fitKernelModels(
      all, minSamples, fits, coldWeightsAbove, memoryWeightsAbove);
  if (runIo && *runIo)
    os << "time of a run beside its kernels: "
       << llvm::format("%.3f", (*runIo)->perRunSeconds * 1e6) << " us + "
       << llvm::format("%.3f", (*runIo)->perInputByteSeconds * 1e9)
       << " ms per MB of inputs + "
       << llvm::format("%.3f", (*runIo)->perOutputByteSeconds * 1e9)
       << " ms per MB of outputs"
       << ((*runIo)->perPageFaultSeconds > 0
               ? llvm::formatv(" + {0:f2} us per page of new memory the "
                               "results are copied into",
                               (*runIo)->perPageFaultSeconds * 1e6)
                     .str()
               : std::string())
       << " (fitted to " << timed.size() << " measured latencies)\n";
  if (!timed.empty())
    os << (d >= 0 ? "profiler time taken off every profiled kernel: "
                  : "time outside the profiled kernels put on each: ")
       << llvm::format("%.3f", std::fabs(d) * 1e6) << " us (fitted to "
       << timed.size() << " measured latencies)\n";
  os << "kernel class          kernels  measured ms   fitted ms   us/GFLOP"
        "    us/GB  us/kernel  further terms\n";
  for (const KernelModelFit &f : fits) {
    os << llvm::left_justify(f.kernelClass, 21)
       << llvm::format("%8u %12.3f %11.3f %10.1f %8.1f %10.3f", f.samples,
                       f.measuredSeconds * 1e3, f.fittedSeconds * 1e3,
                       f.model.perFlopSeconds * 1e15,
                       f.model.perByteSeconds * 1e15,
                       f.model.perKernelSeconds * 1e6);
    if (f.model.perGroupSeconds > 0)
      os << llvm::format("  +%.3f us/group", f.model.perGroupSeconds * 1e6);
    if (f.model.perRowSeconds > 0)
      os << llvm::format("  +%.2f ns/im2col row", f.model.perRowSeconds * 1e9);
    if (f.model.perStridedElementSeconds > 0)
      os << llvm::format("  +%.3f ns/strided im2col element",
                         f.model.perStridedElementSeconds * 1e9);
    if (f.model.perWorkgroupSeconds > 0)
      os << llvm::format("  +%.3f us/workgroup",
                         f.model.perWorkgroupSeconds * 1e6);
    if (f.model.perTileStepSeconds > 0)
      os << llvm::format("  +%.3f us/tile step",
                         f.model.perTileStepSeconds * 1e6);
    if (f.model.perStreamedByteSeconds > 0)
      os << llvm::format("  +%.1f us/GB over %g MiB",
                         f.model.perStreamedByteSeconds * 1e15,
                         f.model.cacheBytes / (1024.0 * 1024.0));
    if (f.model.perColdWeightByteSeconds > 0)
      os << llvm::format("  +%.1f us/GB of weights in models over %g MiB",
                         f.model.perColdWeightByteSeconds * 1e15,
                         f.model.coldWeightsAbove / (1024.0 * 1024.0));
    if (f.model.memoryWeightsAbove > 0)
      os << llvm::format("  +%.1f ns/weight row +%.1f us/GB of weights in "
                         "runs touching over %g MiB",
                         f.model.perMemoryWeightRowSeconds * 1e9,
                         f.model.perMemoryWeightByteSeconds * 1e15,
                         f.model.memoryWeightsAbove / (1024.0 * 1024.0));
    os << "\n";
  }
  return models;
}

/// What --measure fits beside the kernel models.
struct MeasuredExtras {
  std::optional<RuntimeMemoryModel> memory;
  std::optional<SessionLoadModel> sessionLoad;
  std::map<unsigned, std::map<std::string, KernelModel>> threadModels;
  std::optional<CoRunModel> coRun;
  std::optional<RunIoModel> runIo;
  int64_t parallelUnits = 0;
  /// The speed reference's time at the calibration's pace (--pace), the
  /// pace of every measurement.
  double speedReferenceSeconds = 0;
  /// Which reference that is (kSpeedReferenceName, or an older one in a
  /// folder kept before it).
  std::string speedReference;
};

/// Writes the target of kernel models `models` (fitted to `kernelCount`
/// profiled kernels) on the base of `baseTarget`; `remedy` as for
/// writeTarget.
static int writeKernelModelTarget(const Target &baseTarget,
                                  std::map<std::string, KernelModel> models,
                                  size_t kernelCount,
                                  const std::string &provenance,
                                  llvm::StringRef remedy,
                                  MeasuredExtras extras = {}) {
  Target t = baseTarget;
  t.name = name;
  RuntimeProfile runtime;
  // With --browser-file, profiles of ONNX Runtime Web: its wasm backend
  // (the CPU provider, without NCHWc) or its WebGPU backend (the GPU's
  // timestamps of each kernel).
  if (!browserFile.empty())
    runtime.name = "onnxruntime-web";
  runtime.version = ortVersion;
  runtime.optimizationLevel = ortLevel;
  runtime.intraOpThreads = intraOpThreads;
  runtime.nchwcBlock = nchwcBlock;
  runtime.mallocMmapThreshold = mallocMmapThreshold;
  runtime.speedReferenceSeconds = extras.speedReferenceSeconds;
  runtime.speedReference = extras.speedReference;
  t.runtime = runtime;
  t.kernelModels = std::move(models);
  t.runtimeMemory = extras.memory;
  if (t.runtimeMemory)
    t.runtimeMemory->fixedMmapThreshold = mallocMmapThreshold;
  t.sessionLoad = extras.sessionLoad;
  t.threadKernelModels = std::move(extras.threadModels);
  t.coRun = extras.coRun;
  t.runIo = extras.runIo;
  if (extras.parallelUnits > 0)
    t.parallelUnits = extras.parallelUnits;
  t.calibrated = true;
  t.calibration = provenance;
  t.description =
      (browserFile.empty() ? std::string("ONNX Runtime CPU (")
                           : "ONNX Runtime Web " + browserBackend() + " (") +
      ortLevel + ", " + std::to_string(intraOpThreads) + " intra-op thread" +
      (intraOpThreads > 1 ? "s" : "") + ") kernel models fitted to " +
      std::to_string(kernelCount) + " profiled kernels on the base of '" +
      baseTarget.name + "'";
  return writeTarget(t, remedy);
}

/// The runtime's settings (--ort-level, --nchwc-block,
/// --intra-op-threads): 0 when valid, else the error's exit code.
static int checkRuntimeFlags() {
  if (!parseOrtLevel(ortLevel))
    return fail("--ort-level '" + ortLevel +
                "' is not one of disabled, basic, extended, all");
  if (nchwcBlock != 0 && nchwcBlock != 8 && nchwcBlock != 16)
    return fail("--nchwc-block " + llvm::Twine(nchwcBlock.getValue()) +
                " is not 0, 8 or 16");
  if (intraOpThreads < 1)
    return fail("--intra-op-threads must be at least 1");
  return 0;
}

/// --kernel-models: fits the runtime's kernel models to profiles.
static int runKernelModels() {
  if (inputs.size() % 2 || inputs.empty())
    return fail("expected pairs of <model> <profile>; got " +
                llvm::Twine(inputs.size()) + " paths");
  if (int rc = checkRuntimeFlags())
    return rc;
  llvm::Expected<Target> base = loadBase();
  if (!base)
    return fail(llvm::toString(base.takeError()));
  llvm::Expected<llvm::StringMap<double>> parsed = parseLatencies();
  if (!parsed)
    return fail(llvm::toString(parsed.takeError()));
  llvm::StringMap<double> latencyMs = std::move(*parsed);
  llvm::raw_ostream &os = llvm::outs();
  std::vector<std::vector<ProfiledNode>> profiles;
  std::vector<std::pair<size_t, double>> timed;
  KernelBackend backend = kernelBackend();
  for (size_t i = 0; i < inputs.size(); i += 2) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(inputs[i + 1], /*IsText=*/true);
    if (!buffer)
      return fail("cannot read '" + inputs[i + 1] +
                  "': " + buffer.getError().message());
    llvm::Expected<std::vector<ProfiledNode>> profile =
        readOrtProfile((*buffer)->getBuffer(), inputs[i + 1]);
    if (!profile)
      return fail(llvm::toString(profile.takeError()));
    double seconds = 0;
    for (ProfiledNode &k : *profile) {
      seconds += k.seconds;
      k.backend = backend;
    }
    setProfiledRunBytes(*profile);
    os << inputs[i] << ": " << profile->size() << " kernels ("
       << llvm::format("%.3f", seconds * 1e3) << " ms profiled)\n";
    if (auto it = latencyMs.find(inputs[i]); it != latencyMs.end()) {
      timed.push_back({profiles.size(), it->second * 1e-3});
      latencyMs.erase(it);
    }
    profiles.push_back(std::move(*profile));
  }
  if (!latencyMs.empty())
    return fail("--latency names '" + latencyMs.begin()->first() +
                "', which is not one of the models given");
  // ONNX Runtime Web's wasm backend copies every input into the
  // WebAssembly memory and every output out of it, on every run: the
  // bytes each timed model copies (its inputs and results, at the shapes
  // --input-shape and --dim give) let the fit tell that time apart.
  std::vector<RunIoBytes> ioBytes;
  if (backend == KernelBackend::Wasm && timed.size() >= 3) {
    llvm::Expected<ImportOptions> options = parseDims();
    if (!options)
      return fail(llvm::toString(options.takeError()));
    std::unique_ptr<ToolContext> context = makeContext();
    OwningOpRef<ModuleOp> module =
        ModuleOp::create(UnknownLoc::get(&context->get()));
    ioBytes.assign(profiles.size(), RunIoBytes());
    for (auto [index, seconds] : timed) {
      FailureOr<ImportedModel> model =
          importOnnxFile(*module, inputs[2 * index], *options);
      if (failed(model))
        return 1;
      ioBytes[index] = getRunIoBytes(model->func);
      // A browser's page faults are not counted: no term for them.
      ioBytes[index].pages = 0;
    }
  }
  size_t kernelCount = 0;
  MeasuredExtras extras;
  std::map<std::string, KernelModel> models =
      fitKernelModelsWithCorrection(profiles, timed, kernelCount, std::nullopt,
                                    std::nullopt, true, ioBytes, &extras.runIo);
  return writeKernelModelTarget(*base, std::move(models), kernelCount, note,
                                "profile the models again, over more runs",
                                std::move(extras));
}

/// The node executable and the node_modules folder holding
/// onnxruntime-node, from --node and --ort-modules or their defaults;
/// non-zero (with the error printed) where either is missing.
static int findRuntime(const char *argv0, std::string &node,
                       std::string &modules) {
  if (node.empty()) {
    llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName("node");
    if (!found)
      return fail("node is not on PATH: install Node.js (Debian: apt install "
                  "nodejs) or pass --node");
    node = *found;
  } else if (!llvm::sys::fs::can_execute(node)) {
    return fail("--node '" + node + "' is not an executable");
  }
  if (modules.empty()) {
    std::string exe = llvm::sys::fs::getMainExecutable(
        argv0, reinterpret_cast<void *>(&findRuntime));
    llvm::SmallString<256> dir(
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
    llvm::sys::path::append(dir, "npm", "node_modules");
    modules = std::string(dir);
  } else {
    // The scripts live in a scratch folder: a relative path would be
    // resolved from there.
    llvm::SmallString<256> absolute(modules);
    if (!llvm::sys::fs::make_absolute(absolute))
      modules = std::string(absolute);
  }
  llvm::SmallString<256> package(modules);
  llvm::sys::path::append(package, "onnxruntime-node", "package.json");
  if (!llvm::sys::fs::exists(package))
    return fail("onnxruntime-node is not under '" + modules +
                "': install it there with npm install --ignore-scripts "
                "onnxruntime-node (utils/bootstrap.sh does), or pass "
                "--ort-modules");
  return 0;
}

/// Models whose MatMul and Gemm weights take at least this many bytes get
/// kMoreMemoryReadings processes of resident readings beyond the rounds'.
static constexpr double kMoreMemoryReadingsAbove = 4.0 * 1024 * 1024;
static constexpr unsigned kMoreMemoryReadings = 3;
/// A resident reading the runner did not take (a process's readings are
/// kept as numbers; any real reading, negative ones included, is above it).
static constexpr double kNotRead = -std::numeric_limits<double>::infinity();

/// The script --measure runs once per model: times `runs` runs of one
/// session at the given settings, then profiles as many in a second one;
/// unless its next to last argument is "0", times two sessions at once and
/// the other thread counts as well. With a last argument "1", the second
/// session of the memory readings is the profiled one, and the timed
/// session of each other thread count profiles too. With one more, "1",
/// it takes the resident readings and stops.
static const char kRunner[] = R"js(
const fs = require('fs');
const path = require('path');
const {Worker, isMainThread, parentPort, workerData} =
    require('worker_threads');
// Resident bytes of this process, now (VmRSS) or at most so far (VmHWM)
// (Linux; null elsewhere).
function status(field) {
  try {
    const text = fs.readFileSync('/proc/self/status', 'utf8');
    return 1024 * Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm')
                             .exec(text)[1]);
  } catch (e) {
    return null;
  }
}
const rss = () => status('VmRSS');
// Minor page faults of this process so far (Linux; null elsewhere).
function faults() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch (e) {
    return null;
  }
}
// Runs f until its times settle: a session's first runs are slower (by a
// tenth over its first twenty on a quiet machine, and up to threefold on
// the first few), as the caches, the branch predictors and V8's compiled
// code warm up. At least 3 runs, then until 20 runs or 15 ms.
async function warm(f) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 20; ++i) {
    await f();
    if (i >= 2 && Number(process.hrtime.bigint() - start) > 15e6) break;
  }
}
// The second session of a co-run: warmed up, then one run per message.
async function worker() {
  const {modules, model, options, dims} = workerData;
  const ort = require(path.join(modules, 'onnxruntime-node'));
  const session = await ort.InferenceSession.create(model, options);
  const input = new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5), dims);
  const feeds = {[session.inputNames[0]]: input};
  await warm(() => session.run(feeds));
  parentPort.on('message', async () => {
    await session.run(feeds);
    parentPort.postMessage('done');
  });
  parentPort.postMessage('ready');
}
async function main() {
  if (!isMainThread) return worker();
  const start = rss();
  const [modules, model, shapeText, runsText, level, threads, prefix,
         threadCountsText, reference, referenceShape, scalingText,
         twinProfilesText, memoryOnlyText] = process.argv.slice(2);
  const scaling = scalingText !== '0';
  const twinProfiles = twinProfilesText === '1';
  const ort = require(path.join(modules, 'onnxruntime-node'));
  const loaded = rss();
  const dims = shapeText.split(',').map(Number);
  const runs = Number(runsText);
  const options = {intraOpNumThreads: Number(threads), interOpNumThreads: 1,
                   executionMode: 'sequential', graphOptimizationLevel: level};
  const input = new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5), dims);
  const before = rss();
  const session = await ort.InferenceSession.create(model, options);
  const created = rss();
  // The most the process held while loading: copies the load freed back
  // to the system (glibc maps large blocks apart) are gone from `created`.
  const loadPeak = status('VmHWM');
  // A second session of the model, created before any run and kept: what
  // it adds is what a session keeps, without the transient copies the
  // first one's load left free in the heap (which the twin's load reuses).
  // For a model of large weights it profiles as well: one creation fewer,
  // seconds for such a model, and its profiler's microseconds a kernel are
  // nothing beside that model's first run.
  const profiling = {...options, enableProfiling: true,
                     profileFilePrefix: prefix};
  const twinStart = process.hrtime.bigint();
  const twin = await ort.InferenceSession.create(
      model, twinProfiles ? profiling : options);
  const createSeconds = Number(process.hrtime.bigint() - twinStart) * 1e-9;
  const twinned = rss();
  const feeds = {[session.inputNames[0]]: input};
  await session.run(feeds);
  const ran = rss();
  // The resident readings alone: what another process of the same model
  // takes (the rest of the process, timing and profiles, skipped).
  if (memoryOnlyText === '1') {
    console.log(JSON.stringify({memory: start === null ? null : {
      process: loaded - start, load: created - before,
      run: ran - twinned + created - before, retained: twinned - created,
      load_peak: loadPeak === null ? null
                                   : Math.max(loadPeak, created) - before}}));
    return;
  }
  for (let i = 0; i < 2; ++i) await session.run(feeds);
  // The twin's first run: what a session created on demand takes for its
  // first result (its arena's pages written for the first time).
  const firstStart = process.hrtime.bigint();
  await twin.run(feeds);
  const firstRunSeconds =
      Number(process.hrtime.bigint() - firstStart) * 1e-9;
  // Milliseconds of each of `count` calls of f; with `pages`, the page
  // faults of each call pushed to it (counted outside the timed span).
  const timed = async (f, count = runs, pages = null) => {
    const ms = [];
    for (let i = 0; i < count; ++i) {
      const before = pages ? faults() : null;
      const start = process.hrtime.bigint();
      await f();
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (before !== null) pages.push(faults() - before);
    }
    return ms;
  };
  // The speed reference, timed before and after the model's runs: how
  // fast the machine ran meanwhile (created after the memory readings).
  let referenceRun = null;
  if (reference) {
    const r = await ort.InferenceSession.create(reference, options);
    const rdims = referenceShape.split(',').map(Number);
    const rfeeds = {[r.inputNames[0]]: new ort.Tensor(
        'float32', new Float32Array(rdims.reduce((a, b) => a * b)).fill(0.5),
        rdims)};
    referenceRun = () => r.run(rfeeds);
    await warm(referenceRun);
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const referenceMs = [];
  if (referenceRun) referenceMs.push(median(await timed(referenceRun, 7)));
  // Warmed up again right before its timed runs, after the reference's.
  await warm(() => session.run(feeds));
  const runFaults = [];
  const times = await timed(() => session.run(feeds), runs, runFaults);
  if (referenceRun) referenceMs.push(median(await timed(referenceRun, 7)));
  const profiled = twinProfiles
      ? twin : await ort.InferenceSession.create(model, profiling);
  for (let i = 0; i < runs; ++i) await profiled.run(feeds);
  // And after the profiled runs: the pace they ran at (the machine's pace
  // changes within a process too).
  if (referenceRun) referenceMs.push(median(await timed(referenceRun, 7)));
  const profile = await profiled.endProfiling();
  // Co-runs: a second session of the model in a worker thread, both run
  // at once. (onnxruntime-node runs a session on the thread that calls
  // it: two sessions of one thread run one after the other.)
  let corun = [], corunAlone = [], corunFaults = [], corunAloneFaults = [];
  if (scaling) {
    const other = new Worker(__filename,
                             {workerData: {modules, model, options, dims}});
    await new Promise((resolve, reject) => {
      other.once('message', resolve);
      other.once('error', reject);
    });
    const runOther = () => new Promise((resolve) => {
      other.once('message', resolve);
      other.postMessage('run');
    });
    // Each run of the two at once follows a run of the first alone: the
    // ratio of their medians is taken at one moment of the machine's, as
    // other load on a shared host comes and goes within seconds.
    for (let i = 0; i < runs; ++i) {
      corunAlone.push(...await timed(() => session.run(feeds), 1,
                                     corunAloneFaults));
      corun.push(...await timed(
          () => Promise.all([runOther(), session.run(feeds)]), 1,
          corunFaults));
    }
    await other.terminate();
  }
  // Other intra-op thread counts: timed, then profiled.
  const threaded = {};
  const threadedFaults = {};
  for (const t of (scaling ? threadCountsText || '' : '')
                      .split(',').filter((x) => x)) {
    // Spinning off, as several sessions with pools of their own must run
    // (a pool spins on after its run, on the next session's cores).
    const at = {...options, intraOpNumThreads: Number(t),
                extra: {session: {intra_op: {allow_spinning: '0'}}}};
    const profilingAt = {...at, enableProfiling: true,
                         profileFilePrefix: prefix + '_t' + t};
    // A model of large weights profiles its timed session, as its twin
    // does: one creation of seconds fewer, the profiler's microseconds a
    // kernel nothing beside its kernels.
    const s = await ort.InferenceSession.create(
        model, twinProfiles ? profilingAt : at);
    await warm(() => s.run(feeds));
    threadedFaults[t] = [];
    const ms = await timed(() => s.run(feeds), runs, threadedFaults[t]);
    const p = twinProfiles
        ? s : await ort.InferenceSession.create(model, profilingAt);
    if (!twinProfiles)
      for (let i = 0; i < runs; ++i) await p.run(feeds);
    await p.endProfiling();
    threaded[t] = ms;
  }
  const version = require(path.join(modules, 'onnxruntime-node',
                                    'package.json')).version;
  // The run's growth is taken after the twin's: the twin leaves the
  // heap's free space as it was, so the run adds what it adds alone.
  const memory = start === null ? null : {
    process: loaded - start, load: created - before,
    run: ran - twinned + created - before, retained: twinned - created,
    load_peak: loadPeak === null ? null : Math.max(loadPeak, created) - before};
  if (twin.release) await twin.release();
  console.log(JSON.stringify(
      {runs_ms: times, reference_ms: referenceMs, corun_ms: corun,
       corun_alone_ms: corunAlone, corun_faults: corunFaults,
       corun_alone_faults: corunAloneFaults,
       threads: threaded, runs_faults: runFaults,
       threads_faults: threadedFaults, profile, version,
       memory, create_s: createSeconds, first_run_s: firstRunSeconds}));
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
)js";

/// Import options binding a calibration model's input to the shape its
/// runs feed (graph probes leave their dims symbolic in the file).
static ImportOptions shapeOf(const CalibrationModel &model) {
  ImportOptions options;
  // The fits take shapes, FLOPs and byte counts; the weights' bytes (a
  // gigabyte over the calibration models) need not be read.
  options.weightSizesOnly = true;
  std::string spec = "x=";
  for (auto [i, d] : llvm::enumerate(model.inputShape))
    spec += (i ? "x" : "") + std::to_string(d);
  llvm::Expected<InputShape> shape = parseInputShape(spec);
  if (shape)
    options.inputShapes.push_back(std::move(*shape));
  else
    llvm::consumeError(shape.takeError());
  return options;
}

/// --measure: generates the calibration models, runs each with ONNX
/// Runtime in its own node process, and fits.
/// --write-calibration-models: the generated models and their manifest.
static int runWriteCalibrationModels() {
  if (!inputs.empty())
    return fail("--write-calibration-models writes the generated models; "
                "got " +
                llvm::Twine(inputs.size()) + " paths as well");
  llvm::StringRef dir = writeCalibrationModels;
  if (llvm::sys::fs::exists(dir))
    return fail("--write-calibration-models '" + dir +
                "' exists: name a new folder");
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return fail("cannot create '" + dir + "': " + ec.message());
  // One model's file, and its entry of the manifest.
  auto write = [&](const CalibrationModel &m,
                   llvm::json::Object &entry) -> int {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, m.name + ".onnx");
    std::error_code ec;
    llvm::raw_fd_ostream f(path, ec);
    if (ec)
      return fail("cannot write '" + path + "': " + ec.message());
    f << m.bytes;
    llvm::json::Array shape;
    for (int64_t d : m.inputShape)
      shape.push_back(d);
    entry = llvm::json::Object{{"name", m.name},
                               {"file", m.name + ".onnx"},
                               {"shape", std::move(shape)}};
    return 0;
  };
  llvm::json::Array list;
  for (const CalibrationModel &m : generateCalibrationModels()) {
    llvm::json::Object entry;
    if (int rc = write(m, entry))
      return rc;
    list.push_back(std::move(entry));
  }
  // The speed reference --measure times beside every model, for runners
  // that bring their measurements to one pace the same way.
  llvm::json::Object reference;
  if (int rc = write(generateSpeedReference(), reference))
    return rc;
  size_t count = list.size();
  llvm::SmallString<256> manifest(dir);
  llvm::sys::path::append(manifest, "models.json");
  std::error_code ec;
  llvm::raw_fd_ostream f(manifest, ec);
  if (ec)
    return fail("cannot write '" + manifest + "': " + ec.message());
  f << llvm::formatv("{0:1}", llvm::json::Value(llvm::json::Object{
                                  {"models", std::move(list)},
                                  {"speed_reference", std::move(reference)}}))
    << "\n";
  llvm::outs() << "wrote " << count << " calibration models and " << manifest
               << "\n";
  return 0;
}

/// The speed reference the measurements timed (an older one when
/// --from-measurements reads a folder kept before it).
static std::string speedReferenceName = kSpeedReferenceName;

/// The private cache of the machine measured (settings.json), 0: unknown.
static uint64_t privateCacheBytes = 0;

static int runMeasure(const char *argv0) {
  if (!(minQuietShare >= 0 && minQuietShare <= 100))
    return fail(llvm::formatv("--min-quiet-share must be a percentage in "
                              "[0, 100]; got {0}",
                              minQuietShare.getValue())
                    .str());
  if (!inputs.empty())
    return fail("--measure generates its own models; got " +
                llvm::Twine(inputs.size()) + " paths as well");
  bool reuse = !fromMeasurements.empty();
  if (reuse) {
    if (!keepMeasurements.empty())
      return fail("--from-measurements and --keep-measurements: the first "
                  "reuses a folder the second wrote; give one");
    llvm::cl::Option *measuring[] = {
        &ortLevel,
        &intraOpThreads,
        &nchwcBlock,
        &measureRuns,
        &measureRounds,
        &static_cast<llvm::cl::Option &>(threadCounts),
        &ortModules,
        &nodeProgram,
        &mallocMmapThreshold,
        &scalingRounds};
    for (llvm::cl::Option *o : measuring)
      if (o->getNumOccurrences())
        return fail("--" + o->ArgStr +
                    " does not go with --from-measurements: the folder's "
                    "settings.json says how it was measured");
    llvm::SmallString<256> settingsPath(fromMeasurements);
    llvm::sys::path::append(settingsPath, "settings.json");
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(settingsPath, /*IsText=*/true);
    if (!buffer)
      return fail("cannot read '" + settingsPath +
                  "': " + buffer.getError().message() +
                  " (is it a folder --keep-measurements wrote?)");
    llvm::Expected<llvm::json::Value> json =
        llvm::json::parse((*buffer)->getBuffer());
    const llvm::json::Object *o = json ? json->getAsObject() : nullptr;
    std::optional<llvm::StringRef> level =
        o ? o->getString("graph_optimization_level") : std::nullopt;
    std::optional<int64_t> threads =
        o ? o->getInteger("intra_op_threads") : std::nullopt;
    std::optional<int64_t> block =
        o ? o->getInteger("nchwc_block") : std::nullopt;
    std::optional<int64_t> runs = o ? o->getInteger("runs") : std::nullopt;
    std::optional<int64_t> rounds = o ? o->getInteger("rounds") : std::nullopt;
    const llvm::json::Array *counts =
        o ? o->getArray("thread_counts") : nullptr;
    if (!level || !threads || !block || !runs || !rounds || !counts) {
      if (!json)
        llvm::consumeError(json.takeError());
      return fail("'" + settingsPath +
                  "' is not the settings file --keep-measurements writes");
    }
    ortLevel = level->str();
    // Folders kept before the reference was named timed the first one.
    speedReferenceName = o->getString("speed_reference_name")
                             .value_or(kFirstSpeedReferenceName)
                             .str();
    // Older folders, measured before the setting was recorded, ran with
    // glibc's default.
    mallocMmapThreshold = static_cast<uint64_t>(
        o->getInteger("malloc_mmap_threshold").value_or(0));
    // Older folders did not record the core's cache: the fit searches.
    privateCacheBytes =
        static_cast<uint64_t>(o->getInteger("private_cache_bytes").value_or(0));
    intraOpThreads = *threads;
    nchwcBlock = *block;
    measureRuns = *runs;
    measureRounds = *rounds;
    // Older folders ran the co-runs and thread counts in every round.
    scalingRounds =
        static_cast<unsigned>(o->getInteger("scaling_rounds").value_or(0));
    threadCounts.clear();
    for (const llvm::json::Value &v : *counts)
      if (std::optional<int64_t> t = v.getAsInteger())
        threadCounts.push_back(*t);
  }
  if (int rc = checkRuntimeFlags())
    return rc;
  if (!reuse) {
    // The runner's node processes inherit the environment: the threshold
    // they run with is the one the target records.
    std::optional<std::string> inherited =
        llvm::sys::Process::GetEnv("MALLOC_MMAP_THRESHOLD_");
    if (!mallocMmapThreshold.getNumOccurrences() && inherited) {
      uint64_t bytes = 0;
      if (llvm::StringRef(*inherited).getAsInteger(10, bytes))
        return fail("MALLOC_MMAP_THRESHOLD_ in the environment is '" +
                    *inherited + "', not a number of bytes");
      mallocMmapThreshold = bytes;
    }
    if (mallocMmapThreshold > (uint64_t(32) << 20))
      return fail("--malloc-mmap-threshold " +
                  llvm::Twine(mallocMmapThreshold.getValue()) +
                  " is above glibc's largest, 33554432 (32 MiB)");
    if (mallocMmapThreshold > 0)
      ::setenv("MALLOC_MMAP_THRESHOLD_",
               std::to_string(mallocMmapThreshold.getValue()).c_str(), 1);
    else
      ::unsetenv("MALLOC_MMAP_THRESHOLD_");
  }
  if (measureRuns < 3 || measureRounds < 1)
    return fail("--runs must be at least 3 and --rounds at least 1");
  if (scalingRounds == 0 || scalingRounds > measureRounds)
    scalingRounds = measureRounds.getValue();
  if (!reuse && !threadCounts.getNumOccurrences()) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t : {2u, cores})
      if (t > intraOpThreads && t <= cores &&
          !llvm::is_contained(threadCounts, t))
        threadCounts.push_back(t);
  }
  for (unsigned t : threadCounts)
    if (t < 1 || t > 1024 || t == intraOpThreads)
      return fail("--thread-counts " + llvm::Twine(t) +
                  " is not a thread count other than --intra-op-threads in "
                  "[1, 1024]");
  // MLAS blocks channels by 16 where the CPU has AVX-512, by 8 with AVX2.
  if (!reuse && !nchwcBlock.getNumOccurrences()) {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    nchwcBlock = features.lookup("avx512f") ? 16
                 : features.lookup("avx2")  ? 8
                                            : 0;
  }
  llvm::Expected<Target> base = loadBase();
  if (!base)
    return fail(llvm::toString(base.takeError()));
  std::string node = nodeProgram;
  std::string modules = ortModules;
  if (!reuse)
    if (int rc = findRuntime(argv0, node, modules))
      return rc;
  llvm::SmallString<128> work;
  if (reuse) {
    work = fromMeasurements;
  } else if (!keepMeasurements.empty()) {
    work = keepMeasurements;
    if (llvm::sys::fs::exists(work))
      return fail("--keep-measurements '" + keepMeasurements +
                  "' exists: name a new folder");
    if (std::error_code ec = llvm::sys::fs::create_directories(work))
      return fail("cannot create '" + keepMeasurements + "': " + ec.message());
  } else if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(
                 "chorus-calibrate", work)) {
    return fail("cannot create a scratch folder: " + ec.message());
  }
  // Everything --measure writes lives in `work`, removed on every exit
  // unless kept.
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty())
        llvm::sys::fs::remove_directories(dir);
    }
  } cleanup{keepMeasurements.empty() && !reuse ? std::string(work)
                                               : std::string()};
  auto inWork = [&](const llvm::Twine &file) {
    llvm::SmallString<256> p(work);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  std::string threadCountsText;
  for (unsigned t : threadCounts)
    threadCountsText +=
        (threadCountsText.empty() ? "" : ",") + std::to_string(t);
  std::string referencePath = inWork("speed_reference.onnx");
  CalibrationModel speedReference = generateSpeedReference();
  std::string referenceShape;
  for (auto [i, d] : llvm::enumerate(speedReference.inputShape))
    referenceShape += (i ? "," : "") + std::to_string(d);
  if (!reuse) {
    std::error_code ec;
    llvm::raw_fd_ostream runner(inWork("runner.js"), ec);
    if (ec)
      return fail("cannot write the runner: " + ec.message());
    runner << kRunner;
    llvm::raw_fd_ostream reference(referencePath, ec);
    if (ec)
      return fail("cannot write the speed reference: " + ec.message());
    reference << speedReference.bytes;
    // The system's word first; a VM that leaves the caches out of it
    // still answers CPUID (without a size, the fit would search one, and
    // two calibrations chose 1 and 32 MiB: docs/Rationale.md).
    privateCacheBytes = readPrivateCacheBytes("/sys/devices/system/cpu/cpu0");
    if (privateCacheBytes == 0)
      privateCacheBytes = readCpuidPrivateCacheBytes();
    llvm::json::Array counts;
    for (unsigned t : threadCounts)
      counts.push_back(t);
    llvm::raw_fd_ostream settings(inWork("settings.json"), ec);
    if (ec)
      return fail("cannot write the settings: " + ec.message());
    settings << llvm::formatv(
                    "{0:2}",
                    llvm::json::Value(llvm::json::Object{
                        {"graph_optimization_level", ortLevel.getValue()},
                        {"intra_op_threads", intraOpThreads.getValue()},
                        {"nchwc_block", nchwcBlock.getValue()},
                        {"malloc_mmap_threshold",
                         static_cast<int64_t>(mallocMmapThreshold.getValue())},
                        {"private_cache_bytes",
                         static_cast<int64_t>(privateCacheBytes)},
                        {"runs", measureRuns.getValue()},
                        {"rounds", measureRounds.getValue()},
                        {"scaling_rounds", scalingRounds.getValue()},
                        {"thread_counts", std::move(counts)},
                        {"speed_reference", "speed_reference.onnx"},
                        {"speed_reference_name", speedReference.name},
                        {"speed_reference_shape", referenceShape}}))
             << "\n";
  }
  // Fitting again reads the models the folder keeps: their weights' values
  // (a gigabyte) are not generated.
  std::vector<CalibrationModel> models = generateCalibrationModels(!reuse);
  llvm::raw_ostream &os = llvm::outs();
  if (reuse)
    os << "fitting again to the measurements kept in " << work << " of "
       << models.size() << " calibration models";
  else
    os << "measuring " << models.size() << " calibration models with "
       << "onnxruntime-node under " << modules;
  os << " (CPU, level " << ortLevel << ", " << intraOpThreads.getValue()
     << " intra-op thread" << (intraOpThreads > 1 ? "s" : "")
     << ", NCHWc block " << nchwcBlock.getValue() << ", "
     << (mallocMmapThreshold > 0
             ? "glibc's mmap threshold fixed at " +
                   std::to_string(mallocMmapThreshold.getValue()) + ", "
             : std::string())
     << measureRuns.getValue() << " timed and " << measureRuns.getValue()
     << " profiled runs each, as many of two "
     << "sessions at once" << (threadCounts.empty() ? "" : ", and at ")
     << threadCountsText << (threadCounts.empty() ? "" : " threads") << ", "
     << measureRounds.getValue() << " rounds";
  size_t once = llvm::count_if(
      models, [](const CalibrationModel &m) { return m.scalingOnce; });
  if (scalingRounds < measureRounds)
    os << "; two sessions at once"
       << (threadCounts.empty() ? "" : " and other thread counts") << " in "
       << (scalingRounds == 1
               ? std::string("the first round")
               : "the first " + std::to_string(scalingRounds) + " rounds")
       << " only";
  if (scalingRounds > 1 && once)
    os << (scalingRounds < measureRounds ? ", " : "; ") << "the " << once
       << " with large weights or activations in the first round only";
  os << ")\n";
  // Per model, per round: the median latency and the profile.
  std::vector<std::vector<RoundMeasurement>> measured(models.size());
  // Per model, per round: resident growth from loading the runtime, after
  // the session's creation and after its first run (Linux only).
  // Each process's readings: process, load, run, retained, load peak (the
  // last two kNotRead where the runner did not take them).
  std::vector<std::vector<std::array<double, 5>>> memory(models.size());
  // Per model and round: how long its second session took to create.
  std::vector<std::vector<double>> createSeconds(models.size());
  // Per model and round: how much longer the second session's first run
  // took than the round's median run.
  std::vector<std::vector<double>> firstRunExtra(models.size());
  // Per model, per round: the median of two sessions run at once over the
  // median of the runs alone between them (folders kept before the runner
  // interleaved them: over the median of the process's timed runs).
  std::vector<std::vector<double>> corun(models.size());
  // Models whose co-runs were left out of a round for faulting otherwise.
  std::set<size_t> corunRegimes;
  // Per model, per round: the speed reference's time (ms) beside it.
  std::vector<std::vector<double>> reference(models.size());
  // Per model, per round: the speed reference's time beside its profiled
  // runs, which follow the timed ones.
  std::vector<std::vector<double>> profileReference(models.size());
  // Per other thread count, per model, per round: median and profile.
  std::map<unsigned, std::vector<std::vector<RoundMeasurement>>> threaded;
  for (unsigned t : threadCounts)
    threaded[t].resize(models.size());
  std::string version;
  unsigned noisy = 0;
  // A runner's output or error file, trimmed ("" where unread).
  auto readFile = [](const std::string &p) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> b =
        llvm::MemoryBuffer::getFile(p, /*IsText=*/true);
    return b ? (*b)->getBuffer().trim().str() : std::string();
  };
  // Runs the runner on one model in a process of its own, its output and
  // errors to `stem`.out and .err in the work folder. With `wait`, the
  // exit code in the result's ReturnCode (ExecuteAndWait's); without, the
  // process started (ExecuteNoWait's: pid 0 where it could not start),
  // for llvm::sys::Wait. `message` says why where it could not run.
  auto startRunner = [&](const CalibrationModel &model, const std::string &stem,
                         bool scaling, bool memoryOnly, std::string &message,
                         bool wait) {
    std::string shape;
    for (auto [i, d] : llvm::enumerate(model.inputShape))
      shape += (i ? "," : "") + std::to_string(d);
    std::string out = inWork(stem + ".out"), err = inWork(stem + ".err");
    // The strings outlive the call; ExecuteAndWait takes references.
    std::vector<std::string> argStrings = {
        node,
        inWork("runner.js"),
        modules,
        inWork(model.name + ".onnx"),
        shape,
        std::to_string(measureRuns.getValue()),
        ortLevel,
        std::to_string(intraOpThreads.getValue()),
        inWork(stem + "_profile"),
        threadCountsText,
        referencePath,
        referenceShape,
        scaling ? "1" : "0",
        model.scalingOnce ? "1" : "0"};
    if (memoryOnly)
      argStrings.push_back("1");
    llvm::SmallVector<llvm::StringRef> args(argStrings.begin(),
                                            argStrings.end());
    std::optional<llvm::StringRef> redirects[] = {
        std::nullopt, llvm::StringRef(out), llvm::StringRef(err)};
    llvm::sys::ProcessInfo info;
    if (wait)
      info.ReturnCode =
          llvm::sys::ExecuteAndWait(node, args, std::nullopt, redirects,
                                    /*SecondsToWait=*/600, 0, &message);
    else
      info = llvm::sys::ExecuteNoWait(node, args, std::nullopt, redirects, 0,
                                      &message);
    return info;
  };
  auto runRunner = [&](const CalibrationModel &model, const std::string &stem,
                       bool scaling, bool memoryOnly, std::string &message) {
    return startRunner(model, stem, scaling, memoryOnly, message,
                       /*wait=*/true)
        .ReturnCode;
  };
  // Rounds run every model once each, so that the machine's drift over
  // minutes reaches every model alike; each model's median latency over
  // the rounds counts, and each of its kernels' median time. Within a
  // round, models of one kind (generated one after the other) are spread
  // over the round: other tenants' load comes and goes in stretches of
  // tens of seconds, and one such stretch slowed every model of large
  // weights of a calibration, measured one after the other, moving the
  // class's time by a sixth; spread, it reaches one or two models of
  // each kind, which the class's fit and the medians over the rounds
  // outvote.
  size_t stride = interleavingStride(models.size());
  for (unsigned round = 0; round < measureRounds; ++round)
    for (size_t position = 0; position < models.size(); ++position) {
      size_t index = position * stride % models.size();
      const CalibrationModel &model = models[index];
      std::string path = inWork(model.name + ".onnx");
      // Co-runs and other thread counts: in the first --scaling-rounds
      // (models of large weights or activations in the first only). They
      // make a small model's process half again as long or more, and
      // their fits draw on every model (docs/Rationale.md).
      bool scaling =
          round == 0 || (!model.scalingOnce && round < scalingRounds);
      if (!reuse && round == 0) {
        std::error_code ec;
        llvm::raw_fd_ostream f(path, ec);
        if (ec)
          return fail("cannot write '" + path + "': " + ec.message());
        f << model.bytes;
        // The file is what every later step reads.
        std::string().swap(models[index].bytes);
      }
      std::string stem = model.name + "_r" + std::to_string(round);
      std::string out = inWork(stem + ".out"), err = inWork(stem + ".err");
      std::string message;
      int rc = 0;
      if (!reuse)
        rc = runRunner(model, stem, scaling, /*memoryOnly=*/false, message);
      else if (!llvm::sys::fs::exists(out) || !llvm::sys::fs::exists(path))
        return fail("'" + fromMeasurements + "' holds no " +
                    (llvm::sys::fs::exists(path) ? stem + ".out"
                                                 : model.name + ".onnx") +
                    ": it was kept by another version of chorus-calibrate, "
                    "or is incomplete");
      if (rc != 0)
        return fail("ONNX Runtime failed on calibration model '" + model.name +
                    "' (" +
                    (message.empty() ? "exit " + std::to_string(rc) : message) +
                    "): " + readFile(err));
      llvm::Expected<llvm::json::Value> result =
          llvm::json::parse(readFile(out));
      const llvm::json::Object *o = result ? result->getAsObject() : nullptr;
      const llvm::json::Array *runTimes = o ? o->getArray("runs_ms") : nullptr;
      if (!o || !runTimes || runTimes->empty()) {
        if (!result)
          llvm::consumeError(result.takeError());
        return fail("the runner's output for '" + model.name +
                    "' is not what it should be: " + readFile(out));
      }
      if (std::optional<llvm::StringRef> v = o->getString("version"))
        version = v->str();
      std::vector<double> ms;
      for (const llvm::json::Value &v : *runTimes)
        if (std::optional<double> d = v.getAsNumber())
          ms.push_back(*d);
      auto medianOf = [](std::vector<double> v) {
        llvm::sort(v);
        return v.empty() ? 0.0 : v[v.size() / 2];
      };
      double median = medianOf(ms);
      auto numbers = [](const llvm::json::Array *a) {
        std::vector<double> v;
        if (a)
          for (const llvm::json::Value &x : *a)
            if (std::optional<double> d = x.getAsNumber())
              v.push_back(*d);
        return v;
      };
      // The runs of the allocator regime most of them share: their median
      // time and the pages they faulted in are one measurement.
      RegimeRuns regime =
          typicalRegime(ms, numbers(o->getArray("runs_faults")));
      // How far the medians of the first and second half of the runs are
      // apart: a steady machine repeats its own figure. Runs of another
      // regime of the runtime's are not noise (a session's runs stop
      // faulting once the JavaScript engine collects earlier results,
      // and on a machine of costly faults run several times faster
      // after): the halves are of the runs of the typical regime.
      std::vector<double> steady = regime.ms.size() >= 4 ? regime.ms : ms;
      size_t half = steady.size() / 2;
      double first = medianOf({steady.begin(), steady.begin() + half});
      double second = medianOf({steady.begin() + half, steady.end()});
      double spread = median > 0 ? std::fabs(first - second) / median : 0;
      // The speed reference before and after: the machine's own pace.
      std::vector<double> referenceMs;
      if (const llvm::json::Array *r = o->getArray("reference_ms"))
        for (const llvm::json::Value &v : *r)
          if (std::optional<double> d = v.getAsNumber())
            referenceMs.push_back(*d);
      if (referenceMs.size() >= 2 && referenceMs[0] + referenceMs[1] > 0) {
        reference[index].push_back(0.5 * (referenceMs[0] + referenceMs[1]));
        // The profiled runs' pace, between the second and the third
        // (folders kept before the runner timed the third: the timed
        // runs').
        profileReference[index].push_back(
            referenceMs.size() >= 3 && referenceMs[1] + referenceMs[2] > 0
                ? 0.5 * (referenceMs[1] + referenceMs[2])
                : reference[index].back());
      }
      noisy += spread * 100 > maxDrift;
      // ONNX Runtime writes <prefix>_<date>.json; endProfiling does not
      // always return the name.
      auto readProfile = [&](const std::string &prefixName)
          -> llvm::Expected<std::vector<ProfiledNode>> {
        std::string profilePath;
        std::error_code ec;
        for (llvm::sys::fs::directory_iterator it(work, ec), end;
             it != end && !ec; it.increment(ec)) {
          llvm::StringRef file = llvm::sys::path::filename(it->path());
          if (file.consume_front(prefixName + "_") && !file.empty() &&
              llvm::isDigit(file.front()))
            profilePath = it->path();
        }
        llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
            llvm::MemoryBuffer::getFile(profilePath, /*IsText=*/true);
        if (!buffer)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "ONNX Runtime wrote no profile for '" +
                                             model.name + "'");
        return readOrtProfile((*buffer)->getBuffer(), profilePath);
      };
      llvm::Expected<std::vector<ProfiledNode>> profile =
          readProfile(stem + "_profile");
      if (!profile)
        return fail(llvm::toString(profile.takeError()));
      // (Folders kept before some models were measured so in the first
      // round only hold the other rounds' as well: they are left out, as
      // this version would not have measured them.)
      std::vector<double> pairs = numbers(o->getArray("corun_ms"));
      if (scaling && pairs.empty())
        return fail("the runner measured no runs of two sessions of '" +
                    model.name + "' at once in round " +
                    std::to_string(round + 1) + " (" + out + ")");
      if (scaling) {
        std::vector<double> alone = numbers(o->getArray("corun_alone_ms"));
        double aloneMs = medianOf(alone.empty() ? ms : alone);
        if (!(aloneMs > 0))
          return fail("the runner timed no runs of '" + model.name +
                      "' alone in round " + std::to_string(round + 1) + " (" +
                      out + ")");
        // Two sessions' runs fault in twice the pages of one's when the
        // allocator stays in one regime. Where they do not (a model of
        // large activations whose buffers glibc maps afresh on each run of
        // two threads and not of one, or the other way round), the ratio
        // is that regime's, up to ten times, not the machine's sharing:
        // the round's co-run is left out of the fit.
        std::vector<double> pairFaults = numbers(o->getArray("corun_faults"));
        std::vector<double> aloneFaults =
            numbers(o->getArray("corun_alone_faults"));
        bool sameRegime = true;
        if (!pairFaults.empty() && !aloneFaults.empty()) {
          double together = medianOf(pairFaults);
          double twice = 2 * medianOf(aloneFaults);
          sameRegime = std::fabs(together - twice) <=
                       std::max(16.0, 0.25 * std::max(together, twice));
        }
        if (sameRegime)
          corun[index].push_back(medianOf(pairs) / aloneMs);
        else
          corunRegimes.insert(index);
        for (auto &[t, perModel] : threaded) {
          const llvm::json::Object *byThreads = o->getObject("threads");
          std::vector<double> tms = numbers(
              byThreads ? byThreads->getArray(std::to_string(t)) : nullptr);
          llvm::Expected<std::vector<ProfiledNode>> tp =
              readProfile(stem + "_profile_t" + std::to_string(t));
          if (!tp)
            return fail(llvm::toString(tp.takeError()));
          if (tms.empty())
            return fail("the runner measured no runs of '" + model.name +
                        "' with " + std::to_string(t) + " threads");
          for (ProfiledNode &k : *tp)
            k.modelWeightBytes = model.weightBytes;
          setProfiledRunBytes(*tp);
          const llvm::json::Object *byThreadsFaults =
              o->getObject("threads_faults");
          RegimeRuns tRegime = typicalRegime(
              tms, numbers(byThreadsFaults
                               ? byThreadsFaults->getArray(std::to_string(t))
                               : nullptr));
          perModel[index].push_back(
              {tRegime.medianMs * 1e-3, tRegime.pages, std::move(*tp)});
        }
      }
      for (ProfiledNode &k : *profile)
        k.modelWeightBytes = model.weightBytes;
      setProfiledRunBytes(*profile);
      os << llvm::format("[%u/%u %2zu/%zu] ", round + 1,
                         measureRounds.getValue(), position + 1, models.size())
         << llvm::left_justify(model.name, 24)
         << llvm::format("%9.3f ms  %3zu kernels  drift %4.1f%%",
                         regime.medianMs, profile->size(), 100 * spread);
      if (!reference[index].empty() &&
          reference[index].size() == measured[index].size() + 1)
        os << llvm::format("  reference %.3f ms", reference[index].back());
      os << "\n";
      os.flush();
      measured[index].push_back(
          {regime.medianMs * 1e-3, regime.pages, std::move(*profile)});
      if (std::optional<double> create = o->getNumber("create_s"))
        createSeconds[index].push_back(*create);
      // What the twin's first run took beyond this round's steady median
      // (measurements kept before it was timed have none).
      if (std::optional<double> first = o->getNumber("first_run_s"))
        firstRunExtra[index].push_back(*first - median * 1e-3);
      if (const llvm::json::Object *mem = o->getObject("memory")) {
        std::optional<double> process = mem->getNumber("process"),
                              load = mem->getNumber("load"),
                              run = mem->getNumber("run");
        // Measurements kept before the runner measured a second session
        // have no "retained": the fit then takes what a session keeps to
        // be all it takes.
        std::optional<double> retained = mem->getNumber("retained"),
                              loadPeak = mem->getNumber("load_peak");
        if (process && load && run)
          memory[index].push_back({*process, *load, *run,
                                   retained ? *retained : kNotRead,
                                   loadPeak ? *loadPeak : kNotRead});
      }
    }
  // Each model's median round: its latency with the pages its runs faulted
  // in (`pages`, the same round's or rounds'), and each of its kernels'
  // time the median over the rounds (each round a process of its own,
  // brought to the calibration's pace). Taken from the median round alone, a
  // kernel's time carried that one process's noise, and the fits of two
  // calibrations split a class's time between its terms differently.
  auto middleRounds = [](std::vector<std::vector<RoundMeasurement>> &perModel,
                         std::vector<std::vector<ProfiledNode>> &profiles,
                         std::vector<std::pair<size_t, double>> &timed,
                         std::vector<double> &pages) {
    for (auto &rounds : perModel) {
      llvm::sort(rounds,
                 [](const RoundMeasurement &a, const RoundMeasurement &b) {
                   return a.seconds < b.seconds;
                 });
      const RoundMeasurement &middle = rounds[rounds.size() / 2];
      const RoundMeasurement &below =
          rounds[rounds.size() % 2 ? rounds.size() / 2 : rounds.size() / 2 - 1];
      timed.push_back(
          {profiles.size(), 0.5 * (below.seconds + middle.seconds)});
      pages.push_back(0.5 * (below.pages + middle.pages));
      // The same kernels in every round (else the median round's).
      bool alike = llvm::all_of(rounds, [&](const RoundMeasurement &r) {
        return r.kernels.size() == middle.kernels.size() &&
               llvm::all_of(
                   llvm::zip(r.kernels, middle.kernels), [](const auto &pair) {
                     return std::get<0>(pair).name == std::get<1>(pair).name;
                   });
      });
      std::vector<ProfiledNode> kernels = middle.kernels;
      if (alike)
        for (auto [i, k] : llvm::enumerate(kernels)) {
          std::vector<double> times;
          for (const RoundMeasurement &r : rounds)
            times.push_back(r.kernels[i].seconds);
          llvm::sort(times);
          size_t half = times.size() / 2;
          k.seconds = times.size() % 2 ? times[half]
                                       : (times[half - 1] + times[half]) / 2;
        }
      profiles.push_back(std::move(kernels));
    }
  };
  // Weights of models larger than one core's own cache are read from the
  // caches other cores and tenants share, or from memory, on every run:
  // the fits time them so from that size. Searched for among a few sizes
  // instead, the size flipped between the core's cache and the shared
  // one from one calibration of a machine to the next, and with it the
  // predictions of every model between the two by up to 17%.
  std::optional<double> coldWeightsAbove;
  if (privateCacheBytes > 0) {
    coldWeightsAbove = static_cast<double>(privateCacheBytes);
    os << llvm::format("weights: a model's weights beyond %g MiB (one core's "
                       "own cache) are timed as read from beyond it on "
                       "every run\n",
                       privateCacheBytes / (1024.0 * 1024.0));
  }
  // What each model's run hands over: onnxruntime-node copies every
  // result into a new buffer on each run, so a run's time beside its
  // kernels grows with its outputs (a calibration model with 6 MB out runs
  // in twice its kernels' time). Fitted apart, per run and per byte, that
  // time is not taken for the profiler's (which it outweighed, moving the
  // profiler's time per kernel, and with it every per-kernel time, by
  // half from one calibration to the next).
  // Each model is imported once, for these and for the memory fits below,
  // in a module of its own that goes before the next is read: the import
  // of a model of large weights holds them twice while it reads them, and
  // the importer's shape inference runs in a forked process, whose page
  // tables grow with everything this one holds.
  std::vector<RunIoBytes> ioBytes;
  std::vector<RuntimeMemoryFeatures> memoryFeatures;
  std::vector<SessionLoadFeatures> loadFeatures;
  {
    std::unique_ptr<ToolContext> context = makeContext();
    OrtCpuSettings ort;
    ort.level = parseOrtLevel(ortLevel).value_or(OrtLevel::All);
    ort.nchwcBlock = nchwcBlock;
    for (const CalibrationModel &model : models) {
      OwningOpRef<ModuleOp> module =
          ModuleOp::create(UnknownLoc::get(&context->get()));
      FailureOr<ImportedModel> imported =
          importOnnxFile(*module, inWork(model.name + ".onnx"), shapeOf(model));
      if (failed(imported))
        return 1;
      ioBytes.push_back(getRunIoBytes(imported->func));
      FailureOr<RuntimeMemoryFeatures> features =
          computeRuntimeMemoryFeatures(imported->func, &ort);
      if (failed(features))
        return 1;
      memoryFeatures.push_back(std::move(*features));
      loadFeatures.push_back(sessionLoadFeatures(imported->func));
    }
  }
  // The pages a run faults in: as the runner counted them in the runs
  // each model's latency is the median of (folders kept before it counted
  // them: none, and the fit goes without the term).
  auto withPages = [&](llvm::ArrayRef<double> pages) {
    std::vector<RunIoBytes> io = ioBytes;
    for (auto [index, b] : llvm::enumerate(io))
      b.pages = index < pages.size() ? pages[index] : 0;
    return io;
  };
  std::optional<RunIoModel> otherRunIo;
  // The machine's pace, from the speed reference timed in every process:
  // on a shared machine one process runs steadily 20-50% slower or faster
  // than the next. Every measurement of a process is brought to the
  // calibration's pace (--pace: by default the machine's quiet pace, below)
  // by the ratio of that time to its process's, so that the fit
  // sees the models' costs and not the pace of the process each happened to run
  // in. Every term moves by that ratio alike: powers fitted per term over the
  // processes came out between 0.6 and 1.1 (FLOP) and 1.2 and 2.3 (per kernel)
  // from one calibration to the next, and moved the targets apart
  // (docs/Rationale.md).
  std::string paceNote;
  double speedReferenceMs = 0;
  if (llvm::all_of(reference, [&](const std::vector<double> &r) {
        return r.size() == measureRounds;
      })) {
    std::vector<double> all;
    for (const std::vector<double> &r : reference)
      all.insert(all.end(), r.begin(), r.end());
    llvm::sort(all);
    double middle = all[all.size() / 2];
    double low = all[all.size() / 10], high = all[all.size() * 9 / 10];
    double pace = middle > 0 ? (high - low) / middle : 0;
    // The target's pace: by default the machine's quiet pace, the median
    // of the processes within kQuietRoundSpread of the reference's 5th
    // percentile. On a 2-vCPU AMD EPYC VM of two paces (the reference 25%
    // quicker in some stretches of minutes than in others), two
    // calibrations in a row met mostly one pace and then mostly the other:
    // their medians 27.3% apart, their targets at the median 29.3%, at the
    // quiet pace 5.4% (docs/Rationale.md, "A target at the machine's quiet
    // pace, refused only when nearly all of it ran loaded").
    MachinePace at = machinePace(all, paceKind);
    double target = at.ms;
    double quietShare = 100.0 * at.quiet / all.size();
    os << llvm::format(
        "machine pace: the speed reference took %.3f ms "
        "(median of %zu processes), %.3f to %.3f ms from the "
        "10th to the 90th percentile (%.0f%% apart); %zu "
        "processes (%.0f%%) at the quiet pace; every "
        "measurement brought to the %s pace, %.3f ms\n",
        middle, all.size(), low, high, 100 * pace, at.quiet, quietShare,
        paceKind == PaceKind::Median ? "median" : "quiet", target);
    // With nearly every process slowed by other load, the machine's own
    // pace shows in a handful of processes only, and the target would be
    // at a pace of that load.
    if (quietShare < minQuietShare)
      return fail(llvm::formatv(
                      "only {0} of {1} processes ({2:f1}%) ran at the "
                      "machine's quiet pace (their speed reference within "
                      "{3}% of its 5th percentile, {4:f3} ms; median {5:f3} "
                      "ms): other load slowed the machine for nearly all of "
                      "the calibration: the machine is too noisy to fit (stop "
                      "other work and calibrate again, or lower "
                      "--min-quiet-share); no target written",
                      at.quiet, all.size(), quietShare, kQuietRoundSpread,
                      all[all.size() / 20], middle)
                      .str());
    // Below the refusal, a median well behind its quickest tenth still
    // says the target may not be the next one: over ten pairs of
    // calibrations of 2-vCPU VMs (docs/CostModel.md), the four pairs whose
    // medians both stayed within kSteadyPaceSpread of their quickest tenth
    // gave targets within 5% of each other on every held-out model; the
    // six pairs with one beyond gave targets 5.7% to 15.7% apart.
    double loaded = low > 0 ? 100 * (middle / low - 1) : 0;
    if (loaded > kSteadyPaceSpread)
      llvm::errs() << llvm::formatv(
          "chorus-calibrate: warning: the speed reference's median over {0} "
          "processes ({1:f3} ms) is {2:f1}% slower than its quickest tenth "
          "({3:f3} ms): the machine ran at more than one pace during the "
          "calibration; the target is written, but a calibration this "
          "spread may predict up to a sixth away from the next one: for a "
          "steadier target, calibrate again when the machine is quieter "
          "(within {4}%), or calibrate twice and compare\n",
          all.size(), middle, loaded, low, kSteadyPaceSpread);
    paceNote = llvm::formatv("measurements at the {0} pace of a speed "
                             "reference ({1:f3} ms; median {2:f3} ms; "
                             "processes {3:f0}% apart from the 10th to the "
                             "90th percentile, {4:f0}% at the quiet pace)",
                             paceKind == PaceKind::Median ? "median" : "quiet",
                             target, middle, 100 * pace, quietShare)
                   .str();
    speedReferenceMs = target;
    // Scales every measurement of each process (its kernels, its
    // whole-model times, its sessions of other thread counts) by the
    // process's pace ratio.
    for (auto [index, rounds] : llvm::enumerate(reference))
      for (auto [round, ms] : llvm::enumerate(rounds)) {
        double ratio = target / ms;
        // The profiled runs (and the sessions of other thread counts after
        // them) by the reference timed around them: on a 2-vCPU VM of two
        // paces the reference moved by more than 10% between the timed and
        // the profiled runs of 37 of a calibration's 261 processes.
        double later = target / profileReference[index][round];
        auto scale = [&](RoundMeasurement &m, double timedRatio,
                         double profileRatio) {
          m.seconds *= timedRatio;
          for (ProfiledNode &k : m.kernels)
            k.seconds *= profileRatio;
        };
        scale(measured[index][round], ratio, later);
        for (auto &[t, perModel] : threaded)
          if (round < perModel[index].size())
            scale(perModel[index][round], later, later);
      }
  }
  // A model's rounds whose process ran while other load slowed the
  // machine (its speed reference more than kQuietRoundSpread behind the
  // model's quickest round's) are left out of its medians. Such load
  // slows kernels that stream through memory more than the reference,
  // which stays in the caches: brought to pace by the reference's ratio,
  // the calibration's depthwise kernels still took 9 to 20% longer in
  // those processes, and with two of three rounds so slowed the median
  // took them (two calibrations in a row then gave targets 10 to 13%
  // apart on depthwise-heavy models; docs/Rationale.md).
  if (speedReferenceMs > 0)
    for (auto [index, rounds] : llvm::enumerate(measured)) {
      const std::vector<double> &paces = reference[index];
      double quickest = *llvm::min_element(paces);
      std::vector<RoundMeasurement> quiet;
      for (auto [round, m] : llvm::enumerate(rounds))
        if (paces[round] <= quickest * (1 + kQuietRoundSpread / 100.0))
          quiet.push_back(std::move(m));
      rounds = std::move(quiet);
    }
  std::vector<std::vector<ProfiledNode>> profiles;
  std::vector<std::pair<size_t, double>> timed;
  std::vector<double> pages;
  middleRounds(measured, profiles, timed, pages);
  // Medians that move by a fifth within one model's runs, on many models,
  // say the machine is busy: a fit to them would mislead.
  size_t runsMeasured = models.size() * measureRounds;
  if (noisy * 4 > runsMeasured)
    return fail(llvm::Twine(noisy) + " of " + llvm::Twine(runsMeasured) +
                " measurements of calibration models ran more than " +
                llvm::formatv("{0:g}", maxDrift.getValue()).str() +
                "% slower or faster in the second half of their runs than in "
                "the first: the machine is too noisy to fit (stop other work, "
                "raise --runs, or --max-drift); no target written");
  std::string provenance =
      "chorus-calibrate --measure: onnxruntime-node " + version +
      ", CPU, graph optimization level " + ortLevel + ", " +
      std::to_string(intraOpThreads.getValue()) + " intra-op thread(s), " +
      std::to_string(models.size()) + " generated calibration models, " +
      std::to_string(measureRuns.getValue()) + " timed and profiled runs in " +
      std::to_string(measureRounds.getValue()) + " rounds" +
      (paceNote.empty() ? std::string() : "; " + paceNote) +
      (note.empty() ? std::string() : "; " + note);
  ortVersion = version;
  // The runtime's memory: every model a session of known features. The
  // same session takes different amounts in identical processes (by up to
  // half, as glibc's heaps happen to return freed load-time copies or
  // not): the largest round counts, what a plan must leave room for.
  std::optional<RuntimeMemoryModel> memoryModel;
  std::optional<SessionLoadModel> sessionLoad;
  if (llvm::all_of(memory,
                   [&](const auto &m) { return m.size() == measureRounds; })) {
    std::vector<MemorySample> samples;
    std::vector<LoadSample> loadSamples;
    // MatMul and Gemm weights are what the load keeps once or twice (as
    // the heap returns the unpacked copy or not; 263 or 461 MB for one
    // model of 226 MB): such a model is read in a few more processes, so
    // that the larger take shows in its largest reading. Those processes
    // time nothing, and one process's resident set is its own whatever
    // runs beside it: they run as many at once as the machine has cores.
    auto moreReadings = [&](size_t index) {
      return memoryFeatures[index].weightBytes[1] >= kMoreMemoryReadingsAbove;
    };
    if (!reuse) {
      std::vector<std::pair<size_t, std::string>> jobs;
      for (size_t index = 0; index < models.size(); ++index)
        if (moreReadings(index))
          for (unsigned extra = 0; extra < kMoreMemoryReadings; ++extra)
            jobs.push_back(
                {index, models[index].name + "_m" + std::to_string(extra)});
      unsigned width = std::clamp(
          llvm::hardware_concurrency().compute_thread_count(), 1u, 4u);
      if (!jobs.empty()) {
        os << "memory: " << jobs.size()
           << " more processes of the models of large matmul weights, " << width
           << " at a time\n";
        os.flush();
      }
      // Started in order; the oldest waited for first.
      std::deque<std::pair<size_t, llvm::sys::ProcessInfo>> running;
      std::string failure;
      auto finishOldest = [&] {
        auto [job, info] = running.front();
        running.pop_front();
        std::string message;
        llvm::sys::ProcessInfo done =
            llvm::sys::Wait(info, /*SecondsToWait=*/600, &message);
        if (failure.empty() && done.ReturnCode != 0)
          failure = "ONNX Runtime failed on calibration model '" +
                    models[jobs[job].first].name + "' (" +
                    (message.empty() ? "exit " + std::to_string(done.ReturnCode)
                                     : message) +
                    "): " + readFile(inWork(jobs[job].second + ".err"));
      };
      for (size_t job = 0; job < jobs.size() && failure.empty(); ++job) {
        if (running.size() >= width)
          finishOldest();
        if (!failure.empty())
          break;
        std::string message;
        llvm::sys::ProcessInfo info =
            startRunner(models[jobs[job].first], jobs[job].second,
                        /*scaling=*/false, /*memoryOnly=*/true, message,
                        /*wait=*/false);
        if (info.Pid == 0) {
          failure = "cannot run node on calibration model '" +
                    models[jobs[job].first].name + "': " + message;
          break;
        }
        running.push_back({job, info});
      }
      while (!running.empty())
        finishOldest();
      if (!failure.empty())
        return fail(failure);
    }
    for (auto [index, model] : llvm::enumerate(models)) {
      const RuntimeMemoryFeatures *features = &memoryFeatures[index];
      if (moreReadings(index))
        for (unsigned extra = 0; extra < kMoreMemoryReadings; ++extra) {
          std::string stem = model.name + "_m" + std::to_string(extra);
          std::string out = inWork(stem + ".out");
          if (reuse && !llvm::sys::fs::exists(out))
            break; // kept before these readings were taken
          llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
              llvm::MemoryBuffer::getFile(out, /*IsText=*/true);
          llvm::Expected<llvm::json::Value> result =
              text ? llvm::json::parse((*text)->getBuffer().trim())
                   : llvm::Expected<llvm::json::Value>(
                         llvm::createStringError(text.getError(), "unread"));
          const llvm::json::Object *o =
              result ? result->getAsObject() : nullptr;
          const llvm::json::Object *mem = o ? o->getObject("memory") : nullptr;
          if (!result)
            llvm::consumeError(result.takeError());
          std::optional<double> process = mem ? mem->getNumber("process")
                                              : std::nullopt,
                                load =
                                    mem ? mem->getNumber("load") : std::nullopt,
                                run =
                                    mem ? mem->getNumber("run") : std::nullopt,
                                retained = mem ? mem->getNumber("retained")
                                               : std::nullopt,
                                loadPeak = mem ? mem->getNumber("load_peak")
                                               : std::nullopt;
          if (!process || !load || !run)
            return fail("the runner's memory readings for '" + model.name +
                        "' are not what they should be (" + out + ")");
          memory[index].push_back({*process, *load, *run,
                                   retained ? *retained : kNotRead,
                                   loadPeak ? *loadPeak : kNotRead});
          os << llvm::format("[memory %u/%u] ", extra + 1, kMoreMemoryReadings)
             << llvm::left_justify(model.name, 24)
             << llvm::format("%9.1f MB after load\n", *load * 1e-6);
          os.flush();
        }
      MemorySample sample;
      sample.features = *features;
      auto roundsOf = [&](int field) {
        std::vector<double> v;
        for (const auto &m : memory[index])
          v.push_back(m[field]);
        llvm::sort(v);
        return v;
      };
      std::vector<double> processes = roundsOf(0);
      sample.processBytes = processes[processes.size() / 2];
      sample.afterLoadBytes = roundsOf(1).back();
      sample.afterRunBytes = roundsOf(2).back();
      // A reading any process lacks (kept before the runner took it)
      // leaves the model out of that fit; a negative one is a reading.
      std::vector<double> retained = roundsOf(3);
      if (!llvm::is_contained(retained, kNotRead))
        sample.retainedBytes = retained[retained.size() / 2];
      std::vector<double> loadPeak = roundsOf(4);
      if (!llvm::is_contained(loadPeak, kNotRead))
        sample.loadPeakBytes = loadPeak.back();
      samples.push_back(sample);
      if (createSeconds[index].size() == measureRounds) {
        std::vector<double> v = createSeconds[index];
        llvm::sort(v);
        LoadSample load;
        load.seconds = v[v.size() / 2];
        load.features = loadFeatures[index];
        load.features.arenaBytes = features->firstRunArenaBytes();
        if (firstRunExtra[index].size() == measureRounds) {
          std::vector<double> e = firstRunExtra[index];
          llvm::sort(e);
          load.firstRunExtraSeconds = e[e.size() / 2];
        }
        loadSamples.push_back(load);
      }
    }
    if (loadSamples.size() >= 6) {
      sessionLoad = fitSessionLoad(loadSamples);
      // The creation's own terms against the creation's time.
      double worst = 0;
      for (const LoadSample &l : loadSamples) {
        SessionLoadFeatures created = l.features;
        created.arenaBytes = 0;
        worst = std::max(
            worst, std::fabs(sessionLoad->seconds(created) / l.seconds - 1));
      }
      os << llvm::format(
          "session creation: %.2f ms + %.2f ms per MB of weights (%.2f more "
          "where convolutions read them; %.2f in tensors of 32 MiB or more) "
          "+ %.3f ms per node (%.3f more where the file leaves dims "
          "symbolic) + %.3f ms per weight tensor (fitted to %zu second "
          "sessions; worst fit %.0f%%)\n",
          sessionLoad->perSessionSeconds * 1e3,
          sessionLoad->perWeightByteSeconds * 1e9,
          sessionLoad->perConvWeightByteSeconds * 1e9,
          sessionLoad->perLargeWeightByteSeconds * 1e9,
          sessionLoad->perNodeSeconds * 1e3,
          sessionLoad->perSymbolicNodeSeconds * 1e3,
          sessionLoad->perWeightTensorSeconds * 1e3, loadSamples.size(),
          100 * worst);
      if (sessionLoad->perArenaByteSeconds > 0)
        os << llvm::format("a session's first run takes %.3f ms per MB of its "
                           "arena more than later runs (fitted to the second "
                           "sessions' first runs)\n",
                           sessionLoad->perArenaByteSeconds * 1e9);
    }
    llvm::Expected<RuntimeMemoryModel> fitted = fitRuntimeMemory(samples);
    if (!fitted)
      return fail(llvm::toString(fitted.takeError()));
    memoryModel = *fitted;
    double worstLoad = 0, worstRun = 0;
    for (const MemorySample &s : samples) {
      double load = predictAfterLoad(*memoryModel, s.features);
      // The calibration's input is made before its readings.
      double run = load + predictFirstRun(*memoryModel, s.features) -
                   memoryModel->perOutputByte * s.features.inputBytes;
      worstLoad = std::max(worstLoad, std::fabs(load / s.afterLoadBytes - 1));
      worstRun = std::max(worstRun, std::fabs(run / s.afterRunBytes - 1));
    }
    const RuntimeMemoryModel &m = *memoryModel;
    os << llvm::format(
        "runtime memory: %.1f MB per process, %.1f MB per session, "
        "x%.2f conv, x%.2f matmul, x%.2f other, x%.2f large weight bytes "
        "(+x%.2f in Constant nodes), x%.2f the largest convolution weight "
        "tensor, %.1f KB per node; first run "
        "%.1f MB + x%.2f the runtime's arena + x%.2f its inputs and outputs "
        "(fitted to "
        "%zu sessions; worst fit %.0f%% after load, %.0f%% after the first "
        "run)\n",
        m.processBytes * 1e-6, m.sessionBytes * 1e-6, m.perConvWeightByte,
        m.perMatMulWeightByte, m.perOtherWeightByte, m.perLargeWeightByte,
        m.perConstantNodeByte, m.perLargestConvTensorByte,
        m.perNodeBytes * 1e-3, m.runBytes * 1e-6, m.perArenaByte,
        m.perOutputByte, samples.size(), 100 * worstLoad, 100 * worstRun);
    if (m.retained)
      os << llvm::format(
          "a session keeps %.1f MB, x%.2f conv, x%.2f matmul, x%.2f other, "
          "x%.2f large weight bytes (+x%.2f in Constant nodes), x%.2f the "
          "largest convolution weight tensor, %.1f KB per node of it once "
          "loaded (a second session of each model; fitted to %u)\n",
          m.retained->sessionBytes * 1e-6, m.retained->perConvWeightByte,
          m.retained->perMatMulWeightByte, m.retained->perOtherWeightByte,
          m.retained->perLargeWeightByte, m.retained->perConstantNodeByte,
          m.retained->perLargestConvTensorByte, m.retained->perNodeBytes * 1e-3,
          m.retained->samples);
    if (m.loadPeak)
      os << llvm::format(
          "a load holds for a moment above what it leaves "
          "the higher of x%.2f its largest weight tensor and "
          "x%.2f its convolution weights with x%.2f the "
          "largest of them (fitted to %u)\n",
          m.loadPeak->perLargestTensorByte, m.loadPeak->perConvWeightByte,
          m.loadPeak->perLargestConvTensorByte, m.loadPeak->samples);
  } else {
    os << "runtime memory: not measured (the runner reads /proc/self/status, "
          "which this system lacks)\n";
  }
  MeasuredExtras extras;
  extras.memory = memoryModel;
  extras.sessionLoad = sessionLoad;
  extras.speedReferenceSeconds = speedReferenceMs * 1e-3;
  extras.speedReference = speedReferenceName;
  extras.parallelUnits = std::max(1u, std::thread::hardware_concurrency());
  size_t kernelCount = 0;
  std::map<std::string, KernelModel> kernelModels =
      fitKernelModelsWithCorrection(
          profiles, timed, kernelCount, coldWeightsAbove, std::nullopt,
          /*print=*/true, withPages(pages), &extras.runIo);
  // Co-runs: how much two sessions at once slow each term.
  std::vector<CoRunSample> coRunSamples;
  for (auto [index, rounds] : llvm::enumerate(corun)) {
    if (rounds.empty())
      continue;
    llvm::sort(rounds);
    CoRunSample sample;
    sample.terms = predictProfiledTerms(profiles[index], kernelModels);
    sample.aloneSeconds = timed[index].second;
    sample.pairSeconds = sample.aloneSeconds * rounds[rounds.size() / 2];
    coRunSamples.push_back(sample);
  }
  llvm::Expected<CoRunModel> coRun = fitCoRun(coRunSamples);
  if (!coRun)
    return fail(llvm::toString(coRun.takeError()));
  extras.coRun = *coRun;
  // Rounding noise of a fit to nothing reads 0.0, not -0.0.
  double handOffUs = coRun->perRunSeconds * 1e6;
  if (std::fabs(handOffUs) < 0.05)
    handOffUs = 0;
  os << llvm::format("co-runs (two sessions at once): each kernel slows by "
                     "%.2f x its FLOP time, %.2f x its byte time, %.2f x its "
                     "per-kernel time (fitted to %u models; %.1f us a run "
                     "handing it to the other thread and back)\n",
                     coRun->perFlop, coRun->perByte, coRun->perKernel,
                     coRun->samples, handOffUs);
  if (!corunRegimes.empty()) {
    os << "co-runs left out of the fit in a round: " << corunRegimes.size()
       << " model" << (corunRegimes.size() > 1 ? "s" : "")
       << " whose runs at once faulted in other than twice the pages of "
          "their runs alone (the allocator in another regime):";
    for (size_t index : corunRegimes)
      os << " " << models[index].name;
    os << "\n";
  }
  // The size above which a model's weights come from memory is the
  // machine's: the fits at other thread counts take the one-thread fit's.
  if (!coldWeightsAbove) {
    coldWeightsAbove = 0;
    for (const auto &[cls, m] : kernelModels)
      if (m.perColdWeightByteSeconds > 0)
        coldWeightsAbove = m.coldWeightsAbove;
  }
  double memoryWeightsAbove = 0;
  for (const auto &[cls, m] : kernelModels)
    memoryWeightsAbove = std::max(memoryWeightsAbove, m.memoryWeightsAbove);
  for (auto &[t, perModel] : threaded) {
    std::vector<std::vector<ProfiledNode>> tProfiles;
    std::vector<std::pair<size_t, double>> tTimed;
    std::vector<double> tPages;
    middleRounds(perModel, tProfiles, tTimed, tPages);
    os << t << " intra-op threads:\n";
    size_t count = 0;
    extras.threadModels[t] = fitKernelModelsWithCorrection(
        tProfiles, tTimed, count, coldWeightsAbove, memoryWeightsAbove,
        /*print=*/true, withPages(tPages), &otherRunIo);
  }
  return writeKernelModelTarget(*base, std::move(kernelModels), kernelCount,
                                provenance, "measure again, or raise --runs",
                                std::move(extras));
}

/// The script --repace runs in each fresh process: the speed reference,
/// warmed up, timed twice 7 times; prints the mean of the two medians, as
/// --measure's runner times it beside each model.
static const char kPaceRunner[] = R"js(
const path = require('path');
async function main() {
  const [modules, model, shapeText, level, threads] = process.argv.slice(2);
  const ort = require(path.join(modules, 'onnxruntime-node'));
  const dims = shapeText.split(',').map(Number);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: level});
  const feeds = {[session.inputNames[0]]: new ort.Tensor(
      'float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5),
      dims)};
  // Warmed up as --measure's runner warms it: 3 runs, then until 20 runs
  // or 15 ms.
  const start = process.hrtime.bigint();
  for (let i = 0; i < 20; ++i) {
    await session.run(feeds);
    if (i >= 2 && Number(process.hrtime.bigint() - start) > 15e6) break;
  }
  const median = async () => {
    const ms = [];
    for (let i = 0; i < 7; ++i) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    ms.sort((a, b) => a - b);
    return ms[3];
  };
  const first = await median();
  const second = await median();
  console.log(JSON.stringify({reference_ms: (first + second) / 2}));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
)js";

static int runRepace(const char *argv0) {
  if (!inputs.empty())
    return fail("--repace takes no models; got " + llvm::Twine(inputs.size()) +
                " paths");
  if (measure || latencyOnly || kernelModels)
    return fail("--repace brings a calibrated target to the pace of the "
                "moment; it does not go with --measure, --latency-only or "
                "--kernel-models");
  if (repaceProcesses < 1 || repaceProcesses > 100)
    return fail("--repace-processes must be in [1, 100]");
  llvm::Expected<Target> loaded = loadTarget("", repace);
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  Target t = std::move(*loaded);
  if (t.kernelModels.empty() || !t.runtime ||
      !(t.runtime->speedReferenceSeconds > 0))
    return fail("'" + repace +
                "' records no speed reference (runtime.speed_reference_s): "
                "--repace brings a target of chorus-calibrate --measure to "
                "the pace of the moment; calibrate with --measure");
  // Only a time of the same reference brings it to pace.
  std::string measuredWith = t.runtime->speedReference.empty()
                                 ? std::string(kFirstSpeedReferenceName)
                                 : t.runtime->speedReference;
  if (measuredWith != kSpeedReferenceName)
    return fail("'" + repace +
                "' was calibrated against the speed reference '" +
                measuredWith + "', and this chorus-calibrate times '" +
                llvm::StringRef(kSpeedReferenceName) +
                "': their times do not compare; calibrate again with "
                "--measure");
  // Timed as the target was measured.
  if (t.runtime->mallocMmapThreshold > 0)
    ::setenv("MALLOC_MMAP_THRESHOLD_",
             std::to_string(t.runtime->mallocMmapThreshold).c_str(), 1);
  else
    ::unsetenv("MALLOC_MMAP_THRESHOLD_");
  std::string node = nodeProgram;
  std::string modules = ortModules;
  if (int rc = findRuntime(argv0, node, modules))
    return rc;
  llvm::SmallString<128> work;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("chorus-calibrate", work))
    return fail("cannot create a scratch folder: " + ec.message());
  struct Cleanup {
    std::string dir;
    ~Cleanup() { llvm::sys::fs::remove_directories(dir); }
  } cleanup{std::string(work)};
  auto inWork = [&](const llvm::Twine &file) {
    llvm::SmallString<256> p(work);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  CalibrationModel reference = generateSpeedReference();
  std::string shape;
  for (auto [i, d] : llvm::enumerate(reference.inputShape))
    shape += (i ? "," : "") + std::to_string(d);
  {
    std::error_code ec;
    llvm::raw_fd_ostream script(inWork("pace.js"), ec);
    if (ec)
      return fail("cannot write the pace script: " + ec.message());
    script << kPaceRunner;
    llvm::raw_fd_ostream model(inWork("speed_reference.onnx"), ec);
    if (ec)
      return fail("cannot write the speed reference: " + ec.message());
    model << reference.bytes;
  }
  llvm::raw_ostream &os = llvm::outs();
  os << "timing the speed reference in " << repaceProcesses.getValue()
     << " fresh processes (onnxruntime-node under " << modules << ", level "
     << t.runtime->optimizationLevel << ", " << t.runtime->intraOpThreads
     << " intra-op thread" << (t.runtime->intraOpThreads > 1 ? "s" : "")
     << ")\n";
  std::vector<double> times;
  for (unsigned i = 0; i < repaceProcesses; ++i) {
    // One file per process: a redirect does not truncate the file.
    std::string out = inWork("pace_" + llvm::Twine(i) + ".out"),
                err = inWork("pace_" + llvm::Twine(i) + ".err");
    std::vector<std::string> argStrings = {
        node,
        inWork("pace.js"),
        modules,
        inWork("speed_reference.onnx"),
        shape,
        t.runtime->optimizationLevel,
        std::to_string(t.runtime->intraOpThreads)};
    llvm::SmallVector<llvm::StringRef> args(argStrings.begin(),
                                            argStrings.end());
    std::optional<llvm::StringRef> redirects[] = {
        std::nullopt, llvm::StringRef(out), llvm::StringRef(err)};
    std::string message;
    int rc = llvm::sys::ExecuteAndWait(node, args, std::nullopt, redirects,
                                       /*SecondsToWait=*/120, 0, &message);
    auto readFile = [](const std::string &p) {
      llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> b =
          llvm::MemoryBuffer::getFile(p, /*IsText=*/true);
      return b ? (*b)->getBuffer().trim().str() : std::string();
    };
    if (rc != 0)
      return fail("ONNX Runtime failed on the speed reference (" +
                  (message.empty() ? "exit " + std::to_string(rc) : message) +
                  "): " + readFile(err));
    llvm::Expected<llvm::json::Value> result = llvm::json::parse(readFile(out));
    const llvm::json::Object *o = result ? result->getAsObject() : nullptr;
    std::optional<double> ms = o ? o->getNumber("reference_ms") : std::nullopt;
    if (!ms || !(*ms > 0)) {
      if (!result)
        llvm::consumeError(result.takeError());
      return fail("the pace script's output is not what it should be: " +
                  readFile(out));
    }
    times.push_back(*ms);
    os << llvm::format("[%u/%u] speed reference %.3f ms\n", i + 1,
                       repaceProcesses.getValue(), *ms);
    os.flush();
  }
  std::vector<double> sorted = times;
  llvm::sort(sorted);
  double now = machinePace(sorted, paceKind).ms * 1e-3;
  double before = t.runtime->speedReferenceSeconds;
  double factor = now / before;
  // Each term by the reference's ratio to its own power (1 for a target
  // that did not measure them).
  double flop = std::pow(factor, t.runtime->flopElasticity),
         byte = std::pow(factor, t.runtime->byteElasticity),
         kernel = std::pow(factor, t.runtime->kernelElasticity);
  auto scale = [&](std::map<std::string, KernelModel> &models, double flop,
                   double byte, double kernel) {
    for (auto &[cls, m] : models) {
      m.perFlopSeconds *= flop;
      m.perStridedElementSeconds *= flop;
      for (double *v : {&m.perByteSeconds, &m.perStreamedByteSeconds,
                        &m.perColdWeightByteSeconds})
        *v *= byte;
      for (double *v :
           {&m.perKernelSeconds, &m.perGroupSeconds, &m.perRowSeconds})
        *v *= kernel;
      // A WebGPU program's workgroups are its compute.
      for (double *v : {&m.perWorkgroupSeconds, &m.perTileStepSeconds})
        *v *= flop;
    }
  };
  scale(t.kernelModels, flop, byte, kernel);
  // Other thread counts by the ratio alone, as --measure brought them to
  // its pace.
  for (auto &[threads, models] : t.threadKernelModels)
    scale(models, factor, factor, factor);
  t.runtime->speedReferenceSeconds = now;
  t.calibration += llvm::formatv("; brought to the pace of a speed reference "
                                 "of {0:f3} ms (fitted at {1:f3} ms) by "
                                 "chorus-calibrate --repace",
                                 now * 1e3, before * 1e3)
                       .str();
  if (name.getNumOccurrences())
    t.name = name;
  os << llvm::format("speed reference: %.3f ms now (the %s pace of %zu "
                     "processes, %.3f to %.3f ms), %.3f ms when the kernel "
                     "models were fitted: their FLOP times scaled by %.3f, "
                     "byte times by %.3f, per-kernel times by %.3f\n",
                     now * 1e3,
                     paceKind == PaceKind::Median ? "median" : "quiet",
                     sorted.size(), sorted.front(), sorted.back(), before * 1e3,
                     flop, byte, kernel);
  return writeTarget(std::move(t), "time the speed reference again (raise "
                                   "--repace-processes), or calibrate again");
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  parseToolOptions(
      argc, argv, category,
      "chorus-calibrate: fit a hardware target to ONNX Runtime profiles\n\n"
      "Takes pairs of a model and the profile ONNX Runtime wrote for it\n"
      "(session option enableProfiling; run with graph optimizations\n"
      "disabled so that every profiled kernel is one node of the model).\n"
      "Nodes are matched by name; per op class a non-negative least-squares\n"
      "fit of time = FLOPs/(peak x compute) + bytes/(bandwidth x memory) +\n"
      "overhead gives the class's efficiencies. Writes the base target with\n"
      "them as a new target. With --latency-only, takes models and their\n"
      "--latency and fits per op class a factor on the base's work and one\n"
      "overhead per kernel instead. With --measure, calibrates this machine\n"
      "in one command; with --repace TARGET, brings a target of --measure\n"
      "to the machine's pace of the moment. See docs/CostModel.md.\n");
  // ONNX Runtime's Linux builds (1.29 on) start a telemetry client in
  // every process unless this is set: it writes /tmp/mat-debug-<pid>.log
  // and a device id and event store under ~/.cache/Microsoft, and sends
  // events. Every process --measure and --repace start inherits it, so
  // that a calibration writes nothing outside its named outputs and sends
  // nothing, whatever the environment held. It does not move what is
  // measured: squeezenet1_1's session creation and runs (six processes
  // each way on a 2-vCPU VM) took alike with the client and without.
  ::setenv("ORT_DISABLE_TELEMETRY", "1", /*overwrite=*/1);
  if (!repace.empty() && !outputFile.empty())
    return runRepace(argv[0]);
  if (!writeCalibrationModels.empty()) {
    if (!outputFile.empty())
      return fail("--write-calibration-models writes models, not a target: "
                  "no -o");
    return runWriteCalibrationModels();
  }
  if (outputFile.empty())
    return fail("-o <target.json> is required: where to write the target");
  if (latencyOnly)
    return runLatencyOnly();
  if (kernelModels)
    return runKernelModels();
  if (measure)
    return runMeasure(argv[0]);
  if (inputs.empty())
    return fail("no inputs: give <model> <profile> pairs, or --measure to "
                "calibrate this machine");
  if (inputs.size() % 2)
    return fail("expected pairs of <model> <profile>; got " +
                llvm::Twine(inputs.size()) + " paths");
  std::optional<CommonInputs> in = readCommonInputs();
  if (!in)
    return 1;
  const Target *base = &in->base;
  ImportOptions *options = &in->options;
  llvm::StringMap<double> &latencyMs = in->latencyMs;
  std::unique_ptr<ToolContext> context = makeContext();
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(UnknownLoc::get(&context->get()));

  std::vector<CalibrationSample> samples;
  // Models with a latency measured without the profiler: (func, seconds).
  std::vector<std::pair<func::FuncOp, double>> timed;
  llvm::raw_ostream &os = llvm::outs();
  std::vector<std::string> modelPaths;
  std::vector<ImportedModel> imported;
  for (size_t i = 0; i < inputs.size(); i += 2) {
    FailureOr<ImportedModel> model =
        importOnnxFile(*module, inputs[i], *options);
    if (failed(model))
      return 1;
    modelPaths.push_back(inputs[i]);
    imported.push_back(*model);
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(inputs[i + 1], /*IsText=*/true);
    if (!buffer)
      return fail("cannot read '" + inputs[i + 1] +
                  "': " + buffer.getError().message());
    llvm::Expected<std::vector<ProfiledNode>> profile =
        readOrtProfile((*buffer)->getBuffer(), inputs[i + 1]);
    if (!profile)
      return fail(llvm::toString(profile.takeError()));
    ProfileMatch match = matchProfile(model->func, *profile);
    if (match.samples.empty())
      return fail("no node of profile '" + inputs[i + 1] +
                  "' matches a node of '" + inputs[i] +
                  "' by name (was the profile made from this model, with "
                  "graph optimizations disabled?)");
    os << "@" << model->func.getSymName() << ": " << match.samples.size()
       << " nodes matched (" << llvm::format("%.3f", match.matchedSeconds * 1e3)
       << " ms), " << match.unmatched << " profile entries unmatched ("
       << llvm::format("%.3f", match.unmatchedSeconds * 1e3) << " ms)\n";
    if (auto it = latencyMs.find(inputs[i]); it != latencyMs.end()) {
      timed.push_back({model->func, it->second * 1e-3});
      latencyMs.erase(it);
    }
    samples.insert(samples.end(), match.samples.begin(), match.samples.end());
  }
  if (int rc = checkDims(*options, modelPaths, imported))
    return rc;
  if (!latencyMs.empty())
    return fail("--latency names '" + latencyMs.begin()->first() +
                "', which is not one of the models given");

  std::vector<ClassFit> fits;
  Target calibrated = calibrateTarget(*base, samples, name, fits, minSamples);
  calibrated.calibration = note;
  if (calibrated.description.empty() || calibrated.name != base->name)
    calibrated.description =
        "calibrated from " + std::to_string(samples.size()) +
        " profiled nodes on the base of '" + base->name + "'";
  os << "class          nodes  measured ms   fitted ms  compute   memory  "
        "cached   overhead us\n";
  for (const ClassFit &fit : fits) {
    if (!fit.samples)
      continue;
    os << llvm::left_justify(getOpClassName(fit.opClass), 14)
       << llvm::format("%6u %12.3f", fit.samples, fit.measuredSeconds * 1e3);
    if (fit.fitted)
      os << llvm::format(" %11.3f %8.4g %8.4g %8.4g %12.3f",
                         fit.fittedSeconds * 1e3, fit.efficiency.compute,
                         fit.efficiency.memory, *fit.efficiency.cachedMemory,
                         *fit.efficiency.overheadSeconds * 1e6);
    else
      os << "   (too few nodes: kept the base's values)";
    os << "\n";
  }

  if (!timed.empty()) {
    FailureOr<LatencyCorrection> c = fitToLatencies(calibrated, timed);
    if (failed(c))
      return 1;
    os << "profiler time taken off every kernel's overhead: "
       << llvm::format("%.3f", c->perKernelSeconds * 1e6) << " us; timed runs "
       << llvm::format("%.3f", c->slowdown)
       << " times as long as the profiled (fitted to " << timed.size()
       << " measured latencies)\n";
  }

  return writeTarget(calibrated, "check the latencies --latency gives");
}
