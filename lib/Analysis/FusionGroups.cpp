//===- FusionGroups.cpp - Which nodes run as one kernel -------------------===//

#include "chorus/Analysis/FusionGroups.h"

#include "chorus/Analysis/OpTable.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <queue>

using namespace mlir;
using namespace chorus;

static const llvm::StringRef kRuleNames[] = {
    "conv-bn", "conv-add-relu", "conv-activation", "matmul-add",
    "gelu",    "layer-norm",    "attention",       "dominator"};

llvm::ArrayRef<llvm::StringRef> chorus::getFusionRuleNames() {
  return kRuleNames;
}

std::string chorus::findUnknownFusionRule(const FusionOptions &options) {
  for (const std::string &rule : options.rules)
    if (!llvm::is_contained(getFusionRuleNames(), rule))
      return rule.empty() ? std::string("(empty)") : rule;
  return "";
}

namespace {

/// One edge of the node graph: a value of one node read by another.
struct Edge {
  int to;
  FusionKind kind;
};

/// The top-level nodes of a model and who reads what.
struct NodeGraph {
  std::vector<NodeOp> nodes;
  llvm::DenseMap<Operation *, int> index;
  std::vector<std::vector<Edge>> out;
  /// Read by something that is not a node (the return, another group).
  std::vector<bool> external;

  explicit NodeGraph(func::FuncOp func) {
    Block &body = func.getBody().front();
    for (Operation &op : body)
      if (auto node = dyn_cast<NodeOp>(op)) {
        index[node] = nodes.size();
        nodes.push_back(node);
      }
    out.resize(nodes.size());
    external.assign(nodes.size(), false);
    for (auto [i, node] : llvm::enumerate(nodes))
      for (Value result : node->getResults())
        for (OpOperand &use : result.getUses()) {
          Operation *top = body.findAncestorOpInBlock(*use.getOwner());
          auto it = top ? index.find(top) : index.end();
          if (it == index.end()) {
            external[i] = true;
            continue;
          }
          // A value read inside a subgraph body: the node is opaque.
          FusionKind kind = top == use.getOwner()
                                ? getOperandFusionKind(nodes[it->second],
                                                       use.getOperandNumber())
                                : FusionKind::Opaque;
          out[i].push_back({it->second, kind});
        }
  }
};

/// Finds the named fusions. Each takes nodes no earlier rule took; a seed
/// is a set of node indices and the rule that found it.
class NamedFusions {
public:
  NamedFusions(const NodeGraph &graph, const llvm::StringSet<> &enabled)
      : graph(graph), enabled(enabled), seedOf(graph.nodes.size(), -1) {}

  struct Seed {
    std::vector<int> nodes;
    std::vector<std::string> rules;
    FusionKind kind;
  };

  std::vector<Seed> run(unsigned maxGroupSize) {
    this->maxGroupSize = maxGroupSize;
    int n = graph.nodes.size();
    for (int i = 0; i < n; ++i)
      if (node(i).getOpType() == "Conv" && isDefaultDomain(node(i)))
        matchConv(i);
    for (int i = 0; i < n; ++i) {
      if (!isDefaultDomain(node(i)))
        continue;
      StringRef op = node(i).getOpType();
      if (op == "MatMul")
        matchMatMulAdd(i);
      else if (op == "Erf" || op == "Tanh")
        matchGelu(i);
      else if (op == "ReduceMean")
        matchLayerNorm(i);
      else if (op == "Softmax")
        matchAttention(i);
    }
    return seeds;
  }

  int getSeed(int node) const { return seedOf[node]; }

private:
  static bool isDefaultDomain(NodeOp node) {
    return node.getDomain().empty() || node.getDomain() == "ai.onnx";
  }

  bool isFree(int i) const { return seedOf[i] < 0; }

  NodeOp node(int i) const { return graph.nodes[i]; }

  /// The index of the node defining `value` at the top level, or -1.
  int producer(Value value) const {
    Operation *def = value.getDefiningOp();
    auto it = def ? graph.index.find(def) : graph.index.end();
    return it == graph.index.end() ? -1 : it->second;
  }

