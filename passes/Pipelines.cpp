//===- Pipelines.cpp - Named pass pipelines
//--------------------------------===//

#include "passes/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace chorus;

void chorus::buildPlanningPipeline(OpPassManager &pm,
                                   const PlanningPipelineOptions &options) {
  ShareModelsPassOptions share;
  std::vector<std::string> sameInputs(options.sameInputs.begin(),
                                      options.sameInputs.end());
  share.sameInputs = sameInputs;
  pm.addPass(createShareModelsPass(share));
  if (options.fuse) {
    std::vector<std::string> rules(options.fuseRules.begin(),
                                   options.fuseRules.end());
    FuseOpsPassOptions fuse;
    fuse.rules = rules;
    pm.addPass(createFuseOpsPass(fuse));
  }
  AnnotateCostPassOptions cost;
  cost.targetName = options.target;
  cost.targetFile = options.targetFile;
  pm.addPass(createAnnotateCostPass(cost));
}

void chorus::registerPlanningPipeline() {
  PassPipelineRegistration<PlanningPipelineOptions>(
      "chorus-planning-pipeline",
      "What chorus-plan runs before scheduling: chorus-share, chorus-fuse, "
      "chorus-annotate-cost",
      buildPlanningPipeline);
}
