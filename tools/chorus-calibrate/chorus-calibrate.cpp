//===- chorus-calibrate.cpp - Fit a target to ONNX Runtime profiles -------===//
//
// Imports each model, matches its ONNX Runtime profile node by node, fits
// per op class the compute and memory efficiencies and the per-kernel
// overhead of a base target, and writes the calibrated target as JSON.
//
//===----------------------------------------------------------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Import/ImportFlags.h"
#include "chorus/Import/OnnxImporter.h"
#include "chorus/Support/ToolContext.h"
#include "chorus/Support/ToolOptions.h"
#include "chorus/Target/Calibration.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

using namespace mlir;
using namespace chorus;

static llvm::cl::OptionCategory category("chorus-calibrate options");

static llvm::cl::list<std::string>
    inputs(llvm::cl::Positional, llvm::cl::OneOrMore,
           llvm::cl::desc("<model.onnx> <profile.json> [<model> <profile>]..."),
           llvm::cl::cat(category));

static llvm::cl::opt<std::string>
    outputFile("o", llvm::cl::desc("Write the calibrated target here"),
               llvm::cl::value_desc("target.json"), llvm::cl::Required,
               llvm::cl::cat(category));

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
                   "the time the profiler adds to every node"),
    llvm::cl::value_desc("MODEL=MS"), llvm::cl::cat(category));

static llvm::cl::opt<bool> latencyOnly(
    "latency-only",
    llvm::cl::desc("Fit to whole-model latencies alone (no profiles): the "
                   "positional arguments are models, each with a --latency; "
                   "per op class a factor on the base's work and one "
                   "overhead per kernel (for runtimes that do not hand out "
                   "per-node profiles, such as ONNX Runtime Web)"),
    llvm::cl::cat(category));

static llvm::cl::opt<double> minWorkShare(
    "min-work-share",
    llvm::cl::desc("With --latency-only: op classes with less than this "
                   "share of the work get the work-weighted mean factor "
                   "instead of their own (default 0.02)"),
    llvm::cl::init(0.02), llvm::cl::cat(category));

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
    llvm::cl::desc("With --kernel-models: the graph optimization level the "
                   "profiles were made at (disabled, basic, extended, all)"),
    llvm::cl::init("all"), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> nchwcBlock(
    "nchwc-block",
    llvm::cl::desc("With --kernel-models: MLAS's NCHWc block on the machine "
                   "(8 with AVX2, 16 with AVX-512, 0: none)"),
    llvm::cl::init(8), llvm::cl::cat(category));

static llvm::cl::opt<unsigned> intraOpThreads(
    "intra-op-threads",
    llvm::cl::desc("With --kernel-models: the session's intra-op threads"),
    llvm::cl::init(1), llvm::cl::cat(category));

static llvm::cl::opt<std::string> ortVersion(
    "ort-version",
    llvm::cl::desc("With --kernel-models: the ONNX Runtime version profiled"),
    llvm::cl::cat(category));

static int fail(const llvm::Twine &message) {
  return printToolError("chorus-calibrate", message);
}

/// Writes `t` to -o, with the kind and browser object of --browser-file.
static int writeTarget(Target t) {
  if (!browserFile.empty()) {
    llvm::Expected<Target> browser = loadTarget("", browserFile);
    if (!browser)
      return fail(llvm::toString(browser.takeError()));
    if (!browser->browser)
      return fail("--browser-file '" + browserFile +
                  "' is not a browser target (kind \"" + browser->kind + "\")");
    t.kind = browser->kind;
    t.browser = browser->browser;
  }
  std::error_code ec;
  llvm::ToolOutputFile out(outputFile, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + outputFile + "': " + ec.message());
  out.os() << llvm::formatv("{0:2}", targetToJSON(t)) << "\n";
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
  LatencyOnlyFit fit;
  FailureOr<Target> calibrated =
      calibrateToLatencies(*base, timed, name, fit, minWorkShare);
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
    if (share > 0)
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
  return writeTarget(*calibrated);
}

