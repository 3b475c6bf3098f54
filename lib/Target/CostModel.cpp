//===- CostModel.cpp - Predicted time of nodes on a target ----------------===//

#include "chorus/Target/CostModel.h"

#include "chorus/Analysis/ShapeOrigin.h"
#include "chorus/Target/KernelModel.h"

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

namespace {
/// What a node's regions add to its cost.
struct ControlCost {
  double computeSeconds = 0, memorySeconds = 0, overheadSeconds = 0;
  double flops = 0, bytesRead = 0, bytesWritten = 0;
  std::vector<std::string> assumptions;

  void add(const ControlCost &other, double times) {
    computeSeconds += times * other.computeSeconds;
    memorySeconds += times * other.memorySeconds;
    overheadSeconds += times * other.overheadSeconds;
    flops += times * other.flops;
    bytesRead += times * other.bytesRead;
    bytesWritten += times * other.bytesWritten;
    assumptions.insert(assumptions.end(), other.assumptions.begin(),
                       other.assumptions.end());
  }
  double seconds() const {
    return computeSeconds + memorySeconds + overheadSeconds;
  }
};
} // namespace

/// How `node` is named to the user: its name, else its op type.
static std::string describeNode(NodeOp node) {
  if (auto name = node->getAttrOfType<StringAttr>("name"))
    return node.getOpType().str() + " '" + name.getValue().str() + "'";
  // The importer's location names a node without a name by its position.
  if (auto loc = dyn_cast<NameLoc>(node->getLoc()))
    return loc.getName().getValue().str();
  return "an unnamed " + node.getOpType().str();
}

/// One run of the nodes of `region`.
static std::optional<ControlCost> estimateRegion(Region &region,
                                                 const Target &target) {
  ControlCost total;
  for (Block &block : region)
    for (NodeOp inner : block.getOps<NodeOp>()) {
      std::optional<NodeCost> c = estimateNodeCost(inner, target);
      if (!c)
        return std::nullopt;
      ControlCost one;
      one.computeSeconds = c->computeSeconds;
      one.memorySeconds = c->memorySeconds;
      one.overheadSeconds = c->overheadSeconds;
      one.flops = c->work.flops;
      one.bytesRead = c->work.bytesRead;
      one.bytesWritten = c->work.bytesWritten;
      one.assumptions = std::move(c->assumptions);
      total.add(one, 1);
    }
  return total;
}

/// The region of `node` its graph attribute `name` became.
static Region *regionNamed(NodeOp node, StringRef name) {
  for (auto [index, attr] : llvm::enumerate(node.getGraphNames()))
    if (cast<StringAttr>(attr).getValue() == name)
      return &node->getRegion(index);
  return nullptr;
}

static std::optional<double> loopTimes(NodeOp node, ControlCost &total);
static std::optional<double> scanTimes(NodeOp node);

static std::optional<ControlCost> estimateBodies(NodeOp node,
                                                 const Target &target) {
  ControlCost total;
  if (node->getNumRegions() == 0)
    return total;
  bool defaultDomain =
      node.getDomain().empty() || node.getDomain() == "ai.onnx";
  StringRef op = defaultDomain ? node.getOpType() : "";
  if (op == "If") {
    Region *thenRegion = regionNamed(node, "then_branch");
    Region *elseRegion = regionNamed(node, "else_branch");
    if (auto taken = node->getAttrOfType<StringAttr>("chorus.taken_branch")) {
      Region *region = taken.getValue() == "then" ? thenRegion : elseRegion;
      if (!region)
        return std::nullopt;
      return estimateRegion(*region, target);
    }
    // The condition is not known: the more expensive branch that can be
    // costed at all, said so.
    std::optional<ControlCost> thenCost, elseCost;
    if (thenRegion)
      thenCost = estimateRegion(*thenRegion, target);
    if (elseRegion)
      elseCost = estimateRegion(*elseRegion, target);
    if (!thenCost && !elseCost)
      return std::nullopt;
    bool takeThen =
        thenCost && (!elseCost || thenCost->seconds() >= elseCost->seconds());
    ControlCost chosen = takeThen ? *thenCost : *elseCost;
    std::string text =
        describeNode(node) +
        ": the condition is not known before run time; "
        "costed as its " +
        (thenCost && elseCost ? "more expensive" : "only typed") + " branch (" +
        (takeThen ? "then" : "else") +
        "); --input-value on the input that decides it "
        "settles the branch";
    chosen.assumptions.insert(chosen.assumptions.begin(), text);
    return chosen;
  }
  if (op == "Loop" || op == "Scan") {
    Region *bodyRegion = regionNamed(node, "body");
    std::optional<ControlCost> body;
    if (bodyRegion)
      body = estimateRegion(*bodyRegion, target);
    if (!body)
      return std::nullopt;
    std::optional<double> times =
        op == "Loop" ? loopTimes(node, total) : scanTimes(node);
    if (!times)
      return std::nullopt;
    total.add(*body, *times);
    return total;
  }
  // Other nodes with bodies: each body once.
  for (Region &region : node->getRegions()) {
    std::optional<ControlCost> c = estimateRegion(region, target);
    if (!c)
      return std::nullopt;
    total.add(*c, 1);
  }
  return total;
}

/// How many times a Loop runs its body: `chorus.trip_count`, else once,
/// noted in `total`'s assumptions.
static std::optional<double> loopTimes(NodeOp node, ControlCost &total) {
  double times = 1;
  if (auto count = node->getAttrOfType<IntegerAttr>("chorus.trip_count")) {
    times = static_cast<double>(count.getInt());
  } else {
    total.assumptions.push_back(
        describeNode(node) +
        ": the trip count is not known before run time; costed as one "
        "iteration" +
        (node->getAttrOfType<StringAttr>("name")
             ? " (give --trip-count " +
                   node->getAttrOfType<StringAttr>("name").getValue().str() +
                   "=N)"
             : std::string(" (the node has no name for --trip-count to "
                           "give it one)")));
  }
  return times;
}

