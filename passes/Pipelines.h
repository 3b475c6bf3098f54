//===- Pipelines.h - Named pass pipelines ----------------------*- C++ -*-===//
//
// One source of truth for the pipelines: chorus-opt registers them by name
// and chorus-plan builds the same one.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_PASSES_PIPELINES_H
#define CHORUS_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace chorus {

struct PlanningPipelineOptions
    : public mlir::PassPipelineOptions<PlanningPipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("Built-in target name"),
                             llvm::cl::init("")};
  Option<std::string> targetFile{*this, "target-file",
                                 llvm::cl::desc("Target JSON file"),
                                 llvm::cl::init("")};
  ListOption<std::string> sameInputs{
      *this, "same-input",
      llvm::cl::desc("MODEL:INPUT=MODEL:INPUT pairs of model inputs that are "
                     "the same tensor")};
  Option<bool> fuse{*this, "fuse", llvm::cl::desc("Run chorus-fuse"),
                    llvm::cl::init(true)};
  ListOption<std::string> fuseRules{
      *this, "fuse-rules",
      llvm::cl::desc("chorus-fuse's rules (default: all)")};
};

/// chorus-share, chorus-fuse (unless fuse=false), chorus-annotate-cost.
void buildPlanningPipeline(mlir::OpPassManager &pm,
                           const PlanningPipelineOptions &options);

/// Registers "chorus-planning-pipeline" for chorus-opt.
void registerPlanningPipeline();

} // namespace chorus

#endif // CHORUS_PASSES_PIPELINES_H
