//===- Placement.cpp - Spread models over several targets -----------------===//

#include "chorus/Advisor/Placement.h"

#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/Format.h"
#include "chorus/Target/CostModel.h"

#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace chorus;

static std::string megabytes(uint64_t bytes) {
  return llvm::formatv("{0:F1} MB", bytes / 1e6).str();
}

/// The memory a target gives models: its capacity, and for wasm at most
/// what one wasm instance may address.
static uint64_t memoryLimit(const Target &t) {
  uint64_t limit = static_cast<uint64_t>(t.memoryCapacity);
  if (t.browser && t.browser->backend == "wasm")
    limit = std::min<uint64_t>(limit, t.browser->wasmMemoryBytes);
  return limit;
}

/// Model `func` on `target`, or an error.
static FailureOr<PlacementOption>
evaluate(func::FuncOp func, const Target &target, uint64_t alignment) {
  PlacementOption o;
  FailureOr<ModelCost> cost = estimateModelCost(func, target);
  if (failed(cost))
    return failure();
  o.seconds = cost->seconds;
  TensorLifetimes lifetimes(func);
  if (failed(lifetimes.run()))
    return failure();
  o.weightBytes = lifetimes.getWeightBytes();
  std::optional<uint64_t> arena = peakLiveBytes(func, {}, alignment);
  if (!arena)
    return func.emitError("placement needs static shapes: bind the model's "
                          "inputs with --input-shape or --dim"),
           failure();
  o.arenaBytes = *arena;
  func.walk([&](Operation *op) {
    for (Value v : op->getResults())
      if (std::optional<int64_t> b = getValueStorageBytes(v.getType()))
        o.largestTensorBytes =
            std::max<uint64_t>(o.largestTensorBytes, static_cast<uint64_t>(*b));
  });
  uint64_t limit = memoryLimit(target);
  if (target.browser) {
    const BrowserInfo &b = *target.browser;
    if (!b.opSupport.empty()) {
      llvm::Expected<OpSupportTable> table = getBuiltinOpSupport(b.opSupport);
      if (!table)
        return func.emitError(llvm::toString(table.takeError())), failure();
      o.ops = checkOpSupport(func, *table, b.webnnOps);
      o.transferSeconds = o.ops->crossingBytes / target.memoryBandwidth;
      o.seconds += o.transferSeconds;
      if (!o.ops->refused.empty()) {
        o.unfit = table->runtime + "'s " + table->backend +
                  " backend fails on " + describeRefusals(*o.ops);
        o.refused = true;
      }
    }
    if (o.unfit.empty() && b.webgpu && b.backend == "webgpu" &&
        o.largestTensorBytes > b.webgpu->maxBufferSize)
      o.unfit = "a tensor of " + megabytes(o.largestTensorBytes) +
                " exceeds the adapter's max_buffer_size of " +
                megabytes(static_cast<uint64_t>(b.webgpu->maxBufferSize));
  }
  if (o.unfit.empty() && o.weightBytes + o.arenaBytes > limit)
    o.unfit = "weights and activations need " +
              megabytes(o.weightBytes + o.arenaBytes) + ", over the " +
              megabytes(limit) + " it has";
  return o;
}

