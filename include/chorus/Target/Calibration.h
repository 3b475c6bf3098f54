//===- Calibration.h - Fit a target's efficiencies to profiles --*- C++ -*-===//
//
// ONNX Runtime's profiler (session option enableProfiling) writes one JSON
// event per node run: {"cat": "Node", "name": "<node>_kernel_time", "dur":
// microseconds, "args": {"op_name": ...}}. Matching those to the nodes of
// the same model imported into Chorus gives, per node, the measured time
// next to its FLOPs and bytes; a least-squares fit per op class turns them
// into the target's compute and memory efficiencies and overhead.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TARGET_CALIBRATION_H
#define CHORUS_TARGET_CALIBRATION_H

#include "chorus/Target/KernelModel.h"
#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace chorus {

/// One node's measured time: the median over the runs in the profile.
struct ProfiledNode {
  std::string name;
  std::string opName;
  double seconds = 0;
  unsigned runs = 0;
  /// The op as the optimized graph names it ("com.microsoft.nchwc:Conv"
  /// for a blocked Conv, whose event name ends in "_nchwc"), and the
  /// shapes of its operands and results (the event's input_type_shape and
  /// output_type_shape).
  std::string op;
  std::vector<KernelTensor> inputs, outputs;
  /// The bytes of the profiled model's weights (0: not known).
  double modelWeightBytes = 0;
  /// What its profiled run touches (KernelFeatures::runBytes;
  /// setProfiledRunBytes).
  double runBytes = 0;
  /// What ran the kernel (getKernelFeatures).
  KernelBackend backend = KernelBackend::Cpu;
};

/// Reads an ONNX Runtime profile. Errors name the file and what is wrong.
llvm::Expected<std::vector<ProfiledNode>>
readOrtProfile(llvm::StringRef json, llvm::StringRef fileName);

/// One measured node in the fit's terms.
struct CalibrationSample {
  OpClass opClass;
  double flops = 0, bytes = 0, groups = 1;
  std::string dtype;
  double seconds = 0;
  /// NodeWork::expandedRows.
  double expandedRows = 0;
};

/// What matching a profile to a model found.
struct ProfileMatch {
  std::vector<CalibrationSample> samples;
  /// Profile entries with no node of that name in the model (ONNX Runtime
  /// inserted or renamed them) and their time.
  unsigned unmatched = 0;
  double unmatchedSeconds = 0;
  double matchedSeconds = 0;
};

/// Pairs the profile's nodes with `func`'s top-level nodes by name.
ProfileMatch matchProfile(mlir::func::FuncOp func,
                          llvm::ArrayRef<ProfiledNode> profile);

/// Per class: how many samples, and the fitted terms.
struct ClassFit {
  OpClass opClass;
  unsigned samples = 0;
  bool fitted = false;
  ClassEfficiency efficiency;
  /// Sum of measured and of fitted times over the samples.
  double measuredSeconds = 0, fittedSeconds = 0;
};

/// Fits, per op class with at least `minSamples` samples, time = FLOPs /
/// (peak x compute) + bytes / (bandwidth x memory) + overhead by
/// non-negative least squares; other classes keep `base`'s values. The
/// result is `base` with those efficiencies, named `name`, calibrated.
Target calibrateTarget(const Target &base,
                       llvm::ArrayRef<CalibrationSample> samples,
                       llvm::StringRef name, std::vector<ClassFit> &fits,
                       unsigned minSamples = 4);

/// What fitting a target to whole-run latencies found.
struct LatencyCorrection {
  /// Seconds the profiler added to every kernel, taken off each class's
  /// overhead.
  double perKernelSeconds = 0;
  /// How much longer the timed runs took than the corrected profiles
  /// predict (1: the same speed); every time of the target is scaled by it.
  double slowdown = 1;
};

/// The profiler adds time to every node it times, so overheads fitted from
/// profiles are too high for runs without it; and a machine whose speed
/// drifts may run the timed runs at another speed than the profiled ones.
/// Given whole-run latencies measured without the profiler (func,
/// seconds), finds the time d per kernel and, with two latencies or more,
/// the slowdown s that best explain them in relative terms (each model
/// counts the same whatever its size: minimizes
/// sum(((s x (predicted - d x kernels) - measured) / measured)^2)), d >= 0,
/// s > 0, then takes d off every class's overhead (not below 0) and scales
/// every time of the target by s. With one latency s is 1. Fails (with an
/// error on the func) when a model's cost cannot be estimated.
mlir::FailureOr<LatencyCorrection>
fitToLatencies(Target &target,
               llvm::ArrayRef<std::pair<mlir::func::FuncOp, double>> measured);

/// What fitting a target to whole-model latencies alone found.
struct LatencyOnlyFit {
  /// Per op class with work in the models: the factor its work (compute,
  /// memory, per-group and per-row time on the base) is scaled by.
  std::map<OpClass, double> scale;
  /// Classes not fitted, with their share of the work (0: none): those
  /// below the minimum share get the work-weighted mean of the fitted
  /// factors.
  std::vector<std::pair<OpClass, double>> unfitted;
  /// Seconds per kernel, the same for every class.
  double overheadSeconds = 0;
  /// Per model: the fitted and the measured seconds.
  std::vector<std::pair<double, double>> models;
};

