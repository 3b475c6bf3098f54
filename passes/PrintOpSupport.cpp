//===- PrintOpSupport.cpp - Which nodes a browser backend runs ------------===//

#include "passes/Passes.h"

#include "chorus/Dialect/ChorusOps.h"
#include "chorus/Support/Format.h"
#include "chorus/Target/OpSupport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

namespace chorus {
#define GEN_PASS_DEF_PRINTOPSUPPORTPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct PrintOpSupportPass
    : public chorus::impl::PrintOpSupportPassBase<PrintOpSupportPass> {
  using PrintOpSupportPassBase::PrintOpSupportPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::vector<std::string> names(tables.begin(), tables.end());
    if (names.empty())
      names = listBuiltinOpSupport();
    std::vector<OpSupportTable> loaded;
    for (const std::string &name : names) {
      llvm::Expected<OpSupportTable> table = getBuiltinOpSupport(name);
      if (!table) {
        emitError(module.getLoc())
            << "chorus-print-op-support: " << llvm::toString(table.takeError());
        return signalPassFailure();
      }
      loaded.push_back(std::move(*table));
    }
    llvm::raw_ostream &os = llvm::outs();
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      os << "op support @" << func.getSymName();
      if (auto opsets =
              func->getAttrOfType<DictionaryAttr>("chorus.opset_import")) {
        os << " (opsets";
        for (NamedAttribute a : opsets)
          if (auto v = dyn_cast<IntegerAttr>(a.getValue()))
            os << " " << a.getName().getValue() << " " << v.getInt();
        os << ")";
      }
      os << "\n";
      std::set<std::string> used;
      func.walk([&](NodeOp node) { used.insert(node.getOpType().str()); });
      for (const OpSupportTable &table : loaded) {
        OpSupportVerdict v = checkOpSupport(func, table);
        os << "  " << table.backend << " (" << table.name
           << "): " << v.supported << " of " << v.nodes << " nodes";
        if (v.fallback.empty()) {
          os << ", no fallback";
        } else {
          os << "; falls back to wasm:";
          printFallback(os, v);
        }
        os << "; " << v.segments << " segment" << (v.segments == 1 ? "" : "s")
           << ", " << v.crossings << " crossing"
           << (v.crossings == 1 ? "" : "s") << " per run ("
           << formatWithSeparators(v.crossingBytes) << " bytes";
        if (v.unsizedCrossings)
          os << " + " << v.unsizedCrossings << " of dynamic size";
        os << ")\n";
        if (!v.refused.empty())
          os << "    does not run: " << table.runtime << "'s " << table.backend
             << " backend fails on " << describeRefusals(v) << "\n";
        if (!v.webnnOps.empty())
          os << "    WebNN operations: " << llvm::join(v.webnnOps, ", ")
             << "\n";
        for (const std::string &op : used) {
          auto it = table.ops.find(op);
          if (it == table.ops.end() || it->second.note.empty())
            continue;
          const std::vector<std::string> &inputs = it->second.constantInputs;
          auto unchecked = v.uncheckedInputs.find(op);
          if (inputs.empty() || unchecked != v.uncheckedInputs.end()) {
            os << "    condition not checked, " << op << ": " << it->second.note
               << "\n";
            continue;
          }
          // The constant inputs were checked; the rest of the note is not.
          os << "    checked that input" << (inputs.size() == 1 ? " " : "s ");
          llvm::interleave(
              inputs, os, [&](const std::string &n) { os << "'" << n << "'"; },
              ", ");
          os << (inputs.size() == 1 ? " is" : " are")
             << " constant where present; rest not checked, " << op << ": "
             << it->second.note << "\n";
        }
      }
    }
  }
};

} // namespace
