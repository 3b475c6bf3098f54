//===- UnfuseOps.cpp - Inline chorus.fused groups back
//---------------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/FusionGroups.h"
#include "chorus/Transforms/Fusion.h"

#define DEBUG_TYPE "chorus-unfuse"

namespace chorus {
#define GEN_PASS_DEF_UNFUSEOPSPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct UnfuseOpsPass : public chorus::impl::UnfuseOpsPassBase<UnfuseOpsPass> {
  void runOnOperation() override { unfuseAll(getOperation()); }
};

} // namespace
