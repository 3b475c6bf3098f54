//===- OrtFusions.cpp - ONNX Runtime's named CPU fusions ------------------===//

#include "FusionGraph.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir;
using namespace chorus;
using namespace chorus::fusion;

namespace {

/// Finds the named fusions. Each takes nodes no earlier rule took; a seed
/// is a set of node indices and the rule that found it.
class NamedFusions {
public:
  NamedFusions(const NodeGraph &graph, const llvm::StringSet<> &enabled)
      : graph(graph), enabled(enabled), seedOf(graph.nodes.size(), -1) {}

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

  const std::vector<int> &getSeedOf() const { return seedOf; }

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

  /// A weight, or an Identity of one (exporters share a weight through
  /// Identity nodes; ONNX Runtime removes them before it fuses).
  static bool isWeight(Value value) {
    for (int depth = 0; depth < 8; ++depth) {
      if (value.getDefiningOp<WeightRefOp>())
        return true;
      auto node = value.getDefiningOp<NodeOp>();
      if (!node || node.getOpType() != "Identity" ||
          !node.getDomain().empty() || node.getInputs().size() != 1)
        return false;
      value = node.getInputs()[0];
    }
    return false;
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

} // namespace

NamedFusionResult
chorus::fusion::findNamedFusions(const NodeGraph &graph,
                                 const llvm::StringSet<> &enabled,
                                 unsigned maxGroupSize) {
  NamedFusions named(graph, enabled);
  NamedFusionResult result;
  result.seeds = named.run(maxGroupSize);
  result.seedOf = named.getSeedOf();
  return result;
}
