//===- Sharing.cpp - What several models can share ------------------------===//

#include "chorus/Analysis/Sharing.h"
#include "chorus/Analysis/OpTable.h"
#include "chorus/Support/Format.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <map>
#include <tuple>

using namespace mlir;
using namespace chorus;

llvm::Expected<SameInput> chorus::parseSameInput(llvm::StringRef spec) {
  auto fail = [&]() {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "invalid --same-input '" + spec +
                                       "': expected MODEL:INPUT=MODEL:INPUT");
  };
  auto [lhs, rhs] = spec.split('=');
  auto [modelA, inputA] = lhs.split(':');
  auto [modelB, inputB] = rhs.split(':');
  if (modelA.empty() || inputA.empty() || modelB.empty() || inputB.empty())
    return fail();
  return SameInput{modelA.str(), inputA.str(), modelB.str(), inputB.str()};
}

llvm::Expected<std::vector<SameInput>>
chorus::parseSameInputs(llvm::ArrayRef<std::string> specs) {
  std::vector<SameInput> pairs;
  for (const std::string &spec : specs) {
    llvm::Expected<SameInput> pair = parseSameInput(spec);
    if (!pair)
      return pair.takeError();
    pairs.push_back(*pair);
  }
  return pairs;
}

FailureOr<std::vector<SameInput>>
chorus::parseSameInputs(llvm::ArrayRef<std::string> specs, Location loc) {
  llvm::Expected<std::vector<SameInput>> pairs = parseSameInputs(specs);
  if (!pairs)
    return emitError(loc) << llvm::toString(pairs.takeError());
  return std::move(*pairs);
}

llvm::StringRef chorus::stringifyBatchKind(BatchKind kind) {
  switch (kind) {
  case BatchKind::None:
    return "none";
  case BatchKind::SameStructure:
    return "same-structure";
  case BatchKind::Batchable:
    return "batchable";
  }
  return "none";
}

//===----------------------------------------------------------------------===//
// Value numbering across models
//===----------------------------------------------------------------------===//

namespace {

/// Gives every value and node a class such that equal classes mean the same
/// computation on the same data. Classes are interned keys of uniqued
/// attribute and type pointers and operand classes, so two nodes share a
/// class exactly when op type, domain, ONNX attributes, result types,
/// subgraph bodies and operand classes are all equal. Regions are numbered
/// in place, so If/Loop bodies compare by content too.
class ValueNumbering {
public:
  enum class Args { PerModel, Positional };
  enum class Weights { BySymbol, ByType };

  ValueNumbering(Args args, Weights weights) : args(args), weights(weights) {}

  /// Classes for arguments, overriding the default: used for same-input.
  llvm::DenseMap<Value, uint64_t> argClassOverride;

  void numberFunc(func::FuncOp func, unsigned funcIndex) {
    for (BlockArgument arg : func.getArguments()) {
      auto it = argClassOverride.find(arg);
      if (it != argClassOverride.end())
        valueClass[arg] = it->second;
      else if (args == Args::Positional)
        valueClass[arg] =
            intern({kArg, arg.getArgNumber(), ptr(arg.getType())});
      else
        valueClass[arg] = intern({kModelArg, funcIndex, arg.getArgNumber()});
    }
    numberBlock(func.getBody().front());
  }

  /// The signature of a whole model: argument types, every node's class in
  /// order, and the returned classes.
  std::vector<uint64_t> signature(func::FuncOp func) {
    std::vector<uint64_t> sig;
    for (Type type : func.getArgumentTypes())
      sig.push_back(ptr(type));
    for (Operation &op : func.getBody().front()) {
      auto it = opClass.find(&op);
      sig.push_back(it == opClass.end() ? 0 : it->second);
    }
    for (Value v : func.getBody().front().getTerminator()->getOperands())
      sig.push_back(classOf(v));
    return sig;
  }

  uint64_t classOf(Value v) {
    auto it = valueClass.find(v);
    if (it != valueClass.end())
      return it->second;
    // A value of an op we do not number: unique.
    return valueClass[v] = intern({kUnique, uniqueCounter++});
  }

  llvm::DenseMap<Operation *, uint64_t> opClass;
  llvm::DenseMap<Value, uint64_t> valueClass;

private:
  enum Tag : uint64_t {
    kArg = 1,
    kModelArg,
    kUnique,
    kWeight,
    kNone,
    kNode,
    kResult,
    kBlockArg,
  };

  static uint64_t ptr(Type type) {
    return reinterpret_cast<uintptr_t>(type.getAsOpaquePointer());
  }
  static uint64_t ptr(Attribute attr) {
    return reinterpret_cast<uintptr_t>(attr.getAsOpaquePointer());
  }

  uint64_t intern(std::vector<uint64_t> key) {
    auto [it, inserted] = table.try_emplace(std::move(key), table.size() + 1);
    return it->second;
  }

