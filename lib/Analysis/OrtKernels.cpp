//===- OrtKernels.cpp - The kernels ONNX Runtime's CPU provider runs ------===//
//
// A small mutable graph of the model's top-level nodes, rewritten level by
// level as ONNX Runtime's graph transformers rewrite it. The rules follow
// ONNX Runtime's documented behaviour (its graph optimizations page and
// the transformers' conditions); where the mirror simplifies, the
// difference is written beside the rule and in docs/Fusion.md.
//
//===----------------------------------------------------------------------===//

#include "chorus/Analysis/OrtKernels.h"

#include "FusionGraph.h"
#include "chorus/Analysis/OpTable.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

using namespace mlir;
using namespace chorus;

StringRef chorus::getOrtLevelName(OrtLevel level) {
  switch (level) {
  case OrtLevel::Disabled:
    return "disabled";
  case OrtLevel::Basic:
    return "basic";
  case OrtLevel::Extended:
    return "extended";
  case OrtLevel::All:
    return "all";
  }
  return "all";
}

std::optional<OrtLevel> chorus::parseOrtLevel(StringRef name) {
  for (OrtLevel level :
       {OrtLevel::Disabled, OrtLevel::Basic, OrtLevel::Extended, OrtLevel::All})
    if (name == getOrtLevelName(level))
      return level;
  return std::nullopt;
}

std::map<std::string, unsigned> OrtKernels::histogram() const {
  std::map<std::string, unsigned> counts;
  for (const OrtKernel &kernel : kernels)
    ++counts[kernel.op];
  return counts;
}

namespace {

/// What ONNX Runtime's shape inference knows of one dim of a value, from
/// the shapes the file declares: a number, a name shared by the dims it
/// equals, or nothing.
struct Dim {
  enum Kind { Static, Symbol, Unknown } kind = Unknown;
  int64_t value = 0;
  std::string symbol;

  bool operator==(const Dim &o) const {
    if (kind != o.kind)
      return false;
    if (kind == Static)
      return value == o.value;
    if (kind == Symbol)
      return symbol == o.symbol;
    return false; // two unknown dims are not known to be equal
  }
};

struct RValue {
  Value value;
  bool constant = false;
  /// Read by the model's return.
  bool output = false;
  std::vector<Dim> dims;
  /// The node defining it, or -1 (a model input or a weight).
  int producer = -1;

  bool allStatic() const {
    return llvm::all_of(dims,
                        [](const Dim &d) { return d.kind == Dim::Static; });
  }
  RankedTensorType type() const {
    return dyn_cast_or_null<RankedTensorType>(value ? value.getType() : Type());
  }
};

struct RNode {
  std::string op;
  std::vector<int> in;
  std::vector<int> out;
  /// The model's nodes it computes; the first is the one it started as.
  std::vector<NodeOp> sources;
  bool dead = false;
  bool folded = false;
  std::string activation;
  bool sum = false;
  /// For inserted nodes: the model's value converted.
  Value value;
  /// Sort key: the model's order, inserted nodes beside their neighbours.
  double position = 0;

  NodeOp primary() const { return sources.empty() ? NodeOp() : sources[0]; }
  bool is(StringRef name) const { return op == name; }
};

class Mirror {
public:
  Mirror(func::FuncOp func, const OrtCpuSettings &settings)
      : func(func), settings(settings) {}

  OrtKernels run() {
    build();
    if (settings.level >= OrtLevel::Basic) {
      for (int round = 0; round < 8; ++round) {
        bool changed = foldConstants();
        changed |= eliminateNoOps();
        changed |= mergeCommonSubexpressions();
        changed |= fuseIntoConv();
        changed |= fuseReshapeShapes();
        changed |= fusePads();
        if (!changed)
          break;
      }
    }
    if (settings.level >= OrtLevel::Extended) {
      // ONNX Runtime fuses MatMul + Add before it fuses a bias into Gelu
      // (BiasGeluFusion): the bias goes to the Gemm.
      fuseMatMulAdd();
      // ONNX Runtime Web's WebGPU provider gets MatMulAddFusion,
      // QuickGeluFusion and ConvActivationFusion of these, as its profiles
      // show: the others name other providers.
      if (!settings.webGpu)
        fuseNamedPatterns();
      fuseQuickGelu();
      fuseConvActivation();
      if (!settings.webGpu) {
        fuseGemmActivation();
        fuseSlicesToSplit();
        fuseMatMulTransposeAndScale();
      }
    }
    if (settings.level >= OrtLevel::All && settings.nchwcBlock > 1)
      transformNchwc();
    if (settings.level >= OrtLevel::All && settings.nchwcBlock <= 1 &&
        !settings.webGpu)
      fuseConvAddActivation();
    if (settings.webGpu)
      transformNhwc();
    return collect();
  }

private:
  func::FuncOp func;
  OrtCpuSettings settings;
  std::vector<RValue> values;
  std::vector<RNode> nodes;
  llvm::DenseMap<Value, int> valueIds;

  //===--------------------------------------------------------------------===//
  // Building
  //===--------------------------------------------------------------------===//

  int valueId(Value v) {
    auto it = valueIds.find(v);
    if (it != valueIds.end())
      return it->second;
    int id = values.size();
    valueIds[v] = id;
    RValue rv;
    rv.value = v;
    rv.constant = v.getDefiningOp<WeightRefOp>() != nullptr;
    if (auto type = dyn_cast<RankedTensorType>(v.getType()))
      for (int64_t d : type.getShape()) {
        Dim dim;
        if (rv.constant) {
          dim.kind = Dim::Static;
          dim.value = d;
        }
        rv.dims.push_back(dim);
      }
    values.push_back(std::move(rv));
    return id;
  }

  static bool isNone(Value v) { return isa<NoneType>(v.getType()); }

  void build() {
    Block &body = func.getBody().front();
    for (BlockArgument arg : body.getArguments()) {
      int id = valueId(arg);
      auto dynamic = func.getArgAttrOfType<DenseI64ArrayAttr>(
          arg.getArgNumber(), "chorus.declared_dynamic");
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      for (auto [i, dim] : llvm::enumerate(values[id].dims)) {
        bool open = dynamic && llvm::is_contained(dynamic.asArrayRef(),
                                                  static_cast<int64_t>(i));
        if (!open) {
          dim.kind = Dim::Static;
          dim.value = type.getDimSize(i);
        } else if (i == 0) {
          // A leading open dim is the batch by every exporter's convention;
          // ONNX's shape inference carries its name through.
          dim.kind = Dim::Symbol;
          dim.symbol = "batch";
        }
      }
    }
    int index = 0;
    for (Operation &op : body) {
      auto node = dyn_cast<NodeOp>(op);
      if (!node)
        continue;
      RNode r;
      r.op = node.getDomain().empty() || node.getDomain() == "ai.onnx"
                 ? node.getOpType().str()
                 : (node.getDomain() + ":" + node.getOpType()).str();
      r.sources.push_back(node);
      r.position = index++;
      for (Value v : node.getInputs())
        r.in.push_back(isNone(v) ? -1 : valueId(v));
      for (Value v : node->getResults()) {
        int id = valueId(v);
        values[id].producer = nodes.size();
        r.out.push_back(id);
      }
      nodes.push_back(std::move(r));
      inferDims(nodes.size() - 1);
    }
    if (Operation *ret = body.getTerminator())
      for (Value v : ret->getOperands())
        values[valueId(v)].output = true;
  }

