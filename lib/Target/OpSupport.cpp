//===- OpSupport.cpp - Which operators a runtime backend runs -------------===//

#include "chorus/Target/OpSupport.h"

#include "chorus/Analysis/OpTable.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Import/OnnxSchema.h"

#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"

#include <limits>
#include <set>
#include <tuple>

using namespace mlir;
using namespace chorus;

namespace {
struct BuiltinTable {
  const char *name;
  const char *json;
};
const BuiltinTable kBuiltins[] = {
#include "BuiltinOpSupport.inc"
};

llvm::Error tableError(llvm::StringRef fileName, const llvm::Twine &field,
                       const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "op-support table '" + fileName +
                                     "': " + field + " " + what);
}

/// "7-12,13,14+" -> ranges; false on anything else.
bool parseRanges(llvm::StringRef text, std::vector<OpsetRange> &out) {
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, ',');
  for (llvm::StringRef part : parts) {
    part = part.trim();
    OpsetRange r;
    if (part.consume_back("+")) {
      if (part.getAsInteger(10, r.first))
        return false;
      r.last = std::numeric_limits<int64_t>::max();
    } else {
      auto [a, b] = part.split('-');
      if (a.getAsInteger(10, r.first))
        return false;
      r.last = r.first;
      if (!b.empty() && b.getAsInteger(10, r.last))
        return false;
    }
    if (r.first < 1 || r.last < r.first)
      return false;
    out.push_back(r);
  }
  return !out.empty();
}
} // namespace

std::string OpRefusal::describe() const {
  std::vector<std::string> parts;
  for (const auto &[name, value] : attributes)
    parts.push_back(name + "=" +
                    (std::holds_alternative<int64_t>(value)
                         ? std::to_string(std::get<int64_t>(value))
                         : "\"" + std::get<std::string>(value) + "\""));
  for (const std::string &name : absent)
    parts.push_back("no " + name);
  for (const std::string &name : present)
    parts.push_back(name + " given");
  if (!inputTypes.empty())
    parts.push_back("inputs " + llvm::join(inputTypes, ","));
  if (rank)
    parts.push_back("rank " + std::to_string(*rank));
  if (!group.empty())
    parts.push_back(group);
  return llvm::join(parts, ", ");
}

namespace {
/// Parses one entry of an operator's "refusals".
llvm::Error parseRefusal(const llvm::json::Value &value,
                         llvm::StringRef fileName, const std::string &where,
                         OpRefusal &r) {
  const llvm::json::Object *o = value.getAsObject();
  if (!o)
    return tableError(fileName, "field '" + where + "'", "must be an object");
  for (auto [field, out, required] :
       {std::tuple<llvm::StringRef, std::string *, bool>{"error", &r.error,
                                                         true},
        {"stage", &r.stage, true},
        {"seen", &r.seen, true}}) {
    std::optional<llvm::StringRef> text = o->getString(field);
    if (!text || text->empty())
      return tableError(fileName, "field '" + where + "." + field + "'",
                        "is missing or not a non-empty string");
    *out = text->str();
  }
  if (!llvm::is_contained({"create", "run", "result"}, r.stage))
    return tableError(fileName, "field '" + where + ".stage'",
                      "must be create, run or result, not '" + r.stage + "'");
  const llvm::json::Object *when = o->getObject("when");
  if (!when || when->empty())
    return tableError(fileName, "field '" + where + ".when'",
                      "must be a non-empty object");
  for (const auto &kv : *o)
    if (!llvm::is_contained({"when", "error", "stage", "seen"}, kv.first.str()))
      return tableError(fileName,
                        "field '" + where + "." + kv.first.str() + "'",
                        "is not one of when, error, stage, seen");
  std::string w = where + ".when";
  auto names = [&](llvm::StringRef field,
                   std::vector<std::string> &out) -> llvm::Error {
    const llvm::json::Value *v = when->get(field);
    if (!v)
      return llvm::Error::success();
    const llvm::json::Array *list = v->getAsArray();
    if (!list || list->empty())
      return tableError(fileName, "field '" + w + "." + field + "'",
                        "must be a non-empty array of names");
    for (const llvm::json::Value &n : *list) {
      if (!n.getAsString() || n.getAsString()->empty())
        return tableError(fileName, "field '" + w + "." + field + "'",
                          "must be a non-empty array of names");
      out.push_back(n.getAsString()->str());
    }
    return llvm::Error::success();
  };
  for (const auto &kv : *when) {
    llvm::StringRef key = kv.first;
    if (key == "absent" || key == "present" || key == "input_types") {
      if (llvm::Error e = names(key, key == "absent"    ? r.absent
                                     : key == "present" ? r.present
                                                        : r.inputTypes))
        return e;
    } else if (key == "rank") {
      std::optional<int64_t> rank = kv.second.getAsInteger();
      if (!rank || *rank < 0)
        return tableError(fileName, "field '" + w + ".rank'",
                          "must be a whole number");
      r.rank = *rank;
    } else if (key == "group") {
      std::optional<llvm::StringRef> g = kv.second.getAsString();
      if (!g || (*g != "depthwise" && *g != "grouped"))
        return tableError(fileName, "field '" + w + ".group'",
                          "must be \"depthwise\" or \"grouped\"");
      r.group = g->str();
    } else if (key == "attributes") {
      const llvm::json::Object *attrs = kv.second.getAsObject();
      if (!attrs || attrs->empty())
        return tableError(fileName, "field '" + w + ".attributes'",
                          "must be a non-empty object from attribute to "
                          "value");
      for (const auto &a : *attrs) {
        if (std::optional<int64_t> i = a.second.getAsInteger())
          r.attributes[a.first.str()] = *i;
        else if (std::optional<llvm::StringRef> t = a.second.getAsString())
          r.attributes[a.first.str()] = t->str();
        else
          return tableError(
              fileName, "field '" + w + ".attributes." + a.first.str() + "'",
              "must be a whole number or a string");
      }
    } else {
      return tableError(fileName, "field '" + w + "." + key.str() + "'",
                        "is not one of attributes, absent, present, "
                        "input_types, rank, group");
    }
  }
  return llvm::Error::success();
}
} // namespace

