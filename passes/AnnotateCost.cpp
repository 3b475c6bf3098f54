//===- AnnotateCost.cpp - Predict node and model times on a target --------===//

#include "passes/Passes.h"

#include "chorus/Support/Format.h"
#include "chorus/Target/CostModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include "llvm/Support/raw_ostream.h"
#include <cmath>

#define DEBUG_TYPE "chorus-annotate-cost"

namespace chorus {
#define GEN_PASS_DEF_ANNOTATECOSTPASS
#include "passes/Passes.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

/// FLOPs and bytes are whole counts: integers print readably where large
/// f64 attributes print in hexadecimal.
IntegerAttr count(Builder &b, double value) {
  return b.getI64IntegerAttr(static_cast<int64_t>(std::llround(value)));
}

struct AnnotateCostPass
    : public chorus::impl::AnnotateCostPassBase<AnnotateCostPass> {
  using AnnotateCostPassBase::AnnotateCostPassBase;

  void printTable(func::FuncOp func, const ModelCost &cost,
                  const Target &target) {
    llvm::raw_ostream &os = llvm::outs();
    os << "cost @" << func.getSymName() << " on " << target.name << ": "
       << cost.kernels << " kernels, " << llvm::format("%.4g", cost.flops)
       << " FLOPs, " << llvm::format("%.4g", cost.bytes) << " bytes, "
       << llvm::format("%.6f", cost.seconds * 1e3) << " ms\n";
    for (const auto &[cls, seconds] : cost.secondsByClass)
      os << "  " << llvm::left_justify(getOpClassName(cls), 14)
         << llvm::format("%10.4f ms %5.1f%%", seconds * 1e3,
                         100 * seconds / std::max(cost.seconds, 1e-30))
         << "\n";
    for (const auto &[bound, seconds] : cost.secondsByBound)
      os << "  " << llvm::left_justify(getBoundName(bound), 14)
         << llvm::format("%10.4f ms %5.1f%%", seconds * 1e3,
                         100 * seconds / std::max(cost.seconds, 1e-30))
         << " (" << getBoundName(bound) << "-bound nodes)\n";
    if (cost.estimatedNodes)
      os << "  estimated: " << cost.estimatedNodes << " nodes, "
         << llvm::format("%.2f%%",
                         100 * cost.estimatedFlops / std::max(cost.flops, 1.0))
         << " of the FLOPs\n";
    for (const std::string &text : cost.assumptions)
      os << "  assumed: " << text << "\n";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::Expected<Target> target = loadTarget(targetName, targetFile);
    if (!target) {
      emitError(module.getLoc())
          << "chorus-annotate-cost: " << llvm::toString(target.takeError());
      return signalPassFailure();
    }
    Builder b(module.getContext());
    llvm::json::Array report;
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      FailureOr<ModelCost> cost = estimateModelCost(func, *target);
      if (failed(cost))
        return signalPassFailure();
      for (auto &[op, c] : cost->kernelCosts) {
        double bytes = c.work.bytesRead + c.work.bytesWritten;
        op->setAttr(
            "chorus.cost",
            b.getDictionaryAttr({
                b.getNamedAttr("bound",
                               b.getStringAttr(getBoundName(c.bound()))),
                b.getNamedAttr("bytes", count(b, bytes)),
                b.getNamedAttr("flops", count(b, c.work.flops)),
                b.getNamedAttr(
                    "intensity",
                    b.getF64FloatAttr(bytes > 0 ? c.work.flops / bytes : 0.0)),
                b.getNamedAttr("time_s", b.getF64FloatAttr(c.seconds())),
            }));
      }
      for (const auto &[op, count] : cost->estimatedOps)
        func.emitWarning() << count << " node" << (count > 1 ? "s" : "")
                           << " of op '" << op
                           << "' have no op table entry; their cost is a "
                              "conservative estimate";
      func->setAttr(
          "chorus.cost",
          b.getDictionaryAttr({
              b.getNamedAttr("bytes", count(b, cost->bytes)),
              b.getNamedAttr("estimated_flops", count(b, cost->estimatedFlops)),
              b.getNamedAttr("estimated_nodes",
                             b.getI64IntegerAttr(cost->estimatedNodes)),
              b.getNamedAttr("flops", count(b, cost->flops)),
              b.getNamedAttr("kernels", b.getI64IntegerAttr(cost->kernels)),
              b.getNamedAttr("target", b.getStringAttr(target->name)),
              b.getNamedAttr("time_s", b.getF64FloatAttr(cost->seconds)),
          }));
      if (print && format == ReportFormat::Json)
        report.push_back(toJSON(func, *cost, *target));
      else if (print)
        printTable(func, *cost, *target);
    }
    if (print && format == ReportFormat::Json)
      llvm::outs() << llvm::formatv("{0:2}",
                                    llvm::json::Value(std::move(report)))
                   << "\n";
  }

  /// One model's totals, as printTable shows them.
  static llvm::json::Object toJSON(func::FuncOp func, const ModelCost &cost,
                                   const Target &target) {
    llvm::json::Object byClass, byBound;
    for (const auto &[cls, seconds] : cost.secondsByClass)
      byClass[getOpClassName(cls)] = seconds;
    for (const auto &[bound, seconds] : cost.secondsByBound)
      byBound[getBoundName(bound)] = seconds;
    return llvm::json::Object{
        {"model", func.getSymName()},
        {"target", target.name},
        {"time_s", cost.seconds},
        {"flops", cost.flops},
        {"bytes", cost.bytes},
        {"kernels", static_cast<int64_t>(cost.kernels)},
        {"estimated_nodes", static_cast<int64_t>(cost.estimatedNodes)},
        {"estimated_flops", cost.estimatedFlops},
        {"seconds_by_class", std::move(byClass)},
        {"seconds_by_bound", std::move(byBound)},
        {"assumptions", llvm::json::Array(cost.assumptions)},
    };
  }
};

} // namespace