  /// What ONNX's shape inference would know of node `n`'s results, given
  /// its operands: conv-like ops keep the batch and know the channels;
  /// elementwise ops merge their operands; anything else is static when
  /// every operand is, else unknown.
  void inferDims(int n) {
    RNode &r = nodes[n];
    NodeOp node = r.primary();
    StringRef op = node.getOpType();
    auto operand = [&](unsigned i) -> RValue * {
      return i < r.in.size() && r.in[i] >= 0 ? &values[r.in[i]] : nullptr;
    };
    bool allStatic = llvm::all_of(
        r.in, [&](int v) { return v < 0 || values[v].allStatic(); });
    for (auto [k, id] : llvm::enumerate(r.out)) {
      RValue &result = values[id];
      auto type = result.type();
      if (!type)
        continue;
      for (auto [i, dim] : llvm::enumerate(result.dims)) {
        dim = Dim();
        // A shape query's result has a fixed length whatever its operand.
        if (allStatic || getFolding(node) == Folding::FromShape) {
          dim.kind = Dim::Static;
          dim.value = type.getDimSize(i);
        }
      }
      if (allStatic || k > 0)
        continue;
      RValue *x = operand(0);
      bool convLike = op == "Conv" || op == "ConvTranspose" ||
                      op == "MaxPool" || op == "AveragePool" ||
                      op == "LpPool" || op == "GlobalAveragePool" ||
                      op == "GlobalMaxPool";
      if (convLike && x && x->dims.size() == result.dims.size() &&
          result.dims.size() >= 3) {
        result.dims[0] = x->dims[0];
        result.dims[1] = {Dim::Static, type.getDimSize(1), ""};
        for (size_t i = 2; i < result.dims.size(); ++i)
          if (x->dims[i].kind == Dim::Static || op.starts_with("Global"))
            result.dims[i] = {Dim::Static, type.getDimSize(i), ""};
        continue;
      }
      FusionKind kind = getFusionKind(node);
      if (kind != FusionKind::Elementwise && kind != FusionKind::Broadcast &&
          op != "BatchNormalization" && op != "Softmax" &&
          op != "LayerNormalization" && op != "InstanceNormalization")
        continue;
      // Elementwise: per dim, aligned from the right.
      for (size_t i = 0; i < result.dims.size(); ++i) {
        std::optional<Dim> merged;
        bool unknown = false;
        for (int v : r.in) {
          if (v < 0)
            continue;
          const std::vector<Dim> &d = values[v].dims;
          size_t offset = result.dims.size() - d.size();
          if (i < offset || d.size() > result.dims.size())
            continue;
          const Dim &di = d[i - offset];
          if (di.kind == Dim::Static && di.value == 1 &&
              type.getDimSize(i) != 1)
            continue;
          if (di.kind == Dim::Unknown)
            unknown = true;
          else if (!merged)
            merged = di;
          else if (!(*merged == di) && merged->kind == Dim::Static)
            merged = di;
        }
        if (merged && !unknown)
          result.dims[i] = *merged;
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  /// The live nodes of the model reading value `v`, once per operand slot
  /// (inserted reorders and reshapes are not uses of the model's value).
  std::vector<int> users(int v) const {
    std::vector<int> result;
    for (auto [i, n] : llvm::enumerate(nodes))
      if (!n.dead && !n.value)
        for (int x : n.in)
          if (x == v)
            result.push_back(i);
    return result;
  }

  /// The one live node reading `v` (once), when `v` is not a model output.
  int soleUser(int v, StringRef op = "") const {
    if (v < 0 || values[v].output)
      return -1;
    std::vector<int> u = users(v);
    if (u.size() != 1 || (!op.empty() && !nodes[u[0]].is(op)))
      return -1;
    return u[0];
  }

  void replaceUses(int from, int to) {
    for (RNode &n : nodes)
      if (!n.dead)
        for (int &x : n.in)
          if (x == from)
            x = to;
  }

  /// Node `into` absorbs node `n`: it produces `n`'s results in place of
  /// its own result `ownResult`.
  void absorb(int into, int n, int ownResult = 0) {
    RNode &a = nodes[into];
    RNode &b = nodes[n];
    a.sources.insert(a.sources.end(), b.sources.begin(), b.sources.end());
    a.out[ownResult] = b.out[0];
    values[b.out[0]].producer = into;
    b.dead = true;
  }

  bool isConstant(int v) const { return v < 0 || values[v].constant; }

  Attribute attr(const RNode &n, StringRef name) const {
    return n.primary() ? n.primary().getOnnxAttr(name) : Attribute();
  }
  int64_t intAttr(const RNode &n, StringRef name, int64_t fallback) const {
    if (auto a = dyn_cast_or_null<IntegerAttr>(attr(n, name)))
      return a.getInt();
    return fallback;
  }
  double floatAttr(const RNode &n, StringRef name, double fallback) const {
    if (auto a = dyn_cast_or_null<FloatAttr>(attr(n, name)))
      return a.getValueAsDouble();
    return fallback;
  }
  std::string strAttr(const RNode &n, StringRef name) const {
    if (auto a = dyn_cast_or_null<StringAttr>(attr(n, name)))
      return a.str();
    return "";
  }
  std::vector<int64_t> intsAttr(const RNode &n, StringRef name) const {
    Attribute a = attr(n, name);
    if (auto dense = dyn_cast_or_null<DenseI64ArrayAttr>(a))
      return std::vector<int64_t>(dense.asArrayRef().begin(),
                                  dense.asArrayRef().end());
    std::vector<int64_t> result;
    if (auto array = dyn_cast_or_null<ArrayAttr>(a))
      for (Attribute e : array)
        if (auto i = dyn_cast<IntegerAttr>(e))
          result.push_back(i.getInt());
    return result;
  }

  /// The values of a small constant, if the IR holds them.
  std::optional<std::vector<double>> constantValues(int v) const {
    if (v < 0)
      return std::nullopt;
    auto ref = values[v].value.getDefiningOp<WeightRefOp>();
    if (!ref)
      return std::nullopt;
    auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
        ref, ref.getWeightAttr());
    if (!weight || !weight.getValue())
      return std::nullopt;
    std::vector<double> result;
    ElementsAttr elements = *weight.getValue();
    if (auto dense = dyn_cast<DenseElementsAttr>(elements)) {
      if (isa<FloatType>(dense.getElementType())) {
        for (APFloat f : dense.getValues<APFloat>())
          result.push_back(f.convertToDouble());
        return result;
      }
      if (isa<IntegerType>(dense.getElementType())) {
        for (APInt i : dense.getValues<APInt>())
          result.push_back(static_cast<double>(i.getSExtValue()));
        return result;
      }
    }
    return std::nullopt;
  }

  bool isFloat(int v) const {
    auto type = v >= 0 ? values[v].type() : RankedTensorType();
    return type && type.getElementType().isF32();
  }

  //===--------------------------------------------------------------------===//
  // Level basic
  //===--------------------------------------------------------------------===//

  /// ConstantFolding: a deterministic node of constant operands becomes
  /// an initializer; Shape and Size too when their operand's shape is
  /// known from the declared shapes. Nodes whose result is a model output
  /// stay.
  bool foldConstants() {
    bool changed = false;
    for (RNode &n : nodes) {
      if (n.dead || n.sources.size() != 1 || n.value)
        continue;
      NodeOp node = n.primary();
      if (node->getNumRegions() != 0 ||
          llvm::any_of(n.out, [&](int v) { return values[v].output; }))
        continue;
      Folding folding = getFolding(node);
      bool fold = false;
      if (folding == Folding::Always)
        fold = true;
      else if (folding == Folding::FromShape)
        fold = !n.in.empty() && n.in[0] >= 0 && values[n.in[0]].allStatic();
      else if (folding == Folding::FromOperands)
        fold = llvm::all_of(n.in, [&](int v) { return isConstant(v); });
      if (!fold)
        continue;
      n.dead = n.folded = true;
      for (int v : n.out) {
        values[v].constant = true;
        for (Dim &d : values[v].dims)
          if (auto type = values[v].type()) {
            d.kind = Dim::Static;
            d.value = type.getDimSize(&d - values[v].dims.data());
          }
      }
      changed = true;
    }
    return changed;
  }

  /// EliminateIdentity, EliminateDropout, a Cast to the type it has, a Pad
  /// of constant zeros.
  bool eliminateNoOps() {
    bool changed = false;
    for (RNode &n : nodes) {
      if (n.dead || n.sources.size() != 1 || n.value || n.in.empty() ||
          n.in[0] < 0 || values[n.out[0]].output)
        continue;
      bool noop = false;
      if (n.is("Identity"))
        noop = true;
      else if (n.is("Dropout"))
        noop = n.out.size() == 1 || users(n.out[1]).empty();
      else if (n.is("Pad"))
        // Zero pads (computed, then folded): the result is the operand.
        noop = llvm::all_of(llvm::drop_begin(n.in),
                            [&](int v) { return isConstant(v); }) &&
               values[n.in[0]].type() &&
               values[n.in[0]].type() == values[n.out[0]].type();
      else if (n.is("Cast"))
        noop = values[n.in[0]].type() && values[n.out[0]].type() &&
               values[n.in[0]].type().getElementType() ==
                   values[n.out[0]].type().getElementType();
      if (!noop)
        continue;
      replaceUses(n.out[0], n.in[0]);
      n.dead = n.folded = true;
      changed = true;
    }
    return changed;
  }

  /// CommonSubexpressionElimination: nodes of one op, equal attributes and
  /// the same operands compute one value.
  bool mergeCommonSubexpressions() {
    bool changed = false;
    std::map<std::string, int> seen;
    for (auto [i, n] : llvm::enumerate(nodes)) {
      if (n.dead || n.sources.size() != 1 || n.value)
        continue;
      NodeOp node = n.primary();
      if (node->getNumRegions() != 0 || getFolding(node) == Folding::Never)
        continue;
      std::string key;
      llvm::raw_string_ostream os(key);
      os << n.op << "|" << node.getOnnxAttrs() << "|" << n.out.size();
      for (int v : n.in)
        os << "," << v;
      auto [it, inserted] = seen.try_emplace(key, i);
      if (inserted)
        continue;
      if (llvm::any_of(n.out, [&](int v) { return values[v].output; }))
        continue;
      RNode &kept = nodes[it->second];
      for (auto [a, b] : llvm::zip(n.out, kept.out))
        replaceUses(a, b);
      n.dead = n.folded = true;
      changed = true;
    }
    return changed;
  }

  /// The channels of a Conv, if its weights are a constant of rank >= 3.
  int64_t convChannels(const RNode &conv) const {
    if (conv.in.size() < 2 || !isConstant(conv.in[1]) || conv.in[1] < 0)
      return -1;
    auto w = values[conv.in[1]].type();
    return w && w.getRank() >= 3 ? w.getDimSize(0) : -1;
  }

  /// Whether constant `v` broadcasts per channel over the output of a
  /// Conv of `rank` with `channels` channels: (C,1,...) or (1,C,1,...).
  bool perChannel(int v, int64_t rank, int64_t channels) const {
    if (v < 0 || !values[v].constant || !values[v].type())
      return false;
    ArrayRef<int64_t> s = values[v].type().getShape();
    if (static_cast<int64_t>(s.size()) == rank)
      s = s.drop_front(s.empty() || s[0] != 1 ? 0 : 1);
    if (static_cast<int64_t>(s.size()) != rank - 1 || s.empty() ||
        s[0] != channels)
      return false;
    return llvm::all_of(s.drop_front(), [](int64_t d) { return d == 1; });
  }

  /// ConvBNFusion, ConvMulFusion, ConvAddFusion: a Conv with constant
  /// weights takes the BatchNormalization, or the Mul or Add by a
  /// per-channel constant, that alone reads it.
  bool fuseIntoConv() {
    bool changed = false;
    for (auto [i, conv] : llvm::enumerate(nodes)) {
      if (conv.dead || !conv.is("Conv") || conv.value)
        continue;
      int64_t channels = convChannels(conv);
      if (channels < 0 || !isFloat(conv.out[0]))
        continue;
      while (true) {
        int user = soleUser(conv.out[0]);
        if (user < 0)
          break;
        RNode &u = nodes[user];
        auto rank = values[conv.out[0]].type().getRank();
        bool take = false;
        if (u.is("BatchNormalization"))
          take = u.in.size() == 5 &&
                 llvm::all_of(llvm::drop_begin(u.in),
                              [&](int v) { return isConstant(v); }) &&
                 (u.out.size() == 1 ||
                  llvm::all_of(llvm::drop_begin(u.out),
                               [&](int v) { return users(v).empty(); }));
        else if (u.is("Mul") || u.is("Add")) {
          int other = u.in[0] == conv.out[0] ? u.in[1] : u.in[0];
          take = u.in.size() == 2 && perChannel(other, rank, channels);
        }
        if (!take)
          break;
        absorb(i, user);
        changed = true;
      }
    }
    return changed;
  }

  /// PadFusion: a Pad of zeros on the spatial dims only, read by nothing
  /// but a Conv or an AveragePool, becomes that node's padding.
  bool fusePads() {
    bool changed = false;
    for (auto [i, pad] : llvm::enumerate(nodes)) {
      if (pad.dead || !pad.is("Pad") || pad.sources.size() != 1)
        continue;
      std::string mode = strAttr(pad, "mode");
      if (!mode.empty() && mode != "constant")
        continue;
      std::vector<int64_t> pads = intsAttr(pad, "pads");
      if (pads.empty() && pad.in.size() >= 2) {
        std::optional<std::vector<double>> given = constantValues(pad.in[1]);
        if (!given)
          continue;
        for (double v : *given)
          pads.push_back(static_cast<int64_t>(v));
      }
      if (pad.in.size() >= 3 && pad.in[2] >= 0) {
        std::optional<std::vector<double>> value = constantValues(pad.in[2]);
        if (!value || llvm::any_of(*value, [](double v) { return v != 0; }))
          continue;
      }
      if (pad.in.size() >= 4 && pad.in[3] >= 0)
        continue; // axes
      size_t rank = pads.size() / 2;
      if (rank < 3 || pads[0] || pads[1] || pads[rank] || pads[rank + 1] ||
          llvm::any_of(pads, [](int64_t p) { return p < 0; }))
        continue;
      int user = soleUser(pad.out[0]);
      if (user < 0 || !(nodes[user].is("Conv") ||
                        (nodes[user].is("AveragePool") &&
                         intAttr(nodes[user], "count_include_pad", 0) == 1)))
        continue;
      RNode &u = nodes[user];
      u.sources.insert(u.sources.end(), pad.sources.begin(), pad.sources.end());
      for (int &v : u.in)
        if (v == pad.out[0])
          v = pad.in[0];
      pad.dead = true;
      changed = true;
    }
    return changed;
  }

  /// ReshapeFusion: a Reshape whose shape is a Concat of constants and of
  /// single dims read from its own input's shape (Shape, then Slice or
  /// Gather of one element, Casts on the way) takes a constant shape (0:
  /// keep that dim); the shape computation no longer runs.
  bool fuseReshapeShapes() {
    bool changed = false;
    for (RNode &r : nodes) {
      if (r.dead || !r.is("Reshape") || r.in.size() < 2 || r.in[1] < 0)
        continue;
      int concat = values[r.in[1]].producer;
      if (concat < 0 || nodes[concat].dead || !nodes[concat].is("Concat"))
        continue;
      std::vector<int> chain = {concat};
      bool ok = true;
      for (auto [position, v] : llvm::enumerate(nodes[concat].in)) {
        if (isConstant(v)) {
          auto t = v >= 0 ? values[v].type() : RankedTensorType();
          ok = t && t.getNumElements() == 1;
        } else {
          int dim = shapeDimRead(v, r.in[0], chain);
          ok = dim == static_cast<int>(position);
        }
        if (!ok)
          break;
      }
      if (!ok)
        continue;
      // Every node of the computation must serve only this Reshape.
      std::set<int> members(chain.begin(), chain.end());
      for (int m : chain)
        for (int v : nodes[m].out)
          for (int u : users(v))
            if (!members.count(u) && &nodes[u] != &r)
              ok = false;
      if (!ok)
        continue;
      for (int m : chain)
        nodes[m].dead = nodes[m].folded = true;
      values[r.in[1]].constant = true;
      changed = true;
    }
    return changed;
  }

  /// Which dim of `source`'s shape value `v` is, when it is one element
  /// sliced or gathered from Shape(source) with only Casts around; else -1.
  /// Adds the nodes passed to `chain`.
  int shapeDimRead(int v, int source, std::vector<int> &chain) {
    auto producer = [&](int x) {
      int p = x >= 0 ? values[x].producer : -1;
      return p >= 0 && !nodes[p].dead ? p : -1;
    };
    int p = producer(v);
    while (p >= 0 && nodes[p].is("Cast")) {
      chain.push_back(p);
      p = producer(nodes[p].in[0]);
    }
    if (p < 0 || !(nodes[p].is("Slice") || nodes[p].is("Gather")))
      return -1;
    RNode &pick = nodes[p];
    chain.push_back(p);
    int dim = -1;
    if (pick.is("Gather")) {
      std::optional<std::vector<double>> index =
          pick.in.size() == 2 ? constantValues(pick.in[1]) : std::nullopt;
      if (!index || index->size() != 1)
        return -1;
      dim = static_cast<int>((*index)[0]);
    } else {
      std::vector<int64_t> starts = intsAttr(pick, "starts");
      std::vector<int64_t> ends = intsAttr(pick, "ends");
      if (starts.empty() && pick.in.size() >= 3) {
        auto s = constantValues(pick.in[1]);
        auto e = constantValues(pick.in[2]);
        if (s && e && s->size() == 1 && e->size() == 1) {
          starts = {static_cast<int64_t>((*s)[0])};
          ends = {static_cast<int64_t>((*e)[0])};
        }
      }
      if (starts.size() != 1 || ends.size() != 1 || starts[0] < 0 ||
          ends[0] != starts[0] + 1)
        return -1;
      dim = starts[0];
    }
    p = producer(pick.in[0]);
    while (p >= 0 && nodes[p].is("Cast")) {
      chain.push_back(p);
      p = producer(nodes[p].in[0]);
    }
    if (p < 0 || !nodes[p].is("Shape") || nodes[p].in[0] != source)
      return -1;
    chain.push_back(p);
    return dim;
  }

  //===--------------------------------------------------------------------===//
  // Level extended
  //===--------------------------------------------------------------------===//

  /// GeluFusion (com.microsoft:Gelu; the tanh form FastGelu) with BiasGelu,
  /// and LayerNormFusion (LayerNormalization):
  /// the patterns chorus-fuse's named rules find.
  void fuseNamedPatterns() {
    fusion::NodeGraph graph(func);
    llvm::StringSet<> rules;
    rules.insert("gelu");
    rules.insert("layer-norm");
    fusion::NamedFusionResult found =
        fusion::findNamedFusions(graph, rules, /*maxGroupSize=*/64);
    llvm::DenseMap<Operation *, int> byOp;
    for (auto [i, n] : llvm::enumerate(nodes))
      if (!n.dead && n.sources.size() == 1)
        byOp[n.primary()] = i;
    for (const fusion::Seed &seed : found.seeds) {
      std::vector<int> members;
      for (int g : seed.nodes) {
        auto it = byOp.find(graph.nodes[g]);
        if (it == byOp.end())
          break;
        members.push_back(it->second);
      }
      if (members.size() != seed.nodes.size())
        continue;
      llvm::sort(members);
      // The group's result: the member whose result leaves the group.
      std::set<int> inside(members.begin(), members.end());
      int last = -1;
      for (int m : members)
        for (int v : nodes[m].out)
          if (values[v].output ||
              llvm::any_of(users(v), [&](int u) { return !inside.count(u); }))
            last = m;
      if (last < 0)
        continue;
      bool isGelu = seed.rules.front() == "gelu";
      if (!isGelu && splitLayerNormAfterTranspose(members, last))
        continue;
      bool tanhForm =
          llvm::any_of(members, [&](int m) { return nodes[m].is("Tanh"); });
      RNode &head = nodes[members.front()];
      std::string op = !isGelu    ? "LayerNormalization"
                       : tanhForm ? "com.microsoft:FastGelu"
                                  : "com.microsoft:Gelu";
      for (int m : members)
        if (m != members.front()) {
          head.sources.insert(head.sources.end(), nodes[m].sources.begin(),
                              nodes[m].sources.end());
          nodes[m].dead = true;
        }
      head.op = op;
      head.out = {nodes[last].out[0]};
      values[head.out[0]].producer = members.front();
    }
    // BiasGelu: an Add of a 1-D constant before Gelu.
    for (auto [i, n] : llvm::enumerate(nodes)) {
      if (n.dead ||
          !(n.is("com.microsoft:Gelu") || n.is("com.microsoft:FastGelu")))
        continue;
      int x = nodes[i].in.empty() ? -1 : nodes[i].in[0];
      int add = x >= 0 ? values[x].producer : -1;
      if (add < 0 || nodes[add].dead || !nodes[add].is("Add") ||
          soleUserIgnoringRepeats(x) != static_cast<int>(i))
        continue;
      RNode &a = nodes[add];
      int bias = a.in[0] == x ? a.in[1] : a.in[0];
      if (bias < 0 || !values[bias].constant || !values[bias].type() ||
          values[bias].type().getRank() != 1)
        continue;
      RNode &g = nodes[i];
      g.sources.insert(g.sources.begin(), a.sources.begin(), a.sources.end());
      g.in = a.in;
      a.dead = true;
      if (g.is("com.microsoft:Gelu"))
        g.op = "com.microsoft:BiasGelu";
    }
  }

  /// ONNX Runtime's transpose optimizer (level basic, before
  /// LayerNormFusion) moves a Transpose that feeds a decomposed layer
  /// normalization into it: through the first ReduceMean (its axes
  /// permuted) and the Sub, where the Sub's result, read by both the Pow
  /// and the Div, stops it. Where the normalization's result goes only to
  /// the inverse Transpose, the two cancel instead and every node of it
  /// stays a kernel (it now normalizes axis 1, which LayerNormFusion does
  /// not take). Else LayerNormFusion finds what follows the Sub: Pow to
  /// Mul as one SimplifiedLayerNormalization, the bias Add apart (ConvNeXt:
  /// its blocks, and its downsampling LayerNorm2d). `members`: a decomposed
  /// layer normalization, in order; `last`, the one whose result leaves it.
  /// Returns whether the seed was handled here.
  bool splitLayerNormAfterTranspose(const std::vector<int> &members, int last) {
    int rm = -1, sub = -1;
    for (int m : members) {
      if (rm < 0 && nodes[m].is("ReduceMean"))
        rm = m;
      if (sub < 0 && nodes[m].is("Sub"))
        sub = m;
    }
    if (rm < 0 || sub < 0 || nodes[rm].in.empty() || nodes[sub].in.size() < 2)
      return false;
    int x = nodes[rm].in[0];
    if (x < 0 || nodes[sub].in[0] != x || values[x].output)
      return false;
    int t = values[x].producer;
    if (t < 0 || nodes[t].dead || !nodes[t].is("Transpose") ||
        nodes[t].sources.size() != 1 || nodes[t].in.empty() ||
        nodes[t].in[0] < 0)
      return false;
    if (llvm::any_of(users(x), [&](int u) { return u != rm && u != sub; }))
      return false;
    std::vector<int64_t> perm = intsAttr(nodes[t], "perm");
    int64_t rank = static_cast<int64_t>(perm.size());
    // A Transpose that keeps the last axis last moves nothing the
    // normalization reduces.
    if (perm.empty() || perm.back() == rank - 1)
      return false;
    int result = nodes[last].out[0];
    int back = soleUser(result, "Transpose");
    if (back >= 0 && !values[nodes[back].out[0]].output) {
      std::vector<int64_t> q = intsAttr(nodes[back], "perm");
      bool inverse = static_cast<int64_t>(q.size()) == rank;
      for (int64_t i = 0; inverse && i < rank; ++i)
        inverse = q[i] >= 0 && q[i] < rank && perm[q[i]] == i;
      if (inverse) {
        replaceUses(nodes[t].out[0], nodes[t].in[0]);
        nodes[t].dead = nodes[t].folded = true;
        replaceUses(nodes[back].out[0], result);
        nodes[back].dead = nodes[back].folded = true;
        return true;
      }
    }
    // The ReduceMean and the Sub read the Transpose's input, the Transpose
    // the Sub's result (so the NCHWc transform cannot fold it into a
    // ReorderOutput), the rest the Transpose's result.
    int source = nodes[t].in[0];
    int centered = nodes[sub].out[0];
    for (int m : {rm, sub})
      for (int &v : nodes[m].in)
        if (v == x)
          v = source;
    std::vector<int> rest;
    for (int m : members)
      if (m != rm && m != sub) {
        rest.push_back(m);
        for (int &v : nodes[m].in)
          if (v == centered)
            v = x;
      }
    nodes[t].in[0] = centered;
    nodes[t].position = nodes[sub].position + 0.5;
    if (rest.size() > 1 && rest.back() == last && nodes[last].is("Add"))
      rest.pop_back();
    if (rest.empty())
      return true;
    RNode &head = nodes[rest.front()];
    for (int m : llvm::drop_begin(rest)) {
      head.sources.insert(head.sources.end(), nodes[m].sources.begin(),
                          nodes[m].sources.end());
      nodes[m].dead = true;
    }
    head.op = "SimplifiedLayerNormalization";
    head.out = {nodes[rest.back()].out[0]};
    values[head.out[0]].producer = rest.front();
    return true;
  }

  /// The node reading `v`, when every reading is by that one node.
  int soleUserIgnoringRepeats(int v) const {
    if (v < 0 || values[v].output)
      return -1;
    std::vector<int> u = users(v);
    if (u.empty() || llvm::any_of(u, [&](int x) { return x != u[0]; }))
      return -1;
    return u[0];
  }

  /// QuickGeluFusion: x * Sigmoid(x), or x * Sigmoid(alpha * x).
  void fuseQuickGelu() {
    for (auto [i, s] : llvm::enumerate(nodes)) {
      if (s.dead || !s.is("Sigmoid") || s.sources.size() != 1 || s.in.empty())
        continue;
      int mul = soleUser(s.out[0], "Mul");
      if (mul < 0 || !isFloat(s.out[0]))
        continue;
      RNode &m = nodes[mul];
      int x = m.in[0] == s.out[0] ? m.in[1] : m.in[0];
      int scale = -1;
      bool match = s.in[0] == x;
      if (!match && s.in[0] >= 0) {
        int p = values[s.in[0]].producer;
        if (p >= 0 && !nodes[p].dead && nodes[p].is("Mul") &&
            soleUser(s.in[0]) == static_cast<int>(i)) {
          RNode &pm = nodes[p];
          int other = pm.in[0] == x ? pm.in[1] : pm.in[1] == x ? pm.in[0] : -2;
          if (other >= 0 && values[other].constant && values[other].type() &&
              values[other].type().getNumElements() == 1) {
            match = true;
            scale = p;
          }
        }
      }
      if (!match)
        continue;
      RNode &q = nodes[i];
      if (scale >= 0) {
        q.sources.insert(q.sources.begin(), nodes[scale].sources.begin(),
                         nodes[scale].sources.end());
        nodes[scale].dead = true;
      }
      q.in = {x};
      q.op = "com.microsoft:QuickGelu";
      absorb(i, mul);
    }
  }

  /// ConvActivationFusion: Conv and the activation that alone reads it
  /// run as com.microsoft:FusedConv.
  void fuseConvActivation() {
    static const char *activations[] = {"Relu",      "Sigmoid", "Tanh",
                                        "LeakyRelu", "Clip",    "HardSigmoid"};
    for (auto [i, conv] : llvm::enumerate(nodes)) {
      if (conv.dead || !conv.is("Conv") || !isFloat(conv.out[0]))
        continue;
      // HardSwish written as x * HardSigmoid(x) (alpha 1/6, beta 1/2).
      std::vector<int> readers = users(conv.out[0]);
      if (readers.size() == 2 && !values[conv.out[0]].output) {
        int hs = nodes[readers[0]].is("HardSigmoid") ? readers[0] : readers[1];
        int mul = hs == readers[0] ? readers[1] : readers[0];
        auto near = [](double a, double b) { return std::abs(a - b) < 1e-4; };
        if (nodes[hs].is("HardSigmoid") && nodes[mul].is("Mul") &&
            soleUser(nodes[hs].out[0]) == mul && nodes[hs].primary() &&
            near(floatAttr(nodes[hs], "alpha", 0.2), 1.0 / 6) &&
            near(floatAttr(nodes[hs], "beta", 0.5), 0.5)) {
          nodes[i].activation = "HardSwish";
          nodes[i].op = "com.microsoft:FusedConv";
          nodes[i].sources.insert(nodes[i].sources.end(),
                                  nodes[hs].sources.begin(),
                                  nodes[hs].sources.end());
          nodes[hs].dead = true;
          absorb(i, mul);
          continue;
        }
      }
      int user = soleUser(conv.out[0]);
      if (user < 0 || !llvm::is_contained(activations, nodes[user].op))
        continue;
      RNode &act = nodes[user];
      if (!llvm::all_of(llvm::drop_begin(act.in),
                        [&](int v) { return isConstant(v); }))
        continue;
      nodes[i].activation = act.op;
      nodes[i].op = "com.microsoft:FusedConv";
      absorb(i, user);
    }
  }

  /// ConvAddActivationFusion (level all, after the NCHWc layout, which
  /// takes these convolutions first where the CPU has its kernels; without
  /// them, as in ONNX Runtime Web's wasm, it meets every one): a Conv with
  /// a bias whose result only an Add reads, adding a tensor of the same
  /// 4-D shape (dims equal by value or by name), runs with that Add, whose
  /// other operand becomes the kernel's fourth input, and with the
  /// activation that alone reads the sum where FusedConv takes it, as
  /// com.microsoft:FusedConv. A Conv already fused with its activation is
  /// no longer a Conv.
  void fuseConvAddActivation() {
    static const char *activations[] = {"Relu",      "Sigmoid", "Tanh",
                                        "LeakyRelu", "Clip",    "HardSigmoid"};
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].dead || !nodes[i].is("Conv") || nodes[i].out.empty() ||
          !isFloat(nodes[i].out[0]) || nodes[i].in.size() < 3 ||
          nodes[i].in[2] < 0)
        continue;
      int add = soleUser(nodes[i].out[0], "Add");
      if (add < 0 || nodes[add].in.size() != 2 || nodes[add].in[0] < 0 ||
          nodes[add].in[1] < 0 || nodes[add].in[0] == nodes[add].in[1])
        continue;
      const std::vector<Dim> &x = values[nodes[add].in[0]].dims;
      const std::vector<Dim> &y = values[nodes[add].in[1]].dims;
      if (x.size() != 4 || x != y)
        continue;
      int other = nodes[add].in[0] == nodes[i].out[0] ? nodes[add].in[1]
                                                      : nodes[add].in[0];
      int act = soleUser(nodes[add].out[0]);
      absorb(static_cast<int>(i), add);
      nodes[i].in.push_back(other);
      nodes[i].op = "com.microsoft:FusedConv";
      // FusedConv may write its result over the sum's input.
      nodes[i].sum = true;
      if (act < 0 || !llvm::is_contained(activations, nodes[act].op) ||
          !llvm::all_of(llvm::drop_begin(nodes[act].in),
                        [&](int v) { return isConstant(v); }))
        continue;
      nodes[i].activation = nodes[act].op;
      absorb(static_cast<int>(i), act);
    }
  }