  /// The one node reading node `i`'s single result, if it is free, of
  /// `opType`, reads it once and nothing else reads it; else -1.
  int soleUser(int i, StringRef opType = "") const {
    NodeOp n = node(i);
    if (n->getNumResults() != 1 || graph.external[i] ||
        graph.out[i].size() != 1)
      return -1;
    int user = graph.out[i].front().to;
    if (!isFree(user) || !isDefaultDomain(node(user)) ||
        (!opType.empty() && node(user).getOpType() != opType))
      return -1;
    return user;
  }

  static bool isWeight(Value value) {
    return value.getDefiningOp<WeightRefOp>() != nullptr;
  }

  /// Whether no path leaves `set` and comes back: a group of it keeps the
  /// graph acyclic. Nodes outside the set reached from it are searched
  /// only up to the set's last node, since body order is topological.
  bool isConvex(llvm::ArrayRef<int> set) const {
    llvm::DenseSet<int> members(set.begin(), set.end());
    int last = *std::max_element(set.begin(), set.end());
    std::vector<int> stack;
    llvm::DenseSet<int> seen;
    for (int i : set)
      for (const Edge &e : graph.out[i])
        if (!members.count(e.to) && e.to < last && seen.insert(e.to).second)
          stack.push_back(e.to);
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      for (const Edge &e : graph.out[i]) {
        if (members.count(e.to))
          return false;
        if (e.to < last && seen.insert(e.to).second)
          stack.push_back(e.to);
      }
    }
    return true;
  }

  bool on(StringRef rule) const { return enabled.contains(rule); }

  /// Records a seed, or extends seed `into` with `nodes`.
  void addSeed(std::vector<int> nodes, StringRef rule, FusionKind kind,
               int into = -1) {
    if (into >= 0) {
      Seed &seed = seeds[into];
      seed.nodes.insert(seed.nodes.end(), nodes.begin(), nodes.end());
      seed.rules.push_back(rule.str());
      nodes = seed.nodes;
    } else {
      into = seeds.size();
      seeds.push_back({nodes, {rule.str()}, kind});
    }
    for (int i : nodes)
      seedOf[i] = into;
  }

  bool fits(size_t size) const { return size <= maxGroupSize; }