/// Fits a target to whole-model latencies when no per-kernel profile
/// exists (ONNX Runtime Web's WebGPU kernels, which its profiler does not
/// time on the GPU): each model's
/// time on `base` is split per op class into work and per-kernel overhead,
/// and time = sum over classes of scale x work + overhead x kernels is
/// fitted by non-negative least squares in relative terms, each model's
/// squared relative error weighted by (its time / the mean time) raised to
/// `timeWeight`: 0 counts every model the same whatever its size, 1 weighs
/// a model by its time (so that many short op chains do not outvote a few
/// whole networks), 2 is the absolute error. The result is `base` named `name`
/// with every class's efficiencies divided, and its per-group and per-row
/// times multiplied, by the class's factor, and every class's overhead the
/// fitted one. Classes with less than `minWorkShare` of the work (summed in
/// the same relative terms) are not fitted on their own: they get the
/// work-weighted mean factor (elementwise_math gets elementwise's, when
/// that is fitted). Fails (with an error on the func) when a
/// model's cost cannot be estimated or fewer models than unknowns are
/// given.
mlir::FailureOr<Target> calibrateToLatencies(
    const Target &base,
    llvm::ArrayRef<std::pair<mlir::func::FuncOp, double>> measured,
    llvm::StringRef name, LatencyOnlyFit &fit, double minWorkShare = 0.02,
    double timeWeight = 0);

/// One kernel class's fit from profiles.
struct KernelModelFit {
  std::string kernelClass;
  unsigned samples = 0;
  KernelModel model;
  double measuredSeconds = 0, fittedSeconds = 0;
};

/// Fits, per kernel class with at least `minSamples` profiled kernels, and
/// once over all of them as "default", seconds = perFlop x FLOPs + perByte
/// x bytes + perKernel by non-negative least squares, rows weighted by
/// 1/sqrt(time) as calibrateTarget weighs them. The kernels are ONNX
/// Runtime's, at whatever optimization level it ran: their features come
/// from the profile's shapes, so nothing is matched to the model's nodes.
std::map<std::string, KernelModel>
fitKernelModels(llvm::ArrayRef<ProfiledNode> kernels, unsigned minSamples,
                std::vector<KernelModelFit> &fits,
                std::optional<double> coldWeightsAbove = std::nullopt,
                std::optional<double> memoryWeightsAbove = std::nullopt);

/// Sets each kernel's runBytes to what one profiled run of `kernels`
/// touches: the model's weights (their modelWeightBytes) and every
/// kernel's results.
void setProfiledRunBytes(llvm::MutableArrayRef<ProfiledNode> kernels);

/// The fitted time of one run of a profiled model: its kernels' times.
double predictProfiledRun(llvm::ArrayRef<ProfiledNode> kernels,
                          const std::map<std::string, KernelModel> &models);

/// The same, by term: seconds from FLOPs, from bytes, per kernel.
std::array<double, 3>
predictProfiledTerms(llvm::ArrayRef<ProfiledNode> kernels,
                     const std::map<std::string, KernelModel> &models);

/// The size in bytes of the largest cache one core has to itself, read
/// from a Linux CPU folder (e.g. /sys/devices/system/cpu/cpu0): the
/// largest data or unified cache under its cache/indexN whose
/// shared_cpu_list is one CPU or the core's own hardware threads
/// (topology/thread_siblings_list); 0 where the folder does not say.
/// A model's weights beyond it are read on every run from a cache other
/// cores and tenants share, or from memory.
uint64_t readPrivateCacheBytes(llvm::StringRef cpuDir);

/// One CPUID query: leaf and subleaf in, EAX, EBX, ECX, EDX out; false
/// where the processor does not answer that leaf.
using CpuidFn = llvm::function_ref<bool(unsigned leaf, unsigned subleaf,
                                        std::array<unsigned, 4> &regs)>;

/// The size in bytes of the largest cache one core has to itself, from
/// the x86 CPUID instruction, for systems whose CPU folder does not say
/// (VMs without cache/indexN): the largest data or unified cache of the
/// deterministic cache parameters (leaf 4 on Intel, 0x8000001D on AMD
/// with topology extensions) that no more logical processors share than
/// the level-1 data cache (each core's own) does, and on
/// AMD without them the L2 of leaf 0x80000006 (each core's own on every
/// AMD processor with one); 0 where CPUID does not say.
uint64_t privateCacheBytesFromCpuid(CpuidFn cpuid);

/// privateCacheBytesFromCpuid of this processor; 0 off x86.
uint64_t readCpuidPrivateCacheBytes();

/// One model measured alone and beside a second session of itself run at
/// the same time, with its predicted time by term (predictProfiledTerms).
struct CoRunSample {
  std::array<double, 3> terms = {0, 0, 0};
  double aloneSeconds = 0, pairSeconds = 0;
};

/// Fits how much each term slows when another kernel runs at the same
/// time: (pair - alone) / alone = sum over terms of slowdown x term's
/// share of the predicted time, plus a hand-off time per run over the
/// time alone, by non-negative least squares, each model weighed by its
/// time alone in ms to the power 0.6 (one over its ratio's spread). Needs
/// at least 4 samples.
llvm::Expected<CoRunModel> fitCoRun(llvm::ArrayRef<CoRunSample> samples);

/// Solves the weighted least squares `rows` (each: the unknowns'
/// coefficients, then the target, then the weight) for the unknowns
/// whose `active` flag is set (the others 0); false where singular.
bool solveLeastSquares(const std::vector<std::vector<double>> &rows,
                       const std::vector<bool> &active, std::vector<double> &x);

/// As solveLeastSquares, with no negative value for the unknowns whose
/// `nonNegative` flag is set: the most negative of them is left out (0)
/// and the rest solved again, until none is negative.
bool solveLeastSquaresNonNegative(const std::vector<std::vector<double>> &rows,
                                  std::vector<bool> active,
                                  const std::vector<bool> &nonNegative,
                                  std::vector<double> &x);

} // namespace chorus

#endif // CHORUS_TARGET_CALIBRATION_H
