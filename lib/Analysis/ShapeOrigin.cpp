//===- ShapeOrigin.cpp - Where a shape that is not known comes from -------===//

#include "chorus/Analysis/ShapeOrigin.h"
#include "chorus/Analysis/OpTable.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/FoldingRule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <deque>

using namespace mlir;
using namespace chorus;

static bool isStatic(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (type)
    return type.hasStaticShape();
  // none (an absent optional) needs no shape.
  return isa<NoneType>(value.getType());
}

static std::string shapeText(Type type) {
  if (auto ranked = dyn_cast<RankedTensorType>(type);
      ranked && ranked.getRank() == 0)
    return "scalar";
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return "no known rank";
  std::string text;
  for (int64_t d : ranked.getShape())
    text += (text.empty() ? "" : "x") +
            (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return text;
}

static std::string describe(NodeOp node) {
  std::string text = "node ";
  if (auto name = node.getName())
    text += "'" + name->str() + "' ";
  return text + "(" + node.getOpType().str() + ")";
}

/// Why `node`, whose operands are all static, has a result that is not.
static std::string reasonAt(NodeOp node) {
  StringRef op = node.getOpType();
  if (hasDataDependentSize(node.getDomain(), op))
    return describe(node) +
           ": how many elements its result has depends on the data";
  if (llvm::is_contained({"If", "Loop", "Scan"}, op))
    return describe(node) +
           ": its result's shape depends on what its body does at run time "
           "(--input-value or --trip-count can settle it)";
  // A small operand whose values are known only at run time: the shape
  // operand of Reshape, Expand, Resize, Pad, ConstantOfShape, the bounds
  // of Range...
  for (unsigned index : getShapeValueOperands(node)) {
    if (index >= node.getInputs().size())
      continue;
    Value operand = node.getInputs()[index];
    if (isa<NoneType>(operand.getType()) ||
        operand.getDefiningOp<WeightRefOp>())
      continue;
    if (auto producer = operand.getDefiningOp<NodeOp>())
      return describe(node) + ": its operand computed by " +
             describe(producer) +
             " is known only at run time, and its result's shape depends on "
             "it";
    if (auto arg = dyn_cast<BlockArgument>(operand))
      if (auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp())) {
        auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "chorus.name");
        std::string input = name ? name.getValue().str()
                                 : "#" + std::to_string(arg.getArgNumber());
        return describe(node) +
               ": its result's shape depends on the value "
               "of model input '" +
               input + "' (give it with --input-value " +
               func.getSymName().str() + ":" + input + "=...)";
      }
  }
  return describe(node) + ": shape inference gives its result no shape " +
         "(op '" + op.str() + "'" +
         (node.getDomain().empty()
              ? std::string("")
              : " of domain '" + node.getDomain().str() + "'") +
         ")";
}

static std::string explainFrom(ArrayRef<Value> seeds) {
  std::deque<Value> work;
  llvm::DenseSet<Value> seen;
  auto push = [&](Value v) {
    if (!isStatic(v) && seen.insert(v).second)
      work.push_back(v);
  };
  for (Value v : seeds)
    push(v);
  while (!work.empty()) {
    Value v = work.front();
    work.pop_front();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
      if (func) {
        std::string name = "#" + std::to_string(arg.getArgNumber());
        if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                       "chorus.name"))
          name = n.getValue().str();
        if (!isa<TensorType>(v.getType()))
          return "it comes from model input '" + name +
                 "', a sequence, optional or map: the tensors it holds are "
                 "known only at run time";
        std::string text = "it comes from model input '" + name + "' (" +
                           shapeText(v.getType()) + "): give its shape with ";
        auto ranked = dyn_cast<RankedTensorType>(v.getType());
        text += "--input-shape " + func.getSymName().str() + ":" + name + "=" +
                (ranked ? shapeText(ranked) : std::string("D0xD1x...")) +
                (ranked ? " (each '?' a value)" : "");
        // Named dims can be bound by name too.
        if (auto params = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(),
                                                           "chorus.dim_params"))
          for (Attribute param : params)
            if (auto p = dyn_cast<StringAttr>(param); p && !p.empty()) {
              text += " or --dim " + p.getValue().str() + "=<value>";
              break;
            }
        return text;
      }
      if (auto owner = dyn_cast<NodeOp>(arg.getOwner()->getParentOp()))
        return "it comes from an argument of the body of " + describe(owner) +
               " (" + shapeText(v.getType()) + ")";
      continue;
    }
    Operation *def = v.getDefiningOp();
    auto node = dyn_cast_or_null<NodeOp>(def);
    if (!node) {
      if (!def)
        continue;
      // A fused group: the value its body yields for this result.
      auto result = cast<OpResult>(v);
      for (Region &region : def->getRegions())
        if (!region.empty()) {
          Operation *terminator = region.front().getTerminator();
          if (terminator &&
              terminator->getNumOperands() == def->getNumResults())
            push(terminator->getOperand(result.getResultNumber()));
        }
      for (Value operand : def->getOperands())
        push(operand);
      continue;
    }
    if (llvm::all_of(node.getInputs(), isStatic))
      return "it comes from " + reasonAt(node);
    for (Value operand : node.getInputs())
      push(operand);
  }
  return "";
}

std::string chorus::explainUnknownShape(Operation *op) {
  SmallVector<Value> seeds(op->getOperands());
  llvm::append_range(seeds, op->getResults());
  return explainFrom(seeds);
}

std::string chorus::explainUnknownShape(Value value) {
  return explainFrom({value});
}
