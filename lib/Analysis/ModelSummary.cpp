//===- ModelSummary.cpp - What an imported model holds --------------------===//

#include "chorus/Analysis/ModelSummary.h"
#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/Format.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Format.h"

#include <vector>

using namespace mlir;
using namespace chorus;

ModelSummary::ModelSummary(func::FuncOp model) : model(model) {
  llvm::SetVector<Operation *> weights;
  SymbolTableCollection symbols;
  model.walk([&](Operation *op) {
    if (auto node = dyn_cast<NodeOp>(op)) {
      ++nodeCount;
      if (node->getParentOp() != model.getOperation())
        ++subgraphNodeCount;
      std::string key =
          node.getDomain().empty()
              ? node.getOpType().str()
              : (node.getDomain() + "::" + node.getOpType()).str();
      ++opCounts[key];
    } else if (auto ref = dyn_cast<WeightRefOp>(op)) {
      if (auto weight = symbols.lookupNearestSymbolFrom<WeightOp>(
              ref, ref.getWeightAttr()))
        weights.insert(weight);
    }
  });
  weightCount = weights.size();
  for (Operation *op : weights)
    weightBytes += cast<WeightOp>(op).getByteSize();
}

void ModelSummary::print(llvm::raw_ostream &os) const {
  func::FuncOp fn = model;
  os << "model @" << fn.getSymName();
  if (auto source = fn->getAttrOfType<StringAttr>("chorus.source"))
    os << " (" << source.getValue() << ")";
  os << "\n";
  if (auto ir = fn->getAttrOfType<IntegerAttr>("chorus.ir_version"))
    os << "  ir_version " << ir.getInt();
  if (auto opsets = fn->getAttrOfType<DictionaryAttr>("chorus.opset_import")) {
    os << ", opsets";
    for (NamedAttribute opset : opsets)
      os << " " << opset.getName().getValue() << " "
         << cast<IntegerAttr>(opset.getValue()).getInt();
  }
  if (auto producer = fn->getAttrOfType<StringAttr>("chorus.producer"))
    os << ", producer \"" << producer.getValue() << "\"";
  os << "\n";

  auto printValues = [&](StringRef label, TypeRange types, auto nameOf) {
    os << "  " << label << ":\n";
    if (types.empty())
      os << "    (none)\n";
    for (auto [index, type] : llvm::enumerate(types))
      os << "    " << nameOf(index) << " : " << type << "\n";
  };
  printValues("inputs", fn.getArgumentTypes(), [&](unsigned i) {
    auto name = fn.getArgAttrOfType<StringAttr>(i, "chorus.name");
    return name ? name.getValue().str() : "#" + std::to_string(i);
  });
  printValues("outputs", fn.getResultTypes(), [&](unsigned i) {
    auto name = fn.getResultAttrOfType<StringAttr>(i, "chorus.name");
    return name ? name.getValue().str() : "#" + std::to_string(i);
  });
  os << "  weights: " << formatWithSeparators(weightCount) << " tensors, "
     << formatWithSeparators(weightBytes) << " bytes\n";
  os << "  nodes: " << formatWithSeparators(nodeCount);
  if (subgraphNodeCount)
    os << " (" << formatWithSeparators(subgraphNodeCount) << " in subgraphs)";
  os << "\n";
  // Most frequent first; ties by name, so the order is deterministic.
  std::vector<std::pair<std::string, int64_t>> sorted(opCounts.begin(),
                                                      opCounts.end());
  llvm::stable_sort(
      sorted, [](const auto &a, const auto &b) { return a.second > b.second; });
  for (const auto &[opType, count] : sorted)
    os << "    " << llvm::left_justify(opType, 24) << " "
       << llvm::format_decimal(count, 6) << "\n";
}