  /// Conv (+BatchNormalization) (+Add of a same-shape tensor (+Relu)) or
  /// (+activation): ONNX Runtime's FusedConv on CPU.
  void matchConv(int conv) {
    if (!isFree(conv))
      return;
    int last = conv;
    int seed = -1;
    if (on("conv-bn")) {
      int bn = soleUser(conv, "BatchNormalization");
      if (bn >= 0 && node(bn)->getNumResults() == 1 &&
          node(bn).getInputs().size() == 5 &&
          llvm::all_of(llvm::drop_begin(node(bn).getInputs()), isWeight) &&
          fits(2)) {
        addSeed({conv, bn}, "conv-bn", FusionKind::OutElementwiseFusable);
        seed = seedOf[conv];
        last = bn;
      }
    }
    auto extend = [&](std::vector<int> nodes, StringRef rule) {
      size_t size = nodes.size() + (seed >= 0 ? seeds[seed].nodes.size() : 1);
      if (!fits(size))
        return false;
      if (seed < 0)
        nodes.insert(nodes.begin(), conv);
      addSeed(nodes, rule, FusionKind::OutElementwiseFusable, seed);
      return true;
    };
    if (on("conv-add-relu")) {
      int add = soleUser(last, "Add");
      if (add >= 0 && node(add).getInputs().size() == 2 &&
          node(add).getInputs()[0].getType() ==
              node(add).getInputs()[1].getType()) {
        std::vector<int> nodes = {add};
        int relu = soleUser(add, "Relu");
        if (relu >= 0)
          nodes.push_back(relu);
        std::vector<int> all = nodes;
        all.push_back(conv);
        if (seed >= 0)
          all.insert(all.end(), seeds[seed].nodes.begin(),
                     seeds[seed].nodes.end());
        if (isConvex(all) && extend(nodes, "conv-add-relu"))
          return;
      }
    }
    if (on("conv-activation")) {
      static const char *activations[] = {
          "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "HardSigmoid"};
      int user = soleUser(last);
      if (user >= 0 &&
          llvm::is_contained(activations, node(user).getOpType()) &&
          llvm::all_of(llvm::drop_begin(node(user).getInputs()), [](Value v) {
            return isWeight(v) || isa<NoneType>(v.getType());
          }))
        extend({user}, "conv-activation");
    }
  }

  /// MatMul + Add of a bias weight: ONNX Runtime's MatMulAddFusion (Gemm).
  void matchMatMulAdd(int matmul) {
    if (!on("matmul-add") || !isFree(matmul) || !fits(2))
      return;
    int add = soleUser(matmul, "Add");
    if (add < 0)
      return;
    ValueRange in = node(add).getInputs();
    Value other = in[0] == node(matmul)->getResult(0) ? in[1] : in[0];
    auto bias = dyn_cast<RankedTensorType>(other.getType());
    if (isWeight(other) && bias && bias.getRank() <= 1)
      addSeed({matmul, add}, "matmul-add", FusionKind::OutElementwiseFusable);
  }

  /// GELU in its erf form x * 0.5 * (1 + erf(x / sqrt 2)) or its tanh form
  /// x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), in any of the
  /// orders exporters write: the elementwise nodes between a value x and
  /// one result, containing the Erf (Tanh), reading only x and weights,
  /// where x's branch multiplies the Erf's (Tanh's) branch.
  void matchGelu(int anchor) {
    if (!on("gelu") || !isFree(anchor))
      return;
    static const char *alphabet[] = {"Add", "Sub", "Mul", "Div",
                                     "Pow", "Erf", "Tanh"};
    auto inAlphabet = [&](int i) {
      return isFree(i) && isDefaultDomain(node(i)) &&
             node(i)->getNumResults() == 1 &&
             llvm::is_contained(alphabet, node(i).getOpType());
    };
    auto firstData = [&](int i) -> Value {
      for (Value v : node(i).getInputs())
        if (!isWeight(v))
          return v;
      return Value();
    };
    // Candidates for x, nearest first.
    std::vector<Value> candidates;
    Value v = firstData(anchor);
    for (int step = 0; v && step < 6; ++step) {
      candidates.push_back(v);
      int def = producer(v);
      if (def < 0 || !inAlphabet(def))
        break;
      v = firstData(def);
    }
    for (Value x : candidates) {
      // Nodes reached from x through the alphabet, at most 12.
      std::vector<int> order;
      llvm::DenseSet<int> set;
      std::vector<int> frontier;
      for (OpOperand &use : x.getUses()) {
        Operation *owner = use.getOwner();
        auto it = graph.index.find(owner);
        if (it != graph.index.end() && inAlphabet(it->second) &&
            set.insert(it->second).second)
          frontier.push_back(it->second);
      }
      while (!frontier.empty() && set.size() <= 12) {
        int i = frontier.back();
        frontier.pop_back();
        order.push_back(i);
        for (const Edge &e : graph.out[i])
          if (inAlphabet(e.to) && set.insert(e.to).second)
            frontier.push_back(e.to);
      }
      if (set.size() > 12 || !set.count(anchor))
        continue;
      // Drop nodes that read anything but x, weights and the set, until
      // none does.
      bool changed = true;
      while (changed) {
        changed = false;
        for (int i : llvm::to_vector(set)) {
          bool ok = llvm::all_of(node(i).getInputs(), [&](Value in) {
            int def = producer(in);
            return in == x || isWeight(in) || (def >= 0 && set.count(def));
          });
          if (!ok) {
            set.erase(i);
            changed = true;
          }
        }
      }
      if (!set.count(anchor) || set.size() < 4 || !fits(set.size()))
        continue;
      // One result leaves the set; a Mul joins two computed branches.
      int escaping = 0;
      bool joins = false;
      for (int i : set) {
        if (graph.external[i] || llvm::any_of(graph.out[i], [&](const Edge &e) {
              return !set.count(e.to);
            }))
          ++escaping;
        else if (graph.out[i].empty())
          escaping = 2; // a dead end: not this pattern
        NodeOp n = node(i);
        if (n.getOpType() == "Mul" && !isWeight(n.getInputs()[0]) &&
            !isWeight(n.getInputs()[1]))
          joins = true;
      }
      std::vector<int> nodes(set.begin(), set.end());
      llvm::sort(nodes);
      if (escaping != 1 || !joins || !isConvex(nodes))
        continue;
      addSeed(nodes, "gelu", FusionKind::Elementwise);
      return;
    }
  }

  /// LayerNormalization written out: ReduceMean, Sub, Pow (or Mul by
  /// itself), ReduceMean, Add epsilon, Sqrt, Div, then optionally Mul by a
  /// scale and Add a bias: ONNX Runtime's LayerNormFusion.
  void matchLayerNorm(int mean) {
    if (!on("layer-norm") || !isFree(mean))
      return;
    Value x = node(mean).getInputs()[0];
    int sub = soleUser(mean, "Sub");
    if (sub < 0 || node(sub).getInputs()[0] != x || graph.external[sub] ||
        graph.out[sub].size() != 2)
      return;
    int square = -1, div = -1;
    for (const Edge &e : graph.out[sub]) {
      NodeOp n = node(e.to);
      if (!isFree(e.to))
        return;
      if (n.getOpType() == "Pow" && isWeight(n.getInputs()[1]))
        square = e.to;
      else if (n.getOpType() == "Mul" && n.getInputs()[0] == n.getInputs()[1])
        square = e.to;
      else if (n.getOpType() == "Div" &&
               n.getInputs()[0] == node(sub)->getResult(0))
        div = e.to;
    }
    if (square < 0 || div < 0)
      return;
    int variance = soleUser(square, "ReduceMean");
    int epsilon = variance >= 0 ? soleUser(variance, "Add") : -1;
    int sqrt = epsilon >= 0 ? soleUser(epsilon, "Sqrt") : -1;
    if (sqrt < 0 || soleUser(sqrt, "Div") != div ||
        !llvm::any_of(node(epsilon).getInputs(), isWeight))
      return;
    std::vector<int> nodes = {mean, sub, square, variance, epsilon, sqrt, div};
    int scale = soleUser(div, "Mul");
    if (scale >= 0 && llvm::any_of(node(scale).getInputs(), isWeight)) {
      nodes.push_back(scale);
      int bias = soleUser(scale, "Add");
      if (bias >= 0 && llvm::any_of(node(bias).getInputs(), isWeight))
        nodes.push_back(bias);
    }
    if (fits(nodes.size()) && isConvex(nodes))
      addSeed(nodes, "layer-norm", FusionKind::Reduction);
  }

  /// Attention: MatMul(Q, K^T) (+scale by Mul or Div) (+mask Add) ->
  /// Softmax -> MatMul(., V), with a Transpose producing K^T when only it
  /// reads it: ONNX Runtime's AttentionFusion core.
  void matchAttention(int softmax) {
    if (!on("attention") || !isFree(softmax))
      return;
    std::vector<int> nodes = {softmax};
    int i = producer(node(softmax).getInputs()[0]);
    for (int step = 0; step < 2 && i >= 0 && isFree(i) && soleUser(i) >= 0 &&
                       llvm::is_contained({StringRef("Add"), StringRef("Mul"),
                                           StringRef("Div")},
                                          node(i).getOpType());
         ++step) {
      nodes.push_back(i);
      i = producer(node(i).getInputs()[0]);
    }
    if (i < 0 || !isFree(i) || node(i).getOpType() != "MatMul" ||
        soleUser(i) < 0)
      return;
    int qk = i;
    nodes.push_back(qk);
    int av = soleUser(softmax, "MatMul");
    if (av < 0 || node(av).getInputs()[0] != node(softmax)->getResult(0))
      return;
    nodes.push_back(av);
    int transpose = producer(node(qk).getInputs()[1]);
    if (transpose >= 0 && isFree(transpose) &&
        node(transpose).getOpType() == "Transpose" && soleUser(transpose) == qk)
      nodes.push_back(transpose);
    llvm::sort(nodes);
    if (fits(nodes.size()) && isConvex(nodes))
      addSeed(nodes, "attention", FusionKind::Opaque);
  }

  const NodeGraph &graph;
  const llvm::StringSet<> &enabled;
  std::vector<int> seedOf;
  std::vector<Seed> seeds;
  unsigned maxGroupSize = 256;
};

/// TVM's FuseOps (src/relay/transforms/fuse_ops.cc) over units: single
/// nodes and the named fusions' seeds. Units are visited in topological
/// order; each tries to join its immediate post-dominator when every path
/// between them allows it.
class DominatorFusion {
public:
  struct Unit {
    std::vector<int> nodes;
    FusionKind kind;
    bool anchor;
    std::vector<std::string> rules;
    /// The named fusion it comes from, or -1.
    int seed;
  };
  std::vector<Unit> units;
  /// Unit edges, each with the kind of the reading unit (or its operand).
  std::vector<std::vector<Edge>> out;
  std::vector<bool> external;

