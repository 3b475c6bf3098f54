//===- Deployment.h - The plan as runtime configuration --------*- C++ -*-===//
//
// What chorus-plan --emit-ort and --emit-triton write: the configuration
// that deploys the recommended strategy exactly as it was predicted. For
// ONNX Runtime, one JSON file of session settings per model, the run the
// plan simulated (deployment.json) and a Node loader (run.js) that creates
// the sessions from those files, runs the strategy and prints measured
// against predicted latencies. For Triton Inference Server, a model
// repository (config.pbtxt per model in Triton's schema,
// lib/Deploy/triton_model_config.proto) and a seed configuration for
// Triton Model Analyzer. docs/Deployment.md describes every field.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_DEPLOY_DEPLOYMENT_H
#define CHORUS_DEPLOY_DEPLOYMENT_H

#include "chorus/Advisor/Advisor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace chorus {

/// The plan a deployment is written from.
struct DeploymentSource {
  mutable mlir::ModuleOp module;
  const Workload &workload;
  const Target &target;
  const AdvisorOptions &options;
  llvm::ArrayRef<StrategyResult> strategies;
  const Recommendation &recommendation;
};

struct DeploymentOptions {
  /// Overwrite files that already exist in the output folder.
  bool force = false;
  /// Triton: copy each model into its version folder instead of a
  /// symbolic link to the file chorus-plan read.
  bool copyModels = false;
};

/// Writes the ONNX Runtime deployment of the recommended strategy into
/// `dir` (created if missing): <model>.session.json per model (its model
/// file beside it when the source is ONNX text), deployment.json, run.js.
/// Prints what it wrote and what onnxruntime-node cannot apply to `log`.
llvm::Error writeOrtDeployment(const DeploymentSource &plan,
                               llvm::StringRef dir,
                               const DeploymentOptions &options,
                               llvm::raw_ostream &log);

/// Writes a Triton model repository for the recommended strategy into
/// `dir`: <model>/config.pbtxt and <model>/1/model.onnx per model,
/// model-analyzer.yaml (the configurations the plan ranks best) and
/// chorus-notes.txt (what Triton cannot do that the plan assumed, and the
/// memory that costs). Prints the same notes to `log`.
llvm::Error writeTritonRepository(const DeploymentSource &plan,
                                  llvm::StringRef dir,
                                  const DeploymentOptions &options,
                                  llvm::raw_ostream &log);

/// Checks a Triton model repository: every <model>/config.pbtxt parses
/// with Triton's schema (as far as Chorus writes it), names, data types
/// and dims agree with <model>/1/model.onnx (or default_model_filename),
/// and Triton's own rules hold (no batch dim listed when max_batch_size >
/// 0, preferred batch sizes within max_batch_size, no instance groups on
/// an ensemble, warmup samples that match the inputs). Returns one line
/// per problem, each naming the file; empty when the repository is sound.
std::vector<std::string> checkTritonRepository(llvm::StringRef dir,
                                               unsigned &modelsChecked);

} // namespace chorus

#endif // CHORUS_DEPLOY_DEPLOYMENT_H
