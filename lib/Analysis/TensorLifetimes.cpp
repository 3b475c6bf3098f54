//===- TensorLifetimes.cpp - Live intervals of a model's tensors ----------===//

#include "chorus/Analysis/TensorLifetimes.h"
#include "chorus/Analysis/ShapeOrigin.h"

#include "chorus/Analysis/OpTable.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/Format.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <queue>

using namespace mlir;
using namespace chorus;

/// The kernels of `func`'s body in order: nodes and fused groups.
static std::vector<Operation *> bodyNodes(func::FuncOp func) {
  std::vector<Operation *> nodes;
  for (Operation &op : func.getBody().front())
    if (isKernel(op))
      nodes.push_back(&op);
  return nodes;
}

/// Whether `op` is a node whose first result views its first operand.
static bool isView(Operation *op) {
  auto node = dyn_cast<NodeOp>(op);
  return node && isViewNode(node);
}

/// A step's label: the node's op type and name, or the group's nodes.
static std::string stepLabel(Operation *op) {
  if (auto node = dyn_cast<NodeOp>(op)) {
    std::string label = node.getOpType().str();
    if (node.getName())
      label += " '" + node.getName()->str() + "'";
    return label;
  }
  auto fused = cast<FusedOp>(op);
  std::string label = "fused";
  unsigned count = 0;
  for (NodeOp node : fused.getBodyBlock().getOps<NodeOp>())
    label += (count++ ? "+" : " ") + node.getOpType().str();
  return label;
}

TensorLifetimes::TensorLifetimes(func::FuncOp func, ArrayRef<Operation *> order)
    : func(func), schedule(order.begin(), order.end()) {
  if (schedule.empty())
    schedule = bodyNodes(func);
}

std::optional<size_t> TensorLifetimes::lookup(Value value) const {
  auto it = owner.find(value);
  if (it == owner.end())
    return std::nullopt;
  return it->second;
}

static std::string valueName(func::FuncOp func, Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "chorus.name"))
      return name.str();
    return "arg" + std::to_string(arg.getArgNumber());
  }
  if (auto fused = value.getDefiningOp<FusedOp>())
    return valueName(func, fused.getYield()->getOperand(
                               cast<OpResult>(value).getResultNumber()));
  auto node = cast<NodeOp>(value.getDefiningOp());
  std::string base =
      node.getName() ? node.getName()->str() : node.getOpType().str();
  if (node->getNumResults() > 1)
    base += "#" + std::to_string(cast<OpResult>(value).getResultNumber());
  return base;
}

/// getValueStorageBytes in the planner's unit.
static std::optional<uint64_t> storageBytes(Type type) {
  if (std::optional<int64_t> bytes = getValueStorageBytes(type))
    return static_cast<uint64_t>(*bytes);
  return std::nullopt;
}

/// The bytes of the values `region`'s nodes define (nested bodies
/// included); values without a static size are counted in `uncounted`.
static uint64_t regionBytes(Region &region, unsigned &uncounted) {
  uint64_t bytes = 0;
  region.walk([&](Operation *inner) {
    for (Value result : inner->getResults()) {
      if (std::optional<uint64_t> b = storageBytes(result.getType()))
        bytes += *b;
      else
        ++uncounted;
    }
  });
  return bytes;
}

uint64_t chorus::bodyWorkspace(NodeOp node, unsigned &uncounted) {
  if (node->getNumRegions() == 0)
    return 0;
  bool defaultDomain =
      node.getDomain().empty() || node.getDomain() == "ai.onnx";
  if (defaultDomain && node.getOpType() == "If") {
    // One branch runs: the one the importer found taken, else the larger.
    auto taken = node->getAttrOfType<StringAttr>("chorus.taken_branch");
    uint64_t largest = 0;
    for (auto [index, name] : llvm::enumerate(node.getGraphNames())) {
      StringRef branch = cast<StringAttr>(name).getValue();
      if (taken && branch != (taken.getValue() + "_branch").str())
        continue;
      unsigned skipped = 0;
      uint64_t bytes =
          regionBytes(node->getRegion(index), taken ? uncounted : skipped);
      uncounted += taken ? 0 : skipped;
      largest = std::max(largest, bytes);
    }
    return largest;
  }
  // A Loop or Scan body runs again and again in the same memory; other
  // bodies run once each, one after another.
  uint64_t largest = 0;
  for (Region &region : node->getRegions())
    largest = std::max(largest, regionBytes(region, uncounted));
  return largest;
}