/// How many times a Scan runs its body: the length of the scanned axis of
/// its first scan input.
static std::optional<double> scanTimes(NodeOp node) {
  DictionaryAttr attrs = node.getOnnxAttrs();
  auto scanInputs = attrs.getAs<IntegerAttr>("num_scan_inputs");
  int64_t inputs = scanInputs ? scanInputs.getInt() : 0;
  int64_t first = static_cast<int64_t>(node.getInputs().size()) - inputs;
  if (inputs < 1 || first < 0)
    return std::nullopt;
  int64_t axis = 0;
  if (auto axes = attrs.getAs<DenseI64ArrayAttr>("scan_input_axes"))
    if (!axes.empty())
      axis = axes[0];
  auto type = dyn_cast<RankedTensorType>(node.getInputs()[first].getType());
  if (!type || type.getRank() == 0)
    return std::nullopt;
  if (axis < 0)
    axis += type.getRank();
  if (axis < 0 || axis >= type.getRank() || type.isDynamicDim(axis))
    return std::nullopt;
  return static_cast<double>(type.getDimSize(axis));
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
  std::optional<ControlCost> body = estimateBodies(node, target);
  if (!body)
    return std::nullopt;
  cost.computeSeconds += body->computeSeconds;
  cost.memorySeconds += body->memorySeconds;
  cost.overheadSeconds += body->overheadSeconds;
  cost.work.flops += body->flops;
  cost.work.bytesRead += body->bytesRead;
  cost.work.bytesWritten += body->bytesWritten;
  cost.assumptions = std::move(body->assumptions);
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

std::vector<std::string> chorus::getImportAssumptions(func::FuncOp func) {
  std::vector<std::string> texts;
  if (auto array = func->getAttrOfType<ArrayAttr>("chorus.assumptions"))
    for (Attribute text : array)
      if (auto s = dyn_cast<StringAttr>(text))
        texts.push_back(s.getValue().str());
  return texts;
}

/// Whether `type` is a tensor of static shape (or none).
static bool hasStaticSize(Type type) {
  if (auto ranked = dyn_cast<RankedTensorType>(type))
    return ranked.hasStaticShape();
  return isa<NoneType>(type);
}

/// The op class a runtime kernel class reports under.
static OpClass getRuntimeOpClass(llvm::StringRef kernelClass) {
  if (kernelClass == "nchwc_conv" || kernelClass == "conv")
    return OpClass::Convolution;
  if (kernelClass.ends_with("_depthwise"))
    return OpClass::GroupedConvolution;
  if (kernelClass == "matmul")
    return OpClass::MatMulLike;
  if (kernelClass == "elementwise")
    return OpClass::Elementwise;
  if (kernelClass == "elementwise_math")
    return OpClass::ElementwiseMath;
  if (kernelClass == "normalization")
    return OpClass::Normalization;
  if (kernelClass == "pool")
    return OpClass::Reduction;
  return OpClass::DataMovement;
}

FailureOr<ModelCost> chorus::estimateModelCost(func::FuncOp func,
                                               const Target &target) {
  ModelCost total;
  total.assumptions = getImportAssumptions(func);
  if (target.predictsRuntime()) {
    FailureOr<std::vector<RuntimeKernelCost>> kernels =
        estimateRuntimeKernels(func, target);
    if (failed(kernels))
      return failure();
    for (const RuntimeKernelCost &k : *kernels) {
      NodeCost cost;
      cost.work.flops = k.features.flops;
      cost.work.bytesRead = k.features.bytes;
      cost.work.opClass = getRuntimeOpClass(k.features.kernelClass);
      cost.computeSeconds = k.computeSeconds;
      cost.memorySeconds = k.memorySeconds;
      cost.overheadSeconds = k.overheadSeconds;
      ++total.kernels;
      total.flops += cost.work.flops;
      total.bytes += cost.work.bytesRead;
      total.seconds += cost.seconds();
      total.secondsByClass[cost.work.opClass] += cost.seconds();
      total.secondsByBound[cost.bound()] += cost.seconds();
      // Times attach to the kernel's first node (inserted kernels have
      // none: they count in the totals only).
      if (!k.kernel.nodes.empty())
        total.kernelCosts.push_back({k.kernel.nodes.front(), cost});
    }
    // What each run costs beside its kernels: copying the inputs in and
    // the outputs out, the runtime's own work.
    if (target.runIo) {
      double run = target.runIo->seconds(getRunIoBytes(func));
      total.seconds += run;
      total.secondsByClass[OpClass::DataMovement] += run;
      total.secondsByBound[Bound::Overhead] += run;
    }
    return total;
  }
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
      std::string origin = explainUnknownShape(&op);
      bool allStatic = llvm::all_of(op.getOperandTypes(), hasStaticSize) &&
                       llvm::all_of(op.getResultTypes(), hasStaticSize);
      if (origin.empty() && allStatic)
        return op.emitError()
               << "cannot estimate the cost of " << what
               << ": the cost model has no size for its element types "
                  "(strings)";
      return op.emitError()
             << "cannot estimate the cost of " << what
             << ": an operand or result has no static shape"
             << (origin.empty() ? std::string("") : "; " + origin);
    }
    ++total.kernels;
    total.assumptions.insert(total.assumptions.end(), cost->assumptions.begin(),
                             cost->assumptions.end());
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
