//===- FusionGroups.cpp - Which nodes run as one kernel -------------------===//
//
// The rule names, TVM's dominator fusion over the named fusions' seeds
// (OrtFusions.cpp), and the groups they make.
//
//===----------------------------------------------------------------------===//

#include "chorus/Analysis/FusionGroups.h"

#include "FusionGraph.h"
#include "chorus/Analysis/OpTable.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <queue>

using namespace mlir;
using namespace chorus;
using namespace chorus::fusion;

static const llvm::StringRef kRuleNames[] = {
    "conv-bn", "conv-add-relu", "conv-activation", "matmul-add",
    "gelu",    "layer-norm",    "attention",       "dominator"};

llvm::ArrayRef<llvm::StringRef> chorus::getFusionRuleNames() {
  return kRuleNames;
}

llvm::ArrayRef<llvm::StringRef> chorus::getOrtFusionRuleNames() {
  return llvm::ArrayRef<llvm::StringRef>(kRuleNames).drop_back();
}

std::string chorus::findUnknownFusionRule(const FusionOptions &options) {
  for (const std::string &rule : options.rules)
    if (!llvm::is_contained(getFusionRuleNames(), rule))
      return rule.empty() ? std::string("(empty)") : rule;
  return "";
}

namespace {

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
  DominatorFusion(const NodeGraph &graph, const NamedFusionResult &named,
                  const std::vector<Seed> &seeds,
                  const std::vector<bool> &dropped) {
    std::vector<int> unitOf(graph.nodes.size(), -1);
    std::vector<int> unitOfSeed(seeds.size(), -1);
    // Units numbered in topological order: the seeds are convex, so the
    // first node of each unit in body order gives one.
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      int seed = named.seedOf[i];
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

/// The groups of units sharing a root, as node lists in body order; groups
/// of one node are left out.
static std::vector<FusionGroup> collectGroups(const NodeGraph &graph,
                                              const DominatorFusion &fusion,
                                              const std::vector<int> &root) {
  size_t numUnits = fusion.units.size();
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

std::vector<FusionGroup>
chorus::computeFusionGroups(func::FuncOp func, const FusionOptions &options) {
  llvm::StringSet<> enabled;
  if (options.rules.empty())
    for (StringRef rule : getFusionRuleNames())
      enabled.insert(rule);
  for (const std::string &rule : options.rules)
    enabled.insert(rule);

  NodeGraph graph(func);
  NamedFusionResult named =
      findNamedFusions(graph, enabled, options.maxGroupSize);
  const std::vector<Seed> &seeds = named.seeds;
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

  return collectGroups(graph, fusion, root);
}
