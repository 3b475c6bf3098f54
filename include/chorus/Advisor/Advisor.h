//===- Advisor.h - Strategies for running several models on one device ----===//
//
// The core of chorus-plan: from a module of models that went through the
// planning pipeline (sharing, fusion, cost), the kernels of each model with
// their predicted times and tensor lifetimes; then each strategy
// (sequential, parallel, batched) simulated on the target, a joint memory
// plan over the simulated timeline, and the recommendation for a goal
// under a memory limit. docs/PlanFormat.md describes the outputs.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ADVISOR_ADVISOR_H
#define CHORUS_ADVISOR_ADVISOR_H

#include "chorus/Plan/IntervalProblem.h"
#include "chorus/Plan/MemoryPlanner.h"
#include "chorus/Plan/Simulator.h"
#include "chorus/Target/OrtArena.h"
#include "chorus/Target/RuntimeMemory.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chorus {

/// One kernel (a node or a fused group) of a model.
struct KernelInfo {
  std::string name;
  double computeSeconds = 0, memorySeconds = 0, overheadSeconds = 0;
  double seconds() const {
    return computeSeconds + memorySeconds + overheadSeconds;
  }
};

/// One model as the advisor sees it: a func of the module.
struct ModelInfo {
  std::string name;
  std::vector<KernelInfo> kernels;
  /// With a target that measured other intra-op thread counts: the same
  /// kernels timed for a session with that many threads.
  std::map<unsigned, std::vector<KernelInfo>> threadKernels;
  /// Live intervals in kernel steps (lifetimes of the activation arena).
  IntervalProblem intervals;
  /// The weight symbols it reads, and the kind of kernel reading each.
  std::vector<std::string> weights;
  std::vector<WeightUse> weightUses;
  /// What the runtime's memory is predicted from (weights by use, the
  /// model's peak of live activation bytes).
  RuntimeMemoryFeatures memoryFeatures;
  /// What its session's creation time is predicted from.
  SessionLoadFeatures loadFeatures;
  /// Where the target names ONNX Runtime: the allocations of one run, to
  /// replay its arena over a sequence of shapes.
  std::optional<OrtRunAllocations> ortRun;
  /// What the import and the cost took for granted (ModelCost).
  std::vector<std::string> assumptions;
  /// What each run costs beside its kernels (Target::runIo): the runtime's
  /// per-run work and the copies of its inputs and outputs.
  double runSeconds = 0;
  /// Its kernels and runSeconds.
  double seconds() const;
  /// The kernels of a session with `threads` intra-op threads (0: the
  /// target runtime's own count).
  const std::vector<KernelInfo> &kernelsAt(unsigned threads) const;
};

/// Reads the kernels, costs and lifetimes of `func`; fails with an error
/// on the func when a cost or a size cannot be computed.
mlir::FailureOr<ModelInfo> describeModel(mlir::func::FuncOp func,
                                         const Target &target);

enum class Goal { Latency, Throughput, Memory };
llvm::StringRef getGoalName(Goal goal);

/// What one strategy does: which model each job runs, on which lane.
struct StrategyResult {
  std::string name;
  /// Unavailable strategies say why (no batchable models...).
  bool available = true;
  std::string why;
  /// Per job: the model (index into the advisor's models), the requests it
  /// serves (several for a batched job) and its lane.
  std::vector<unsigned> jobModel;
  std::vector<std::vector<unsigned>> jobRequests;
  std::vector<unsigned> jobLane;
  /// The intra-op threads of every session (0: the target runtime's own).
  unsigned threads = 0;
  SimResult sim;
  double makespan = 0, meanLatency = 0, throughput = 0;
  /// Per request: when it completes.
  std::vector<double> requestLatency;
  uint64_t weightBytes = 0, arenaBytes = 0, lowerBoundBytes = 0;
  /// With a target that models the runtime's memory: the resident bytes
  /// predicted after every session is created, after the first runs, in
  /// service (after each session's second run, which takes ONNX Runtime's
  /// memory pattern) and at the peak (VmHWM: in service, or a load's
  /// transient copies where higher): the process's runtime, each
  /// session's fixed bytes, the weights as the runtime keeps them, the
  /// arena under its policy.
  uint64_t runtimeLoadBytes = 0, runtimeFirstRunBytes = 0, runtimeBytes = 0,
           runtimePeakBytes = 0;
  /// The same where every session loads its own copy of the weights the
  /// models share (onnxruntime-node, which has no AddInitializer), and
  /// what sharing them saves.
  uint64_t runtimeUnsharedLoadBytes = 0, runtimeUnsharedFirstRunBytes = 0,
           runtimeUnsharedBytes = 0, runtimeUnsharedPeakBytes = 0;
  uint64_t sharingSavesBytes = 0;
  /// What the memory limit applies to: the runtime's peak where the
  /// target predicts it, else weights plus arena.
  uint64_t footprint() const {
    return runtimePeakBytes ? runtimePeakBytes : weightBytes + arenaBytes;
  }
  IntervalProblem memoryProblem;
  MemoryPlan memory;
  /// Against the memory limit.
  bool feasible = true;
  uint64_t overLimitBytes = 0;
  /// Seconds of kernel time by term over the strategy's kernels.
  double computeSeconds = 0, memorySeconds = 0, overheadSeconds = 0;
  /// The resource that bounds it: compute, bandwidth, overhead, or
  /// sharing (concurrent kernels slowed by the device's gain).
  std::string bound;
};

