// RUN: chorus-opt %s | FileCheck %s
// RUN: chorus-opt %s | chorus-opt | FileCheck %s
// RUN: chorus-opt %s --mlir-print-op-generic | chorus-opt | FileCheck %s

// Tests that weights print with digest, size, names, small values and an
// external location.
// CHECK-LABEL: chorus.weight @m.w : tensor<2x3xf32> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 24 names ["w", "w_alias"]
chorus.weight @m.w : tensor<2x3xf32> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 24 names ["w", "w_alias"]
// CHECK: chorus.weight @m.shape : tensor<2xi64> digest "xxh3-128:00112233445566778899aabbccddeeff" bytes 16 names ["shape"] value dense<[3, 2]> : tensor<2xi64>
chorus.weight @m.shape : tensor<2xi64> digest "xxh3-128:00112233445566778899aabbccddeeff" bytes 16 names ["shape"] value dense<[3, 2]> : tensor<2xi64>
// CHECK: chorus.weight @m.ext : tensor<4xf16> digest "xxh3-128:ffffffffffffffffffffffffffffffff" bytes 8 names ["ext"] external "data/ext.bin"
chorus.weight @m.ext : tensor<4xf16> digest "xxh3-128:ffffffffffffffffffffffffffffffff" bytes 8 names ["ext"] external "data/ext.bin"
// CHECK: chorus.weight @m.labels : tensor<2x!chorus.string> digest "xxh3-128:0000000000000000000000000000abcd" bytes 7 names ["labels"]
chorus.weight @m.labels : tensor<2x!chorus.string> digest "xxh3-128:0000000000000000000000000000abcd" bytes 7 names ["labels"]