  /// Seeds marked in `dropped` stay single nodes.
  DominatorFusion(const NodeGraph &graph, const NamedFusions &named,
                  const std::vector<NamedFusions::Seed> &seeds,
                  const std::vector<bool> &dropped) {
    std::vector<int> unitOf(graph.nodes.size(), -1);
    std::vector<int> unitOfSeed(seeds.size(), -1);
    // Units numbered in topological order: the seeds are convex, so the
    // first node of each unit in body order gives one.
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      int seed = named.getSeed(i);
      if (seed >= 0 && dropped[seed])
        seed = -1;
      if (seed >= 0 && unitOfSeed[seed] >= 0) {
        unitOf[i] = unitOfSeed[seed];
        continue;
      }
      Unit unit;
      if (seed >= 0) {
        unit.nodes = seeds[seed].nodes;
        llvm::sort(unit.nodes);
        unit.kind = seeds[seed].kind;
        unit.rules = seeds[seed].rules;
        unitOfSeed[seed] = units.size();
      } else {
        unit.nodes = {static_cast<int>(i)};
        unit.kind = getFusionKind(graph.nodes[i]);
      }
      unit.anchor = unit.kind == FusionKind::OutElementwiseFusable;
      unit.seed = seed;
      unitOf[i] = units.size();
      units.push_back(std::move(unit));
    }
    out.resize(units.size());
    external.assign(units.size(), false);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      int u = unitOf[i];
      if (graph.external[i])
        external[u] = true;
      for (const Edge &e : graph.out[i]) {
        int v = unitOf[e.to];
        if (v == u)
          continue;
        out[u].push_back(
            {v, units[v].nodes.size() == 1 ? e.kind : units[v].kind});
      }
    }
    order = topologicalOrder();
  }

  /// Whether the units' graph is acyclic: each seed is convex, but two
  /// seeds could still read each other's results.
  bool isAcyclic() const { return order.size() == units.size(); }

  /// The seeds of units left out of the topological order (on a cycle or
  /// after one).
  std::vector<int> seedsOffOrder() const {
    std::vector<bool> inOrder(units.size(), false);
    for (int u : order)
      inOrder[u] = true;
    std::vector<int> result;
    for (size_t u = 0; u < units.size(); ++u)
      if (!inOrder[u] && units[u].seed >= 0)
        result.push_back(units[u].seed);
    return result;
  }

  /// Unit indices in a topological order of the unit graph (by first node
  /// where free to choose).
  std::vector<int> topologicalOrder() const {
    std::vector<int> pending(units.size(), 0);
    for (const auto &edges : out)
      for (const Edge &e : edges)
        ++pending[e.to];
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (size_t u = 0; u < units.size(); ++u)
      if (!pending[u])
        ready.push(u);
    std::vector<int> result;
    while (!ready.empty()) {
      int u = ready.top();
      ready.pop();
      result.push_back(u);
      for (const Edge &e : out[u])
        if (--pending[e.to] == 0)
          ready.push(e.to);
    }
    return result;
  }

  void run(unsigned maxGroupSize) {
    buildPostDominators();
    group.resize(units.size());
    for (size_t u = 0; u < units.size(); ++u)
      group[u] = {static_cast<int>(u), units[u].kind, units[u].anchor,
                  static_cast<unsigned>(units[u].nodes.size())};
    for (int phase = 0; phase < 2; ++phase)
      for (int u : order)
        visit(u, phase, maxGroupSize);
  }

  /// The group (root unit) of unit `u`.
  int find(int u) {
    while (group[u].parent != u) {
      group[u].parent = group[group[u].parent].parent;
      u = group[u].parent;
    }
    return u;
  }

