//===- Advisor.cpp - Strategies for running several models on one device --===//

#include "chorus/Advisor/Advisor.h"
#include "chorus/Analysis/ShapeOrigin.h"

#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Plan/PlanExport.h"
#include "chorus/Support/Format.h"
#include "chorus/Target/CostModel.h"
#include "chorus/Target/KernelModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

using namespace mlir;
using namespace chorus;

const std::vector<KernelInfo> &ModelInfo::kernelsAt(unsigned threads) const {
  auto it = threadKernels.find(threads);
  return it == threadKernels.end() ? kernels : it->second;
}

double ModelInfo::seconds() const {
  double total = runSeconds;
  for (const KernelInfo &k : kernels)
    total += k.seconds();
  return total;
}

/// A kernel's label: the node's name (or op type), or the group's first
/// node's, marked as a group.
static std::string kernelName(Operation *op) {
  auto label = [](NodeOp node) {
    return node.getName() ? node.getName()->str() : node.getOpType().str();
  };
  if (auto node = dyn_cast<NodeOp>(op))
    return label(node);
  auto fused = cast<FusedOp>(op);
  auto nodes = fused.getBodyBlock().getOps<NodeOp>();
  std::string name = "fused(" + label(*nodes.begin());
  size_t count = llvm::range_size(nodes);
  if (count > 1)
    name += " +" + std::to_string(count - 1);
  return name + ")";
}

FailureOr<ModelInfo> chorus::describeModel(func::FuncOp func,
                                           const Target &target) {
  ModelInfo m;
  m.name = func.getSymName().str();
  m.assumptions = getImportAssumptions(func);
  if (target.predictsRuntime()) {
    // The runtime's own kernels, timed by the target's kernel models.
    FailureOr<std::vector<RuntimeKernelCost>> kernels =
        estimateRuntimeKernels(func, target);
    if (failed(kernels))
      return failure();
    for (const RuntimeKernelCost &k : *kernels)
      m.kernels.push_back(
          {k.label(), k.computeSeconds, k.memorySeconds, k.overheadSeconds});
    if (target.runIo)
      m.runSeconds = target.runIo->seconds(getRunIoBytes(func));
    // The same kernels in sessions of the other measured thread counts.
    for (const auto &[threads, models] : target.threadKernelModels) {
      Target at = target;
      at.kernelModels = models;
      at.threadKernelModels.clear();
      FailureOr<std::vector<RuntimeKernelCost>> timed =
          estimateRuntimeKernels(func, at);
      if (failed(timed))
        return failure();
      std::vector<KernelInfo> &out = m.threadKernels[threads];
      for (const RuntimeKernelCost &k : *timed)
        out.push_back(
            {k.label(), k.computeSeconds, k.memorySeconds, k.overheadSeconds});
      // No kernel runs more than `threads` times faster on `threads`
      // cores than on one: each thread count's models are fitted on their
      // own, and where a term of one is small against the other's (the
      // cold weights at two threads) a kernel could otherwise come out
      // faster than its cores allow.
      if (out.size() == m.kernels.size())
        for (auto [k, one] : llvm::zip(out, m.kernels)) {
          double floor = one.seconds() / threads;
          double s = k.seconds();
          if (s >= floor)
            continue;
          if (s <= 0) {
            k.overheadSeconds = floor;
            continue;
          }
          k.computeSeconds *= floor / s;
          k.memorySeconds *= floor / s;
          k.overheadSeconds *= floor / s;
        }
    }
  }
  for (Operation &op : func.getBody().front()) {
    if (!isKernel(op) || target.predictsRuntime())
      continue;
    std::optional<NodeCost> cost = estimateKernelCost(&op, target);
    if (!cost) {
      std::string origin = explainUnknownShape(&op);
      return op.emitError()
             << "cannot estimate the cost of this kernel: an operand or "
                "result has no static shape"
             << (origin.empty() ? std::string("") : "; " + origin);
    }
    m.kernels.push_back({kernelName(&op), cost->computeSeconds,
                         cost->memorySeconds, cost->overheadSeconds});
    m.assumptions.insert(m.assumptions.end(), cost->assumptions.begin(),
                         cost->assumptions.end());
  }
  // Plans hold times as whole nanoseconds in 64 bits (292 years): a model
  // predicted to run longer is an error, not a wrapped number.
  if (!(m.seconds() < 9.2e9))
    return func.emitError()
           << "the predicted time of one run, "
           << llvm::formatv("{0:e3}", m.seconds()).str()
           << " s, is more than a plan can hold (292 years); check the "
              "trip counts of its Loops";
  TensorLifetimes lifetimes(func);
  if (failed(lifetimes.run()))
    return failure();
  m.intervals = lifetimes.toProblem();
  std::map<std::string, WeightUse> uses = getWeightUses(func);
  for (const auto &[name, use] : uses) {
    m.weights.push_back(name);
    m.weightUses.push_back(use);
  }
  std::optional<OrtCpuSettings> ort = getOrtCpuSettings(target);
  m.memoryFeatures = computeRuntimeMemoryFeatures(func, uses, lifetimes,
                                                  ort ? &*ort : nullptr);
  m.loadFeatures = sessionLoadFeatures(func, uses);
  m.loadFeatures.arenaBytes = m.memoryFeatures.firstRunArenaBytes();
  if (ort)
    if (FailureOr<OrtRunAllocations> run = computeOrtRunAllocations(func, *ort);
        succeeded(run))
      m.ortRun = std::move(*run);
  return m;
}