  /// MatMulAddFusion: a MatMul whose B is 2-D and the Add of a bias that
  /// alone reads it run as Gemm. Where A has another rank (a transformer's
  /// tokens), ONNX Runtime reshapes it to 2-D before the Gemm and the
  /// result back after it (two Reshape kernels), when it knows A's whole
  /// shape and the bias is 1-D, except on an attention's output projection.
  void fuseMatMulAdd() {
    // By index: the Reshapes it inserts grow `nodes` (and move it).
    for (size_t i = 0, count = nodes.size(); i < count; ++i) {
      const RNode &mm = nodes[i];
      if (mm.dead || !mm.is("MatMul") || mm.sources.size() != 1 ||
          mm.in.size() != 2 || mm.in[0] < 0 || mm.in[1] < 0)
        continue;
      const RValue &a = values[mm.in[0]];
      const RValue &b = values[mm.in[1]];
      if (!a.type() || !b.type() || b.dims.size() != 2)
        continue;
      Type element = a.type().getElementType();
      if (!element.isF32() && !element.isF16() && !element.isBF16())
        continue;
      bool reshape = a.dims.size() != 2;
      if (reshape && (!a.allStatic() || !b.allStatic() ||
                      isAttentionProjectionInput(static_cast<int>(i))))
        continue;
      int add = soleUser(mm.out[0], "Add");
      if (add < 0)
        continue;
      RNode &ad = nodes[add];
      int bias = ad.in[0] == mm.out[0] ? ad.in[1] : ad.in[0];
      auto c = bias >= 0 ? values[bias].type() : RankedTensorType();
      if (!c || c.getElementType() != a.type().getElementType())
        continue;
      int64_t n = b.type().getDimSize(1);
      bool valid = (c.getRank() == 1 && c.getDimSize(0) == n) ||
                   (!reshape && c.getRank() == 2 && c.getDimSize(0) == 1 &&
                    c.getDimSize(1) == n) ||
                   (!reshape && c.getRank() == 2 &&
                    c.getDimSize(0) == a.type().getDimSize(0) &&
                    (c.getDimSize(1) == 1 || c.getDimSize(1) == n));
      if (!valid)
        continue;
      int x = mm.in[0];
      double position = mm.position;
      nodes[i].op = "Gemm";
      absorb(i, add);
      if (reshape) {
        addNode("Reshape", x, position - 0.25);
        addNode("Reshape", nodes[i].out[0], position + 0.25);
        insertedReshapes.insert(nodes[i].out[0]);
      }
    }
  }

