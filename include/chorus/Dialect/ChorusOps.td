//===- ChorusOps.td - Operations of the chorus dialect -----*- tablegen -*-===//

#ifndef CHORUS_DIALECT_CHORUSOPS_TD
#define CHORUS_DIALECT_CHORUSOPS_TD

include "chorus/Dialect/ChorusDialect.td"
include "chorus/Dialect/ChorusTypes.td"
include "chorus/Dialect/ChorusAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

def Chorus_WeightOp : Chorus_Op<"weight", [Symbol]> {
  let summary = "a module-level initializer: type, content digest and size";
  let description = [{
    One ONNX initializer (or `Constant` node). The payload is not kept; the
    op records what analyses need: the tensor type, a digest of the content
    (`xxh3-128:` followed by 32 hex digits, computed over the ONNX data type,
    the dims and the little-endian bytes), the payload size in bytes and
    the ONNX names it had. Tensors of at most 64 numeric elements also keep
    their `value`, since shapes, axes and scales are read by later passes.

    ```mlir
    chorus.weight @cls.conv1_w : tensor<8x3x3x3xf32>
        digest "xxh3-128:8f0c3a2de07b1a9c6a5c4d3e2f1a0b9c" bytes 864
        names ["conv1.weight"]
    chorus.weight @cls.shape : tensor<2xi64>
        digest "xxh3-128:00112233445566778899aabbccddeeff" bytes 16
        names ["shape"] value dense<[1, -1]> : tensor<2xi64>
    ```

    `constant_node` marks a tensor the file holds in a `Constant` node's
    attribute rather than as an initializer: ONNX Runtime turns such a node
    into an initializer when it loads the model, a copy that initializers
    do not cost (the runtime memory model prices it per byte).

    Two weights with equal digest, type and size hold the same tensor; a
    later pass may merge them into one symbol (a `constant_node` mark stays
    only where every merged weight had it).
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<AnyRankedTensor>:$type,
    StrAttr:$digest,
    I64Attr:$byte_size,
    StrArrayAttr:$onnx_names,
    OptionalAttr<ElementsAttr>:$value,
    OptionalAttr<StrAttr>:$external_location,
    UnitAttr:$constant_node
  );
  let assemblyFormat = [{
    $sym_name `:` $type `digest` $digest `bytes` $byte_size `names` $onnx_names
    (`value` $value^)? (`external` $external_location^)?
    (`constant_node` $constant_node^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// WeightRefOp
//===----------------------------------------------------------------------===//

def Chorus_WeightRefOp : Chorus_Op<"weight_ref",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "reads a module-level weight inside a model";
  let description = [{
    Produces the tensor held by a `chorus.weight` symbol. The result type
    must equal the symbol's type.

    ```mlir
    %w = chorus.weight_ref @cls.conv1_w : tensor<8x3x3x3xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$weight attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// NodeOp
//===----------------------------------------------------------------------===//

def Chorus_NodeOp : Chorus_Op<"node", [RecursiveMemoryEffects]> {
  let summary = "a generic ONNX node";
  let description = [{
    One ONNX node, whatever its operator. `op_type` and `domain` name the
    operator (the empty domain is the default ONNX domain `ai.onnx`);
    `name` is the ONNX node name. The node's ONNX attributes are held in
    the dictionary printed right after the operands, with this mapping:
    INT `i64`, FLOAT `f32`, STRING string, INTS `array<i64: ...>`, FLOATS
    `array<f32: ...>`, STRINGS and TENSORS arrays, TENSOR a dense elements
    attribute (or `#chorus.elided` when large), TYPE_PROTO a type.
    GRAPH attributes become regions, printed after the type with the
    attribute name; each region has one block whose arguments are the
    subgraph's inputs and which ends in `chorus.yield`. Region bodies may
    use values of the enclosing graph, as ONNX subgraphs may.

    An absent optional input is a value of type `none` (see `chorus.none`);
    an absent optional output has type `none`.

    ```mlir
    %y = chorus.node "Conv"(%x, %w) {group = 1 : i64,
        strides = array<i64: 2, 2>} attributes {name = "conv1"}
        : (tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x15x15xf32>
    %r = chorus.node "If"(%c) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
          chorus.yield %a : tensor<2xf32>
        } "else_branch" {
          chorus.yield %b : tensor<2xf32>
        }
    ```
  }];
  let arguments = (ins
    StrAttr:$op_type,
    DefaultValuedStrAttr<StrAttr, "">:$domain,
    OptionalAttr<StrAttr>:$name,
    DictionaryAttr:$onnx_attrs,
    StrArrayAttr:$graph_names,
    Variadic<AnyType>:$inputs
  );
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region VariadicRegion<SizedRegion<1>>:$graphs);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The ONNX attribute `attrName`, or null.
    ::mlir::Attribute getOnnxAttr(::llvm::StringRef attrName) {
      return getOnnxAttrs().get(attrName);
    }
    /// The region holding GRAPH attribute `graphName`, or null.
    ::mlir::Region *getGraph(::llvm::StringRef graphName);
  }];
}

//===----------------------------------------------------------------------===//
// FusedOp
//===----------------------------------------------------------------------===//

def Chorus_FusedOp : Chorus_Op<"fused",
    [IsolatedFromAbove, RecursiveMemoryEffects,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "a group of nodes that runs as one kernel";
  let description = [{
    Nodes that `chorus-fuse` grouped into one kernel. The body reads only
    its block arguments, each bound to one input of the group (the region
    is isolated from above), and `chorus.yield`s the values used outside;
    values that are not yielded are not visible outside, so they are never
    materialized: lifetime analysis and memory planning see only the
    group's inputs and results, and the cost model charges one kernel
    overhead and only the bytes of the inputs and results. The body is an
    ordinary SSA block, so it is acyclic: every node comes after what it
    reads.

    `kind` is the group's fusion kind (that of its anchor: the convolution
    or matmul it is built around, else its largest kind); `rules` lists the
    fusion rules that built it (`conv-bn`, `gelu`, `dominator`...). Each
    input is printed once, bound to its block argument, so that groups of
    hundreds of nodes stay readable:

    ```mlir
    %y = chorus.fused "out_elementwise_fusable" ["conv-bn", "dominator"]
        (%in = %x, %in_0 = %w, %in_1 = %scale) : (tensor<1x3x8x8xf32>,
        tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32> {
      %0 = chorus.node "Conv"(%in, %in_0) : (...) -> tensor<1x4x6x6xf32>
      %1 = chorus.node "BatchNormalization"(%0, %in_1, ...) : ...
      %2 = chorus.node "Relu"(%1) : ...
      chorus.yield %2 : tensor<1x4x6x6xf32>
    }
    ```

    `chorus-unfuse` inlines the nodes back where the group was.
  }];
  let arguments = (ins
    StrAttr:$kind,
    StrArrayAttr:$rules,
    Variadic<AnyType>:$inputs
  );
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    /// The body's chorus.yield.
    ::mlir::Operation *getYield() { return getBodyBlock().getTerminator(); }
    /// Moves the body's nodes before this op, rewires their operands to the
    /// group's inputs and the group's results to the yielded values, and
    /// erases the group.
    void inlineBody();
  }];
}

//===----------------------------------------------------------------------===//
// NoneOp
//===----------------------------------------------------------------------===//

def Chorus_NoneOp : Chorus_Op<"none", [Pure]> {
  let summary = "the value of an absent optional ONNX input";
  let description = [{
    ONNX marks an absent optional input with an empty name, keeping the
    positions of the inputs after it. `chorus.none` stands in its place:

    ```mlir
    %none = chorus.none
    %y = chorus.node "Resize"(%x, %none, %scales) : (...) -> ...
    ```
  }];
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

//===----------------------------------------------------------------------===//
// YieldOp
//===----------------------------------------------------------------------===//

def Chorus_YieldOp : Chorus_Op<"yield",
    [Pure, Terminator, ParentOneOf<["NodeOp", "FusedOp"]>]> {
  let summary = "returns the outputs of a subgraph or a fused group";
  let description = [{
    Terminates the region of a GRAPH attribute or the body of a
    `chorus.fused` group; its operands are the subgraph's (the group's)
    outputs in order.

    ```mlir
    chorus.yield %a, %b : tensor<2xf32>, tensor<i1>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // CHORUS_DIALECT_CHORUSOPS_TD
