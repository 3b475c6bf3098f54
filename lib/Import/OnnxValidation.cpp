//===- OnnxValidation.cpp - Checks before an ONNX graph is read -----------===//

#include "OnnxValidation.h"

#include "chorus/Import/TensorData.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <queue>
#include <vector>

using namespace mlir;
using namespace chorus;
using llvm::StringRef;

namespace {

class GraphValidator {
public:
  explicit GraphValidator(const OnnxLocations &locs) : locs(locs) {}

  LogicalResult validateModel(const onnx::GraphProto &graph,
                              const OnnxLimits &limits);

private:
  struct Validation {
    const OnnxLimits &limits;
    std::vector<llvm::StringSet<>> scopes;
    int64_t nodes = 0;
  };
  LogicalResult validateGraph(const onnx::GraphProto &graph, Validation &state);
  LogicalResult validateValueInfo(const onnx::ValueInfoProto &info);
  LogicalResult validateAttribute(const onnx::AttributeProto &attr,
                                  Location loc);
  Location labelLoc(const llvm::Twine &label) { return locs.label(label); }
  Location nodeLoc(const onnx::NodeProto &node, int index) {
    return locs.node(node, index);
  }

  const OnnxLocations &locs;
};

} // namespace

/// Checks that every node input is defined before it is used, in this graph
/// or an enclosing one, and that no value is defined twice.
LogicalResult GraphValidator::validateModel(const onnx::GraphProto &graph,
                                            const OnnxLimits &limits) {
  Validation state{limits, {}, 0};
  return validateGraph(graph, state);
}

/// The ONNX attribute kinds whose value fields `attr` has set.
static llvm::SmallVector<onnx::AttributeProto::AttributeType>
getSetAttributeKinds(const onnx::AttributeProto &attr) {
  using A = onnx::AttributeProto;
  llvm::SmallVector<A::AttributeType> kinds;
  auto add = [&](bool set, A::AttributeType kind) {
    if (set)
      kinds.push_back(kind);
  };
  add(attr.has_f(), A::FLOAT);
  add(attr.has_i(), A::INT);
  add(attr.has_s(), A::STRING);
  add(attr.has_t(), A::TENSOR);
  add(attr.has_g(), A::GRAPH);
  add(attr.has_sparse_tensor(), A::SPARSE_TENSOR);
  add(attr.has_tp(), A::TYPE_PROTO);
  add(attr.floats_size() != 0, A::FLOATS);
  add(attr.ints_size() != 0, A::INTS);
  add(attr.strings_size() != 0, A::STRINGS);
  add(attr.tensors_size() != 0, A::TENSORS);
  add(attr.graphs_size() != 0, A::GRAPHS);
  add(attr.sparse_tensors_size() != 0, A::SPARSE_TENSORS);
  add(attr.type_protos_size() != 0, A::TYPE_PROTOS);
  return kinds;
}

LogicalResult
GraphValidator::validateAttribute(const onnx::AttributeProto &attr,
                                  Location loc) {
  using A = onnx::AttributeProto;
  llvm::SmallVector<A::AttributeType> kinds = getSetAttributeKinds(attr);
  if (attr.type() == A::UNDEFINED) {
    if (kinds.size() > 1)
      return emitError(loc) << "attribute '" << attr.name()
                            << "' has no declared kind and values of "
                            << kinds.size() << " kinds";
    return success();
  }
  if (!A::AttributeType_IsValid(attr.type()))
    return emitError(loc) << "attribute '" << attr.name()
                          << "' declares the unknown kind " << attr.type();
  for (A::AttributeType kind : kinds)
    if (kind != attr.type())
      return emitError(loc)
             << "attribute '" << attr.name() << "' is declared "
             << A::AttributeType_Name(attr.type()) << " but holds a "
             << A::AttributeType_Name(kind) << " value";
  return success();
}