  /// ONNX Runtime leaves a MatMul + Add of N-D tokens alone where A is an
  /// attention's weighted sum brought back to tokens: Softmax, MatMul,
  /// Transpose, Reshape.
  bool isAttentionProjectionInput(int mm) const {
    auto producer = [&](int node, StringRef op) {
      int v = node >= 0 && !nodes[node].in.empty() ? nodes[node].in[0] : -1;
      int p = v >= 0 ? values[v].producer : -1;
      return p >= 0 && !nodes[p].dead && nodes[p].is(op) ? p : -1;
    };
    int softmax = producer(
        producer(producer(producer(mm, "Reshape"), "Transpose"), "MatMul"),
        "Softmax");
    return softmax >= 0;
  }

  /// GemmActivationFusion: Gemm and the activation that alone reads it run
  /// as com.microsoft:FusedGemm.
  void fuseGemmActivation() {
    static const char *activations[] = {"Relu", "Sigmoid", "Tanh", "LeakyRelu",
                                        "HardSigmoid"};
    for (auto [i, gemm] : llvm::enumerate(nodes)) {
      if (gemm.dead || !gemm.is("Gemm") || !isFloat(gemm.out[0]))
        continue;
      int user = soleUser(gemm.out[0]);
      if (user < 0 || !llvm::is_contained(activations, nodes[user].op))
        continue;
      nodes[i].activation = nodes[user].op;
      nodes[i].op = "com.microsoft:FusedGemm";
      absorb(i, user);
    }
  }