LogicalResult TensorLifetimes::run() {
  tensors.clear();
  owner.clear();
  weightBytes = 0;
  uncounted = 0;
  const int64_t end = schedule.size();

  llvm::DenseMap<Operation *, int64_t> step;
  for (auto [i, op] : llvm::enumerate(schedule))
    step[op] = i;

  // Weights: each symbol once, in their own section.
  llvm::DenseSet<Operation *> weights;
  // One symbol table for all lookups: the static lookup scans the module
  // for each reference.
  SymbolTableCollection symbols;
  func.walk([&](WeightRefOp ref) {
    Operation *symbol =
        symbols.lookupNearestSymbolFrom(ref, ref.getWeightAttr());
    if (auto weight = dyn_cast_or_null<WeightOp>(symbol))
      if (weights.insert(weight).second)
        weightBytes += weight.getByteSize();
  });

  auto addTensor = [&](Value value, Operation *def, LiveTensor::Kind kind,
                       int64_t lower) -> LogicalResult {
    std::optional<uint64_t> bytes = storageBytes(value.getType());
    if (!bytes) {
      InFlightDiagnostic diag = def ? def->emitError() : func.emitError();
      diag << "'" << valueName(func, value) << "' has no static size ("
           << value.getType() << "); ";
      // Only tensors take their size from dims; a sequence or optional
      // holds a number of tensors known at run time.
      if (isa<ShapedType>(value.getType())) {
        std::string origin = explainUnknownShape(value);
        diag << (origin.empty() ? std::string("bind the model's inputs with "
                                              "--input-shape or --dim")
                                : origin);
      } else
        diag << "sequences and optionals hold tensors known only at run "
                "time, so their memory cannot be planned";
      return failure();
    }
    if (*bytes == 0)
      return success();
    LiveTensor t;
    t.value = value;
    t.definingNode = def;
    t.name = valueName(func, value);
    t.kind = kind;
    t.lower = lower;
    t.upper = lower + 1;
    t.bytes = *bytes;
    owner[value] = tensors.size();
    tensors.push_back(std::move(t));
    return success();
  };

  for (BlockArgument arg : func.getArguments())
    if (failed(addTensor(arg, nullptr, LiveTensor::Kind::Input, 0)))
      return failure();

  auto extend = [&](Value used, int64_t at) {
    auto it = owner.find(used);
    if (it != owner.end())
      tensors[it->second].upper = std::max(tensors[it->second].upper, at + 1);
  };

  for (auto [i, op] : llvm::enumerate(schedule)) {
    int64_t now = i;
    for (Value input : op->getOperands())
      extend(input, now);
    // Values of the enclosing graph read inside subgraph bodies are used
    // when the node runs; the bodies' own values form one workspace. A
    // fused group's inner values are not materialized: it has none.
    uint64_t workspace = 0;
    if (auto node = dyn_cast<NodeOp>(op)) {
      op->walk([&](Operation *inner) {
        if (inner == op)
          return;
        for (Value operand : inner->getOperands())
          if (!op->isAncestor(operand.getParentRegion()->getParentOp()))
            extend(operand, now);
      });
      workspace = bodyWorkspace(node, uncounted);
    }
    if (workspace) {
      LiveTensor t;
      t.definingNode = op;
      t.name = (op->getNumResults() ? valueName(func, op->getResult(0))
                                    : stepLabel(op)) +
               " (subgraph workspace)";
      t.kind = LiveTensor::Kind::Workspace;
      t.lower = now;
      t.upper = now + 1;
      t.bytes = workspace;
      tensors.push_back(std::move(t));
    }
    // A view shares its source's bytes (weights stay weights).
    if (isView(op)) {
      Value source = op->getOperand(0);
      Value result = op->getResult(0);
      if (auto it = owner.find(source); it != owner.end()) {
        // Copy the index first: inserting may grow the map.
        size_t index = it->second;
        owner[result] = index;
        ++tensors[index].views;
        continue;
      }
      if (source.getDefiningOp<WeightRefOp>())
        continue;
    }
    for (Value result : op->getResults())
      if (failed(addTensor(result, op, LiveTensor::Kind::Activation, now)))
        return failure();
  }

  // Graph outputs live to the end.
  Operation *terminator = func.getBody().front().getTerminator();
  for (Value output : terminator->getOperands()) {
    auto it = owner.find(output);
    if (it == owner.end())
      continue;
    LiveTensor &t = tensors[it->second];
    t.upper = std::max<int64_t>(t.upper, std::max<int64_t>(end, 1));
    if (t.kind == LiveTensor::Kind::Activation)
      t.kind = LiveTensor::Kind::Output;
  }
  return success();
}