LogicalResult
GraphValidator::validateValueInfo(const onnx::ValueInfoProto &info) {
  const onnx::TypeProto *type = info.has_type() ? &info.type() : nullptr;
  while (type && (type->has_sequence_type() || type->has_optional_type()))
    type = type->has_sequence_type() ? &type->sequence_type().elem_type()
                                     : &type->optional_type().elem_type();
  if (!type || !type->has_tensor_type() || !type->tensor_type().has_shape())
    return success();
  Location loc = labelLoc("value '" + info.name() + "'");
  int64_t bytes =
      std::max(getOnnxElementBytes(type->tensor_type().elem_type()), 1);
  for (const auto &dim : type->tensor_type().shape().dim()) {
    if (!dim.has_dim_value())
      continue;
    if (dim.dim_value() < 0)
      return emitError(loc) << "value '" << info.name() << "' has negative dim "
                            << dim.dim_value();
    if (llvm::MulOverflow(bytes, dim.dim_value(), bytes))
      return emitError(loc) << "value '" << info.name()
                            << "' has dims whose byte count overflows 64 bits";
  }
  return success();
}

LogicalResult GraphValidator::validateGraph(const onnx::GraphProto &graph,
                                            Validation &state) {
  std::vector<llvm::StringSet<>> &outer = state.scopes;
  if (outer.size() > state.limits.maxNestingDepth)
    return emitError(labelLoc("graph '" + graph.name() + "'"))
           << "subgraphs are nested more than --max-nesting-depth="
           << state.limits.maxNestingDepth << " deep";
  for (auto *list : {&graph.input(), &graph.output(), &graph.value_info()})
    for (const onnx::ValueInfoProto &info : *list)
      if (failed(validateValueInfo(info)))
        return failure();
  llvm::StringSet<> laterOutputs;
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &output : node.output())
      if (!output.empty())
        laterOutputs.insert(output);
  outer.emplace_back();
  auto isDefined = [&](StringRef name) {
    return llvm::any_of(outer, [&](const llvm::StringSet<> &scope) {
      return scope.contains(name);
    });
  };
  auto define = [&](StringRef name, Location loc) -> LogicalResult {
    if (outer.back().contains(name))
      return emitError(loc) << "value '" << name << "' is defined twice";
    outer.back().insert(name);
    return success();
  };
  for (const onnx::ValueInfoProto &input : graph.input())
    if (!outer.back().contains(input.name()))
      outer.back().insert(input.name());
  for (const onnx::TensorProto &init : graph.initializer())
    outer.back().insert(init.name());
  for (const onnx::SparseTensorProto &init : graph.sparse_initializer())
    outer.back().insert(init.values().name());
  for (const auto &[index, node] : llvm::enumerate(graph.node())) {
    Location loc = nodeLoc(node, index);
    if (++state.nodes > state.limits.maxNodes)
      return emitError(loc)
             << "the model has more than --max-nodes=" << state.limits.maxNodes
             << " nodes";
    for (const onnx::AttributeProto &attr : node.attribute())
      if (failed(validateAttribute(attr, loc)))
        return failure();
    for (const std::string &input : node.input()) {
      if (input.empty() || isDefined(input))
        continue;
      if (laterOutputs.contains(input))
        return emitError(loc) << "uses value '" << input
                              << "' before the node that defines it; the "
                                 "graph is not in topological order";
      return emitError(loc) << "uses value '" << input
                            << "' that no node, input or initializer defines";
    }
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g() && failed(validateGraph(attr.g(), state)))
        return failure();
      for (const onnx::GraphProto &g : attr.graphs())
        if (failed(validateGraph(g, state)))
          return failure();
    }
    for (const std::string &output : node.output())
      if (!output.empty() && failed(define(output, loc)))
        return failure();
  }
  for (const onnx::ValueInfoProto &output : graph.output())
    if (!isDefined(output.name()))
      return emitError(labelLoc("output '" + output.name() + "'"))
             << "graph output '" << output.name()
             << "' is not defined by any node, input or initializer";
  outer.pop_back();
  return success();
}

LogicalResult chorus::validateOnnxGraph(const onnx::GraphProto &graph,
                                        const OnnxLimits &limits,
                                        const OnnxLocations &locs) {
  return GraphValidator(locs).validateModel(graph, limits);
}

