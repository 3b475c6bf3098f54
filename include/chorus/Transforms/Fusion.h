//===- Fusion.h - Fusion groups into the IR and back ------------*- C++ -*-===//
//
// The transforms behind chorus-fuse and chorus-unfuse: the groups that the
// fusion analysis (chorus/Analysis/FusionGroups.h) computes become
// chorus.fused regions, and fused regions are inlined again.
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TRANSFORMS_FUSION_H
#define CHORUS_TRANSFORMS_FUSION_H

#include "chorus/Analysis/FusionGroups.h"

namespace chorus {

/// Replaces each group by a chorus.fused op holding its nodes (inputs in
/// first-use order, results in node order) and orders the body
/// topologically, keeping the original order where it can.
void applyFusionGroups(mlir::func::FuncOp func,
                       llvm::ArrayRef<FusionGroup> groups);

/// Inlines every chorus.fused op under `root` back into its block; returns
/// how many there were.
unsigned unfuseAll(mlir::Operation *root);

} // namespace chorus

#endif // CHORUS_TRANSFORMS_FUSION_H