private:
  std::vector<int> order;
  /// Immediate post-dominator of each unit (-1: the exit) and the combined
  /// kind of the edges on the way to it.
  std::vector<int> domParent, domDepth;
  std::vector<FusionKind> domKind;

  struct Group {
    int parent;
    FusionKind kind;
    bool anchor;
    unsigned nodes;
  };
  std::vector<Group> group;

  static FusionKind combine(FusionKind a, FusionKind b) {
    return std::max(a, b);
  }

  int leastCommonAncestor(int a, int b, FusionKind &kind) const {
    while (a != b) {
      if (a < 0 || b < 0)
        return -1;
      if (domDepth[a] < domDepth[b]) {
        kind = combine(kind, domKind[b]);
        b = domParent[b];
      } else if (domDepth[b] < domDepth[a]) {
        kind = combine(kind, domKind[a]);
        a = domParent[a];
      } else {
        kind = combine(combine(kind, domKind[a]), domKind[b]);
        a = domParent[a];
        b = domParent[b];
      }
    }
    return a;
  }

  void buildPostDominators() {
    size_t n = units.size();
    domParent.assign(n, -1);
    domDepth.assign(n, 1);
    domKind.assign(n, FusionKind::Opaque);
    for (int u : llvm::reverse(order)) {
      if (external[u] || out[u].empty())
        continue;
      FusionKind kind = combine(FusionKind::Elementwise, out[u][0].kind);
      int parent = out[u][0].to;
      for (const Edge &e : llvm::drop_begin(out[u])) {
        parent = leastCommonAncestor(parent, e.to, kind);
        kind = combine(kind, e.kind);
      }
      domParent[u] = parent;
      domDepth[u] = parent >= 0 ? domDepth[parent] + 1 : 1;
      domKind[u] = kind;
    }
  }

  /// Whether every unit on a path from `src` to `sink` (sink included)
  /// satisfies `allowed(group kind, is sink)`.
  template <typename F> bool checkPath(int src, int sink, F allowed) {
    llvm::DenseSet<int> seen;
    std::vector<int> stack;
    for (const Edge &e : out[src])
      stack.push_back(e.to);
    while (!stack.empty()) {
      int u = stack.back();
      stack.pop_back();
      if (!seen.insert(u).second)
        continue;
      if (!allowed(group[find(u)].kind, u == sink))
        return false;
      if (u == sink)
        continue;
      for (const Edge &e : out[u])
        stack.push_back(e.to);
    }
    return true;
  }

  void merge(int child, int parent) {
    child = find(child);
    parent = find(parent);
    if (child == parent)
      return;
    group[parent].nodes += group[child].nodes;
    group[child].parent = parent;
    if (group[child].anchor) {
      group[parent].anchor = true;
      group[parent].kind = combine(group[child].kind, group[parent].kind);
    }
  }

  /// Calls `fn` once on every unit on a path from `src` (included) to
  /// `sink` (excluded).
  template <typename F> void forEachUpToSink(int src, int sink, F fn) {
    llvm::DenseSet<int> seen;
    std::vector<int> stack = {src};
    while (!stack.empty()) {
      int u = stack.back();
      stack.pop_back();
      if (u == sink || !seen.insert(u).second)
        continue;
      fn(u);
      for (const Edge &e : out[u])
        stack.push_back(e.to);
    }
  }

  /// Merges every unit on a path from `src` to `sink` into sink's group.
  void commitFuse(int src, int sink) {
    forEachUpToSink(src, sink, [&](int u) { merge(u, sink); });
  }

  /// Nodes in sink's group after fusing every path from `src` to it.
  unsigned countAfterFuse(int src, int sink) {
    llvm::DenseSet<int> roots;
    int sinkRoot = find(sink);
    unsigned count = group[sinkRoot].nodes;
    forEachUpToSink(src, sink, [&](int u) {
      int root = find(u);
      if (root != sinkRoot && roots.insert(root).second)
        count += group[root].nodes;
    });
    return count;
  }

  void visit(int u, int phase, unsigned maxGroupSize) {
    FusionKind kind = group[u].kind;
    int dom = domParent[u];
    if (kind == FusionKind::Opaque || dom < 0 || find(u) == find(dom))
      return;
    if (countAfterFuse(u, dom) > maxGroupSize)
      return;
    if (kind == FusionKind::OutElementwiseFusable) {
      // A convolution or matmul takes the elementwise ops it dominates.
      if (phase != 0 || domKind[u] != FusionKind::Elementwise)
        return;
      if (checkPath(u, dom, [](FusionKind k, bool) {
            return k <= FusionKind::Broadcast;
          }))
        commitFuse(u, dom);
    } else if (kind <= FusionKind::Broadcast) {
      // Elementwise ops join their post-dominator through injective paths,
      // ending in anything but an opaque op.
      if (domKind[u] > FusionKind::Injective &&
          domKind[u] != FusionKind::Reduction)
        return;
      if (checkPath(u, dom, [](FusionKind k, bool sink) {
            if (!sink)
              return k <= FusionKind::Injective;
            return k <= FusionKind::Reduction ||
                   k == FusionKind::OutElementwiseFusable;
          }))
        commitFuse(u, dom);
    } else if (kind == FusionKind::Injective) {
      // Injective chains, after the anchors have taken their consumers.
      if (phase != 1)
        return;
      if (checkPath(u, dom, [](FusionKind k, bool) {
            return k <= FusionKind::Injective;
          }))
        commitFuse(u, dom);
    }
  }
};

} // namespace