  /// MatMulTransposeFusion and MatMulScaleFusion: a Transpose feeding a
  /// MatMul that swaps the last two axes (ranks 2 and 3) or moves the
  /// batch axis of a rank-3 operand (perms 1,0,2 and 1,2,0: FusedMatMul's
  /// transBatch), a Mul or Div by a scalar constant on an operand or on
  /// the result, run inside com.microsoft:FusedMatMul; ONNX Runtime
  /// repeats both until nothing changes (a scale between a Transpose and
  /// the MatMul goes first, then the Transpose).
  void fuseMatMulTransposeAndScale() {
    std::vector<std::array<bool, 2>> transposed(nodes.size(), {false, false});
    auto scalarConstant = [&](int v) {
      return v >= 0 && values[v].constant && values[v].type() &&
             values[v].type().getNumElements() == 1;
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].dead ||
            !(nodes[i].is("MatMul") ||
              nodes[i].is("com.microsoft:FusedMatMul")) ||
            !isFloat(nodes[i].out[0]) || nodes[i].in.size() < 2)
          continue;
        bool fused = false;
        for (int k = 0; k < 2; ++k) {
          int v = nodes[i].in[k];
          int t = v >= 0 ? values[v].producer : -1;
          if (t < 0 || nodes[t].dead ||
              soleUserIgnoringRepeats(v) != static_cast<int>(i))
            continue;
          RNode &p = nodes[t];
          if (p.is("Transpose") && !transposed[i][k]) {
            std::vector<int64_t> perm = intsAttr(p, "perm");
            size_t r = perm.size();
            // ONNX Runtime 1.30 leaves a rank-4 Transpose of the last two
            // axes before MatMul as it is (measured on PP-OCRv4 rec's
            // attention); only ranks 2 and 3 are fused here.
            bool swapsLast = r >= 2 && r <= 3 &&
                             perm[r - 1] == static_cast<int64_t>(r - 2) &&
                             perm[r - 2] == static_cast<int64_t>(r - 1);
            for (size_t d = 0; swapsLast && d + 2 < r; ++d)
              swapsLast = perm[d] == static_cast<int64_t>(d);
            bool batch = perm == std::vector<int64_t>{1, 0, 2} ||
                         perm == std::vector<int64_t>{1, 2, 0};
            if (!swapsLast && !batch)
              continue;
            nodes[i].sources.insert(nodes[i].sources.end(), p.sources.begin(),
                                    p.sources.end());
            nodes[i].in[k] = p.in[0];
            p.dead = true;
            transposed[i][k] = true;
            fused = true;
          } else if ((p.is("Mul") || p.is("Div")) && p.in.size() == 2) {
            int x = p.is("Div") || !scalarConstant(p.in[0]) ? p.in[0] : p.in[1];
            int scale = x == p.in[0] ? p.in[1] : p.in[0];
            // ONNX Runtime fuses a scale only where its shape inference
            // knows the scaled operand's shape (not on PP-OCRv4 rec's
            // attention, whose operands it does not).
            bool shapeKnown = llvm::any_of(values[x].dims, [](const Dim &d) {
              return d.kind != Dim::Unknown;
            });
            if (!scalarConstant(scale) || scalarConstant(x) || !isFloat(x) ||
                !shapeKnown ||
                values[scale].type().getRank() > values[x].type().getRank())
              continue;
            nodes[i].sources.insert(nodes[i].sources.end(), p.sources.begin(),
                                    p.sources.end());
            nodes[i].in[k] = x;
            p.dead = true;
            fused = true;
          }
        }
        int user = soleUser(nodes[i].out[0]);
        if (user >= 0 && (nodes[user].is("Mul") || nodes[user].is("Div"))) {
          RNode &u = nodes[user];
          int other = u.in[0] == nodes[i].out[0] ? u.in[1] : u.in[0];
          if (scalarConstant(other) && (u.is("Mul") || u.in[1] == other)) {
            absorb(i, user);
            fused = true;
          }
        }
        if (fused) {
          nodes[i].op = "com.microsoft:FusedMatMul";
          changed = true;
        }
      }
    }
  }

  /// GatherSliceToSplitFusion (as ONNX Runtime 1.30 applies it): the
  /// Slices that alone read a Reshape's result along one axis, together
  /// covering it, run as one Split.
  void fuseSlicesToSplit() {
    for (size_t v = 0; v < values.size(); ++v) {
      int p = values[v].producer;
      bool fromReshape = (p >= 0 && !nodes[p].dead && nodes[p].is("Reshape")) ||
                         insertedReshapes.count(static_cast<int>(v));
      auto type = values[v].type();
      if (!fromReshape || values[v].output || !type || !type.hasStaticShape())
        continue;
      std::vector<int> slices = users(static_cast<int>(v));
      if (slices.size() < 2)
        continue;
      int axis = -1;
      int64_t covered = 0;
      bool ok = true;
      for (int u : slices) {
        RNode &s = nodes[u];
        auto result =
            s.out.empty() ? RankedTensorType() : values[s.out[0]].type();
        ok = s.is("Slice") && s.sources.size() == 1 &&
             s.in[0] == static_cast<int>(v) && llvm::count(slices, u) == 1 &&
             result && result.hasStaticShape() &&
             result.getRank() == type.getRank() &&
             llvm::all_of(llvm::drop_begin(s.in),
                          [&](int x) { return isConstant(x); });
        if (!ok)
          break;
        int differs = -1;
        for (int64_t d = 0; d < type.getRank(); ++d)
          if (result.getDimSize(d) != type.getDimSize(d))
            differs = differs < 0 ? d : -2;
        ok = differs >= 0 && (axis < 0 || axis == differs);
        if (!ok)
          break;
        axis = differs;
        covered += result.getDimSize(axis);
      }
      if (!ok || axis < 0 || covered != type.getDimSize(axis))
        continue;
      llvm::sort(slices, [&](int a, int b) {
        return nodes[a].position < nodes[b].position;
      });
      // At the first Slice's place: every result is there before a reader.
      RNode &split = nodes[slices.front()];
      for (int u : llvm::drop_begin(slices)) {
        split.sources.insert(split.sources.end(), nodes[u].sources.begin(),
                             nodes[u].sources.end());
        split.out.push_back(nodes[u].out[0]);
        values[nodes[u].out[0]].producer = slices.front();
        nodes[u].dead = true;
      }
      split.op = "Split";
      split.in = {static_cast<int>(v)};
    }
  }

  //===--------------------------------------------------------------------===//
  // Level all: the NCHWc transformer
  //===--------------------------------------------------------------------===//

  /// Where an NCHWc tensor's dims come from: the value first producing
  /// each, and how often a stride of 2 halved the spatial ones. Two
  /// tensors whose dims come from the same place have equal shapes
  /// whatever the input's size.
  struct Origin {
    int dims[4];
    int shifts[2] = {0, 0};
    explicit Origin(int self) { std::fill_n(dims, 4, self); }
    bool equal(const Origin &o, int d) const {
      if (dims[d] != o.dims[d])
        return false;
      return d < 2 || shifts[d - 2] == o.shifts[d - 2];
    }
  };

  struct NchwcArg {
    int producer;
    size_t startingUses;
    size_t remainingUses;
    int64_t channels;
    Origin origin;
  };

  /// ReorderInput pads channels up to the block from a multiple of this.
  static constexpr int64_t kChannelAlignment = 4;

  std::map<int, std::unique_ptr<NchwcArg>> nchwcArgs;
  /// Values MatMulAddFusion brought back from 2-D by a Reshape it inserted.
  std::set<int> insertedReshapes;
  std::map<int, int> reorderedInputs;

  size_t countUses(int v) const {
    return users(v).size() + (values[v].output ? 1 : 0);
  }

  int addNode(std::string op, int value, double position) {
    RNode r;
    r.op = std::move(op);
    r.value = values[value].value;
    r.position = position;
    r.in = {value};
    nodes.push_back(std::move(r));
    return nodes.size() - 1;
  }

  void createNchwcArg(int producerNode, int originalValue, int64_t channels,
                      const Origin &origin) {
    size_t uses = countUses(originalValue);
    nchwcArgs[originalValue] = std::make_unique<NchwcArg>(
        NchwcArg{producerNode, uses, uses, channels, origin});
  }

  NchwcArg *nchwcOf(int v) {
    auto it = nchwcArgs.find(v);
    return it == nchwcArgs.end() ? nullptr : it->second.get();
  }

  void reorderInput(int v, double position) {
    if (reorderedInputs.count(v))
      return;
    reorderedInputs[v] =
        addNode("com.microsoft.nchwc:ReorderInput", v, position - 0.5);
  }

  void convPoolOrigin(const RNode &n, const Origin &in, Origin &out,
                      int64_t kernelFromWeights0, int64_t kernelFromWeights1) {
    out.dims[0] = in.dims[0];
    std::vector<int64_t> pads = intsAttr(n, "pads");
    std::vector<int64_t> strides = intsAttr(n, "strides");
    std::vector<int64_t> dilations = intsAttr(n, "dilations");
    if ((!pads.empty() && pads.size() != 4) ||
        (!strides.empty() && strides.size() != 2) ||
        (!dilations.empty() && dilations.size() != 2))
      return;
    std::vector<int64_t> kernel;
    if (kernelFromWeights0 < 0) {
      kernel = intsAttr(n, "kernel_shape");
      if (kernel.size() != 2)
        return;
    } else {
      kernel = {kernelFromWeights0, kernelFromWeights1};
    }
    std::string autoPad = strAttr(n, "auto_pad");
    bool same = false;
    if (!autoPad.empty() && autoPad != "NOTSET") {
      if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
        same = true;
      else if (autoPad != "VALID")
        return;
      pads.clear();
    }
    for (int i = 0; i < 2; ++i) {
      if (!dilations.empty() && dilations[i] != 1)
        continue;
      int64_t stride = strides.empty() ? 1 : strides[i];
      if (stride != 1 && stride != 2)
        continue;
      int64_t padding = pads.empty() ? 0 : pads[i] + pads[i + 2];
      if (padding + 1 == kernel[i] || same) {
        out.dims[2 + i] = in.dims[2 + i];
        out.shifts[i] = in.shifts[i] + stride - 1;
      }
    }
  }

  void transformConv(int i) {
    RNode &n = nodes[i];
    int64_t block = settings.nchwcBlock;
    if (n.in.size() < 2 || n.in[1] < 0 || !values[n.in[1]].constant)
      return;
    auto w = values[n.in[1]].type();
    if (!w || w.getRank() != 4 || !w.getElementType().isF32())
      return;
    int64_t outC = w.getDimSize(0), inC = w.getDimSize(1);
    int64_t groups = intAttr(n, "group", 1);
    // Channels pad up to the block; ReorderInput needs them in fours.
    bool reorder = true;
    if (groups > 1) {
      if (outC % kChannelAlignment)
        return;
      if (!(inC == 1 && outC == groups) &&
          (inC % block || outC % groups || (outC / groups) % block))
        return;
    } else if (inC < block) {
      reorder = false;
    } else if (inC % kChannelAlignment) {
      return;
    }
    if (n.in.size() >= 3 && n.in[2] >= 0) {
      auto b = values[n.in[2]].type();
      if (!values[n.in[2]].constant || !b || b.getRank() != 1 ||
          b.getDimSize(0) != outC)
        return;
    }
    n.op = "com.microsoft.nchwc:Conv";
    Origin origin(n.out[0]);
    if (reorder) {
      if (NchwcArg *arg = nchwcOf(n.in[0])) {
        --arg->remainingUses;
        convPoolOrigin(n, arg->origin, origin, w.getDimSize(2),
                       w.getDimSize(3));
      } else {
        reorderInput(n.in[0], n.position);
      }
    }
    createNchwcArg(i, n.out[0], outC, origin);
  }

  void transformPool(int i, bool global) {
    RNode &n = nodes[i];
    if (n.in.empty() || n.in[0] < 0 ||
        (n.out.size() > 1 && !users(n.out[1]).empty()))
      return;
    RValue &x = values[n.in[0]];
    if (!x.type() || x.type().getRank() != 4 || !isFloat(n.in[0]) ||
        x.dims[1].kind != Dim::Static)
      return;
    // ONNX Runtime blocks a pool only over whole channel blocks (its
    // TransformPool), whatever the layout of its input.
    int64_t channels = x.dims[1].value;
    int64_t block = settings.nchwcBlock;
    if (block <= 0 || channels % block)
      return;
    NchwcArg *arg = nchwcOf(n.in[0]);
    if (global && !arg)
      return;
    n.op = "com.microsoft.nchwc:" + n.primary().getOpType().str();
    Origin origin(n.out[0]);
    if (arg) {
      --arg->remainingUses;
      convPoolOrigin(n, arg->origin, origin, -1, -1);
    } else {
      reorderInput(n.in[0], n.position);
    }
    createNchwcArg(i, n.out[0], channels, origin);
  }

  bool allInputsNchwc(const RNode &n) {
    return !n.in.empty() &&
           llvm::all_of(n.in, [&](int v) { return v >= 0 && nchwcOf(v); });
  }

  void transformBinary(int i, bool add) {
    RNode &n = nodes[i];
    if (!allInputsNchwc(n))
      return;
    std::vector<NchwcArg *> args;
    for (int v : n.in)
      args.push_back(nchwcOf(v));
    int64_t channels = args[0]->channels;
    bool match = true;
    for (size_t k = 1; k < args.size(); ++k) {
      if (args[k]->channels != channels)
        return;
      for (int d = 0; d < 4; ++d) {
        if (args[0]->origin.equal(args[k]->origin, d))
          continue;
        const Dim &a = values[n.in[0]].dims[d];
        const Dim &b = values[n.in[k]].dims[d];
        bool known = (a.kind == Dim::Static && b.kind == Dim::Static &&
                      a.value > 0 && a.value == b.value) ||
                     (a.kind == Dim::Symbol && a == b);
        if (!known)
          match = false;
      }
    }
    if (match) {
      for (NchwcArg *arg : args)
        --arg->remainingUses;
      if (add && args.size() == 2) {
        for (int k = 0; k < 2; ++k) {
          NchwcArg *arg = args[k];
          RNode &conv = nodes[arg->producer];
          if (conv.is("com.microsoft.nchwc:Conv") && !conv.sum &&
              arg->startingUses == 1 && conv.activation.empty()) {
            conv.sum = true;
            conv.sources.insert(conv.sources.end(), n.sources.begin(),
                                n.sources.end());
            n.dead = true;
            size_t uses = countUses(n.out[0]);
            nchwcArgs[n.out[0]] = std::make_unique<NchwcArg>(NchwcArg{
                arg->producer, uses, uses, arg->channels, arg->origin});
            return;
          }
        }
      }
      createNchwcArg(i, n.out[0], channels, args[0]->origin);
      return;
    }
    if (!add)
      return;
    // The shapes cannot be shown equal: Reshape every operand to the
    // blocked 5-D form and the result back.
    for (size_t k = 0; k < args.size(); ++k) {
      addNode("Reshape", n.in[k], n.position - 0.25);
      --args[k]->remainingUses;
    }
    int reshape = addNode("Reshape", n.out[0], n.position + 0.25);
    createNchwcArg(reshape, n.out[0], channels, Origin(n.out[0]));
  }

  void transformConcat(int i) {
    RNode &n = nodes[i];
    if (intAttr(n, "axis", 0) != 1 || !allInputsNchwc(n))
      return;
    int64_t total = 0;
    for (int v : n.in) {
      if (nchwcOf(v)->channels % settings.nchwcBlock)
        return;
      total += nchwcOf(v)->channels;
    }
    for (int v : n.in)
      --nchwcOf(v)->remainingUses;
    Origin origin = nchwcOf(n.in[0])->origin;
    origin.dims[1] = n.out[0];
    createNchwcArg(i, n.out[0], total, origin);
  }

  void transformActivation(int i) {
    RNode &n = nodes[i];
    NchwcArg *arg = n.in.empty() || n.in[0] < 0 ? nullptr : nchwcOf(n.in[0]);
    if (!arg)
      return;
    --arg->remainingUses;
    RNode &conv = nodes[arg->producer];
    // MLAS's convolution applies Relu, Sigmoid and Tanh itself; QuickGelu
    // runs on the blocked tensor as a kernel of its own.
    bool fusable = n.is("Relu") || n.is("Sigmoid") || n.is("Tanh");
    if (fusable && conv.is("com.microsoft.nchwc:Conv") &&
        arg->startingUses == 1 && conv.activation.empty()) {
      conv.activation = n.op;
      conv.sources.insert(conv.sources.end(), n.sources.begin(),
                          n.sources.end());
      n.dead = true;
      size_t uses = countUses(n.out[0]);
      nchwcArgs[n.out[0]] = std::make_unique<NchwcArg>(
          NchwcArg{arg->producer, uses, uses, arg->channels, arg->origin});
      return;
    }
    createNchwcArg(i, n.out[0], arg->channels, arg->origin);
  }

  void transformBatchNormalization(int i) {
    RNode &n = nodes[i];
    NchwcArg *arg = n.in.empty() || n.in[0] < 0 ? nullptr : nchwcOf(n.in[0]);
    if (!arg || n.in.size() != 5 ||
        (n.out.size() > 1 && !users(n.out[1]).empty()))
      return;
    for (int k = 1; k < 5; ++k) {
      auto t = n.in[k] >= 0 ? values[n.in[k]].type() : RankedTensorType();
      if (!values[n.in[k]].constant || !t || t.getRank() != 1 ||
          t.getDimSize(0) != arg->channels)
        return;
    }
    n.op = "com.microsoft.nchwc:Conv";
    --arg->remainingUses;
    createNchwcArg(i, n.out[0], arg->channels, arg->origin);
  }

  void transformTranspose(int i) {
    RNode &n = nodes[i];
    NchwcArg *arg = n.in.empty() || n.in[0] < 0 ? nullptr : nchwcOf(n.in[0]);
    if (!arg || intsAttr(n, "perm") != std::vector<int64_t>{0, 2, 3, 1})
      return;
    n.op = "com.microsoft.nchwc:ReorderOutput";
    --arg->remainingUses;
  }

  void transformResize(int i, int64_t opset) {
    RNode &n = nodes[i];
    NchwcArg *arg = n.in.empty() || n.in[0] < 0 ? nullptr : nchwcOf(n.in[0]);
    if (!arg)
      return;
    std::string mode = strAttr(n, "mode");
    if (!mode.empty() && mode != "nearest")
      return;
    int scales;
    if (n.is("Resize") && opset >= 11) {
      // Exactly roi and scales given, no sizes.
      NodeOp node = n.primary();
      if (node.getInputs().size() != 3 || n.in[2] < 0)
        return;
      scales = n.in[2];
      if (strAttr(n, "coordinate_transformation_mode") != "asymmetric" ||
          strAttr(n, "nearest_mode") != "floor")
        return;
    } else {
      if (n.in.size() < 2 || n.in[1] < 0)
        return;
      scales = n.in[1];
    }
    std::optional<std::vector<double>> s = constantValues(scales);
    if (!values[scales].constant || !s || s->size() != 4)
      return;
    for (double f : *s)
      if (f < 1 || f != static_cast<double>(static_cast<int64_t>(f)))
        return;
    if ((*s)[0] != 1 || (*s)[1] != 1)
      return;
    n.op = "com.microsoft.nchwc:Upsample";
    --arg->remainingUses;
    createNchwcArg(i, n.out[0], arg->channels, Origin(n.out[0]));
  }

  int64_t opsetOf(StringRef domain) const {
    if (auto opsets =
            func->getAttrOfType<DictionaryAttr>("chorus.opset_import"))
      if (auto v = dyn_cast_or_null<IntegerAttr>(opsets.get(domain)))
        return v.getInt();
    return 0;
  }

  void transformNchwc() {
    int64_t opset = opsetOf("ai.onnx");
    size_t count = nodes.size();
    // Inserted nodes must not move the ones the transforms hold references
    // to: each node inserts at most one reorder or reshape per operand and
    // one for its result.
    size_t operands = 0;
    for (const RNode &n : nodes)
      operands += n.in.size() + n.out.size();
    nodes.reserve(count + operands + 1);
    for (size_t i = 0; i < count; ++i) {
      RNode &n = nodes[i];
      if (n.dead || n.value)
        continue;
      if (n.is("Conv") || n.is("com.microsoft:FusedConv")) {
        transformConv(i);
      } else if (n.is("MaxPool") || n.is("AveragePool")) {
        transformPool(i, /*global=*/false);
      } else if (n.is("Add") || n.is("Sum")) {
        transformBinary(i, true);
      } else if (n.is("Mul")) {
        transformBinary(i, false);
      } else if (n.is("Concat")) {
        transformConcat(i);
      } else if (n.is("Relu") || n.is("Sigmoid") || n.is("Tanh") ||
                 n.is("com.microsoft:QuickGelu")) {
        transformActivation(i);
      } else if (n.is("BatchNormalization")) {
        transformBatchNormalization(i);
      } else if (n.is("Transpose")) {
        transformTranspose(i);
      } else if (n.is("Upsample") || n.is("Resize")) {
        transformResize(i, opset);
      } else if (n.is("GlobalMaxPool") || n.is("GlobalAveragePool")) {
        transformPool(i, /*global=*/true);
      }
    }
    for (auto &[value, arg] : nchwcArgs)
      if (arg->remainingUses > 0)
        addNode("com.microsoft.nchwc:ReorderOutput", value,
                nodes[arg->producer].position + 0.25);
  }

  //===--------------------------------------------------------------------===//
  // NHWC (ONNX Runtime Web's WebGPU provider)
  //===--------------------------------------------------------------------===//

  /// The nodes still in the graph, in the model's order (inserted nodes
  /// beside their neighbours).
  std::vector<int> liveNodesInOrder() const {
    std::vector<int> order;
    for (auto [i, n] : llvm::enumerate(nodes))
      if (!n.dead)
        order.push_back(i);
    llvm::stable_sort(order, [&](int a, int b) {
      return nodes[a].position < nodes[b].position;
    });
    return order;
  }

  /// Whether the provider runs `n` in NHWC (a kernel of its internal NHWC
  /// domain): 2-D convolutions and pools (Resize stays NCHW: ONNX Runtime
  /// Web 1.30 transposes around it).
  bool runsNhwc(const RNode &n) const {
    static const char *ops[] = {"Conv",          "com.microsoft:FusedConv",
                                "ConvTranspose", "MaxPool",
                                "AveragePool",   "GlobalAveragePool",
                                "GlobalMaxPool", "BatchNormalization"};
    return llvm::is_contained(ops, n.op) && !n.in.empty() && n.in[0] >= 0 &&
           values[n.in[0]].dims.size() == 4;
  }

  /// Whether the transpose optimizer can move a Transpose through `n` (its
  /// result then stays NHWC): elementwise ops, and those whose axes it
  /// renumbers.
  static bool passesTranspose(const RNode &n) {
    static const char *ops[] = {"Concat",     "Split",
                                "Slice",      "Pad",
                                "ReduceMean", "ReduceSum",
                                "ReduceMax",  "ReduceMin",
                                "Cast",       "com.microsoft:QuickGelu"};
    if (llvm::is_contained(ops, n.op))
      return true;
    std::optional<OpClass> c = getOpTypeClass(n.op);
    return c && *c == OpClass::Elementwise;
  }

  /// The layout transformation as it ends after the transpose optimizer: a
  /// Transpose to NHWC where a value held in NCHW enters the region of
  /// NHWC nodes and the nodes the Transposes move through, and one back
  /// where a value leaves it (or is the model's output); one per value.
  void transformNhwc() {
    std::vector<int> order = liveNodesInOrder();
    std::vector<char> nhwc(values.size(), 0);
    llvm::DenseSet<int> toNhwc, toNchw;
    auto is4d = [&](int v) {
      return v >= 0 && !values[v].constant && values[v].dims.size() == 4;
    };
    auto enter = [&](int v, double position) {
      if (toNhwc.insert(v).second)
        addNode("Transpose", v, position - 0.25);
    };
    auto leave = [&](int v) {
      if (!toNchw.insert(v).second)
        return;
      int p = values[v].producer;
      addNode("Transpose", v, p >= 0 ? nodes[p].position + 0.25 : -1);
    };
    for (int i : order) {
      // Copies: addNode may grow `nodes`.
      std::vector<int> in = nodes[i].in, out = nodes[i].out;
      double position = nodes[i].position;
      bool layout = runsNhwc(nodes[i]);
      // It moves them through a node whose inputs all come NHWC (one in
      // NCHW would take a Transpose of its own: ONNX Runtime Web's
      // profiles show the node left in NCHW then).
      // A value already transposed to NHWC for another reader counts as
      // NHWC: its Transpose is shared.
      unsigned inNhwc = 0, inNchw = 0;
      for (int v : in)
        if (is4d(v))
          ++(nhwc[v] || toNhwc.contains(v) ? inNhwc : inNchw);
      bool pass =
          !layout && passesTranspose(nodes[i]) && inNhwc > 0 && inNchw == 0;
      if (layout || pass) {
        for (auto [k, v] : llvm::enumerate(in))
          if ((pass || k == 0) && is4d(v) && !nhwc[v])
            enter(v, position);
        for (int v : out)
          if (v >= 0 && values[v].dims.size() == 4)
            nhwc[v] = 1;
        continue;
      }
      for (int v : in)
        if (v >= 0 && nhwc[v])
          leave(v);
    }
    for (auto [v, rv] : llvm::enumerate(values))
      if (rv.output && nhwc[v])
        leave(v);
  }

  //===--------------------------------------------------------------------===//
  // Result
  //===--------------------------------------------------------------------===//

  static bool isView(const RNode &n) {
    static const char *ops[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                "Identity"};
    return llvm::is_contained(ops, n.op);
  }

  OrtKernels collect() {
    OrtKernels result;
    for (int i : liveNodesInOrder()) {
      RNode &n = nodes[i];
      OrtKernel kernel;
      kernel.op = n.op;
      kernel.nodes = n.sources;
      kernel.value = n.value;
      kernel.activation = n.activation;
      kernel.sum = n.sum;
      kernel.noGpuWork = settings.webGpu && !n.sources.empty() &&
                         (isView(n) || llvm::none_of(n.out, [&](int v) {
                            RankedTensorType t =
                                v >= 0 ? values[v].type() : RankedTensorType();
                            return t && isa<FloatType>(t.getElementType());
                          }));
      result.kernels.push_back(std::move(kernel));
    }
    for (const RNode &n : nodes)
      if (n.folded)
        result.folded.push_back(n.primary());
    return result;
  }
};

} // namespace