FailureOr<Placement> chorus::placeModels(llvm::ArrayRef<func::FuncOp> models,
                                         llvm::ArrayRef<Target> targets,
                                         uint64_t alignment) {
  Placement p;
  unsigned n = models.size(), k = targets.size();
  for (const Target &t : targets) {
    p.targets.push_back(t.name);
    p.memoryLimit.push_back(memoryLimit(t));
  }
  for (func::FuncOp func : models) {
    p.models.push_back(func.getSymName().str());
    std::vector<PlacementOption> row;
    bool anyFits = false;
    for (const Target &t : targets) {
      FailureOr<PlacementOption> o = evaluate(func, t, alignment);
      if (failed(o))
        return failure();
      anyFits |= o->unfit.empty();
      row.push_back(std::move(*o));
    }
    if (!anyFits) {
      bool anyRefused =
          llvm::any_of(row, [](const PlacementOption &o) { return o.refused; });
      InFlightDiagnostic d =
          func.emitError(anyRefused ? "runs on none of the targets:"
                                    : "fits none of the targets:");
      for (unsigned t = 0; t < k; ++t)
        d << " on " << targets[t].name << ", " << row[t].unfit << ";";
      return failure();
    }
    p.options.push_back(std::move(row));
  }

  // Score of an assignment: makespan, then total seconds; infeasible if a
  // model does not fit its target or a target's memory is exceeded.
  auto score = [&](llvm::ArrayRef<unsigned> a, std::vector<double> &load,
                   std::vector<uint64_t> &memory) -> std::optional<double> {
    load.assign(k, 0.0);
    memory.assign(k, 0);
    for (unsigned m = 0; m < n; ++m) {
      const PlacementOption &o = p.options[m][a[m]];
      if (!o.unfit.empty())
        return std::nullopt;
      load[a[m]] += o.seconds;
      memory[a[m]] += o.weightBytes + o.arenaBytes;
    }
    for (unsigned t = 0; t < k; ++t)
      if (memory[t] > p.memoryLimit[t])
        return std::nullopt;
    return *std::max_element(load.begin(), load.end());
  };
  double combos = std::pow(static_cast<double>(k), static_cast<double>(n));
  std::optional<std::pair<double, double>> best;
  std::vector<double> load;
  std::vector<uint64_t> memory;
  if (combos <= static_cast<double>(1u << 20)) {
    std::vector<unsigned> a(n, 0);
    for (;;) {
      ++p.assignmentsTried;
      if (std::optional<double> makespan = score(a, load, memory)) {
        double total = std::accumulate(load.begin(), load.end(), 0.0);
        // Strictly better only: the first best in this order wins ties.
        if (!best || *makespan < best->first - 1e-15 ||
            (*makespan <= best->first + 1e-15 &&
             total < best->second - 1e-15)) {
          best = {*makespan, total};
          p.assignment = a;
        }
      }
      unsigned i = 0;
      while (i < n && ++a[i] == k)
        a[i++] = 0;
      if (i == n)
        break;
    }
  } else {
    p.exhaustive = false;
    std::vector<unsigned> order(n);
    std::iota(order.begin(), order.end(), 0);
    auto fastest = [&](unsigned m) {
      double s = INFINITY;
      for (const PlacementOption &o : p.options[m])
        if (o.unfit.empty())
          s = std::min(s, o.seconds);
      return s;
    };
    std::stable_sort(order.begin(), order.end(), [&](unsigned x, unsigned y) {
      return fastest(x) > fastest(y);
    });
    std::vector<unsigned> a(n, 0);
    load.assign(k, 0.0);
    memory.assign(k, 0);
    for (unsigned m : order) {
      std::optional<unsigned> pick;
      for (unsigned t = 0; t < k; ++t) {
        const PlacementOption &o = p.options[m][t];
        if (!o.unfit.empty() ||
            memory[t] + o.weightBytes + o.arenaBytes > p.memoryLimit[t])
          continue;
        if (!pick ||
            load[t] + o.seconds < load[*pick] + p.options[m][*pick].seconds)
          pick = t;
      }
      if (!pick)
        break;
      a[m] = *pick;
      load[*pick] += p.options[m][*pick].seconds;
      memory[*pick] +=
          p.options[m][*pick].weightBytes + p.options[m][*pick].arenaBytes;
      ++p.assignmentsTried;
    }
    if (std::optional<double> makespan = score(a, load, memory)) {
      best = {*makespan, 0.0};
      p.assignment = a;
    }
  }
  if (!best) {
    func::FuncOp first = models.front();
    emitError(first.getLoc())
        << "no assignment of the models fits the targets' memory";
    return failure();
  }
  score(p.assignment, p.load, p.memory);
  p.makespan = best->first;
  return p;
}

void chorus::printPlacement(llvm::raw_ostream &os, const Placement &p) {
  os << "placement over " << p.targets.size() << " targets ("
     << p.assignmentsTried << " assignments "
     << (p.exhaustive ? "tried, all" : "tried, longest model first")
     << "): makespan " << llvm::format("%.3f", p.makespan * 1e3) << " ms\n";
  os << "target                           models     busy ms  memory MB  "
        "limit MB\n";
  for (unsigned t = 0; t < p.targets.size(); ++t) {
    unsigned count = llvm::count(p.assignment, t);
    os << llvm::left_justify(p.targets[t], 32)
       << llvm::format(" %6u %11.3f %10.1f %9.1f", count, p.load[t] * 1e3,
                       p.memory[t] / 1e6, p.memoryLimit[t] / 1e6)
       << "\n";
  }
  for (unsigned m = 0; m < p.models.size(); ++m) {
    unsigned t = p.assignment[m];
    const PlacementOption &o = p.options[m][t];
    os << p.models[m] << " -> " << p.targets[t] << ": "
       << llvm::format("%.3f", o.seconds * 1e3) << " ms predicted there";
    for (unsigned u = 0; u < p.targets.size(); ++u) {
      if (u == t)
        continue;
      const PlacementOption &other = p.options[m][u];
      if (!other.unfit.empty())
        os << (other.refused ? "; does not run on " : "; does not fit ")
           << p.targets[u] << " (" << other.unfit << ")";
      else
        os << "; " << llvm::format("%.3f", other.seconds * 1e3) << " ms on "
           << p.targets[u];
    }
    if (o.ops) {
      os << "; " << o.ops->supported << " of " << o.ops->nodes
         << " nodes on the backend";
      if (!o.ops->fallback.empty()) {
        os << ", falling back to wasm:";
        printFallback(os, *o.ops);
      }
      os << ", " << formatWithSeparators(o.ops->crossingBytes)
         << " bytes crossing per run ("
         << llvm::format("%.3f", o.transferSeconds * 1e3) << " ms)";
    }
    os << "; " << megabytes(o.weightBytes + o.arenaBytes) << " of memory\n";
  }
}