IntervalProblem TensorLifetimes::toProblem() const {
  IntervalProblem problem;
  llvm::StringMap<unsigned> used;
  for (const LiveTensor &t : tensors) {
    // Names can repeat (unnamed nodes); ids must not.
    std::string id = t.name;
    unsigned &count = used[t.name];
    if (count++)
      id += "~" + std::to_string(count);
    problem.buffers.push_back({id, t.lower, t.upper, t.bytes});
  }
  return problem;
}

std::vector<uint64_t>
TensorLifetimes::liveBytesPerStep(uint64_t alignment) const {
  std::vector<uint64_t> live(std::max<size_t>(schedule.size(), 1), 0);
  for (const LiveTensor &t : tensors)
    for (int64_t s = t.lower; s < t.upper && s < (int64_t)live.size(); ++s)
      live[s] += alignUp(t.bytes, alignment);
  return live;
}

static const char *kindName(LiveTensor::Kind kind) {
  switch (kind) {
  case LiveTensor::Kind::Input:
    return "input";
  case LiveTensor::Kind::Activation:
    return "activation";
  case LiveTensor::Kind::Output:
    return "output";
  case LiveTensor::Kind::Workspace:
    return "workspace";
  }
  return "?";
}

void TensorLifetimes::print(llvm::raw_ostream &os) const {
  os << "lifetimes @" << func.getSymName() << ": " << schedule.size()
     << " steps, " << tensors.size() << " arena tensors, weights "
     << formatWithSeparators(weightBytes) << " bytes\n";
  for (const LiveTensor &t : tensors) {
    os << "  [" << t.lower << ", " << t.upper << ") "
       << formatWithSeparators(t.bytes) << " B " << kindName(t.kind) << " '"
       << t.name << "'";
    if (t.views)
      os << " (+" << t.views << " view" << (t.views > 1 ? "s" : "") << ")";
    os << "\n";
  }
  if (uncounted)
    os << "  " << uncounted
       << " values inside subgraphs have no static size and are not counted\n";
  std::vector<uint64_t> live = liveBytesPerStep();
  size_t peak = std::max_element(live.begin(), live.end()) - live.begin();
  os << "memory profile @" << func.getSymName() << " (bytes live while each "
     << "step runs):\n";
  for (auto [i, op] : llvm::enumerate(schedule)) {
    os << "  " << i << " " << stepLabel(op) << ": "
       << formatWithSeparators(live[i]) << (i == peak ? "  <- peak" : "")
       << "\n";
  }
  // The tensors that make the peak, largest first.
  std::vector<const LiveTensor *> atPeak;
  for (const LiveTensor &t : tensors)
    if (t.lower <= (int64_t)peak && (int64_t)peak < t.upper)
      atPeak.push_back(&t);
  std::stable_sort(atPeak.begin(), atPeak.end(),
                   [](const LiveTensor *a, const LiveTensor *b) {
                     return a->bytes > b->bytes;
                   });
  os << "peak @" << func.getSymName() << ": step " << peak << ", "
     << formatWithSeparators(live.empty() ? 0 : live[peak]) << " bytes in "
     << atPeak.size() << " tensors; largest:";
  for (size_t i = 0; i < atPeak.size() && i < 5; ++i)
    os << (i ? ", " : " ") << "'" << atPeak[i]->name << "' "
       << formatWithSeparators(atPeak[i]->bytes);
  os << "\n";
}