OrtKernels chorus::computeOrtKernels(func::FuncOp func,
                                     const OrtCpuSettings &settings) {
  return Mirror(func, settings).run();
}

std::vector<Value> chorus::getKernelOperands(const OrtKernel &kernel) {
  llvm::DenseSet<Operation *> members;
  for (NodeOp node : kernel.nodes)
    members.insert(node);
  std::vector<Value> operands;
  llvm::DenseSet<Value> seen;
  for (NodeOp node : kernel.nodes)
    for (Value v : node.getInputs()) {
      if (isa<NoneType>(v.getType()) || !seen.insert(v).second)
        continue;
      if (Operation *def = v.getDefiningOp(); def && members.count(def))
        continue;
      operands.push_back(v);
    }
  return operands;
}

Value chorus::getKernelInPlaceInput(const OrtKernel &kernel) {
  if (kernel.sum) {
    for (NodeOp node : kernel.nodes)
      if (node.getOpType() == "Add")
        for (Value v : node.getInputs())
          if (!llvm::is_contained(kernel.nodes, v.getDefiningOp<NodeOp>()))
            return v;
    return Value();
  }
  // The unary activations' kernels: MayInplace(0, 0).
  if (kernel.nodes.size() != 1)
    return Value();
  NodeOp node = kernel.nodes.front();
  if (!node.getDomain().empty() || node.getInputs().empty() ||
      !llvm::is_contained({"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu",
                           "Celu", "HardSigmoid", "Selu", "Softplus",
                           "Softsign", "ThresholdedRelu"},
                          node.getOpType()))
    return Value();
  return node.getInputs().front();
}

std::vector<Value> chorus::getKernelResults(const OrtKernel &kernel) {
  llvm::DenseSet<Operation *> members;
  for (NodeOp node : kernel.nodes)
    members.insert(node);
  std::vector<Value> results;
  for (NodeOp node : kernel.nodes)
    for (Value v : node->getResults()) {
      bool external = llvm::any_of(
          v.getUsers(), [&](Operation *user) { return !members.count(user); });
      if (isa<NoneType>(v.getType()) ||
          (!external && node != kernel.nodes.back()))
        continue;
      results.push_back(v);
    }
  return results;
}
