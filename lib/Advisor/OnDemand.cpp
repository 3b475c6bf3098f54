//===- OnDemand.cpp - A resident set and models loaded on demand ----------===//

#include "chorus/Advisor/OnDemand.h"

#include "chorus/Support/Format.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <random>

using namespace chorus;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A uniform number in (0, 1) from the generator's 53 high bits: the same
/// on every platform (std::mt19937_64's output is fixed by the standard;
/// its distributions are not).
static double uniform(std::mt19937_64 &g) {
  return (static_cast<double>(g() >> 11) + 0.5) * 0x1.0p-53;
}

/// The arrivals of `count` requests of independent Poisson streams of
/// these rates, merged: (time, model).
static std::vector<std::pair<double, unsigned>>
arrivals(llvm::ArrayRef<double> rates, unsigned count, uint64_t seed) {
  std::mt19937_64 g(seed);
  double total = 0;
  for (double r : rates)
    total += r;
  std::vector<std::pair<double, unsigned>> result;
  double t = 0;
  for (unsigned i = 0; i < count; ++i) {
    // The merged stream is Poisson of the total rate; each arrival's model
    // is drawn in proportion to its rate.
    t += -std::log(uniform(g)) / total;
    double pick = uniform(g) * total;
    unsigned model = 0;
    while (model + 1 < rates.size() && pick >= rates[model]) {
      pick -= rates[model];
      ++model;
    }
    result.push_back({t, model});
  }
  return result;
}

/// Serves the arrivals one at a time, first come first served; a model
/// outside the resident set is loaded into the one slot when the request
/// finds another model there.
static std::vector<OnDemandRequest>
serveRequests(llvm::ArrayRef<std::pair<double, unsigned>> stream,
              const std::vector<bool> &resident, llvm::ArrayRef<double> run,
              llvm::ArrayRef<double> load) {
  std::vector<OnDemandRequest> result;
  double free = 0;
  int slot = -1;
  for (auto [arrival, model] : stream) {
    OnDemandRequest r;
    r.arrival = arrival;
    r.model = model;
    r.start = std::max(arrival, free);
    r.loaded = !resident[model] && slot != static_cast<int>(model);
    if (r.loaded)
      slot = model;
    r.end = r.start + (r.loaded ? load[model] : 0) + run[model];
    free = r.end;
    result.push_back(r);
  }
  return result;
}