bool OpSupportTable::supports(llvm::StringRef domain, llvm::StringRef op,
                              int64_t opset) const {
  auto it = ops.find(op.str());
  if (it == ops.end())
    return false;
  auto d = it->second.domains.find(domain.empty() ? "ai.onnx" : domain.str());
  if (d == it->second.domains.end())
    return false;
  return llvm::any_of(d->second, [&](const OpsetRange &r) {
    return r.first <= opset && opset <= r.last;
  });
}

llvm::Expected<OpSupportTable>
chorus::parseOpSupport(llvm::StringRef json, llvm::StringRef fileName) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(json);
  if (!value)
    return tableError(fileName, "",
                      "is not valid JSON: " +
                          llvm::toString(value.takeError()));
  const llvm::json::Object *o = value->getAsObject();
  if (!o)
    return tableError(fileName, "the top level", "must be an object");
  OpSupportTable t;
  auto string = [&](llvm::StringRef field, std::string &out) -> llvm::Error {
    std::optional<llvm::StringRef> s = o->getString(field);
    if (!s || s->empty())
      return tableError(fileName, "field '" + field + "'",
                        "is missing or not a non-empty string");
    out = s->str();
    return llvm::Error::success();
  };
  std::string schema;
  if (llvm::Error e = string("schema", schema))
    return std::move(e);
  if (schema != "chorus-op-support-1")
    return tableError(fileName, "field 'schema'",
                      "must be \"chorus-op-support-1\", not \"" + schema +
                          "\"");
  for (auto [field, out] :
       {std::pair<llvm::StringRef, std::string *>{"name", &t.name},
        {"runtime", &t.runtime},
        {"backend", &t.backend},
        {"source", &t.source}})
    if (llvm::Error e = string(field, *out))
      return std::move(e);
  for (const auto &kv : *o)
    if (!llvm::is_contained(
            {"schema", "name", "runtime", "backend", "source", "ops"},
            kv.first.str()))
      return tableError(fileName, "field '" + kv.first.str() + "'",
                        "is not one of schema, name, runtime, backend, "
                        "source, ops");
  const llvm::json::Object *ops = o->getObject("ops");
  if (!ops || ops->empty())
    return tableError(fileName, "field 'ops'",
                      "must be a non-empty object from operator to entry");
  for (const auto &kv : *ops) {
    std::string where = "ops." + kv.first.str();
    const llvm::json::Object *entry = kv.second.getAsObject();
    if (!entry)
      return tableError(fileName, "field '" + where + "'", "must be an object");
    OpSupportEntry e;
    if (const llvm::json::Value *note = entry->get("note")) {
      if (!note->getAsString())
        return tableError(fileName, "field '" + where + ".note'",
                          "must be a string");
      e.note = note->getAsString()->str();
    }
    for (auto [field, out] :
         {std::pair<llvm::StringRef, std::vector<std::string> *>{
              "constant_inputs", &e.constantInputs},
          {"webnn_ops", &e.webnnOps}}) {
      const llvm::json::Value *names = entry->get(field);
      if (!names)
        continue;
      const llvm::json::Array *list = names->getAsArray();
      auto bad = [&] {
        return tableError(fileName, "field '" + where + "." + field + "'",
                          "must be a non-empty array of names");
      };
      if (!list || list->empty())
        return bad();
      for (const llvm::json::Value &n : *list) {
        if (!n.getAsString() || n.getAsString()->empty())
          return bad();
        out->push_back(n.getAsString()->str());
      }
    }
    if (const llvm::json::Value *refusals = entry->get("refusals")) {
      const llvm::json::Array *list = refusals->getAsArray();
      if (!list || list->empty())
        return tableError(fileName, "field '" + where + ".refusals'",
                          "must be a non-empty array");
      for (size_t i = 0; i < list->size(); ++i) {
        OpRefusal r;
        if (llvm::Error err =
                parseRefusal((*list)[i], fileName,
                             where + ".refusals[" + std::to_string(i) + "]", r))
          return std::move(err);
        e.refusals.push_back(std::move(r));
      }
    }
    const llvm::json::Object *opsets = entry->getObject("opsets");
    if (!opsets || opsets->empty())
      return tableError(fileName, "field '" + where + ".opsets'",
                        "must be a non-empty object from domain to ranges");
    for (const auto &d : *opsets) {
      std::optional<llvm::StringRef> text = d.second.getAsString();
      std::vector<OpsetRange> ranges;
      if (!text || !parseRanges(*text, ranges))
        return tableError(fileName,
                          "field '" + where + ".opsets." + d.first.str() + "'",
                          "must be opset ranges such as \"7-12,13,14+\"");
      e.domains[d.first.str()] = std::move(ranges);
    }
    for (const auto &f : *entry)
      if (!llvm::is_contained(
              {"opsets", "note", "constant_inputs", "webnn_ops", "refusals"},
              f.first.str()))
        return tableError(fileName,
                          "field '" + where + "." + f.first.str() + "'",
                          "is not one of opsets, note, constant_inputs, "
                          "webnn_ops, refusals");
    t.ops[kv.first.str()] = std::move(e);
  }
  return t;
}