  void numberBlock(Block &block) {
    for (Operation &op : block)
      numberOp(&op);
  }

  void numberOp(Operation *op) {
    if (auto ref = dyn_cast<WeightRefOp>(op)) {
      uint64_t cls = weights == Weights::BySymbol
                         ? intern({kWeight, ptr(ref.getWeightAttr())})
                         : intern({kWeight, ptr(ref.getType())});
      opClass[op] = cls;
      valueClass[ref.getResult()] = cls;
      return;
    }
    if (auto none = dyn_cast<NoneOp>(op)) {
      valueClass[none.getResult()] = opClass[op] = intern({kNone});
      return;
    }
    auto node = dyn_cast<NodeOp>(op);
    if (!node)
      return;
    std::vector<uint64_t> key = {
        kNode, ptr(node.getOpTypeAttr()), ptr(node.getDomainAttr()),
        ptr(node.getOnnxAttrsAttr()), ptr(node.getGraphNamesAttr())};
    key.push_back(node.getNumResults());
    for (Type type : node.getResultTypes())
      key.push_back(ptr(type));
    key.push_back(node.getNumOperands());
    for (Value operand : node.getInputs())
      key.push_back(classOf(operand));
    for (Region &region : node.getGraphs()) {
      Block &body = region.front();
      key.push_back(body.getNumArguments());
      for (BlockArgument arg : body.getArguments()) {
        key.push_back(ptr(arg.getType()));
        valueClass[arg] =
            intern({kBlockArg, arg.getArgNumber(), ptr(arg.getType())});
      }
      numberBlock(body);
      Operation *yield = body.getTerminator();
      key.push_back(yield->getNumOperands());
      for (Value v : yield->getOperands())
        key.push_back(classOf(v));
    }
    uint64_t cls = intern(std::move(key));
    opClass[op] = cls;
    for (OpResult result : node->getResults())
      valueClass[result] = intern({kResult, cls, result.getResultNumber()});
  }

  Args args;
  Weights weights;
  std::map<std::vector<uint64_t>, uint64_t> table;
  uint64_t uniqueCounter = 0;
};

/// Disjoint sets over pointer-like keys, with path halving.
template <typename T> class UnionFind {
public:
  void insert(T x) { parent.try_emplace(x, x); }
  bool contains(T x) const { return parent.count(x); }
  T find(T x) {
    insert(x);
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
  void unite(T a, T b) { parent[find(a)] = find(b); }

private:
  llvm::DenseMap<T, T> parent;
};

/// The name a user gives a model: its func symbol or its file's stem.
bool modelMatches(func::FuncOp func, StringRef name) {
  if (func.getSymName() == name)
    return true;
  auto source = func->getAttrOfType<StringAttr>("chorus.source");
  return source && llvm::sys::path::stem(source.getValue()) == name;
}

/// The argument of `func` an input name denotes: its ONNX name or `#N`.
std::optional<BlockArgument> findInput(func::FuncOp func, StringRef input) {
  for (BlockArgument arg : func.getArguments()) {
    auto name =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "chorus.name");
    if (name && name.getValue() == input)
      return arg;
  }
  unsigned index;
  if (input.consume_front("#") && !input.getAsInteger(10, index) &&
      index < func.getNumArguments())
    return func.getArgument(index);
  return std::nullopt;
}

} // namespace

//===----------------------------------------------------------------------===//
// SharingAnalysis
//===----------------------------------------------------------------------===//

SharingAnalysis::SharingAnalysis(ModuleOp module,
                                 std::vector<SameInput> sameInputs)
    : module(module), sameInputs(std::move(sameInputs)) {}

std::optional<int64_t> SharingAnalysis::getComputeId(NodeOp node) const {
  auto it = computeIds.find(node);
  if (it == computeIds.end())
    return std::nullopt;
  return it->second;
}

