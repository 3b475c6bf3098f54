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
    Option<"format", "format", "::chorus::ReportFormat",
           /*default=*/"::chorus::ReportFormat::Table",
           "How the report is printed",
           [{::llvm::cl::values(
             clEnumValN(::chorus::ReportFormat::Table, "table", "a table"),
             clEnumValN(::chorus::ReportFormat::Json, "json", "JSON"))}]>,
  ];
}

def PlanMemoryPass : Pass<"chorus-plan-memory", "mlir::ModuleOp"> {
  let summary = "Plan each model's activation arena";
  let description = [{
    For every model: tensor lifetimes in node order (optionally after a
    memory-aware reordering of the nodes, which moves the ops), then arena
    offsets from every planner (see `chorus-memplan --list-algorithms`),
    keeping the smallest arena. The plan is checked by the independent plan
    verifier before anything is attached; a plan that fails is an error.

    Attaches to each func `chorus.memory`: arena bytes, lower bound (the
    maximum live bytes, sizes aligned), weight bytes, alignment, the
    winning algorithm and, with `reorder`, the peak live bytes of the
    original order. Each node gets `chorus.arena_offsets`, one offset per
    result (-1 where a result takes no arena memory: weights, `none`);
    a view's offset is its source's.
  }];
  let options = [
    Option<"alignment", "alignment", "uint64_t", /*default=*/"64",
           "Align every arena offset to this many bytes">,
    Option<"reorder", "reorder", "bool", /*default=*/"false",
           "Reorder nodes to lower the peak of live bytes first">,
    Option<"searchBudget", "search-budget", "uint64_t",
           /*default=*/"1000000000",
           "Work budget of the planners' search (0: constructive only)">,
  ];
  let statistics = [
    Statistic<"numPlanned", "models-planned", "Models planned">,
  ];
}

def AnnotateCostPass : Pass<"chorus-annotate-cost", "mlir::ModuleOp"> {
  let summary = "Predict each node's and model's time on a hardware target";
  let description = [{
    For every node of every model: FLOPs and bytes from the op table,
    arithmetic intensity (FLOPs per byte), the predicted time on the target
    (roofline with per-class efficiency plus per-kernel overhead, in
    additive form: compute + memory + overhead) and which term bounds it.
    Attaches `chorus.cost = {bound, bytes, flops, intensity, time_s}` to
    each node and `chorus.cost = {target, flops, bytes, time_s, kernels,
    estimated_nodes, estimated_flops}` to each func. Nodes whose op has no
    op table entry get a conservative estimate and a warning naming the op;
    they are counted in `estimated_nodes`. `print=true` also prints a table
    per model: totals and the time by op class and by bound; with
    `format=json`, the same figures as one JSON array (for scripts).

    The target is a built-in name (`target=host`, `h100-sxm`, `h200`,
    `a100-80gb`, `l4`, `x86-avx2`) or a JSON file (`target-file=`), see
    docs/Targets.md.
  }];
  let options = [
    Option<"targetName", "target", "std::string", /*default=*/"\"\"",
           "Built-in target name (default host)">,
    Option<"targetFile", "target-file", "std::string", /*default=*/"\"\"",
           "Target JSON file">,
    Option<"print", "print", "bool", /*default=*/"false",
           "Print a cost table per model">,
    Option<"format", "format", "::chorus::ReportFormat",
           /*default=*/"::chorus::ReportFormat::Table",
           "How print=true prints",
           [{::llvm::cl::values(
             clEnumValN(::chorus::ReportFormat::Table, "table", "a table"),
             clEnumValN(::chorus::ReportFormat::Json, "json",
                        "a JSON array, one object per model"))}]>,
  ];
}

