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

#include "chorus/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace chorus {

/// One node's measured time: the median over the runs in the profile.
struct ProfiledNode {
  std::string name;
  std::string opName;
  double seconds = 0;
  unsigned runs = 0;
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

/// The profiler adds time to every node it times, so overheads fitted from
/// profiles are too high for runs without it. Given whole-run latencies
/// measured without the profiler (func, seconds), finds the time d per
/// kernel that best explains predicted minus measured in relative terms
/// (each model counts the same whatever its size: minimizes
/// sum(((predicted - d x nodes - measured) / measured)^2)), d >= 0, and
/// takes it off every class's overhead. Returns d; fails (with an error on
/// the func) when a model's cost cannot be estimated.
mlir::FailureOr<double> removeProfilerOverhead(
    Target &target,
    llvm::ArrayRef<std::pair<mlir::func::FuncOp, double>> measured);

} // namespace chorus

#endif // CHORUS_TARGET_CALIBRATION_H
