//===- LoadWorkload.h - From model files to the advisor's workload -*- C++
//-*-===//
//
// What chorus-plan does before it evaluates strategies: the requests (each
// file once, a file given twice or with --batch several times), the models
// imported into one module (or a .mlir module read as it is), a batched
// variant of each model requested more than once, the planning pipeline,
// and the workload the advisor reads.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_ADVISOR_LOADWORKLOAD_H
#define CHORUS_ADVISOR_LOADWORKLOAD_H

#include "chorus/Advisor/Advisor.h"
#include "chorus/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>
#include <vector>

namespace chorus {

struct WorkloadSpec {
  /// ONNX files (binary or text) in request order, or one .mlir module.
  std::vector<std::string> paths;
  /// `MODEL=B`: B requests of that model in all.
  std::vector<std::string> batches;
  ImportOptions importOptions;
};

struct LoadedWorkload {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  Workload workload;
  /// Each requested model once, in the order first requested.
  std::vector<mlir::func::FuncOp> requestedModels;
};

/// Loads the models of `spec`, runs `runPipeline` on the module, and builds
/// the workload on `target`. Errors are emitted as diagnostics (a message
/// without a location names no file) and give failure.
mlir::FailureOr<LoadedWorkload> loadWorkload(
    mlir::MLIRContext &context, const WorkloadSpec &spec, const Target &target,
    llvm::function_ref<mlir::LogicalResult(mlir::ModuleOp)> runPipeline);

} // namespace chorus

#endif // CHORUS_ADVISOR_LOADWORKLOAD_H
