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
  cost.overheadSeconds = *e.overheadSeconds + work->groups * e.perGroupSeconds;
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

FailureOr<ModelCost> chorus::estimateModelCost(func::FuncOp func,
                                               const Target &target) {
  ModelCost total;
  for (NodeOp node : func.getBody().front().getOps<NodeOp>()) {
    std::optional<NodeCost> cost = estimateNodeCost(node, target);
    if (!cost)
      return node.emitError()
             << "cannot estimate the cost of '" << node.getOpType()
             << "': an operand or result has no static shape; bind the "
                "model's symbolic dims with --dim NAME=VALUE";
    ++total.nodes;
    total.flops += cost->work.flops;
    total.bytes += cost->work.bytesRead + cost->work.bytesWritten;
    total.seconds += cost->seconds();
    total.secondsByClass[cost->work.opClass] += cost->seconds();
    total.secondsByBound[cost->bound()] += cost->seconds();
    if (cost->work.estimated) {
      ++total.estimatedNodes;
      total.estimatedFlops += cost->work.flops;
      ++total.estimatedOps[node.getOpType().str()];
    }
  }
  return total;
}
