//===- ChorusDialect.cpp - The chorus dialect -----------------------------===//

#include "chorus/Dialect/ChorusDialect.h"
#include "chorus/Dialect/ChorusOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace chorus;

#include "chorus/Dialect/ChorusOpsDialect.cpp.inc"

void ChorusDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "chorus/Dialect/ChorusOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

static LogicalResult expectAttr(Operation *op, NamedAttribute attr, bool valid,
                                StringRef what) {
  if (valid)
    return success();
  return op->emitOpError() << "attribute '" << attr.getName().getValue()
                           << "' must be " << what;
}

LogicalResult ChorusDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  if (name == "chorus.source" || name == "chorus.producer" ||
      name == "chorus.graph_name")
    return expectAttr(op, attr, isa<StringAttr>(value), "a string");
  if (name == "chorus.compute_id") {
    if (!isa<NodeOp>(op))
      return op->emitOpError()
             << "attribute 'chorus.compute_id' belongs on chorus.node only";
    return expectAttr(op, attr, isa<IntegerAttr>(value), "an integer");
  }
  if (name == "chorus.ir_version")
    return expectAttr(op, attr, isa<IntegerAttr>(value), "an integer");
  if (name == "chorus.assumptions") {
    auto array = dyn_cast<ArrayAttr>(value);
    return expectAttr(op, attr,
                      array && llvm::all_of(array, llvm::IsaPred<StringAttr>),
                      "an array of strings");
  }
  if (name == "chorus.taken_branch" || name == "chorus.trip_count") {
    auto node = dyn_cast<NodeOp>(op);
    StringRef want = name == "chorus.taken_branch" ? "If" : "Loop";
    if (!node || node.getOpType() != want)
      return op->emitOpError()
             << "attribute '" << name
             << "' belongs on a chorus.node of op type '" << want << "' only";
    if (name == "chorus.trip_count") {
      auto count = dyn_cast<IntegerAttr>(value);
      return expectAttr(op, attr, count && count.getInt() >= 0,
                        "a non-negative integer");
    }
    auto branch = dyn_cast<StringAttr>(value);
    return expectAttr(
        op, attr,
        branch && (branch.getValue() == "then" || branch.getValue() == "else"),
        "\"then\" or \"else\"");
  }
  if (name == "chorus.arena_offsets") {
    auto offsets = dyn_cast<DenseI64ArrayAttr>(value);
    if (!isKernel(op))
      return op->emitOpError() << "attribute 'chorus.arena_offsets' belongs "
                                  "on chorus.node and chorus.fused only";
    if (!offsets)
      return expectAttr(op, attr, false, "an array of i64");
    if (offsets.size() != static_cast<int64_t>(op->getNumResults()))
      return op->emitOpError()
             << "attribute 'chorus.arena_offsets' has " << offsets.size()
             << " entries for " << op->getNumResults() << " results";
    return success();
  }
  if (name == "chorus.cost")
    return expectAttr(op, attr, isa<DictionaryAttr>(value), "a dictionary");
  if (name == "chorus.memory") {
    auto dict = dyn_cast<DictionaryAttr>(value);
    if (!dict)
      return expectAttr(op, attr, false, "a dictionary");
    for (const char *key : {"arena_bytes", "lower_bound_bytes"})
      if (!dict.getAs<IntegerAttr>(key))
        return op->emitOpError() << "attribute 'chorus.memory' needs an "
                                    "integer '"
                                 << key << "'";
    return success();
  }
  if (name == "chorus.opset_import") {
    auto dict = dyn_cast<DictionaryAttr>(value);
    bool ok = dict && llvm::all_of(dict, [](NamedAttribute entry) {
                return isa<IntegerAttr>(entry.getValue());
              });
    return expectAttr(op, attr, ok,
                      "a dictionary from ONNX domain to opset version");
  }
  return op->emitOpError() << "unknown chorus attribute '" << name << "'";
}

/// Checks the attributes the importer puts on model inputs and outputs.
static LogicalResult verifyValueAttribute(Operation *op, Type type,
                                          NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == "chorus.name")
    return expectAttr(op, attr, isa<StringAttr>(attr.getValue()), "a string");
  if (name == "chorus.dim_params") {
    auto array = dyn_cast<ArrayAttr>(attr.getValue());
    if (!array || !llvm::all_of(array, llvm::IsaPred<StringAttr>))
      return expectAttr(op, attr, false, "an array of strings");
    auto shaped = dyn_cast<RankedTensorType>(type);
    if (!shaped || shaped.getRank() != static_cast<int64_t>(array.size()))
      return op->emitOpError()
             << "attribute 'chorus.dim_params' has " << array.size()
             << " entries but the value has type " << type;
    return success();
  }
  if (name == "chorus.declared_dynamic") {
    auto dims = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
    auto shaped = dyn_cast_or_null<RankedTensorType>(type);
    bool ok = dims && llvm::is_sorted(dims.asArrayRef()) &&
              llvm::all_of(dims.asArrayRef(), [&](int64_t d) {
                return d >= 0 && (!shaped || d < shaped.getRank());
              });
    return expectAttr(op, attr, ok,
                      "an ascending array of the value's dim indices");
  }
  return op->emitOpError() << "unknown chorus attribute '" << name << "'";
}

LogicalResult ChorusDialect::verifyRegionArgAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned argIndex,
                                                      NamedAttribute attr) {
  Region &region = op->getRegion(regionIndex);
  if (region.empty())
    return verifyValueAttribute(op, Type(), attr);
  return verifyValueAttribute(
      op, region.front().getArgument(argIndex).getType(), attr);
}

LogicalResult ChorusDialect::verifyRegionResultAttribute(Operation *op,
                                                         unsigned regionIndex,
                                                         unsigned resultIndex,
                                                         NamedAttribute attr) {
  (void)regionIndex;
  Type type;
  if (auto fn = dyn_cast<FunctionOpInterface>(op))
    type = fn.getResultTypes()[resultIndex];
  return verifyValueAttribute(op, type, attr);
}