llvm::StringRef chorus::getGoalName(Goal goal) {
  switch (goal) {
  case Goal::Latency:
    return "latency";
  case Goal::Throughput:
    return "throughput";
  case Goal::Memory:
    return "memory";
  }
  return "";
}

double chorus::goalMetric(const StrategyResult &s, Goal goal) {
  switch (goal) {
  case Goal::Latency:
    return s.meanLatency;
  case Goal::Throughput:
    return s.makespan;
  case Goal::Memory:
    return static_cast<double>(s.footprint());
  }
  return 0;
}

namespace {

/// Builds and measures one strategy from its jobs.
class StrategyBuilder {
public:
  StrategyBuilder(const Workload &w, const Target &target,
                  const AdvisorOptions &options)
      : w(w), target(target), options(options) {}

  StrategyResult run(std::string name, std::vector<unsigned> jobModel,
                     std::vector<std::vector<unsigned>> jobRequests,
                     std::vector<unsigned> lanes, unsigned threads = 0) {
    StrategyResult s;
    s.name = std::move(name);
    s.jobModel = std::move(jobModel);
    s.jobRequests = std::move(jobRequests);
    s.jobLane = lanes;
    s.threads = threads;
    std::vector<SimJob> jobs;
    for (auto [j, model] : llvm::enumerate(s.jobModel)) {
      SimJob job;
      job.lane = lanes[j];
      for (const KernelInfo &k : w.models[model].kernelsAt(threads)) {
        if (target.coRun)
          // Measured per resource: the whole kernel slows by its terms.
          job.kernels.push_back(
              {k.seconds(), 0,
               target.coRun->slowdown(k.computeSeconds, k.memorySeconds,
                                      k.overheadSeconds)});
        else
          job.kernels.push_back(
              {k.computeSeconds + k.memorySeconds, k.overheadSeconds});
        s.computeSeconds += k.computeSeconds;
        s.memorySeconds += k.memorySeconds;
        s.overheadSeconds += k.overheadSeconds;
      }
      // The run's copies of its inputs and outputs and the runtime's own
      // work per run: on the CPU beside the first kernel.
      if (double run = w.models[model].runSeconds;
          run > 0 && !job.kernels.empty()) {
        job.kernels.front().overheadSeconds += run;
        s.overheadSeconds += run;
      }
      jobs.push_back(std::move(job));
    }
    DeviceSharing device{target.parallelUnits, target.concurrencyGain,
                         target.coRun.has_value()};
    s.sim = simulate(jobs, device);
    s.makespan = s.sim.makespan;
    s.requestLatency.assign(w.requests.size(), 0);
    for (auto [j, requests] : llvm::enumerate(s.jobRequests))
      for (unsigned r : requests)
        s.requestLatency[r] = s.sim.jobEnd[j];
    s.meanLatency = s.requestLatency.empty()
                        ? 0
                        : std::accumulate(s.requestLatency.begin(),
                                          s.requestLatency.end(), 0.0) /
                              s.requestLatency.size();
    s.throughput = s.makespan > 0 ? w.requests.size() / s.makespan : 0;
    // The resource that bounds it.
    double solo = 0;
    for (const SimJob &job : jobs) {
      double t = 0;
      for (const SimKernel &k : job.kernels)
        t += k.workSeconds + k.overheadSeconds;
      solo = std::max(solo, t);
    }
    double total = s.computeSeconds + s.memorySeconds + s.overheadSeconds;
    bool concurrent = llvm::any_of(lanes, [](unsigned l) { return l > 0; });
    if (concurrent && s.makespan > 1.05 * solo && s.makespan > 0.5 * total)
      s.bound = "sharing";
    else if (s.computeSeconds >= s.memorySeconds &&
             s.computeSeconds >= s.overheadSeconds)
      s.bound = "compute";
    else if (s.memorySeconds >= s.overheadSeconds)
      s.bound = "bandwidth";
    else
      s.bound = "overhead";
    planMemoryOf(s);
    return s;
  }

