//===- CostModel.cpp - Predicted time of nodes on a target ----------------===//

#include "chorus/Target/CostModel.h"

using namespace mlir;
using namespace chorus;

llvm::StringRef chorus::getBoundName(Bound bound) {
  switch (bound) {
  case Bound::Compute:
    return "compute";
  case Bound::Memory:
    return "memory";
  case Bound::Overhead:
    return "overhead";
  }
  return "";
}

Bound NodeCost::bound() const {
  if (computeSeconds >= memorySeconds && computeSeconds >= overheadSeconds)
    return Bound::Compute;
  if (memorySeconds >= overheadSeconds)
    return Bound::Memory;
  return Bound::Overhead;
}

std::string chorus::getComputeType(NodeOp node) {
  Type type;
  if (!node.getOutputs().empty())
    type = node.getOutputs()[0].getType();
  else if (!node.getInputs().empty())
    type = node.getInputs()[0].getType();
  auto shaped = dyn_cast_or_null<ShapedType>(type);
  if (!shaped)
    return "f32";
  Type element = shaped.getElementType();
  if (element.isF64())
    return "f64";
  if (element.isF16())
    return "f16";
  if (element.isBF16())
    return "bf16";
  if (isa<FloatType>(element) && element.getIntOrFloatBitWidth() == 8)
    return "f8";
  if (element.isInteger(8))
    return "int8";
  return "f32";
}

std::optional<NodeCost> chorus::estimateNodeCost(NodeOp node,
                                                 const Target &target) {
  std::optional<NodeWork> work = getNodeWork(node);
  if (!work)
    return std::nullopt;
  NodeCost cost;
  cost.work = *work;
  cost.dtype = getComputeType(node);
  ClassEfficiency e = target.getEfficiency(work->opClass);
  cost.computeSeconds =
      work->flops / (target.getPeakFlops(cost.dtype) * e.compute);
  double bytes = work->bytesRead + work->bytesWritten;
  bool cached = bytes <= target.getCachedBytesLimit();
  cost.memorySeconds =
      bytes / (target.memoryBandwidth *
               (cached ? e.cachedMemory.value_or(e.memory) : e.memory));
  cost.overheadSeconds = *e.overheadSeconds + work->groups * e.perGroupSeconds +
                         work->expandedRows * e.perRowSeconds;
  // Subgraph bodies run once each (one branch of an If taken as both, one
  // iteration of a Loop): a documented approximation. Their own nested
  // bodies are counted by the recursion.
  for (Region &region : node->getRegions())
    for (Block &block : region)
      for (NodeOp inner : block.getOps<NodeOp>()) {
        std::optional<NodeCost> c = estimateNodeCost(inner, target);
        if (!c)
          return std::nullopt;
        cost.computeSeconds += c->computeSeconds;
        cost.memorySeconds += c->memorySeconds;
        cost.overheadSeconds += c->overheadSeconds;
        cost.work.flops += c->work.flops;
        cost.work.bytesRead += c->work.bytesRead;
        cost.work.bytesWritten += c->work.bytesWritten;
      }
  return cost;
}

/// The sum of the storage bytes of `values`, or std::nullopt.
static std::optional<double> sumBytes(ValueRange values) {
  double total = 0;
  for (Value v : values) {
    std::optional<int64_t> bytes = getValueStorageBytes(v.getType());
    if (!bytes)
      return std::nullopt;
    total += *bytes;
  }
  return total;
}

std::optional<NodeCost> chorus::estimateGroupCost(FusedOp group,
                                                  const Target &target) {
  NodeCost cost;
  // The anchor: the node of the group's kind with the most FLOPs (else
  // the node with the most FLOPs), first in body order on ties.
  std::optional<FusionKind> kind = parseFusionKind(group.getKind());
  NodeOp anchor;
  double anchorFlops = -1;
  bool anchorOfKind = false;
  for (NodeOp node : group.getBodyBlock().getOps<NodeOp>()) {
    std::optional<NodeCost> c = estimateNodeCost(node, target);
    if (!c)
      return std::nullopt;
    cost.computeSeconds += c->computeSeconds;
    cost.work.flops += c->work.flops;
    cost.work.estimated |= c->work.estimated;
    bool ofKind = kind && getFusionKind(node) == *kind;
    if ((ofKind && !anchorOfKind) ||
        (ofKind == anchorOfKind && c->work.flops > anchorFlops)) {
      anchor = node;
      anchorFlops = c->work.flops;
      anchorOfKind = ofKind;
      cost.work.opClass = c->work.opClass;
      cost.work.groups = c->work.groups;
      cost.work.expandedRows = c->work.expandedRows;
      cost.dtype = c->dtype;
    }
  }
  std::optional<double> read = sumBytes(group.getInputs());
  std::optional<double> written = sumBytes(group.getOutputs());
  if (!anchor || !read || !written)
    return std::nullopt;
  // One kernel: the anchor's memory efficiency and overhead, only the
  // bytes that enter and leave the group.
  cost.work.bytesRead = *read;
  cost.work.bytesWritten = *written;
  ClassEfficiency e = target.getEfficiency(cost.work.opClass);
  double bytes = *read + *written;
  bool cached = bytes <= target.getCachedBytesLimit();
  cost.memorySeconds =
      bytes / (target.memoryBandwidth *
               (cached ? e.cachedMemory.value_or(e.memory) : e.memory));
  cost.overheadSeconds = *e.overheadSeconds +
                         cost.work.groups * e.perGroupSeconds +
                         cost.work.expandedRows * e.perRowSeconds;
  return cost;
}

std::optional<NodeCost> chorus::estimateKernelCost(Operation *op,
                                                   const Target &target) {
  if (auto node = dyn_cast<NodeOp>(op))
    return estimateNodeCost(node, target);
  return estimateGroupCost(cast<FusedOp>(op), target);
}

FailureOr<ModelCost> chorus::estimateModelCost(func::FuncOp func,
                                               const Target &target) {
  ModelCost total;
  for (Operation &op : func.getBody().front()) {
    if (!isKernel(op))
      continue;
    std::optional<NodeCost> cost = estimateKernelCost(&op, target);
    if (!cost) {
      std::string what;
      if (auto node = dyn_cast<NodeOp>(op))
        what = "'" + node.getOpType().str() + "'";
      else
        what = "the fused group of '" +
               (*cast<FusedOp>(op).getBodyBlock().getOps<NodeOp>().begin())
                   .getOpType()
                   .str() +
               "'";
      return op.emitError()
             << "cannot estimate the cost of " << what
             << ": an operand or result has no static shape; bind the "
                "model's symbolic dims with --dim NAME=VALUE";
    }
    ++total.kernels;
    total.kernelCosts.push_back({&op, *cost});
    total.flops += cost->work.flops;
    total.bytes += cost->work.bytesRead + cost->work.bytesWritten;
    total.seconds += cost->seconds();
    total.secondsByClass[cost->work.opClass] += cost->seconds();
    total.secondsByBound[cost->bound()] += cost->seconds();
    // Nodes without a table entry, inside groups too.
    SmallVector<NodeOp> nodes;
    if (auto fused = dyn_cast<FusedOp>(op))
      llvm::append_range(nodes, fused.getBodyBlock().getOps<NodeOp>());
    else
      nodes.push_back(cast<NodeOp>(op));
    for (NodeOp node : nodes) {
      if (isKnownOp(node))
        continue;
      std::optional<NodeWork> work = getNodeWork(node);
      ++total.estimatedNodes;
      total.estimatedFlops += work ? work->flops : 0;
      ++total.estimatedOps[node.getOpType().str()];
    }
  }
  return total;
}