std::vector<std::string> chorus::listBuiltinOpSupport() {
  std::vector<std::string> names;
  for (const BuiltinTable &b : kBuiltins)
    names.push_back(b.name);
  return names;
}

llvm::Expected<OpSupportTable>
chorus::getBuiltinOpSupport(llvm::StringRef name) {
  for (const BuiltinTable &b : kBuiltins)
    if (name == b.name)
      return parseOpSupport(b.json, std::string("built-in ") + b.name);
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "unknown op-support table '" + name +
          "' (built-in: " + llvm::join(listBuiltinOpSupport(), ", ") + ")");
}

namespace {
/// Which values are constants once ONNX Runtime has folded constants: its
/// ConstantFolding pass evaluates every deterministic node whose inputs are
/// initializers (and Shape or Size of a tensor of static shape) into an
/// initializer before the execution providers claim nodes. Which ops fold
/// how is the op table's (getFolding).
class FoldedConstants {
public:
  bool isConstant(Value value) {
    if (auto it = known.find(value); it != known.end())
      return it->second;
    bool c = compute(value);
    known[value] = c;
    return c;
  }

private:
  bool compute(Value value) {
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      // A fused group's block argument is bound to the group's input.
      if (auto fused = dyn_cast_or_null<FusedOp>(arg.getOwner()->getParentOp()))
        return isConstant(fused.getInputs()[arg.getArgNumber()]);
      return false; // a graph input
    }
    Operation *def = value.getDefiningOp();
    if (isa<WeightRefOp>(def))
      return true;
    if (auto fused = dyn_cast<FusedOp>(def))
      return isConstant(fused.getYield()->getOperand(
          cast<OpResult>(value).getResultNumber()));
    auto node = dyn_cast<NodeOp>(def);
    if (!node)
      return false;
    switch (getFolding(node)) {
    case Folding::Always:
      return true;
    case Folding::Never:
      return false;
    case Folding::FromShape: {
      auto type = dyn_cast<RankedTensorType>(def->getOperand(0).getType());
      return type && type.hasStaticShape();
    }
    case Folding::FromOperands:
      break;
    }
    bool any = false;
    for (Value operand : def->getOperands()) {
      if (isa_and_nonnull<NoneOp>(operand.getDefiningOp()))
        continue;
      if (!isConstant(operand))
        return false;
      any = true;
    }
    return any;
  }