LogicalResult SharingAnalysis::run() {
  SymbolTableCollection symbols;
  std::vector<func::FuncOp> funcs;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal())
      funcs.push_back(func);

  // Per model: weights read, nodes and FLOPs.
  std::vector<llvm::SetVector<Operation *>> weightsOf(funcs.size());
  std::vector<llvm::DenseMap<Operation *, double>> flopsOf(funcs.size());
  for (auto [index, func] : llvm::enumerate(funcs)) {
    Model model;
    model.func = func;
    model.name = func.getSymName().str();
    func.walk([&](Operation *op) {
      if (auto ref = dyn_cast<WeightRefOp>(op)) {
        if (auto weight = symbols.lookupNearestSymbolFrom<WeightOp>(
                ref, ref.getWeightAttr()))
          weightsOf[index].insert(weight);
      } else if (auto node = dyn_cast<NodeOp>(op);
                 node && node->getParentOp() == func.getOperation()) {
        ++model.nodeCount;
        std::optional<FlopCount> flops = getNodeFlops(node);
        if (!flops)
          ++model.nodesWithoutFlops;
        else if (flops->estimated)
          ++model.nodesWithEstimatedFlops;
        double value = flops ? flops->flops : 0;
        flopsOf[index][node] = value;
        model.flops += value;
      }
    });
    model.weightCount = weightsOf[index].size();
    for (Operation *weight : weightsOf[index])
      model.weightBytes += cast<WeightOp>(weight).getByteSizeAttr().getInt();
    models.push_back(model);
  }

  // Same-input classes.
  ValueNumbering sharing(ValueNumbering::Args::PerModel,
                         ValueNumbering::Weights::BySymbol);
  UnionFind<Value> sameTensor;
  for (const SameInput &same : sameInputs) {
    std::optional<BlockArgument> a, b;
    for (func::FuncOp func : funcs) {
      if (!a && modelMatches(func, same.modelA))
        a = findInput(func, same.inputA);
      if (!b && modelMatches(func, same.modelB))
        b = findInput(func, same.inputB);
    }
    std::string spec =
        same.modelA + ":" + same.inputA + "=" + same.modelB + ":" + same.inputB;
    if (!a || !b)
      return module.emitError()
             << "--same-input " << spec << ": no model input '"
             << (!a ? same.modelA + ":" + same.inputA
                    : same.modelB + ":" + same.inputB)
             << "'";
    if (a->getType() != b->getType())
      return module.emitError()
             << "--same-input " << spec << " pairs inputs of different types "
             << a->getType() << " and " << b->getType();
    sameTensor.unite(*a, *b);
  }
  uint64_t nextInputClass = 1ull << 62;
  llvm::DenseMap<Value, uint64_t> leaderClass;
  for (func::FuncOp func : funcs)
    for (BlockArgument arg : func.getArguments()) {
      if (!sameTensor.contains(arg))
        continue;
      Value leader = sameTensor.find(arg);
      auto [it, inserted] = leaderClass.try_emplace(leader, nextInputClass);
      if (inserted)
        ++nextInputClass;
      sharing.argClassOverride[arg] = it->second;
    }
  for (auto [index, func] : llvm::enumerate(funcs))
    sharing.numberFunc(func, index);

  // Which models perform each computation.
  std::map<uint64_t, std::vector<unsigned>> modelsOfClass;
  std::vector<llvm::DenseSet<uint64_t>> classesOf(funcs.size());
  for (auto [index, func] : llvm::enumerate(funcs))
    for (auto node : func.getBody().front().getOps<NodeOp>()) {
      uint64_t cls = sharing.opClass.lookup(node);
      if (classesOf[index].insert(cls).second)
        modelsOfClass[cls].push_back(index);
    }

  // Compute ids, numbered by first appearance, and the FLOPs saved.
  llvm::DenseMap<uint64_t, int64_t> idOfClass;
  for (auto [index, func] : llvm::enumerate(funcs))
    for (auto node : func.getBody().front().getOps<NodeOp>()) {
      uint64_t cls = sharing.opClass.lookup(node);
      if (modelsOfClass[cls].size() < 2)
        continue;
      auto [it, inserted] = idOfClass.try_emplace(cls, idOfClass.size());
      computeIds[node] = it->second;
      if (inserted)
        computeSaved +=
            (modelsOfClass[cls].size() - 1) * flopsOf[index].lookup(node);
    }

  // Memory saved: each weight held once instead of once per model.
  llvm::MapVector<Operation *, int64_t> readers;
  for (auto &weights : weightsOf)
    for (Operation *weight : weights)
      ++readers[weight];
  for (auto [weight, count] : readers)
    memorySaved +=
        (count - 1) * cast<WeightOp>(weight).getByteSizeAttr().getInt();

  // Whole-model signatures for batch compatibility.
  ValueNumbering exact(ValueNumbering::Args::Positional,
                       ValueNumbering::Weights::BySymbol);
  ValueNumbering structural(ValueNumbering::Args::Positional,
                            ValueNumbering::Weights::ByType);
  std::vector<std::vector<uint64_t>> exactSig, structuralSig;
  for (auto [index, func] : llvm::enumerate(funcs)) {
    exact.numberFunc(func, index);
    structural.numberFunc(func, index);
    exactSig.push_back(exact.signature(func));
    structuralSig.push_back(structural.signature(func));
  }

  for (unsigned a = 0; a < funcs.size(); ++a) {
    for (unsigned b = a + 1; b < funcs.size(); ++b) {
      Pair pair;
      pair.a = a;
      pair.b = b;
      for (Operation *weight : weightsOf[a])
        if (weightsOf[b].contains(weight)) {
          ++pair.sharedWeights;
          pair.sharedWeightBytes +=
              cast<WeightOp>(weight).getByteSizeAttr().getInt();
        }
      // Shared nodes of a, and their connected regions.
      UnionFind<Operation *> regions;
      std::vector<Operation *> shared;
      for (auto node : funcs[a].getBody().front().getOps<NodeOp>()) {
        if (!classesOf[b].contains(sharing.opClass.lookup(node)))
          continue;
        shared.push_back(node);
        regions.insert(node);
        ++pair.sharedNodes;
        pair.sharedFlops += flopsOf[a].lookup(node);
        for (Value operand : node.getInputs())
          if (Operation *def = operand.getDefiningOp();
              def && isa<NodeOp>(def) && regions.contains(def))
            regions.unite(def, node);
      }
      llvm::MapVector<Operation *, int64_t> sizes;
      for (Operation *node : shared)
        ++sizes[regions.find(node)];
      for (auto [leader, size] : sizes)
        pair.regionSizes.push_back(size);
      llvm::stable_sort(pair.regionSizes, std::greater<int64_t>());
      if (exactSig[a] == exactSig[b])
        pair.batch = BatchKind::Batchable;
      else if (structuralSig[a] == structuralSig[b])
        pair.batch = BatchKind::SameStructure;
      pairs.push_back(pair);
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

static std::string percent(double part, double whole) {
  if (whole == 0)
    return "-";
  return llvm::formatv("{0:F1}%", 100.0 * part / whole).str();
}

void SharingAnalysis::print(llvm::raw_ostream &os) const {
  os << "sharing across " << models.size() << " models\n";
  for (const Model &m : models) {
    os << "  @" << m.name << ": " << m.weightCount << " weights, "
       << formatWithSeparators(m.weightBytes) << " bytes; " << m.nodeCount
       << " nodes, " << formatWithSeparators(m.flops) << " FLOPs";
    if (m.nodesWithoutFlops)
      os << " (" << m.nodesWithoutFlops << " nodes without static shapes)";
    os << "\n";
  }
  for (const Pair &p : pairs) {
    const Model &a = models[p.a], &b = models[p.b];
    os << "@" << a.name << " ~ @" << b.name << ": "
       << stringifyBatchKind(p.batch) << "\n";
    os << "  weights: " << p.sharedWeights << " shared, "
       << formatWithSeparators(p.sharedWeightBytes) << " bytes ("
       << percent(p.sharedWeightBytes, a.weightBytes) << " of @" << a.name
       << ", " << percent(p.sharedWeightBytes, b.weightBytes) << " of @"
       << b.name << ")\n";
    os << "  compute: " << p.sharedNodes << " nodes, "
       << formatWithSeparators(p.sharedFlops) << " FLOPs ("
       << percent(p.sharedFlops, a.flops) << " of @" << a.name << "'s FLOPs, "
       << percent(p.sharedNodes, a.nodeCount) << " of its nodes)\n";
    os << "  regions: ";
    if (p.regionSizes.empty())
      os << "none";
    else
      os << p.regionSizes.size() << " (sizes "
         << llvm::join(llvm::map_range(
                           p.regionSizes,
                           [](int64_t size) { return std::to_string(size); }),
                       " ")
         << ")";
    os << "\n";
  }
  os << "saved: " << formatWithSeparators(memorySaved) << " bytes of weights, "
     << formatWithSeparators(computeSaved) << " FLOPs\n";
}

void SharingAnalysis::printJSON(llvm::raw_ostream &os) const {
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attribute("version", 1);
    j.attributeArray("models", [&] {
      for (const Model &m : models)
        j.object([&] {
          j.attribute("name", m.name);
          j.attribute("weights", m.weightCount);
          j.attribute("weight_bytes", m.weightBytes);
          j.attribute("nodes", m.nodeCount);
          j.attribute("flops", m.flops);
          j.attribute("nodes_without_flops", m.nodesWithoutFlops);
          j.attribute("nodes_with_estimated_flops", m.nodesWithEstimatedFlops);
        });
    });
    j.attributeArray("pairs", [&] {
      for (const Pair &p : pairs)
        j.object([&] {
          j.attribute("a", models[p.a].name);
          j.attribute("b", models[p.b].name);
          j.attribute("batch", stringifyBatchKind(p.batch));
          j.attribute("shared_weights", p.sharedWeights);
          j.attribute("shared_weight_bytes", p.sharedWeightBytes);
          j.attribute("shared_nodes", p.sharedNodes);
          j.attribute("shared_flops", p.sharedFlops);
          j.attributeArray("region_sizes", [&] {
            for (int64_t size : p.regionSizes)
              j.value(size);
          });
        });
    });
    j.attributeObject("saved", [&] {
      j.attribute("weight_bytes", memorySaved);
      j.attribute("flops", computeSaved);
    });
  });
  os << "\n";
}