  /// The first failure, if any.
  std::string error;

private:
  /// The joint memory plan over the simulated timeline: every buffer of
  /// every job, live from the start of the kernel that defines it to the
  /// end of its last reader, times turned into ticks.
  void planMemoryOf(StrategyResult &s) {
    // Kernel spans per job.
    std::vector<std::vector<std::pair<double, double>>> spans(
        s.jobModel.size());
    for (auto [j, model] : llvm::enumerate(s.jobModel))
      spans[j].resize(w.models[model].kernels.size(), {0, 0});
    std::vector<double> times = {0};
    for (const SimSpan &span : s.sim.spans) {
      spans[span.job][span.kernel] = {span.start, span.end};
      times.push_back(span.start);
      times.push_back(span.end);
    }
    llvm::sort(times);
    times.erase(std::unique(times.begin(), times.end()), times.end());
    auto tick = [&](double t) -> int64_t {
      return std::lower_bound(times.begin(), times.end(), t) - times.begin();
    };
    llvm::StringSet<> weights;
    for (auto [j, model] : llvm::enumerate(s.jobModel)) {
      const ModelInfo &m = w.models[model];
      for (const std::string &weight : m.weights)
        weights.insert(weight);
      int64_t steps = m.kernels.size();
      for (const IntervalBuffer &b : m.intervals.buffers) {
        if (steps == 0)
          continue;
        int64_t first = std::clamp<int64_t>(b.lower, 0, steps - 1);
        int64_t last = std::clamp<int64_t>(b.upper - 1, 0, steps - 1);
        int64_t lower = tick(spans[j][first].first);
        int64_t upper = std::max(tick(spans[j][last].second), lower + 1);
        s.memoryProblem.buffers.push_back(
            {"job" + std::to_string(j) + ":" + b.id, lower, upper, b.size});
      }
    }
    for (const auto &entry : weights)
      s.weightBytes += w.weightBytes.lookup(entry.getKey());
    PlannerOptions planner;
    planner.alignment = options.alignment;
    // The joint problems are small next to the interval traces; a tenth
    // of the default budget keeps planning fast.
    planner.searchBudget = 100'000'000;
    llvm::Expected<MemoryPlan> plan = planMemory(s.memoryProblem, planner);
    if (!plan) {
      if (error.empty())
        error = llvm::toString(plan.takeError());
      else
        llvm::consumeError(plan.takeError());
      return;
    }
    s.memory = std::move(*plan);
    s.arenaBytes = s.memory.arenaBytes;
    s.lowerBoundBytes = s.memory.lowerBound;
    if (target.runtimeMemory) {
      // One session per distinct model, created in the models' order,
      // each loading its own weights; then what the weights Chorus finds
      // shared save where the sessions share them (AddInitializer).
      const RuntimeMemoryModel &rm = *target.runtimeMemory;
      std::set<unsigned> sessions(s.jobModel.begin(), s.jobModel.end());
      std::vector<SessionMemory> perSession;
      llvm::StringMap<std::pair<unsigned, WeightUse>> copies;
      for (unsigned model : sessions) {
        const RuntimeMemoryFeatures &f = w.models[model].memoryFeatures;
        perSession.push_back(predictSession(rm, f));
        for (auto [name, u] :
             llvm::zip(w.models[model].weights, w.models[model].weightUses)) {
          auto &c = copies[name];
          c = {c.first + 1, std::min(c.first ? c.second : u, u)};
        }
      }
      double duplicated[4] = {0, 0, 0, 0}, none[4] = {0, 0, 0, 0};
      for (const auto &entry : copies)
        for (unsigned i = 1; i < entry.getValue().first; ++i)
          addWeightBytes(duplicated, w.weightBytes.lookup(entry.getKey()),
                         entry.getValue().second);
      SetMemory set = predictSetMemory(rm, perSession);
      auto bytes = [](double b) {
        return static_cast<uint64_t>(std::llround(std::max(b, 0.0)));
      };
      s.runtimeUnsharedLoadBytes = bytes(set.afterLoad);
      s.runtimeUnsharedFirstRunBytes = bytes(set.afterFirstRuns);
      s.runtimeUnsharedBytes = bytes(set.inService);
      s.runtimeUnsharedPeakBytes = bytes(set.peak);
      double saved =
          predictRetained(rm, duplicated) - predictRetained(rm, none);
      s.sharingSavesBytes = bytes(saved);
      s.runtimeLoadBytes = bytes(set.afterLoad - saved);
      s.runtimeFirstRunBytes = bytes(set.afterFirstRuns - saved);
      s.runtimeBytes = bytes(set.inService - saved);
      s.runtimePeakBytes = bytes(set.peak - saved);
    }
    uint64_t limit = options.memoryLimit
                         ? options.memoryLimit
                         : static_cast<uint64_t>(target.memoryCapacity);
    uint64_t peak = s.footprint();
    s.feasible = peak <= limit;
    s.overLimitBytes = s.feasible ? 0 : peak - limit;
  }

  const Workload &w;
  const Target &target;
  const AdvisorOptions &options;
};

std::string describeMetric(const StrategyResult &s, Goal goal) {
  std::string out;
  llvm::raw_string_ostream os(out);
  switch (goal) {
  case Goal::Latency:
    os << llvm::format("mean latency %.3f ms", s.meanLatency * 1e3);
    break;
  case Goal::Throughput:
    os << llvm::format("%.2f requests/s", s.throughput);
    break;
  case Goal::Memory:
    os << formatWithSeparators(s.footprint()) << " bytes";
    break;
  }
  return out;
}

} // namespace