  llvm::DenseMap<Value, bool> known;
};
} // namespace

namespace {
/// ONNX Runtime's JavaScript name of an element type ("float32", "int64",
/// "bool", ...), or "?".
std::string elementTypeName(Type type) {
  if (isa<NoneType>(type))
    return "-";
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return "?";
  Type e = shaped.getElementType();
  if (e.isF32())
    return "float32";
  if (e.isF16())
    return "float16";
  if (e.isF64())
    return "float64";
  if (e.isBF16())
    return "bfloat16";
  if (auto i = dyn_cast<IntegerType>(e)) {
    if (i.getWidth() == 1)
      return "bool";
    return (i.isUnsigned() ? "uint" : "int") + std::to_string(i.getWidth());
  }
  return "?";
}

/// Whether `node` (of an opset `opset` of its domain) has everything
/// refusal `r` names.
bool matches(NodeOp node, int64_t opset, const OpRefusal &r) {
  for (const auto &[name, want] : r.attributes) {
    std::optional<std::variant<int64_t, std::string>> have;
    if (Attribute a = node.getOnnxAttr(name)) {
      if (auto i = dyn_cast<IntegerAttr>(a))
        have = i.getInt();
      else if (auto t = dyn_cast<StringAttr>(a))
        have = t.str();
    } else {
      have = findOnnxAttributeDefault(node.getDomain(), node.getOpType(), opset,
                                      name);
    }
    if (!have || *have != want)
      return false;
  }
  for (const std::string &name : r.absent)
    if (node.getOnnxAttr(name))
      return false;
  for (const std::string &name : r.present)
    if (!node.getOnnxAttr(name))
      return false;
  if (!r.inputTypes.empty()) {
    if (r.inputTypes.size() != node->getNumOperands())
      return false;
    for (unsigned i = 0; i < r.inputTypes.size(); ++i)
      if (elementTypeName(node->getOperand(i).getType()) != r.inputTypes[i])
        return false;
  }
  if (r.rank) {
    auto t = node->getNumOperands()
                 ? dyn_cast<RankedTensorType>(node->getOperand(0).getType())
                 : RankedTensorType();
    if (!t || t.getRank() != *r.rank)
      return false;
  }
  if (!r.group.empty()) {
    auto g = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr("group"));
    int64_t group = g ? g.getInt() : 1;
    auto t = node->getNumOperands()
                 ? dyn_cast<RankedTensorType>(node->getOperand(0).getType())
                 : RankedTensorType();
    if (group == 1 || !t || t.getRank() < 2 || t.isDynamicDim(1))
      return false;
    bool depthwise = group == t.getDimSize(1);
    if ((r.group == "depthwise") != depthwise)
      return false;
  }
  return true;
}
} // namespace