llvm::Expected<OnDemandPlan>
chorus::planOnDemand(const Workload &w, const Target &target,
                     const AdvisorOptions &options,
                     const OnDemandOptions &onDemand) {
  if (!target.runtimeMemory || !target.sessionLoad)
    return error("--rate needs a target that measured the runtime's memory "
                 "and its session creation (runtime_memory and session_load: "
                 "chorus-calibrate --measure)");
  OnDemandPlan plan;
  plan.limitBytes = options.memoryLimit
                        ? options.memoryLimit
                        : static_cast<uint64_t>(target.memoryCapacity);
  for (unsigned model : w.requests)
    if (!llvm::is_contained(plan.models, model))
      plan.models.push_back(model);
  if (plan.models.size() > 16)
    return error("--rate plans at most 16 models (every resident set is "
                 "simulated); got " +
                 llvm::Twine(plan.models.size()));
  for (const auto &[name, rate] : onDemand.rates)
    if (llvm::none_of(plan.models,
                      [&](unsigned m) { return w.models[m].name == name; }))
      return error("--rate names model '" + name +
                   "', which is not among the inputs");
  const RuntimeMemoryModel &rm = *target.runtimeMemory;
  std::vector<SessionMemory> memory;
  for (unsigned model : plan.models) {
    const ModelInfo &m = w.models[model];
    auto it = onDemand.rates.find(m.name);
    if (it == onDemand.rates.end())
      return error("model '" + m.name +
                   "' has no request rate: give every model one with --rate "
                   "MODEL=R");
    plan.rates.push_back(it->second);
    plan.runSeconds.push_back(m.seconds());
    plan.loadSeconds.push_back(target.sessionLoad->seconds(m.loadFeatures));
    const RuntimeMemoryFeatures &f = m.memoryFeatures;
    memory.push_back(predictSession(rm, f));
  }
  plan.fixedMmapThreshold = rm.fixedMmapThreshold > 0;
  unsigned n = plan.models.size();
  std::vector<std::pair<double, unsigned>> stream =
      arrivals(plan.rates, onDemand.requestCount, onDemand.seed);
  double horizon = stream.empty() ? 0 : stream.back().first;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    OnDemandCandidate c;
    // The resident sessions, then every other model as it passes through
    // the slot. With glibc's default allocator a released session's bytes
    // stay in the process's heap, which loads of other sizes fragment, so
    // that over a stream of loads the process comes to hold what each of
    // them keeps (measured with onnxruntime-node: three models loaded in
    // turn 150 times grew the process beyond all three kept at once); the
    // largest load comes last, on top of all the others, at its load's
    // peak. With the threshold fixed, a session's copies, arena regions and
    // packed weights are mappings of their own that its release gives back
    // (measured: each release of resnet50 brought the process back to
    // within 3 MB of what it held before; docs/CostModel.md, "Loading on
    // demand"), so the peak is the resident sessions
    // (in service) with the one model in the slot that takes the most.
    std::vector<SessionMemory> resident;
    std::vector<unsigned> slot;
    for (unsigned i = 0; i < n; ++i) {
      c.resident.push_back(mask >> i & 1);
      if (c.resident.back())
        resident.push_back(memory[i]);
      else
        slot.push_back(i);
    }
    std::vector<OnDemandRequest> served =
        serveRequests(stream, c.resident, plan.runSeconds, plan.loadSeconds);
    // A model in the slot holds its memory pattern only where the stream
    // runs it again before another model takes the slot: a request served
    // there without a load.
    std::vector<SessionMemory> inSlot(memory);
    std::vector<bool> ranAgain(n, false);
    for (const OnDemandRequest &r : served)
      if (!c.resident[r.model] && !r.loaded)
        ranAgain[r.model] = true;
    for (unsigned i : slot)
      if (!ranAgain[i]) {
        inSlot[i].serviceRuns = inSlot[i].firstRun;
        inSlot[i].serviceRegions = inSlot[i].arenaRegions;
      }
    double peak = 0;
    if (plan.fixedMmapThreshold) {
      // Each slot model loads and runs on top of the resident sessions in
      // service; what its process's first session sets up once is there
      // already where any is resident.
      SetMemory kept = predictSetMemory(rm, resident);
      peak = resident.empty() ? rm.processBytes : kept.peak;
      double base = resident.empty() ? rm.processBytes
                                     : kept.inService - processSessionBytes(rm);
      for (unsigned i : slot)
        peak = std::max(peak, base + predictSetMemory(rm, inSlot[i]).peak -
                                  rm.processBytes);
    } else {
      llvm::stable_sort(slot, [&](unsigned a, unsigned b) {
        return memory[a].load < memory[b].load;
      });
      std::vector<SessionMemory> passing = resident;
      for (unsigned i : slot)
        passing.push_back(inSlot[i]);
      peak = predictSetMemory(rm, passing).peak;
    }
    c.peakBytes = static_cast<uint64_t>(std::llround(peak));
    c.feasible = c.peakBytes <= plan.limitBytes;
    std::vector<double> sum(n, 0), count(n, 0);
    double total = 0, loads = 0;
    for (const OnDemandRequest &r : served) {
      sum[r.model] += r.end - r.arrival;
      ++count[r.model];
      total += r.end - r.arrival;
      loads += r.loaded;
    }
    c.meanLatency = served.empty() ? 0 : total / served.size();
    c.loadsPerSecond = horizon > 0 ? loads / horizon : 0;
    for (unsigned i = 0; i < n; ++i)
      c.modelLatency.push_back(count[i] ? sum[i] / count[i] : 0);
    plan.candidates.push_back(std::move(c));
  }
  // The least mean latency among those that fit; ties to fewer bytes.
  for (auto [i, c] : llvm::enumerate(plan.candidates)) {
    if (!c.feasible)
      continue;
    if (plan.chosen < 0)
      plan.chosen = i;
    const OnDemandCandidate &best = plan.candidates[plan.chosen];
    if (c.meanLatency < best.meanLatency ||
        (c.meanLatency == best.meanLatency && c.peakBytes < best.peakBytes))
      plan.chosen = i;
  }
  if (onDemand.keepLoaded) {
    unsigned mask = 0;
    for (const std::string &name : *onDemand.keepLoaded) {
      auto it = llvm::find_if(
          plan.models, [&](unsigned m) { return w.models[m].name == name; });
      if (it == plan.models.end())
        return error("--keep-loaded names model '" + name +
                     "', which is not among the inputs");
      mask |= 1u << (it - plan.models.begin());
    }
    plan.chosen = mask;
    plan.given = true;
  }
  plan.requests =
      serveRequests(stream, plan.candidates[std::max(plan.chosen, 0)].resident,
                    plan.runSeconds, plan.loadSeconds);
  return plan;
}