std::vector<StrategyResult>
chorus::evaluateStrategies(const Workload &w, const Target &target,
                           const AdvisorOptions &options,
                           Recommendation &recommendation) {
  auto wanted = [&](llvm::StringRef name) {
    return options.strategies.empty() ||
           llvm::is_contained(options.strategies, name);
  };
  StrategyBuilder builder(w, target, options);
  std::vector<StrategyResult> results;
  size_t n = w.requests.size();
  // Sequential: shortest first (lowest mean latency for the same makespan).
  std::vector<unsigned> order(n);
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](unsigned a, unsigned b) {
    return w.models[w.requests[a]].seconds() <
           w.models[w.requests[b]].seconds();
  });
  if (wanted("sequential")) {
    std::vector<unsigned> jobModel;
    std::vector<std::vector<unsigned>> jobRequests;
    for (unsigned r : order) {
      jobModel.push_back(w.requests[r]);
      jobRequests.push_back({r});
    }
    results.push_back(builder.run("sequential", jobModel, jobRequests,
                                  std::vector<unsigned>(n, 0)));
  }
  if (wanted("parallel")) {
    std::vector<unsigned> jobModel, lanes;
    std::vector<std::vector<unsigned>> jobRequests;
    for (unsigned r = 0; r < n; ++r) {
      jobModel.push_back(w.requests[r]);
      jobRequests.push_back({r});
      lanes.push_back(r);
    }
    results.push_back(builder.run("parallel", jobModel, jobRequests, lanes));
  }
  // One session at a time with each other thread count the target
  // measured (not beyond its cores).
  if (wanted("threads") && target.predictsRuntime())
    for (const auto &[threads, models] : target.threadKernelModels) {
      if (static_cast<int64_t>(threads) > target.parallelUnits)
        continue;
      std::vector<unsigned> jobModel;
      std::vector<std::vector<unsigned>> jobRequests;
      for (unsigned r : order) {
        jobModel.push_back(w.requests[r]);
        jobRequests.push_back({r});
      }
      results.push_back(builder.run(
          "sequential-" + std::to_string(threads) + "-threads", jobModel,
          jobRequests, std::vector<unsigned>(n, 0), threads));
    }
  if (wanted("batched")) {
    if (w.batches.empty()) {
      StrategyResult s;
      s.name = "batched";
      s.available = false;
      s.why = w.noBatchReason;
      results.push_back(std::move(s));
    } else {
      // Batches and the requests outside them, one after the other,
      // shortest first.
      std::vector<bool> inBatch(n, false);
      std::vector<std::pair<unsigned, std::vector<unsigned>>> jobs;
      for (const Workload::Batch &b : w.batches) {
        jobs.push_back({b.model, b.requests});
        for (unsigned r : b.requests)
          inBatch[r] = true;
      }
      for (unsigned r : order)
        if (!inBatch[r])
          jobs.push_back({w.requests[r], {r}});
      llvm::stable_sort(jobs, [&](const auto &a, const auto &b) {
        return w.models[a.first].seconds() < w.models[b.first].seconds();
      });
      std::vector<unsigned> jobModel;
      std::vector<std::vector<unsigned>> jobRequests;
      for (auto &[model, requests] : jobs) {
        jobModel.push_back(model);
        jobRequests.push_back(requests);
      }
      results.push_back(builder.run("batched", jobModel, jobRequests,
                                    std::vector<unsigned>(jobs.size(), 0)));
    }
  }
  if (!builder.error.empty()) {
    recommendation.reason = builder.error;
    recommendation.strategy.clear();
    return {};
  }

  recommend(results, options, recommendation);
  return results;
}