def PrintOrtKernelsPass : Pass<"chorus-print-ort-kernels", "mlir::ModuleOp"> {
  let summary = "Print the kernels ONNX Runtime's CPU provider runs for each model";
  let description = [{
    Mirrors the graph rewrites ONNX Runtime's CPU provider applies at a
    graph optimization level and prints, per model, how many kernels run
    and how many of each op, named as ONNX Runtime's saved optimized graph
    (`optimizedModelFilePath`) names them: `com.microsoft:FusedConv`,
    `com.microsoft.nchwc:ReorderInput`...

    - `basic`: constant folding (Shape and Size only where the file's
      declared shapes fix their operand's shape: ONNX Runtime optimizes
      the graph as the file declares it, whatever dims are bound later),
      Identity, Dropout, same-type Cast and zero Pad removed, common
      subexpressions merged, BatchNormalization and per-channel Mul and Add
      folded into Conv, a Reshape whose shape is read from its own input's
      dims given a constant shape.
    - `extended`: also Conv with its activation, HardSwish written as
      x*HardSigmoid(x) included (FusedConv), MatMul of 2-D
      operands with its bias (Gemm) and Gemm with its activation
      (FusedGemm), GELU (Gelu, FastGelu, BiasGelu), x*sigmoid(x)
      (QuickGelu), decomposed LayerNormalization, Transpose or scalar
      scale into MatMul (FusedMatMul).
    - `all`: also the NCHWc transform: 2-D convolutions whose channels
      suit the block run blocked (`com.microsoft.nchwc:Conv`, with Add and
      activations fused where ONNX Runtime fuses them), pools, and the
      Add, Mul, Concat, activation, BatchNormalization, Transpose and
      Resize nodes whose operands are all blocked; ReorderInput and
      ReorderOutput (and Reshape pairs around an Add of unprovable shape)
      are inserted between the layouts.

    `nchwc-block` is MLAS's block: 8 with AVX2, 16 with AVX-512, 0 for no
    NCHWc transform. `webgpu=true` mirrors ONNX Runtime Web's WebGPU
    provider instead (give it `nchwc-block=0`): no Conv + Add fusion, and
    convolutions, pools and Resize in NHWC, with a Transpose wherever a
    value enters or leaves a region of them and of the elementwise,
    Concat, Split, Slice, Pad and Reduce nodes the runtime's transpose
    optimizer moves Transposes through. `list=true` also lists every
    kernel with the model's nodes it runs. docs/Fusion.md compares the counts with ONNX Runtime's
    saved optimized graphs.
  }];
  let options = [
    Option<"level", "level", "std::string", /*default=*/"\"all\"",
           "Graph optimization level: disabled, basic, extended or all">,
    Option<"nchwcBlock", "nchwc-block", "unsigned", /*default=*/"8",
           "NCHWc block size in channels (8: AVX2, 16: AVX-512, 0: none)">,
    Option<"webgpu", "webgpu", "bool", /*default=*/"false",
           "ONNX Runtime Web's WebGPU provider (NHWC layout) instead of "
           "the CPU provider">,
    Option<"list", "list", "bool", /*default=*/"false",
           "Also list every kernel: its op and the model's nodes it runs">,
  ];
}

def PrintOpSupportPass : Pass<"chorus-print-op-support", "mlir::ModuleOp"> {
  let summary = "Print which nodes of each model a browser backend runs";
  let description = [{
    Checks every node of every model (also inside fused groups and
    subgraphs) against op-support tables: the operators, per domain and
    opset, that a runtime backend runs. The built-in tables are ONNX Runtime
    Web's for its WebGPU (JSEP) and WebNN execution providers, generated
    from the tables the onnxruntime-web npm package ships (see
    docs/Targets.md). A node the backend does not run falls back to ONNX
    Runtime's CPU kernels compiled to WebAssembly (the wasm backend, which
    runs every operator). Prints per model and table: how many nodes run on
    the backend, the fallback operators with their counts, how many
    segments the top-level kernels form in program order, and the values
    that cross between the backend and the CPU side per run (graph inputs
    and outputs live on the CPU side) with their bytes. Inputs a table's
    comment requires to be constants (WebNN's "Input 'shape' should be a
    constant" for Reshape) are checked: a node runs on the backend only if
    each such input is absent, a weight, or computed from weights and
    static shapes alone, as ONNX Runtime's constant folding leaves it;
    otherwise it falls back and the input is named. The rest of a comment
    (attribute values, ranks) is listed for the operators the model uses,
    not checked. For a WebNN table, the WebNN operations the model's nodes
    are built from are listed, to compare with a browser's
    `opSupportLimits()`.

    `tables=` names the tables (default: every built-in one).
  }];
  let options = [
    ListOption<"tables", "tables", "std::string",
               "Built-in op-support tables to check against (default all)">,
  ];
}