static std::string residentNames(const Workload &w, const OnDemandPlan &plan,
                                 const OnDemandCandidate &c, bool resident) {
  std::string names;
  for (unsigned i = 0; i < plan.models.size(); ++i)
    if (c.resident[i] == resident)
      names += (names.empty() ? "" : ", ") + w.models[plan.models[i]].name;
  return names.empty() ? "none" : names;
}

void chorus::printOnDemand(llvm::raw_ostream &os, const Workload &w,
                           const OnDemandPlan &plan) {
  os << "\non demand (one session running at a time; models outside the "
        "resident set loaded into one slot when requested):\n";
  os << llvm::formatv("{0,-32} {1,10} {2,10} {3,10}\n", "model", "req/s",
                      "run ms", "load ms");
  for (unsigned i = 0; i < plan.models.size(); ++i)
    os << llvm::formatv("{0,-32} {1,10:F2} {2,10:F3} {3,10:F3}\n",
                        w.models[plan.models[i]].name, plan.rates[i],
                        plan.runSeconds[i] * 1e3, plan.loadSeconds[i] * 1e3);
  os << llvm::formatv("{0,-48} {1,12} {2,16} {3,8}  {4}\n", "resident",
                      "memory MB", "mean latency ms", "loads/s", "fits");
  for (auto [i, c] : llvm::enumerate(plan.candidates))
    os << llvm::formatv("{0,-48} {1,12:F1} {2,16:F3} {3,8:F2}  {4}{5}\n",
                        residentNames(w, plan, c, true), c.peakBytes * 1e-6,
                        c.meanLatency * 1e3, c.loadsPerSecond,
                        c.feasible ? "yes" : "no",
                        static_cast<int>(i) != plan.chosen ? ""
                        : plan.given                       ? "  (given)"
                                                           : "  (chosen)");
  // Whether any resident set takes less memory than keeping every model.
  const OnDemandCandidate &all = plan.candidates.back();
  if (llvm::all_of(plan.candidates, [&](const OnDemandCandidate &c) {
        return c.peakBytes >= all.peakBytes;
      }))
    os << "loading on demand saves no memory here: "
       << (plan.fixedMmapThreshold
               ? "a released session gives its bytes back, but loading the "
                 "largest model on top of the others peaks no lower than "
                 "keeping every model"
               : "in one process a released session's bytes stay in the "
                 "heap, which the loads after it fragment, so that the "
                 "process comes to hold what every model keeps (fixing "
                 "glibc's mmap threshold, chorus-calibrate "
                 "--malloc-mmap-threshold, gives them back)")
       << "\n";
  if (plan.chosen < 0) {
    os << "no resident set fits the memory limit of "
       << formatWithSeparators(plan.limitBytes)
       << " bytes, even with every model loaded on demand\n";
    return;
  }
  const OnDemandCandidate &c = plan.candidates[plan.chosen];
  os << (plan.given ? "given: keep " : "chosen: keep ")
     << residentNames(w, plan, c, true) << " loaded; load "
     << residentNames(w, plan, c, false) << " on demand: mean latency "
     << llvm::formatv("{0:F3}", c.meanLatency * 1e3) << " ms, "
     << llvm::formatv("{0:F2}", c.loadsPerSecond) << " loads/s, "
     << formatWithSeparators(c.peakBytes) << " bytes at most"
     << (c.feasible ? "" : ", over the memory limit") << "\n";
  for (unsigned i = 0; i < plan.models.size(); ++i)
    os << llvm::formatv("  {0,-30} mean latency {1:F3} ms\n",
                        w.models[plan.models[i]].name, c.modelLatency[i] * 1e3);
}