/// --kernel-models: fits the runtime's kernel models to profiles.
static int runKernelModels() {
  if (inputs.size() % 2 || inputs.empty())
    return fail("expected pairs of <model> <profile>; got " +
                llvm::Twine(inputs.size()) + " paths");
  if (!parseOrtLevel(ortLevel))
    return fail("--ort-level '" + ortLevel +
                "' is not one of disabled, basic, extended, all");
  if (nchwcBlock != 0 && nchwcBlock != 8 && nchwcBlock != 16)
    return fail("--nchwc-block " + llvm::Twine(nchwcBlock.getValue()) +
                " is not 0, 8 or 16");
  if (intraOpThreads < 1)
    return fail("--intra-op-threads must be at least 1");
  llvm::Expected<Target> base = loadBase();
  if (!base)
    return fail(llvm::toString(base.takeError()));
  llvm::Expected<llvm::StringMap<double>> parsed = parseLatencies();
  if (!parsed)
    return fail(llvm::toString(parsed.takeError()));
  llvm::StringMap<double> latencyMs = std::move(*parsed);
  llvm::raw_ostream &os = llvm::outs();
  std::vector<std::vector<ProfiledNode>> profiles;
  std::vector<ProfiledNode> all;
  std::vector<std::pair<size_t, double>> timed;
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
    for (const ProfiledNode &k : *profile)
      seconds += k.seconds;
    os << inputs[i] << ": " << profile->size() << " kernels ("
       << llvm::format("%.3f", seconds * 1e3) << " ms profiled)\n";
    if (auto it = latencyMs.find(inputs[i]); it != latencyMs.end()) {
      timed.push_back({profiles.size(), it->second * 1e-3});
      latencyMs.erase(it);
    }
    all.insert(all.end(), profile->begin(), profile->end());
    profiles.push_back(std::move(*profile));
  }
  if (!latencyMs.empty())
    return fail("--latency names '" + latencyMs.begin()->first() +
                "', which is not one of the models given");
  std::vector<KernelModelFit> fits;
  std::map<std::string, KernelModel> models =
      fitKernelModels(all, minSamples, fits);
  os << "kernel class          kernels  measured ms   fitted ms   us/GFLOP"
        "    us/GB  us/kernel\n";
  for (const KernelModelFit &f : fits)
    os << llvm::left_justify(f.kernelClass, 21)
       << llvm::format("%8u %12.3f %11.3f %10.1f %8.1f %10.3f\n", f.samples,
                       f.measuredSeconds * 1e3, f.fittedSeconds * 1e3,
                       f.model.perFlopSeconds * 1e15,
                       f.model.perByteSeconds * 1e15,
                       f.model.perKernelSeconds * 1e6);
  // The profiler's own time per kernel: what the profiled runs add over
  // the timed ones, taken off every class's per-kernel time.
  if (!timed.empty()) {
    std::vector<double> perKernel;
    for (auto [index, seconds] : timed) {
      double predicted = predictProfiledRun(profiles[index], models);
      perKernel.push_back((predicted - seconds) / profiles[index].size());
    }
    llvm::sort(perKernel);
    double d = std::max(0.0, perKernel[perKernel.size() / 2]);
    for (auto &[cls, m] : models)
      m.perKernelSeconds = std::max(0.0, m.perKernelSeconds - d);
    os << "profiler time taken off every kernel: "
       << llvm::format("%.3f", d * 1e6) << " us (median of " << timed.size()
       << " measured latencies)\n";
  }
  Target t = *base;
  t.name = name;
  RuntimeProfile runtime;
  runtime.version = ortVersion;
  runtime.optimizationLevel = ortLevel;
  runtime.intraOpThreads = intraOpThreads;
  runtime.nchwcBlock = nchwcBlock;
  t.runtime = runtime;
  t.kernelModels = std::move(models);
  t.calibrated = true;
  t.calibration = note;
  t.description = "ONNX Runtime CPU (" + ortLevel + ", " +
                  std::to_string(intraOpThreads) + " intra-op thread" +
                  (intraOpThreads > 1 ? "s" : "") +
                  ") kernel models fitted to " + std::to_string(all.size()) +
                  " profiled kernels on the base of '" + base->name + "'";
  return writeTarget(t);
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
      "overhead per kernel instead. See docs/CostModel.md.\n");
  if (latencyOnly)
    return runLatencyOnly();
  if (kernelModels)
    return runKernelModels();
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

  return writeTarget(calibrated);
}