std::vector<FusionGroup>
chorus::computeFusionGroups(func::FuncOp func, const FusionOptions &options) {
  llvm::StringSet<> enabled;
  if (options.rules.empty())
    for (StringRef rule : getFusionRuleNames())
      enabled.insert(rule);
  for (const std::string &rule : options.rules)
    enabled.insert(rule);

  NodeGraph graph(func);
  NamedFusions named(graph, enabled);
  std::vector<NamedFusions::Seed> seeds = named.run(options.maxGroupSize);
  std::vector<bool> dropped(seeds.size(), false);
  std::optional<DominatorFusion> built;
  while (true) {
    built.emplace(graph, named, seeds, dropped);
    if (built->isAcyclic())
      break;
    for (int seed : built->seedsOffOrder())
      dropped[seed] = true;
  }
  DominatorFusion &fusion = *built;
  if (enabled.contains("dominator"))
    fusion.run(options.maxGroupSize);

  // Units by group; a group of units whose quotient would close a cycle
  // (which TVM's rules should never make) falls back to its units.
  size_t numUnits = fusion.units.size();
  std::vector<int> root(numUnits);
  for (size_t u = 0; u < numUnits; ++u)
    root[u] = enabled.contains("dominator") ? fusion.find(u) : u;
  while (true) {
    std::vector<int> pending(numUnits, 0);
    std::vector<std::vector<int>> members(numUnits);
    for (size_t u = 0; u < numUnits; ++u)
      members[root[u]].push_back(u);
    std::vector<llvm::SmallVector<int>> succ(numUnits);
    for (size_t u = 0; u < numUnits; ++u)
      for (const Edge &e : fusion.out[u])
        if (root[e.to] != root[u]) {
          succ[root[u]].push_back(root[e.to]);
          ++pending[root[e.to]];
        }
    std::vector<int> ready;
    size_t done = 0;
    for (size_t g = 0; g < numUnits; ++g)
      if (!members[g].empty() && !pending[g])
        ready.push_back(g);
    while (!ready.empty()) {
      int g = ready.back();
      ready.pop_back();
      ++done;
      for (int s : succ[g])
        if (--pending[s] == 0)
          ready.push_back(s);
    }
    size_t groups = llvm::count_if(members, [](auto &m) { return !m.empty(); });
    if (done == groups)
      break;
    for (size_t g = 0; g < numUnits; ++g)
      if (!members[g].empty() && pending[g])
        for (int u : members[g])
          root[u] = u;
  }

  std::vector<std::vector<int>> unitsOf(numUnits);
  for (size_t u = 0; u < numUnits; ++u)
    unitsOf[root[u]].push_back(u);
  std::vector<FusionGroup> groups;
  for (const std::vector<int> &members : unitsOf) {
    if (members.empty())
      continue;
    std::vector<int> nodes;
    FusionKind kind = FusionKind::Elementwise;
    bool anchored = false;
    llvm::StringSet<> rules;
    for (int u : members) {
      const auto &unit = fusion.units[u];
      nodes.insert(nodes.end(), unit.nodes.begin(), unit.nodes.end());
      kind = std::max(kind, unit.kind);
      anchored |= unit.anchor;
      for (const std::string &rule : unit.rules)
        rules.insert(rule);
    }
    if (nodes.size() < 2)
      continue;
    if (members.size() > 1)
      rules.insert("dominator");
    llvm::sort(nodes);
    FusionGroup group;
    for (int i : nodes)
      group.nodes.push_back(graph.nodes[i]);
    group.kind = anchored ? FusionKind::OutElementwiseFusable : kind;
    for (StringRef rule : getFusionRuleNames())
      if (rules.contains(rule))
        group.rules.push_back(rule.str());
    groups.push_back(std::move(group));
  }
  llvm::sort(groups, [&](const FusionGroup &a, const FusionGroup &b) {
    return graph.index.lookup(a.nodes.front()) <
           graph.index.lookup(b.nodes.front());
  });
  return groups;
}