llvm::json::Value chorus::onDemandToJSON(const Workload &w,
                                         const OnDemandPlan &plan) {
  llvm::json::Array models;
  for (unsigned i = 0; i < plan.models.size(); ++i)
    models.push_back(llvm::json::Object{{"name", w.models[plan.models[i]].name},
                                        {"rate_per_s", plan.rates[i]},
                                        {"run_s", plan.runSeconds[i]},
                                        {"load_s", plan.loadSeconds[i]}});
  llvm::json::Array candidates;
  for (const OnDemandCandidate &c : plan.candidates) {
    llvm::json::Array resident, latency;
    for (unsigned i = 0; i < plan.models.size(); ++i) {
      if (c.resident[i])
        resident.push_back(w.models[plan.models[i]].name);
      latency.push_back(c.modelLatency[i]);
    }
    candidates.push_back(
        llvm::json::Object{{"resident", std::move(resident)},
                           {"peak_bytes", static_cast<int64_t>(c.peakBytes)},
                           {"feasible", c.feasible},
                           {"mean_latency_s", c.meanLatency},
                           {"loads_per_s", c.loadsPerSecond},
                           {"model_latency_s", std::move(latency)}});
  }
  llvm::json::Array requests;
  for (const OnDemandRequest &r : plan.requests)
    requests.push_back(llvm::json::Array{
        r.arrival, static_cast<int64_t>(r.model), r.start, r.end, r.loaded});
  return llvm::json::Object{
      {"models", std::move(models)},
      {"memory_limit_bytes", static_cast<int64_t>(plan.limitBytes)},
      {"candidates", std::move(candidates)},
      {"chosen", plan.chosen},
      {"given", plan.given},
      {"requests", std::move(requests)}};
}

void chorus::appendOnDemandTrace(llvm::json::Array &events, int64_t pid,
                                 const Workload &w, const OnDemandPlan &plan,
                                 unsigned maxRequests) {
  events.push_back(
      llvm::json::Object{{"ph", "M"},
                         {"pid", pid},
                         {"name", "process_name"},
                         {"args", llvm::json::Object{{"name", "on-demand"}}}});
  auto us = [](double s) { return s * 1e6; };
  for (unsigned i = 0; i < plan.requests.size() && i < maxRequests; ++i) {
    const OnDemandRequest &r = plan.requests[i];
    std::string name = w.models[plan.models[r.model]].name;
    double runStart = r.end - plan.runSeconds[r.model];
    events.push_back(llvm::json::Object{{"ph", "i"},
                                        {"pid", pid},
                                        {"tid", 0},
                                        {"s", "t"},
                                        {"name", "request " + name},
                                        {"ts", us(r.arrival)}});
    if (r.loaded)
      events.push_back(llvm::json::Object{{"ph", "X"},
                                          {"pid", pid},
                                          {"tid", 0},
                                          {"name", "load " + name},
                                          {"ts", us(r.start)},
                                          {"dur", us(runStart - r.start)}});
    events.push_back(llvm::json::Object{{"ph", "X"},
                                        {"pid", pid},
                                        {"tid", 0},
                                        {"name", "run " + name},
                                        {"ts", us(runStart)},
                                        {"dur", us(r.end - runStart)}});
  }
}