void chorus::recommend(llvm::ArrayRef<StrategyResult> results,
                       const AdvisorOptions &options,
                       Recommendation &recommendation) {
  // The best for the goal among the feasible; if none fits, the one that
  // needs the least memory.
  const StrategyResult *best = nullptr, *second = nullptr;
  for (const StrategyResult &s : results) {
    if (!s.available || !s.feasible)
      continue;
    if (!best ||
        goalMetric(s, options.goal) < goalMetric(*best, options.goal)) {
      second = best;
      best = &s;
    } else if (!second || goalMetric(s, options.goal) <
                              goalMetric(*second, options.goal)) {
      second = &s;
    }
  }
  std::string reason;
  llvm::raw_string_ostream os(reason);
  if (!best) {
    for (const StrategyResult &s : results)
      if (s.available && (!best || goalMetric(s, Goal::Memory) <
                                       goalMetric(*best, Goal::Memory)))
        best = &s;
    if (!best) {
      recommendation = {"", "no strategy is available"};
      return;
    }
    os << "no strategy fits the memory limit; " << best->name
       << " needs the least (" << formatWithSeparators(best->overLimitBytes)
       << " bytes over)";
  } else {
    os << best->name << " has the best " << getGoalName(options.goal) << ": "
       << describeMetric(*best, options.goal);
    if (second)
      os << " (" << second->name << ": "
         << describeMetric(*second, options.goal) << ")";
    os << "; bound by " << best->bound;
    for (const StrategyResult &s : results)
      if (s.available && !s.feasible)
        os << "; " << s.name << " exceeds the memory limit by "
           << formatWithSeparators(s.overLimitBytes) << " bytes";
  }
  recommendation.strategy = best->name;
  recommendation.reason = reason;
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

/// Seconds as whole nanoseconds: JSON numbers that print the same on
/// every machine.
static int64_t ns(double seconds) { return std::llround(seconds * 1e9); }

/// A model's predicted time by term, summed over its kernels.
static llvm::json::Object termsToJSON(llvm::ArrayRef<KernelInfo> kernels,
                                      double runSeconds = 0) {
  double compute = 0, memory = 0, overhead = runSeconds;
  for (const KernelInfo &k : kernels) {
    compute += k.computeSeconds;
    memory += k.memorySeconds;
    overhead += k.overheadSeconds;
  }
  return llvm::json::Object{{"compute", ns(compute)},
                            {"memory", ns(memory)},
                            {"overhead", ns(overhead)}};
}

FitReport chorus::makeFitReport(const Workload &w, const Target &target,
                                const AdvisorOptions &options,
                                llvm::ArrayRef<StrategyResult> strategies,
                                const Recommendation &recommendation) {
  FitReport r;
  r.limitBytes = options.memoryLimit
                     ? options.memoryLimit
                     : static_cast<uint64_t>(target.memoryCapacity);
  const StrategyResult *chosen = nullptr;
  for (const StrategyResult &s : strategies)
    if (s.available && s.name == recommendation.strategy)
      chosen = &s;
  if (!chosen)
    return r;
  r.strategy = chosen->name;
  r.runtime = target.runtimeMemory.has_value();
  std::set<unsigned> sessions(chosen->jobModel.begin(), chosen->jobModel.end());
  for (unsigned model : sessions) {
    const ModelInfo &m = w.models[model];
    FitReport::Model fm;
    fm.name = m.name;
    for (const std::string &name : m.weights)
      fm.fileWeightBytes += w.weightBytes.lookup(name);
    if (r.runtime) {
      const RuntimeMemoryModel &rm = *target.runtimeMemory;
      const RuntimeMemoryFeatures &f = m.memoryFeatures;
      fm.fixedBytes = rm.sessionBytes + rm.runBytes;
      fm.weightBytes = predictWeightBytes(rm, f);
      fm.arenaBytes = rm.perArenaByte * f.serviceArenaBytes();
      fm.callerBytes = 2 * rm.perOutputByte * f.callerBytes();
      SetMemory alone = predictSessionAlone(rm, f);
      fm.afterLoadBytes = alone.afterLoad;
      fm.inServiceBytes = alone.inService;
      fm.peakBytes = alone.peak;
    } else {
      fm.weightBytes = fm.fileWeightBytes;
      fm.arenaBytes = m.memoryFeatures.arenaBytes;
      fm.afterLoadBytes = fm.weightBytes;
      fm.inServiceBytes = fm.peakBytes = fm.weightBytes + fm.arenaBytes;
    }
    r.models.push_back(fm);
  }
  r.processBytes = r.runtime ? target.runtimeMemory->processBytes : 0;
  r.afterLoadBytes = r.runtime ? chosen->runtimeLoadBytes : chosen->weightBytes;
  r.peakBytes = chosen->footprint();
  r.inServiceBytes = r.runtime ? chosen->runtimeBytes : r.peakBytes;
  r.unsharedAfterLoadBytes =
      r.runtime ? chosen->runtimeUnsharedLoadBytes : r.afterLoadBytes;
  r.unsharedInServiceBytes =
      r.runtime ? chosen->runtimeUnsharedBytes : r.inServiceBytes;
  r.unsharedPeakBytes =
      r.runtime ? chosen->runtimeUnsharedPeakBytes : r.peakBytes;
  r.sharingSavesBytes = r.unsharedPeakBytes - r.peakBytes;
  return r;
}

llvm::json::Value
chorus::fitReportToJSON(const Workload &w, const Target &target,
                        const AdvisorOptions &options,
                        llvm::ArrayRef<StrategyResult> strategies,
                        const Recommendation &recommendation) {
  FitReport r = makeFitReport(w, target, options, strategies, recommendation);
  if (r.strategy.empty())
    return nullptr;
  llvm::json::Array models;
  for (const FitReport::Model &m : r.models)
    models.push_back(llvm::json::Object{
        {"name", m.name},
        {"file_weight_bytes", static_cast<int64_t>(m.fileWeightBytes)},
        {"weight_bytes", std::llround(m.weightBytes)},
        {"fixed_bytes", std::llround(m.fixedBytes)},
        {"arena_bytes", std::llround(m.arenaBytes)},
        {"caller_bytes", std::llround(m.callerBytes)},
        {"after_load_bytes", std::llround(m.afterLoadBytes)},
        {"in_service_bytes", std::llround(m.inServiceBytes)},
        {"peak_bytes", std::llround(m.peakBytes)}});
  int64_t margin =
      static_cast<int64_t>(r.limitBytes) - static_cast<int64_t>(r.peakBytes);
  int64_t unsharedMargin = static_cast<int64_t>(r.limitBytes) -
                           static_cast<int64_t>(r.unsharedPeakBytes);
  return llvm::json::Object{
      {"strategy", r.strategy},
      {"applies_to", r.runtime ? "runtime" : "weights_and_arena"},
      {"models", std::move(models)},
      {"process_bytes", std::llround(r.processBytes)},
      {"after_load_bytes", static_cast<int64_t>(r.afterLoadBytes)},
      {"in_service_bytes", static_cast<int64_t>(r.inServiceBytes)},
      {"peak_bytes", static_cast<int64_t>(r.peakBytes)},
      {"sharing_saves_bytes", static_cast<int64_t>(r.sharingSavesBytes)},
      {"unshared_after_load_bytes",
       static_cast<int64_t>(r.unsharedAfterLoadBytes)},
      {"unshared_in_service_bytes",
       static_cast<int64_t>(r.unsharedInServiceBytes)},
      {"unshared_peak_bytes", static_cast<int64_t>(r.unsharedPeakBytes)},
      {"memory_limit_bytes", static_cast<int64_t>(r.limitBytes)},
      {"fits", margin >= 0},
      {"margin_bytes", margin},
      {"fits_unshared", unsharedMargin >= 0},
      {"unshared_margin_bytes", unsharedMargin}};
}

void chorus::printFitReport(llvm::raw_ostream &os, const Workload &w,
                            const Target &target, const AdvisorOptions &options,
                            llvm::ArrayRef<StrategyResult> strategies,
                            const Recommendation &recommendation) {
  FitReport r = makeFitReport(w, target, options, strategies, recommendation);
  if (r.strategy.empty())
    return;
  os << "\nfit (" << r.strategy << "; MB"
     << (r.runtime ? ", as the runtime holds it"
                   : ", weights and arena as planned")
     << "):\n";
  os << llvm::formatv("{0,-32} {1,9} {2,9} {3,9} {4,9} {5,11} {6,11} {7,9}\n",
                      "model", "weights", "as kept", "fixed", "arena",
                      "after load", "in service", "peak");
  for (const FitReport::Model &m : r.models)
    os << llvm::formatv(
        "{0,-32} {1,9:F1} {2,9:F1} {3,9:F1} {4,9:F1} "
        "{5,11:F1} {6,11:F1} {7,9:F1}\n",
        m.name, m.fileWeightBytes * 1e-6, m.weightBytes * 1e-6,
        m.fixedBytes * 1e-6, (m.arenaBytes + m.callerBytes) * 1e-6,
        m.afterLoadBytes * 1e-6, m.inServiceBytes * 1e-6, m.peakBytes * 1e-6);
  if (r.runtime)
    os << llvm::formatv("{0,-32} {1,73:F1}\n", "the runtime's process",
                        r.processBytes * 1e-6);
  os << llvm::formatv("{0,-32} {1,51:F1} {2,11:F1} {3,9:F1}\n",
                      "total (sessions load one after another)",
                      r.afterLoadBytes * 1e-6, r.inServiceBytes * 1e-6,
                      r.peakBytes * 1e-6);
  for (const std::string &line : fitVerdicts(r))
    os << line << "\n";
}

std::vector<std::string> chorus::fitVerdicts(const FitReport &r) {
  auto verdict = [&](uint64_t bytes) {
    bool fits = bytes <= r.limitBytes;
    return (llvm::Twine(fits ? "fits (margin " : "does not fit (over by ") +
            formatWithSeparators(fits ? r.limitBytes - bytes
                                      : bytes - r.limitBytes) +
            " bytes)")
        .str();
  };
  std::vector<std::string> lines;
  lines.push_back("verdict: " + formatWithSeparators(r.peakBytes) +
                  " bytes against the memory limit of " +
                  formatWithSeparators(r.limitBytes) + ": " +
                  verdict(r.peakBytes));
  if (r.runtime && r.sharingSavesBytes > 0)
    lines.push_back(
        "sharing the models' common weights saves " +
        formatWithSeparators(r.sharingSavesBytes) +
        " bytes (sessions given them with AddInitializer); loading a copy "
        "each (onnxruntime-node) takes " +
        formatWithSeparators(r.unsharedPeakBytes) +
        " bytes: " + verdict(r.unsharedPeakBytes));
  return lines;
}

llvm::json::Value chorus::planToJSON(const Workload &w, const Target &target,
                                     const AdvisorOptions &options,
                                     llvm::ArrayRef<StrategyResult> strategies,
                                     const Recommendation &recommendation) {
  llvm::json::Array models;
  for (const ModelInfo &m : w.models) {
    uint64_t weights = 0;
    for (const std::string &name : m.weights)
      weights += w.weightBytes.lookup(name);
    models.push_back(llvm::json::Object{
        {"name", m.name},
        {"kernels", static_cast<int64_t>(m.kernels.size())},
        {"predicted_ns", ns(m.seconds())},
        {"predicted_terms_ns", termsToJSON(m.kernels, m.runSeconds)},
        {"weight_bytes", static_cast<int64_t>(weights)},
        {"arena_buffers", static_cast<int64_t>(m.intervals.buffers.size())},
        {"assumptions", llvm::json::Array(m.assumptions)},
    });
    if (target.runtimeMemory) {
      // One session of this model alone (the process's runtime not
      // counted).
      const RuntimeMemoryModel &rm = *target.runtimeMemory;
      SetMemory alone = predictSessionAlone(rm, m.memoryFeatures);
      double load = alone.afterLoad, run = alone.afterFirstRuns;
      models.back().getAsObject()->insert(
          {"runtime_memory",
           llvm::json::Object{
               {"after_load_bytes", std::llround(load)},
               {"in_service_bytes", std::llround(alone.inService)},
               {"peak_bytes", std::llround(alone.peak)},
               {"after_first_run_bytes", std::llround(run)},
               {"arena_bytes", std::llround(m.memoryFeatures.arenaBytes)},
               {"runtime_arena_bytes",
                std::llround(m.memoryFeatures.firstRunArenaBytes())}}});
    }
  }
  llvm::json::Array requests;
  for (unsigned model : w.requests)
    requests.push_back(w.models[model].name);
  // Weights read by more than one request's model, counted once.
  llvm::StringMap<unsigned> readers;
  llvm::StringSet<> distinctModels;
  for (unsigned model : w.requests)
    if (distinctModels.insert(w.models[model].name).second)
      for (const std::string &name : w.models[model].weights)
        ++readers[name];
  uint64_t sharedBytes = 0, sharedCount = 0;
  for (const auto &entry : readers)
    if (entry.getValue() > 1) {
      ++sharedCount;
      sharedBytes +=
          w.weightBytes.lookup(entry.getKey()) * (entry.getValue() - 1);
    }
  llvm::json::Array results;
  for (const StrategyResult &s : strategies) {
    llvm::json::Object o{{"name", s.name}, {"available", s.available}};
    if (!s.available) {
      o["why"] = s.why;
      results.push_back(std::move(o));
      continue;
    }
    llvm::json::Array jobs;
    for (auto [j, model] : llvm::enumerate(s.jobModel)) {
      llvm::json::Array reqs;
      for (unsigned r : s.jobRequests[j])
        reqs.push_back(static_cast<int64_t>(r));
      jobs.push_back(llvm::json::Object{
          {"model", w.models[model].name},
          {"requests", std::move(reqs)},
          {"start_ns", ns(s.sim.jobStart[j])},
          {"end_ns", ns(s.sim.jobEnd[j])},
      });
    }
    llvm::json::Array schedule;
    for (const SimSpan &span : s.sim.spans)
      schedule.push_back(llvm::json::Array{
          static_cast<int64_t>(span.job), static_cast<int64_t>(span.kernel),
          static_cast<int64_t>(span.lane), ns(span.start), ns(span.end)});
    llvm::json::Array latency;
    for (double t : s.requestLatency)
      latency.push_back(ns(t));
    o["jobs"] = std::move(jobs);
    o["schedule"] = std::move(schedule);
    o["makespan_ns"] = ns(s.makespan);
    o["mean_latency_ns"] = ns(s.meanLatency);
    o["request_latency_ns"] = std::move(latency);
    o["throughput_per_s"] = s.throughput;
    o["bound"] = s.bound;
    o["weight_bytes"] = static_cast<int64_t>(s.weightBytes);
    o["arena_bytes"] = static_cast<int64_t>(s.arenaBytes);
    o["peak_bytes"] = static_cast<int64_t>(s.weightBytes + s.arenaBytes);
    if (s.runtimeBytes) {
      o["runtime_after_load_bytes"] = static_cast<int64_t>(s.runtimeLoadBytes);
      o["runtime_after_first_run_bytes"] =
          static_cast<int64_t>(s.runtimeFirstRunBytes);
      o["runtime_bytes"] = static_cast<int64_t>(s.runtimeBytes);
      o["runtime_peak_bytes"] = static_cast<int64_t>(s.runtimePeakBytes);
      o["runtime_unshared_after_load_bytes"] =
          static_cast<int64_t>(s.runtimeUnsharedLoadBytes);
      o["runtime_unshared_after_first_run_bytes"] =
          static_cast<int64_t>(s.runtimeUnsharedFirstRunBytes);
      o["runtime_unshared_bytes"] =
          static_cast<int64_t>(s.runtimeUnsharedBytes);
      o["runtime_unshared_peak_bytes"] =
          static_cast<int64_t>(s.runtimeUnsharedPeakBytes);
      o["sharing_saves_bytes"] = static_cast<int64_t>(s.sharingSavesBytes);
    }
    o["feasible"] = s.feasible;
    if (!s.feasible)
      o["over_limit_bytes"] = static_cast<int64_t>(s.overLimitBytes);
    o["memory"] =
        memoryPlanToJSON(s.memoryProblem, s.memory, options.alignment);
    results.push_back(std::move(o));
  }
  uint64_t limit = options.memoryLimit
                       ? options.memoryLimit
                       : static_cast<uint64_t>(target.memoryCapacity);
  llvm::json::Object targetJSON{
      {"name", target.name},
      {"kind", target.kind},
      {"parallel_units", target.parallelUnits},
      {"concurrency_gain", target.concurrencyGain},
      {"calibrated", target.calibrated},
      {"built_in", target.builtin},
      {"calibration_note", describeCalibration(target)}};
  if (target.coRun)
    targetJSON["co_run"] =
        llvm::json::Object{{"per_flop", target.coRun->perFlop},
                           {"per_byte", target.coRun->perByte},
                           {"per_kernel", target.coRun->perKernel}};
  return llvm::json::Object{
      {"schema", "chorus-plan-1"},
      {"target", std::move(targetJSON)},
      {"goal", getGoalName(options.goal)},
      {"memory_limit_bytes", static_cast<int64_t>(limit)},
      {"memory_limit_applies_to",
       target.runtimeMemory ? "runtime_peak_bytes" : "peak_bytes"},
      {"models", std::move(models)},
      {"requests", std::move(requests)},
      {"sharing",
       llvm::json::Object{{"shared_weights", static_cast<int64_t>(sharedCount)},
                          {"bytes_saved", static_cast<int64_t>(sharedBytes)}}},
      {"strategies", std::move(results)},
      {"fit", fitReportToJSON(w, target, options, strategies, recommendation)},
      {"recommendation",
       llvm::json::Object{{"strategy", recommendation.strategy},
                          {"reason", recommendation.reason}}},
  };
}

llvm::json::Value
chorus::traceToJSON(const Workload &w,
                    llvm::ArrayRef<StrategyResult> strategies) {
  llvm::json::Array events;
  int64_t pid = 0;
  for (const StrategyResult &s : strategies) {
    if (!s.available)
      continue;
    ++pid;
    events.push_back(
        llvm::json::Object{{"ph", "M"},
                           {"pid", pid},
                           {"name", "process_name"},
                           {"args", llvm::json::Object{{"name", s.name}}}});
    unsigned lanes = 0;
    for (const SimSpan &span : s.sim.spans)
      lanes = std::max(lanes, span.lane + 1);
    for (unsigned lane = 0; lane < lanes; ++lane)
      events.push_back(llvm::json::Object{
          {"ph", "M"},
          {"pid", pid},
          {"tid", static_cast<int64_t>(lane)},
          {"name", "thread_name"},
          {"args",
           llvm::json::Object{{"name", "lane " + std::to_string(lane)}}}});
    for (const SimSpan &span : s.sim.spans) {
      const ModelInfo &m = w.models[s.jobModel[span.job]];
      // Microseconds with nanosecond precision, as the format expects.
      events.push_back(llvm::json::Object{
          {"ph", "X"},
          {"pid", pid},
          {"tid", static_cast<int64_t>(span.lane)},
          {"name", m.kernels[span.kernel].name},
          {"cat", m.name},
          {"ts", ns(span.start) / 1e3},
          {"dur", (ns(span.end) - ns(span.start)) / 1e3},
          {"args",
           llvm::json::Object{{"model", m.name},
                              {"job", static_cast<int64_t>(span.job)}}}});
    }
  }
  return llvm::json::Object{{"traceEvents", std::move(events)},
                            {"displayTimeUnit", "ms"}};
}

std::string chorus::describeCalibration(const Target &target) {
  std::string text;
  if (target.builtin)
    text = target.calibrated
               ? "built-in: fitted on the machine it was measured on, not "
                 "this one; run chorus-calibrate --measure to fit this machine"
               : "built-in: spec-sheet figures, not measured";
  else
    text = target.calibrated ? "calibrated" : "not calibrated";
  if (target.predictsRuntime())
    text +=
        "; runtime " + target.runtime->name +
        (target.runtime->version.empty() ? "" : " " + target.runtime->version) +
        ", optimization level " + target.runtime->optimizationLevel + ", " +
        std::to_string(target.runtime->intraOpThreads) + " intra-op thread" +
        (target.runtime->intraOpThreads > 1 ? "s" : "");
  return text;
}

void chorus::printPlanTable(llvm::raw_ostream &os, const Workload &w,
                            const Target &target, const AdvisorOptions &options,
                            llvm::ArrayRef<StrategyResult> strategies,
                            const Recommendation &recommendation) {
  os << "target " << target.name << " (" << target.kind << ", "
     << target.parallelUnits << " units, ";
  if (target.coRun)
    os << llvm::format("co-runs slow kernels by %.2f x FLOP, %.2f x byte, "
                       "%.2f x per-kernel time",
                       target.coRun->perFlop, target.coRun->perByte,
                       target.coRun->perKernel);
  else
    os << "concurrency gain " << llvm::format("%.2f", target.concurrencyGain);
  os << ", " << describeCalibration(target) << ")\n";
  os << "model                                kernels  predicted ms  "
        "weights MB\n";
  for (const ModelInfo &m : w.models) {
    uint64_t weights = 0;
    for (const std::string &name : m.weights)
      weights += w.weightBytes.lookup(name);
    os << llvm::left_justify(m.name, 36)
       << llvm::format(" %7zu %13.3f %11.2f", m.kernels.size(),
                       m.seconds() * 1e3, weights / 1e6)
       << "\n";
    for (const std::string &text : m.assumptions)
      os << "  assumed: " << text << "\n";
  }
  bool runtimeMemory = target.runtimeMemory.has_value();
  os << "\nstrategy             makespan ms  mean latency ms      req/s  "
        "weights MB  "
        "arena MB   peak MB"
     << (runtimeMemory ? "  runtime MB" : "") << "  bound\n";
  for (const StrategyResult &s : strategies) {
    os << llvm::left_justify(s.name, 20);
    if (!s.available) {
      os << " unavailable: " << s.why << "\n";
      continue;
    }
    os << llvm::format(" %11.3f %16.3f %10.1f %11.2f %9.2f %9.2f  ",
                       s.makespan * 1e3, s.meanLatency * 1e3, s.throughput,
                       s.weightBytes / 1e6, s.arenaBytes / 1e6,
                       (s.weightBytes + s.arenaBytes) / 1e6);
    if (runtimeMemory)
      os << llvm::format("%10.1f  ", s.runtimePeakBytes / 1e6);
    os << s.bound;
    if (!s.feasible)
      os << "  (over the memory limit by "
         << formatWithSeparators(s.overLimitBytes) << " bytes)";
    os << "\n";
  }
  if (runtimeMemory)
    os << "peak MB: weights and arena as planned (the analytic minimum); "
          "runtime MB: what "
       << target.runtime->name
       << " is predicted to hold at most: in service (each session run "
          "twice, the second time taking its memory pattern) or while a "
          "session loads (the memory limit applies to it)\n";
  os << "\nrecommended for " << getGoalName(options.goal) << ": "
     << (recommendation.strategy.empty() ? "none" : recommendation.strategy)
     << "\n  " << recommendation.reason << "\n";
}