std::optional<uint64_t> chorus::peakLiveBytes(func::FuncOp func,
                                              ArrayRef<Operation *> order,
                                              uint64_t alignment) {
  TensorLifetimes lifetimes(func, order);
  // Quietly: callers compare orders, the planner reports errors.
  ScopedDiagnosticHandler quiet(func.getContext(),
                                [](Diagnostic &) { return success(); });
  if (failed(lifetimes.run()))
    return std::nullopt;
  std::vector<uint64_t> live = lifetimes.liveBytesPerStep(alignment);
  return live.empty() ? 0 : *std::max_element(live.begin(), live.end());
}

std::vector<Operation *> chorus::memoryAwareOrder(func::FuncOp func) {
  std::vector<Operation *> nodes = bodyNodes(func);
  size_t n = nodes.size();
  llvm::DenseMap<Operation *, size_t> index;
  for (auto [i, op] : llvm::enumerate(nodes))
    index[op] = i;

  // Dependencies between top-level nodes, including values read inside
  // subgraph bodies.
  std::vector<std::vector<size_t>> users(n);
  std::vector<size_t> pending(n, 0);
  // Remaining readers of each value; bytes freed when it reaches zero.
  llvm::DenseMap<Value, unsigned> readers;
  std::vector<std::vector<Value>> reads(n);
  for (auto [i, op] : llvm::enumerate(nodes)) {
    llvm::DenseSet<Value> seen;
    llvm::DenseSet<size_t> producers;
    op->walk([&](Operation *inner) {
      for (Value v : inner->getOperands()) {
        // Values defined inside (subgraph or group bodies) are not reads.
        if (op->isAncestor(v.getParentRegion()->getParentOp()))
          continue;
        Operation *def = v.getDefiningOp();
        if (!seen.insert(v).second)
          continue;
        reads[i].push_back(v);
        ++readers[v];
        if (def)
          if (auto it = index.find(def); it != index.end())
            producers.insert(it->second);
      }
    });
    pending[i] = producers.size();
    for (size_t p : producers)
      users[p].push_back(i);
  }
  for (Value v : func.getBody().front().getTerminator()->getOperands())
    ++readers[v]; // outputs are never freed

  auto bytesOf = [](Value v) -> int64_t {
    std::optional<uint64_t> b = storageBytes(v.getType());
    return b ? static_cast<int64_t>(*b) : 0;
  };
  // Views and weights allocate nothing; weights are never freed.
  auto allocated = [&](size_t i) -> int64_t {
    if (isView(nodes[i]))
      return 0;
    int64_t total = 0;
    for (Value r : nodes[i]->getResults())
      total += bytesOf(r);
    return total;
  };
  auto freed = [&](size_t i) -> int64_t {
    int64_t total = 0;
    for (Value v : reads[i]) {
      if (readers[v] != 1 || v.getDefiningOp<WeightRefOp>())
        continue;
      total += bytesOf(v);
    }
    return total;
  };

  // Ready nodes ordered by (allocated - freed, original index); the score
  // of a ready node changes when another reader of its inputs runs, so it
  // is recomputed when popped (lazy priority queue).
  using Entry = std::pair<int64_t, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.push({allocated(i) - freed(i), i});
  std::vector<Operation *> order;
  std::vector<bool> done(n, false);
  while (!ready.empty()) {
    auto [score, i] = ready.top();
    ready.pop();
    if (done[i])
      continue;
    int64_t now = allocated(i) - freed(i);
    if (now != score) {
      ready.push({now, i});
      continue;
    }
    done[i] = true;
    order.push_back(nodes[i]);
    for (Value v : reads[i])
      --readers[v];
    for (size_t u : users[i])
      if (--pending[u] == 0)
        ready.push({allocated(u) - freed(u), u});
  }
  if (order.size() != n)
    return nodes; // not a DAG the way we read it: keep the body order
  return order;
}