void chorus::applyFusionGroups(func::FuncOp func,
                               llvm::ArrayRef<FusionGroup> groups) {
  Block &body = func.getBody().front();
  MLIRContext *ctx = func.getContext();
  for (const FusionGroup &g : groups) {
    llvm::DenseSet<Operation *> members;
    for (NodeOp node : g.nodes)
      members.insert(node);
    llvm::SetVector<Value> inputs;
    SmallVector<Value> outputs;
    SmallVector<Location> locs;
    for (NodeOp node : g.nodes) {
      locs.push_back(node.getLoc());
      for (Value in : node.getInputs())
        if (!members.count(in.getDefiningOp()))
          inputs.insert(in);
      for (Value result : node->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !members.count(body.findAncestorOpInBlock(*user));
            }))
          outputs.push_back(result);
    }
    OpBuilder b(g.nodes.back());
    SmallVector<Attribute> rules;
    for (const std::string &rule : g.rules)
      rules.push_back(b.getStringAttr(rule));
    auto fused = b.create<FusedOp>(FusedLoc::get(ctx, locs),
                                   ValueRange(outputs).getTypes(),
                                   b.getStringAttr(getFusionKindName(g.kind)),
                                   b.getArrayAttr(rules), inputs.getArrayRef());
    SmallVector<Location> argLocs(inputs.size(), fused.getLoc());
    Block *block =
        b.createBlock(&fused.getBody(), {},
                      ValueRange(inputs.getArrayRef()).getTypes(), argLocs);
    for (NodeOp node : g.nodes)
      node->moveBefore(block, block->end());
    b.setInsertionPointToEnd(block);
    b.create<YieldOp>(fused.getLoc(), outputs);
    for (auto [input, arg] : llvm::zip(inputs, block->getArguments()))
      Value(input).replaceUsesWithIf(arg, [&](OpOperand &use) {
        return fused->isProperAncestor(use.getOwner());
      });
    for (auto [value, result] : llvm::zip(outputs, fused.getOutputs()))
      value.replaceUsesWithIf(result, [&](OpOperand &use) {
        return !fused->isProperAncestor(use.getOwner());
      });
  }
  // A group sits where its last node was; readers of its results placed
  // between its nodes move after it.
  sortTopologically(&body);
}

unsigned chorus::unfuseAll(Operation *root) {
  SmallVector<FusedOp> fused;
  root->walk([&](FusedOp op) { fused.push_back(op); });
  for (FusedOp op : fused)
    op.inlineBody();
  return fused.size();
}