/// Every value name `node` reads, in its inputs and its subgraphs' nodes.
static void collectReads(const onnx::NodeProto &node,
                         llvm::StringSet<> &reads) {
  for (const std::string &input : node.input())
    if (!input.empty())
      reads.insert(input);
  for (const onnx::AttributeProto &attr : node.attribute()) {
    if (attr.has_g())
      for (const onnx::NodeProto &inner : attr.g().node())
        collectReads(inner, reads);
    for (const onnx::GraphProto &g : attr.graphs())
      for (const onnx::NodeProto &inner : g.node())
        collectReads(inner, reads);
  }
}

static std::string describeNode(const onnx::NodeProto &node, int index) {
  if (node.name().empty())
    return "node #" + std::to_string(index) + " (" + node.op_type() + ")";
  return "node '" + node.name() + "' (" + node.op_type() + ")";
}

LogicalResult chorus::sortOnnxGraph(onnx::GraphProto &graph,
                                    const OnnxLocations &locs) {
  for (onnx::NodeProto &node : *graph.mutable_node())
    for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
      if (attr.has_g() && failed(sortOnnxGraph(*attr.mutable_g(), locs)))
        return failure();
      for (onnx::GraphProto &g : *attr.mutable_graphs())
        if (failed(sortOnnxGraph(g, locs)))
          return failure();
    }

  int n = graph.node_size();
  llvm::StringMap<int> producer;
  for (int i = 0; i < n; ++i)
    for (const std::string &output : graph.node(i).output())
      if (!output.empty())
        producer.try_emplace(output, i);

  // deps[i]: the nodes node i reads from; users: the reverse.
  std::vector<std::vector<int>> deps(n), users(n);
  bool sorted = true;
  for (int i = 0; i < n; ++i) {
    llvm::StringSet<> reads;
    collectReads(graph.node(i), reads);
    std::vector<std::string> names;
    for (const auto &entry : reads)
      names.push_back(entry.getKey().str());
    std::sort(names.begin(), names.end());
    for (const std::string &name : names) {
      auto it = producer.find(name);
      if (it == producer.end())
        continue;
      deps[i].push_back(it->second);
      if (it->second >= i)
        sorted = false;
    }
  }
  if (sorted)
    return success();

  std::vector<int> pending(n);
  for (int i = 0; i < n; ++i) {
    std::sort(deps[i].begin(), deps[i].end());
    deps[i].erase(std::unique(deps[i].begin(), deps[i].end()), deps[i].end());
    pending[i] = deps[i].size();
    for (int d : deps[i])
      users[d].push_back(i);
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.push(i);
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }

  if (static_cast<int>(order.size()) != n) {
    // Walk back from the first node left over along dependencies that are
    // also left over until a node repeats: that stretch is a cycle.
    int start = 0;
    while (pending[start] == 0)
      ++start;
    std::vector<int> walk, seenAt(n, -1);
    int at = start;
    while (seenAt[at] < 0) {
      seenAt[at] = walk.size();
      walk.push_back(at);
      int next = -1;
      for (int d : deps[at])
        if (pending[d] > 0) {
          next = d;
          break;
        }
      at = next;
    }
    std::vector<int> cycle(walk.begin() + seenAt[at], walk.end());
    std::reverse(cycle.begin(), cycle.end());
    // Start at the node that comes first in the file.
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()),
                cycle.end());
    std::string path;
    for (int i : cycle)
      path += describeNode(graph.node(i), i) + " -> ";
    path += describeNode(graph.node(cycle.front()), cycle.front());
    return emitError(locs.node(graph.node(cycle.front()), cycle.front()))
           << "the graph has a cycle: " << path;
  }

  // Apply the order: position k takes the node that was at order[k].
  std::vector<int> where(n), at(n);
  for (int i = 0; i < n; ++i)
    where[i] = at[i] = i; // where[node] = position; at[position] = node
  auto *nodes = graph.mutable_node();
  for (int k = 0; k < n; ++k) {
    int node = order[k];
    int from = where[node];
    if (from == k)
      continue;
    nodes->SwapElements(k, from);
    int displaced = at[k];
    at[from] = displaced;
    where[displaced] = from;
    at[k] = node;
    where[node] = k;
  }
  return success();
}