OpSupportVerdict
chorus::checkOpSupport(func::FuncOp func, const OpSupportTable &table,
                       llvm::ArrayRef<std::string> offeredWebnnOps) {
  auto opsets = func->getAttrOfType<DictionaryAttr>("chorus.opset_import");
  auto opsetOf = [&](llvm::StringRef domain) -> int64_t {
    if (!opsets)
      return 0;
    auto v = opsets.getAs<IntegerAttr>(domain.empty() ? "ai.onnx" : domain);
    return v ? v.getInt() : 0;
  };
  OpSupportVerdict v;
  FoldedConstants constants;
  llvm::DenseMap<Operation *, bool> onBackend;
  func.walk([&](NodeOp node) {
    ++v.nodes;
    std::string key = node.getDomain().empty() || node.getDomain() == "ai.onnx"
                          ? node.getOpType().str()
                          : (node.getDomain() + "." + node.getOpType()).str();
    int64_t opset = opsetOf(node.getDomain());
    bool runs = table.supports(node.getDomain(), node.getOpType(), opset);
    if (runs) {
      const OpSupportEntry &entry = table.ops.at(node.getOpType().str());
      for (const std::string &name : entry.constantInputs) {
        OnnxInputLookup input =
            findOnnxInput(node.getDomain(), node.getOpType(), opset, name);
        if (!input.schemaFound) {
          v.uncheckedInputs[node.getOpType().str()].insert(name);
          continue;
        }
        // Not an input at this opset (an attribute then), or absent.
        if (!input.index || *input.index >= node->getNumOperands())
          continue;
        Value value = node->getOperand(*input.index);
        if (isa_and_nonnull<NoneOp>(value.getDefiningOp()) ||
            constants.isConstant(value))
          continue;
        ++v.notConstant[key][name];
        runs = false;
      }
      for (const std::string &w : entry.webnnOps) {
        v.webnnOps.insert(w);
        if (!offeredWebnnOps.empty() &&
            !llvm::is_contained(offeredWebnnOps, w)) {
          v.notOffered[key].insert(w);
          runs = false;
        }
      }
      // Placed on the backend, where it fails.
      if (runs)
        for (const OpRefusal &r : entry.refusals)
          if (matches(node, opset, r)) {
            OpSupportVerdict::Refused &refused =
                v.refused[key + " with " + r.describe()];
            refused.refusal = &r;
            refused.op = key;
            ++refused.count;
            break;
          }
    }
    onBackend[node] = runs;
    if (runs)
      ++v.supported;
    else
      ++v.fallback[key];
  });
  auto runs = [&](NodeOp node) { return onBackend.lookup(node); };

  // Sides of the top-level kernels: true on the backend. A fused group runs
  // there only when all its nodes do.
  Block &body = func.getBody().front();
  llvm::DenseMap<Operation *, bool> side;
  std::optional<bool> previous;
  for (Operation &op : body) {
    std::optional<bool> s;
    if (auto node = dyn_cast<NodeOp>(op))
      s = runs(node);
    else if (auto fused = dyn_cast<FusedOp>(op)) {
      bool all = true;
      fused.walk([&](NodeOp n) { all &= runs(n); });
      s = all;
    }
    if (!s)
      continue;
    side[&op] = *s;
    if (!previous || *previous != *s)
      ++v.segments;
    previous = s;
  }
  // A value crosses once per side other than its producer's that reads it.
  // Graph inputs and outputs live with the caller, on the CPU side.
  auto sideOf = [&](Operation *op) -> std::optional<bool> {
    if (!op)
      return false;
    if (isa<func::ReturnOp>(op))
      return false;
    auto it = side.find(op);
    if (it == side.end())
      return std::nullopt;
    return it->second;
  };
  auto count = [&](Value value, bool from) {
    std::set<bool> readers;
    for (Operation *user : value.getUsers()) {
      Operation *top = body.findAncestorOpInBlock(*user);
      if (std::optional<bool> s = sideOf(top); s && *s != from)
        readers.insert(*s);
    }
    for (size_t i = 0; i < readers.size(); ++i) {
      ++v.crossings;
      if (std::optional<int64_t> bytes = getValueStorageBytes(value.getType()))
        v.crossingBytes += *bytes;
      else
        ++v.unsizedCrossings;
    }
  };
  for (BlockArgument arg : body.getArguments())
    count(arg, false);
  for (Operation &op : body)
    if (auto it = side.find(&op); it != side.end())
      for (Value result : op.getResults())
        count(result, it->second);
  return v;
}

void chorus::printFallback(llvm::raw_ostream &os, const OpSupportVerdict &v) {
  for (const auto &[op, count] : v.fallback) {
    os << " " << op << " x" << count;
    std::vector<std::string> why;
    if (auto it = v.notConstant.find(op); it != v.notConstant.end())
      for (const auto &[input, n] : it->second)
        why.push_back("input '" + input + "' not constant" +
                      (n != count ? " in " + std::to_string(n) : ""));
    if (auto it = v.notOffered.find(op); it != v.notOffered.end())
      for (const std::string &w : it->second)
        why.push_back("the browser's WebNN lacks " + w);
    if (!why.empty())
      os << " (" << llvm::join(why, ", ") << ")";
  }
}

std::string chorus::describeRefusals(const OpSupportVerdict &v) {
  std::vector<std::string> parts;
  for (const auto &[_, r] : v.refused) {
    const OpRefusal &x = *r.refusal;
    std::string what = x.stage == "result"
                           ? "wrong results: " + x.error
                           : "at " + x.stage + ": \"" + x.error + "\"";
    parts.push_back(r.op + " x" + std::to_string(r.count) + " with " +
                    x.describe() + ", " + what + " (seen in " + x.seen + ")");
  }
  return llvm::join(parts, "; ");
}
