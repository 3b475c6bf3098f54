//===- Passes.td - Chorus passes ---------------------------*- tablegen -*-===//

#ifndef CHORUS_PASSES_TD
#define CHORUS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ShareModelsPass : Pass<"chorus-share", "mlir::ModuleOp"> {
  let summary = "Merge identical weights and mark computations models share";
  let description = [{
    Finds by content what the models of a module share.

    Weights with equal digest, type and byte size become one symbol read by
    every model, after their bytes are compared: from the small values kept
    in the IR, or read back from the model files named by `chorus.source`.
    Weights whose bytes cannot be compared stay apart (with a warning)
    unless `trust-digest` is set.

    Nodes computing the same op with the same attributes on identical
    operands (the same weight symbol, inputs declared the same tensor with
    `same-input`, or outputs of already identical nodes) get the same
    `chorus.compute_id` in every model that performs them: the computation
    is done once and read by all. Subgraph bodies are compared by content.

    Use `chorus-print-sharing` for the report (per pair of models: shared
    weights and bytes, shared nodes and FLOPs, shared regions, batch
    compatibility).
  }];
  let options = [
    ListOption<"sameInputs", "same-input", "std::string",
               "MODEL:INPUT=MODEL:INPUT pairs of model inputs that are the same tensor">,
    Option<"mergeWeights", "merge-weights", "bool", /*default=*/"true",
           "Merge identical weights into one symbol">,
    Option<"trustDigest", "trust-digest", "bool", /*default=*/"false",
           "Merge on equal digests without comparing bytes">,
  ];
  let statistics = [
    Statistic<"numWeightsMerged", "weights-merged", "Weights merged into another">,
    Statistic<"numUnverified", "weights-unverified",
              "Weights left apart because their bytes could not be compared">,
    Statistic<"numSharedNodes", "shared-nodes", "Nodes given a compute id">,
  ];
}

def PrintSharingPass : Pass<"chorus-print-sharing", "mlir::ModuleOp"> {
  let summary = "Print what the models of the module share";
  let description = [{
    Prints the sharing report to standard output: per model its weights,
    nodes and FLOPs; per pair of models the shared weights and bytes, the
    shared nodes and their FLOPs, the sizes of the maximal shared regions,
    and whether the two are batchable (same computation, same weights),
    the same structure with different weights, or neither; and the memory
    and compute saved in total. Run it after `chorus-share` so that
    identical weights are one symbol. `format=json` prints the same figures
    as JSON.
  }];
  let options = [
    ListOption<"sameInputs", "same-input", "std::string",
               "MODEL:INPUT=MODEL:INPUT pairs of model inputs that are the same tensor">,
    Option<"format", "format", "std::string", /*default=*/"\"table\"",
           "table or json">,
  ];
}

#endif // CHORUS_PASSES_TD