// Tests that a model keeps its metadata, nodes keep ONNX attributes of every
// kind, and absent optional inputs and outputs are none values.
// CHECK-LABEL: func.func @m(
// CHECK-SAME: %[[X:.+]]: tensor<?x3xf32> {chorus.dim_params = ["N", ""], chorus.name = "x"}
// CHECK-SAME: attributes {chorus.graph_name = "g", chorus.ir_version = 8 : i64, chorus.opset_import = {ai.onnx = 17 : i64, com.microsoft = 1 : i64}, chorus.producer = "test 1.0", chorus.source = "m.onnx"}
func.func @m(%x: tensor<?x3xf32> {chorus.name = "x", chorus.dim_params = ["N", ""]})
    -> (tensor<?x2xf32> {chorus.name = "y"})
    attributes {chorus.source = "m.onnx", chorus.ir_version = 8 : i64,
                chorus.opset_import = {ai.onnx = 17 : i64, com.microsoft = 1 : i64},
                chorus.producer = "test 1.0", chorus.graph_name = "g"} {
  // CHECK: %[[W:.+]] = chorus.weight_ref @m.w : tensor<2x3xf32>
  %w = chorus.weight_ref @m.w : tensor<2x3xf32>
  // CHECK: %[[NONE:.+]] = chorus.none
  %none = chorus.none
  // CHECK: chorus.node "Gemm"(%[[X]], %[[W]], %[[NONE]]) {alpha = 1.000000e+00 : f32, names = ["a", "b"], pads = array<i64: 0, 1>, scales = array<f32: 5.000000e-01>, t = dense<1.000000e+00> : tensor<2xf32>, transB = 1 : i64, ty = tensor<*xf32>} attributes {name = "gemm0"} : (tensor<?x3xf32>, tensor<2x3xf32>, none) -> tensor<?x2xf32>
  %y = chorus.node "Gemm"(%x, %w, %none) {alpha = 1.0 : f32, transB = 1 : i64,
      pads = array<i64: 0, 1>, scales = array<f32: 0.5>, names = ["a", "b"],
      t = dense<1.0> : tensor<2xf32>, ty = tensor<*xf32>}
      attributes {name = "gemm0"}
      : (tensor<?x3xf32>, tensor<2x3xf32>, none) -> tensor<?x2xf32>
  // CHECK: chorus.node "FusedMatMul"(%{{.+}}) {big = #chorus.elided<tensor<4096xf32>, "xxh3-128:0123456789abcdef0123456789abcdef">} attributes {domain = "com.microsoft"} : (tensor<?x2xf32>) -> (tensor<?x2xf32>, none)
  %z:2 = chorus.node "FusedMatMul"(%y) {big = #chorus.elided<tensor<4096xf32>, "xxh3-128:0123456789abcdef0123456789abcdef">}
      attributes {domain = "com.microsoft"} : (tensor<?x2xf32>) -> (tensor<?x2xf32>, none)
  return %z#0 : tensor<?x2xf32>
}

// Tests that non-tensor types print and parse back.
// CHECK-LABEL: func.func @types(
// CHECK-SAME: : !chorus.seq<tensor<?xf32>>
// CHECK-SAME: : !chorus.opt<tensor<2xi64>>
// CHECK-SAME: : !chorus.map<i64, f32>
// CHECK-SAME: : !chorus.map<!chorus.string, tensor<f32>>
// CHECK-SAME: : !chorus.sparse<tensor<10x10xf32>>
// CHECK-SAME: : !chorus.unknown
// CHECK-SAME: : tensor<3xui8>
// CHECK-SAME: : tensor<bf16>
// CHECK-SAME: : tensor<2xcomplex<f64>>
func.func @types(%a: !chorus.seq<tensor<?xf32>>, %b: !chorus.opt<tensor<2xi64>>,
                 %c: !chorus.map<i64, f32>,
                 %d: !chorus.map<!chorus.string, tensor<f32>>,
                 %e: !chorus.sparse<tensor<10x10xf32>>, %f: !chorus.unknown,
                 %g: tensor<3xui8>, %h: tensor<bf16>, %i: tensor<2xcomplex<f64>>) {
  return
}

// Tests that GRAPH attributes are named regions whose bodies may use values
// of the enclosing graph and end in chorus.yield.
// CHECK-LABEL: func.func @control_flow(
// CHECK-SAME: %[[C:.+]]: tensor<i1>, %[[A:.+]]: tensor<2xf32>
func.func @control_flow(%c: tensor<i1>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: chorus.node "If"(%[[C]]) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
  // CHECK-NEXT: chorus.node "Neg"(%[[A]])
  // CHECK-NEXT: chorus.yield %{{.+}} : tensor<2xf32>
  // CHECK-NEXT: } "else_branch" {
  // CHECK-NEXT: chorus.yield %[[A]] : tensor<2xf32>
  %r = chorus.node "If"(%c) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
    %n = chorus.node "Neg"(%a) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %n : tensor<2xf32>
  } "else_branch" {
    chorus.yield %a : tensor<2xf32>
  }
  // CHECK: chorus.node "Loop"
  // CHECK-SAME: "body" {
  // CHECK-NEXT: ^bb0(%{{.+}}: tensor<i64>, %{{.+}}: tensor<i1>, %{{.+}}: tensor<2xf32>):
  %none = chorus.none
  %l = chorus.node "Loop"(%none, %c, %r) : (none, tensor<i1>, tensor<2xf32>) -> tensor<2xf32> "body" {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<2xf32>):
    chorus.yield %cond, %v : tensor<i1>, tensor<2xf32>
  }
  return %l : tensor<2xf32>
}

// Tests that a fused group prints its kind, its rules and each input once,
// bound to its body argument (named %in...), with attributes, and that
// results may be several.
// CHECK-LABEL: func.func @fused(
// CHECK-SAME: %[[A:[a-z0-9_]+]]: tensor<2xf32>, %[[B:[a-z0-9_]+]]: tensor<2xf32>
func.func @fused(%a: tensor<2xf32>, %b: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  // CHECK: %[[G:[a-z0-9_]+]]:2 = chorus.fused "elementwise" ["gelu", "dominator"] (%[[X:in[_0-9]*]] = %[[A]], %[[Y:in[_0-9]*]] = %[[B]]) {chorus.arena_offsets = array<i64: 0, 64>} : (tensor<2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  // CHECK-NEXT: %[[S:.+]] = chorus.node "Add"(%[[X]], %[[Y]])
  // CHECK-NEXT: %[[N:.+]] = chorus.node "Neg"(%[[S]])
  // CHECK-NEXT: chorus.yield %[[S]], %[[N]] : tensor<2xf32>, tensor<2xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[G]]#0, %[[G]]#1
  %0:2 = chorus.fused "elementwise" ["gelu", "dominator"] (%x = %a, %y = %b) {chorus.arena_offsets = array<i64: 0, 64>} : (tensor<2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
    %s = chorus.node "Add"(%x, %y) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %n = chorus.node "Neg"(%s) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %s, %n : tensor<2xf32>, tensor<2xf32>
  }
  return %0#0, %0#1 : tensor<2xf32>, tensor<2xf32>
}