def FuseOpsPass : Pass<"chorus-fuse", "mlir::ModuleOp"> {
  let summary = "Group nodes that run as one kernel into chorus.fused ops";
  let description = [{
    Groups each model's nodes into kernels and replaces every group of two
    or more nodes by a `chorus.fused` op. Values inside a group are then
    not materialized: lifetimes and memory planning see only the group's
    inputs and results, and the cost model charges one kernel overhead and
    the group's external bytes.

    The named fusions that ONNX Runtime performs on CPU apply first, each
    on nodes no earlier rule took:

    | rule | nodes |
    |------|-------|
    | `conv-bn` | Conv, BatchNormalization reading only it (folded weights) |
    | `conv-add-relu` | Conv (+BN), Add of a tensor of the same type, optional Relu |
    | `conv-activation` | Conv (+BN), Relu, Sigmoid, Tanh, LeakyRelu, Clip or HardSigmoid |
    | `matmul-add` | MatMul, Add of a bias weight of rank at most 1 (Gemm) |
    | `gelu` | the erf or tanh form of GELU written out in elementwise nodes |
    | `layer-norm` | ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div (+Mul, +Add) |
    | `attention` | (Transpose), MatMul, (scale), (mask Add), Softmax, MatMul |

    Then `dominator`: TVM's FuseOps over the nodes and groups so far, with
    the op table's fusion kinds. A node joins its immediate post-dominator
    when every path between them allows it: a convolution, matmul or pool
    takes the elementwise and broadcast ops it dominates; elementwise ops
    join an injective, reduction or anchor op through injective paths;
    injective chains fuse after that. A value with readers outside a group
    is a result of the group; opaque ops (control flow, data-dependent
    outputs, unknown ops) fuse with nothing; no group closes a cycle.

    `rules` selects rules (default: all); `max-group-size` caps the nodes
    of one group. `print=true` prints per model its nodes, its
    kernels (top-level nodes and groups) before and after, and the groups
    per rule.
  }];
  let options = [
    ListOption<"rules", "rules", "std::string",
               "Fusion rules to apply (default: all): conv-bn, conv-add-relu, "
               "conv-activation, matmul-add, gelu, layer-norm, attention, "
               "dominator">,
    Option<"maxGroupSize", "max-group-size", "unsigned", /*default=*/"256",
           "Most nodes in one group">,
    Option<"print", "print", "bool", /*default=*/"false",
           "Print nodes, kernels and groups per model">,
  ];
  let statistics = [
    Statistic<"numGroups", "groups", "Groups created">,
    Statistic<"numFusedNodes", "fused-nodes", "Nodes placed in groups">,
  ];
}

def UnfuseOpsPass : Pass<"chorus-unfuse", "mlir::ModuleOp"> {
  let summary = "Inline every chorus.fused group back into its model";
  let description = [{
    The inverse of `chorus-fuse`: each group's nodes move back into the
    model where the group was, reading the group's inputs, and the group's
    results are replaced by the values it yielded. After `chorus-fuse` the
    model has the same nodes and the same edges as before (the node order
    may differ; `chorus-test-fusion-roundtrip` checks this).
  }];
}

#endif // CHORUS_PASSES_TD
