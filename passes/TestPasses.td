//===- TestPasses.td - Chorus test passes -------------------*- tablegen -*-===//
//
// Passes that print an analysis's result or check a property for lit tests
// and benches; not part of any pipeline (the user's passes are in
// Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef CHORUS_TESTPASSES_TD
#define CHORUS_TESTPASSES_TD

include "mlir/Pass/PassBase.td"

def TestLifetimesPass : Pass<"chorus-test-lifetimes", "mlir::ModuleOp"> {
  let summary = "Print each model's tensor live intervals and memory profile";
  let description = [{
    Runs the tensor lifetime analysis on every model (func.func) and prints,
    per model: each arena tensor's live interval [first step, last use + 1)
    in the node order, its bytes and kind (input, activation, output,
    subgraph workspace) and how many views read it; then the bytes live
    while each node runs, the peak step and the largest tensors live there.
    Views (Reshape, Flatten, Squeeze, Unsqueeze, Identity) take no memory:
    they extend their source's interval. Weights are counted apart.
    `format=csv` prints the intervals as a planner problem instead
    (id,lower,upper,size, the format `chorus-memplan` reads).
    `reorder=true` analyses the memory-aware order instead of the body's.
  }];
  let options = [
    Option<"format", "format", "::chorus::ReportFormat",
           /*default=*/"::chorus::ReportFormat::Table",
           "How the intervals are printed",
           [{::llvm::cl::values(
             clEnumValN(::chorus::ReportFormat::Table, "table",
                        "a table with the memory profile"),
             clEnumValN(::chorus::ReportFormat::Csv, "csv",
                        "a chorus-memplan problem (id,lower,upper,size)"))}]>,
    Option<"reorder", "reorder", "bool", /*default=*/"false",
           "Analyse the memory-aware node order">,
  ];
}

def TestFusionRoundtripPass : Pass<"chorus-test-fusion-roundtrip",
                                   "mlir::ModuleOp"> {
  let summary = "Check that fusing then unfusing gives back the same graph";
  let description = [{
    For every model: records the multiset of nodes (op type, domain,
    attributes, operand and result types) and of edges (producer and result
    number to reader and operand number; model inputs, weights and the
    return included), runs `chorus-fuse` with its default options, verifies
    the fused model, inlines the groups again and compares both multisets.
    Prints one line per model: nodes, edges, groups and kernels, and "ok";
    a difference is an error naming the first node or edge that differs.
  }];
}

def TestOpTablePass : Pass<"chorus-test-op-table", "mlir::ModuleOp"> {
  let summary = "Print which ops of the module the op table does not know";
  let description = [{
    Prints one line per op type (with its domain) that has no op table
    entry and how many nodes use it, then a summary line: nodes, op types,
    unknown op types. Used to check that every op of ONNX's test models and
    the PaddleOCR models has an entry.
  }];
}

#endif // CHORUS_TESTPASSES_TD