struct AdvisorOptions {
  Goal goal = Goal::Latency;
  /// Bytes; 0: the target's memory capacity.
  uint64_t memoryLimit = 0;
  uint64_t alignment = 64;
  /// The strategies to evaluate (empty: all).
  std::vector<std::string> strategies;
};

struct Recommendation {
  std::string strategy;
  std::string reason;
};

/// The requests (model instances) and the batched variants: a request is a
/// model of the module; `batches` lists the groups of identical requests
/// that one batched model (a separate func) runs as one job.
struct Workload {
  std::vector<ModelInfo> models;
  /// Per request: its model index.
  std::vector<unsigned> requests;
  /// Per batch group: the requests it serves and the model that runs them
  /// as one batch (a separate func, imported at the larger batch).
  struct Batch {
    std::vector<unsigned> requests;
    unsigned model;
  };
  std::vector<Batch> batches;
  /// Why there is no batched variant, when there is none.
  std::string noBatchReason;
  /// Bytes of each weight symbol of the module.
  llvm::StringMap<uint64_t> weightBytes;
};

/// The figure a goal minimizes: mean latency, makespan, or footprint.
double goalMetric(const StrategyResult &s, Goal goal);

/// Evaluates the strategies and recommends one.
std::vector<StrategyResult> evaluateStrategies(const Workload &workload,
                                               const Target &target,
                                               const AdvisorOptions &options,
                                               Recommendation &recommendation);

/// The recommendation over evaluated strategies: the best for the goal
/// among the feasible, else the one that needs the least memory.
void recommend(llvm::ArrayRef<StrategyResult> results,
               const AdvisorOptions &options, Recommendation &recommendation);

/// Will the models fit: the recommended strategy's footprint, per model
/// and in total, against the memory limit (docs/PlanFormat.md, "fit").
struct FitReport {
  struct Model {
    std::string name;
    /// The weights in the file; as the runtime keeps them (copies and
    /// pre-packed forms included); the session's fixed bytes; its arena
    /// in service (after its second run); what the caller holds of both
    /// runs (their inputs and the copies of their outputs); the session
    /// alone after load, in service and at its peak.
    double fileWeightBytes = 0, weightBytes = 0, fixedBytes = 0, arenaBytes = 0,
           callerBytes = 0, afterLoadBytes = 0, inServiceBytes = 0,
           peakBytes = 0;
  };
  /// Empty when no strategy was recommended.
  std::string strategy;
  /// Whether the figures are the runtime's (the target models its memory)
  /// or weights and arena as Chorus plans them.
  bool runtime = false;
  std::vector<Model> models;
  double processBytes = 0;
  /// The whole set, weights shared where the models share them, and where
  /// each session loads its own copy.
  uint64_t afterLoadBytes = 0, inServiceBytes = 0, peakBytes = 0;
  uint64_t unsharedAfterLoadBytes = 0, unsharedInServiceBytes = 0,
           unsharedPeakBytes = 0;
  uint64_t sharingSavesBytes = 0;
  uint64_t limitBytes = 0;
};
FitReport makeFitReport(const Workload &workload, const Target &target,
                        const AdvisorOptions &options,
                        llvm::ArrayRef<StrategyResult> strategies,
                        const Recommendation &recommendation);
llvm::json::Value fitReportToJSON(const Workload &workload,
                                  const Target &target,
                                  const AdvisorOptions &options,
                                  llvm::ArrayRef<StrategyResult> strategies,
                                  const Recommendation &recommendation);
/// The report's verdicts in words, one line each: the set against the
/// memory limit, then (where sharing saves memory) a copy each.
std::vector<std::string> fitVerdicts(const FitReport &report);
void printFitReport(llvm::raw_ostream &os, const Workload &workload,
                    const Target &target, const AdvisorOptions &options,
                    llvm::ArrayRef<StrategyResult> strategies,
                    const Recommendation &recommendation);

/// plan.json (schema "chorus-plan-1", docs/PlanFormat.md).
llvm::json::Value planToJSON(const Workload &workload, const Target &target,
                             const AdvisorOptions &options,
                             llvm::ArrayRef<StrategyResult> strategies,
                             const Recommendation &recommendation);

/// The Chrome trace event format (opens in Perfetto and chrome://tracing):
/// one process per strategy, one thread per lane, one event per kernel.
llvm::json::Value traceToJSON(const Workload &workload,
                              llvm::ArrayRef<StrategyResult> strategies);

/// The readable table chorus-plan prints.
/// How the target's figures were obtained, for the plan's header: built
/// in (and so not of this machine), calibrated from a file, and the
/// runtime its kernel models describe.
std::string describeCalibration(const Target &target);

void printPlanTable(llvm::raw_ostream &os, const Workload &workload,
                    const Target &target, const AdvisorOptions &options,
                    llvm::ArrayRef<StrategyResult> strategies,
                    const Recommendation &recommendation);

} // namespace chorus

#endif // CHORUS_ADVISOR_ADVISOR_H
