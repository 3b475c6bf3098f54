// RUN: chorus-opt %s --split-input-file --chorus-fuse | FileCheck %s
// RUN: chorus-opt %s --split-input-file --chorus-fuse=rules=conv-bn | FileCheck %s --check-prefix=ONLYBN
// RUN: chorus-opt %s --split-input-file --chorus-fuse=max-group-size=2 | FileCheck %s --check-prefix=MAX2
// RUN: chorus-opt %s --split-input-file --chorus-fuse --chorus-unfuse | FileCheck %s --check-prefix=UNFUSE

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
!c = tensor<4xf32>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]
chorus.weight @c : !c digest "xxh3-128:00000000000000000000000000000002" bytes 16 names ["c"]

// Tests conv-bn then conv-activation: Conv, the BatchNormalization that
// alone reads it and a Relu become one group yielding the Relu. With
// rules=conv-bn only the first two are grouped; with max-group-size=2 the
// Relu stays out; unfusing gives the three nodes back.
// CHECK-LABEL: func.func @conv_bn_relu
// CHECK:      %[[G:[a-z0-9_]+]] = chorus.fused "out_elementwise_fusable" ["conv-bn", "conv-activation"] (%[[X:[a-z0-9_]+]] = %arg0, %[[W:[a-z0-9_]+]] = %{{.+}}, %[[C:[a-z0-9_]+]] = %{{.+}}) : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32> {
// CHECK-NEXT:   %[[CONV:[a-z0-9_]+]] = chorus.node "Conv"(%[[X]], %[[W]])
// CHECK-NEXT:   %[[BN:[a-z0-9_]+]] = chorus.node "BatchNormalization"(%[[CONV]], %[[C]], %[[C]], %[[C]], %[[C]])
// CHECK-NEXT:   %[[RELU:[a-z0-9_]+]] = chorus.node "Relu"(%[[BN]])
// CHECK-NEXT:   chorus.yield %[[RELU]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[G]]
// ONLYBN-LABEL: func.func @conv_bn_relu
// ONLYBN:      %[[G:[a-z0-9_]+]] = chorus.fused "out_elementwise_fusable" ["conv-bn"]
// ONLYBN-NEXT:   chorus.node "Conv"
// ONLYBN-NEXT:   chorus.node "BatchNormalization"
// ONLYBN-NEXT:   chorus.yield
// ONLYBN-NEXT: }
// ONLYBN-NEXT: chorus.node "Relu"(%[[G]])
// MAX2-LABEL: func.func @conv_bn_relu
// MAX2:      chorus.fused "out_elementwise_fusable" ["conv-bn"]
// MAX2-NOT:  chorus.fused
// MAX2:      chorus.node "Relu"
// UNFUSE-LABEL: func.func @conv_bn_relu
// UNFUSE-NOT:  chorus.fused
// UNFUSE:      %[[CONV:[a-z0-9_]+]] = chorus.node "Conv"(%arg0, %{{.+}})
// UNFUSE-NEXT: %[[BN:[a-z0-9_]+]] = chorus.node "BatchNormalization"(%[[CONV]],
// UNFUSE-NEXT: %[[RELU:[a-z0-9_]+]] = chorus.node "Relu"(%[[BN]])
// UNFUSE-NEXT: return %[[RELU]]
func.func @conv_bn_relu(%x: !x) -> !y {
  %w = chorus.weight_ref @w : !w
  %c = chorus.weight_ref @c : !c
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "BatchNormalization"(%0, %c, %c, %c, %c) : (!y, !c, !c, !c, !c) -> !y
  %2 = chorus.node "Relu"(%1) : (!y) -> !y
  return %2 : !y
}

// -----

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]

// Tests conv-add-relu: the Add of a tensor of the Conv's type (a residual)
// and the Relu after it join the Conv; the residual is a group input.
// CHECK-LABEL: func.func @conv_add_relu
// CHECK:      chorus.fused "out_elementwise_fusable" ["conv-add-relu"] (%[[X:[a-z0-9_]+]] = %arg0, %[[W:[a-z0-9_]+]] = %{{.+}}, %[[R:[a-z0-9_]+]] = %arg1)
// CHECK-NEXT:   %[[CONV:[a-z0-9_]+]] = chorus.node "Conv"(%[[X]], %[[W]])
// CHECK-NEXT:   %[[ADD:[a-z0-9_]+]] = chorus.node "Add"(%[[CONV]], %[[R]])
// CHECK-NEXT:   chorus.node "Relu"(%[[ADD]])
// CHECK-NEXT:   chorus.yield
func.func @conv_add_relu(%x: !x, %r: !y) -> !y {
  %w = chorus.weight_ref @w : !w
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "Add"(%0, %r) : (!y, !y) -> !y
  %2 = chorus.node "Relu"(%1) : (!y) -> !y
  return %2 : !y
}

// -----

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
!s = tensor<f32>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]
chorus.weight @s : !s digest "xxh3-128:00000000000000000000000000000004" bytes 4 names ["s"]

// Tests conv-activation with Clip (its bounds are weights), and that the
// dominator rule then takes no more: the Clip's result is read twice,
// once by an opaque op (CumSum).
// CHECK-LABEL: func.func @conv_clip
// CHECK:      %[[G:[a-z0-9_]+]] = chorus.fused "out_elementwise_fusable" ["conv-activation"]
// CHECK-NEXT:   chorus.node "Conv"
// CHECK-NEXT:   chorus.node "Clip"
// CHECK-NEXT:   chorus.yield
// CHECK-NEXT: }
// CHECK-NEXT: chorus.node "CumSum"(%[[G]]
// CHECK-NOT:  chorus.fused
func.func @conv_clip(%x: !x) -> (!y, !y) {
  %w = chorus.weight_ref @w : !w
  %s = chorus.weight_ref @s : !s
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "Clip"(%0, %s, %s) : (!y, !s, !s) -> !y
  %2 = chorus.node "CumSum"(%1, %s) : (!y, !s) -> !y
  %3 = chorus.node "Add"(%1, %2) : (!y, !y) -> !y
  return %3, %1 : !y, !y
}

// -----

!m = tensor<8x16xf32>
!mw = tensor<16x32xf32>
!mo = tensor<8x32xf32>
!b = tensor<32xf32>
chorus.weight @mw : !mw digest "xxh3-128:00000000000000000000000000000005" bytes 2048 names ["mw"]
chorus.weight @b : !b digest "xxh3-128:00000000000000000000000000000006" bytes 128 names ["b"]

// Tests matmul-add: MatMul and the Add of a rank-1 bias weight (a Gemm).
// The Add of a computed tensor after it is not a bias: the dominator rule
// takes it as an elementwise consumer instead.
// CHECK-LABEL: func.func @matmul_add
// CHECK:      chorus.fused "out_elementwise_fusable" ["matmul-add", "dominator"] (%[[A:[a-z0-9_]+]] = %arg0, %[[W:[a-z0-9_]+]] = %{{.+}}, %[[B:[a-z0-9_]+]] = %{{.+}}, %[[R:[a-z0-9_]+]] = %arg1)
// CHECK-NEXT:   %[[MM:[a-z0-9_]+]] = chorus.node "MatMul"(%[[A]], %[[W]])
// CHECK-NEXT:   %[[BIAS:[a-z0-9_]+]] = chorus.node "Add"(%[[MM]], %[[B]])
// CHECK-NEXT:   chorus.node "Add"(%[[BIAS]], %[[R]])
// CHECK-NEXT:   chorus.yield
// ONLYBN-LABEL: func.func @matmul_add
// ONLYBN-NOT:   chorus.fused
// ONLYBN:       return
func.func @matmul_add(%a: !m, %r: !mo) -> !mo {
  %w = chorus.weight_ref @mw : !mw
  %b = chorus.weight_ref @b : !b
  %0 = chorus.node "MatMul"(%a, %w) : (!m, !mw) -> !mo
  %1 = chorus.node "Add"(%0, %b) : (!mo, !b) -> !mo
  %2 = chorus.node "Add"(%1, %r) : (!mo, !mo) -> !mo
  return %2 : !mo
}

// -----

!t = tensor<8x32xf32>
!s = tensor<f32>
chorus.weight @s : !s digest "xxh3-128:00000000000000000000000000000004" bytes 4 names ["s"]

// Tests gelu, erf form x * 0.5 * (1 + erf(x / sqrt 2)) as PyTorch exports
// it: the five nodes between x and the result, x a group input read by
// the Div and the Mul. The Relu producing x is not taken (the group
// reads x twice; Relu is elementwise but gelu takes only its own nodes,
// and the dominator rule then merges the Relu as a producer).
// CHECK-LABEL: func.func @gelu_erf
// CHECK:      chorus.fused "elementwise" ["gelu", "dominator"] (%[[X:[a-z0-9_]+]] = %arg0,
// CHECK-NEXT:   %[[R:[a-z0-9_]+]] = chorus.node "Relu"(%[[X]])
// CHECK-NEXT:   %[[D:[a-z0-9_]+]] = chorus.node "Div"(%[[R]],
// CHECK-NEXT:   %[[E:[a-z0-9_]+]] = chorus.node "Erf"(%[[D]])
// CHECK-NEXT:   %[[A:[a-z0-9_]+]] = chorus.node "Add"(%[[E]],
// CHECK-NEXT:   %[[M:[a-z0-9_]+]] = chorus.node "Mul"(%[[R]], %[[A]])
// CHECK-NEXT:   %[[H:[a-z0-9_]+]] = chorus.node "Mul"(%[[M]],
// CHECK-NEXT:   chorus.yield %[[H]]
func.func @gelu_erf(%x: !t) -> !t {
  %s = chorus.weight_ref @s : !s
  %r = chorus.node "Relu"(%x) : (!t) -> !t
  %0 = chorus.node "Div"(%r, %s) : (!t, !s) -> !t
  %1 = chorus.node "Erf"(%0) : (!t) -> !t
  %2 = chorus.node "Add"(%1, %s) : (!t, !s) -> !t
  %3 = chorus.node "Mul"(%r, %2) : (!t, !t) -> !t
  %4 = chorus.node "Mul"(%3, %s) : (!t, !s) -> !t
  return %4 : !t
}

// -----

!t = tensor<8x32xf32>
!s = tensor<f32>
chorus.weight @s : !s digest "xxh3-128:00000000000000000000000000000004" bytes 4 names ["s"]

// Tests gelu, tanh form x * 0.5 * (1 + tanh(c (x + 0.044715 x^3))) with
// the Add reading x second; the residual Add of another input after it
// stays out of the gelu rule (it reads a value that is not x).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK:      chorus.fused "elementwise" ["gelu", "dominator"]
// CHECK-COUNT-8: chorus.node
// CHECK-NEXT:   chorus.node "Add"(%{{.+}}, %in_{{[0-9]+}})
// CHECK-NEXT:   chorus.yield
// CHECK-NEXT: }
// CHECK-NEXT: return
// ONLYBN-LABEL: func.func @gelu_tanh
// ONLYBN-NOT:   chorus.fused
// ONLYBN:       return
func.func @gelu_tanh(%x: !t, %y: !t) -> !t {
  %s = chorus.weight_ref @s : !s
  %0 = chorus.node "Pow"(%x, %s) : (!t, !s) -> !t
  %1 = chorus.node "Mul"(%0, %s) : (!t, !s) -> !t
  %2 = chorus.node "Add"(%1, %x) : (!t, !t) -> !t
  %3 = chorus.node "Mul"(%2, %s) : (!t, !s) -> !t
  %4 = chorus.node "Tanh"(%3) : (!t) -> !t
  %5 = chorus.node "Add"(%4, %s) : (!t, !s) -> !t
  %6 = chorus.node "Mul"(%x, %5) : (!t, !t) -> !t
  %7 = chorus.node "Mul"(%6, %s) : (!t, !s) -> !t
  %8 = chorus.node "Add"(%7, %y) : (!t, !t) -> !t
  return %8 : !t
}

// -----

!t = tensor<2x8x32xf32>
!r = tensor<2x8x1xf32>
!s = tensor<f32>
!g = tensor<32xf32>
chorus.weight @s : !s digest "xxh3-128:00000000000000000000000000000004" bytes 4 names ["s"]
chorus.weight @g : !g digest "xxh3-128:00000000000000000000000000000006" bytes 128 names ["g"]

// Tests layer-norm: the decomposed LayerNormalization with scale and bias
// is one group of nine nodes of kind reduction.
// CHECK-LABEL: func.func @layer_norm
// CHECK:      chorus.fused "reduction" ["layer-norm"]
// CHECK-NEXT:   chorus.node "ReduceMean"
// CHECK-NEXT:   chorus.node "Sub"
// CHECK-NEXT:   chorus.node "Pow"
// CHECK-NEXT:   chorus.node "ReduceMean"
// CHECK-NEXT:   chorus.node "Add"
// CHECK-NEXT:   chorus.node "Sqrt"
// CHECK-NEXT:   chorus.node "Div"
// CHECK-NEXT:   chorus.node "Mul"
// CHECK-NEXT:   chorus.node "Add"
// CHECK-NEXT:   chorus.yield
func.func @layer_norm(%x: !t) -> !t {
  %s = chorus.weight_ref @s : !s
  %g = chorus.weight_ref @g : !g
  %0 = chorus.node "ReduceMean"(%x) {axes = array<i64: -1>} : (!t) -> !r
  %1 = chorus.node "Sub"(%x, %0) : (!t, !r) -> !t
  %2 = chorus.node "Pow"(%1, %s) : (!t, !s) -> !t
  %3 = chorus.node "ReduceMean"(%2) {axes = array<i64: -1>} : (!t) -> !r
  %4 = chorus.node "Add"(%3, %s) : (!r, !s) -> !r
  %5 = chorus.node "Sqrt"(%4) : (!r) -> !r
  %6 = chorus.node "Div"(%1, %5) : (!t, !r) -> !t
  %7 = chorus.node "Mul"(%6, %g) : (!t, !g) -> !t
  %8 = chorus.node "Add"(%7, %g) : (!t, !g) -> !t
  return %8 : !t
}

// -----

!q = tensor<2x8x16xf32>
!kt = tensor<2x16x8xf32>
!a = tensor<2x8x8xf32>
!s = tensor<f32>
chorus.weight @s : !s digest "xxh3-128:00000000000000000000000000000004" bytes 4 names ["s"]

// Tests attention: the Transpose of K, MatMul(Q, K^T), the scale, the mask
// Add, Softmax and MatMul(., V) are one opaque group: nothing else joins it.
// CHECK-LABEL: func.func @attention
// CHECK:      %[[G:[a-z0-9_]+]] = chorus.fused "opaque" ["attention"] (%[[K:[a-z0-9_]+]] = %arg1, %[[Q:[a-z0-9_]+]] = %arg0, %{{.+}} = %{{.+}}, %[[M:[a-z0-9_]+]] = %arg3, %[[V:[a-z0-9_]+]] = %arg2)
// CHECK-NEXT:   chorus.node "Transpose"(%[[K]])
// CHECK-NEXT:   chorus.node "MatMul"(%[[Q]],
// CHECK-NEXT:   chorus.node "Div"
// CHECK-NEXT:   chorus.node "Add"({{.+}}, %[[M]])
// CHECK-NEXT:   chorus.node "Softmax"
// CHECK-NEXT:   chorus.node "MatMul"({{.+}}, %[[V]])
// CHECK-NEXT:   chorus.yield
// CHECK-NEXT: }
// CHECK-NEXT: chorus.node "Relu"(%[[G]])
func.func @attention(%q: !q, %k: !q, %v: !q, %mask: !a) -> !q {
  %s = chorus.weight_ref @s : !s
  %0 = chorus.node "Transpose"(%k) {perm = array<i64: 0, 2, 1>} : (!q) -> !kt
  %1 = chorus.node "MatMul"(%q, %0) : (!q, !kt) -> !a
  %2 = chorus.node "Div"(%1, %s) : (!a, !s) -> !a
  %3 = chorus.node "Add"(%2, %mask) : (!a, !a) -> !a
  %4 = chorus.node "Softmax"(%3) {axis = -1 : i64} : (!a) -> !a
  %5 = chorus.node "MatMul"(%4, %v) : (!a, !q) -> !q
  %6 = chorus.node "Relu"(%5) : (!q) -> !q
  return %6 : !q
}

// -----

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
!c3 = tensor<4x1x1xf32>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]
chorus.weight @c3 : !c3 digest "xxh3-128:00000000000000000000000000000003" bytes 16 names ["c3"]

// Tests the dominator rule on a diamond: Conv, a broadcast bias Add, then
// Swish (Sigmoid and Mul both reading the Add): the Mul post-dominates
// the Add and every path between them is elementwise, so all four are one
// group yielding only the Mul.
// CHECK-LABEL: func.func @swish
// CHECK:      chorus.fused "out_elementwise_fusable" ["dominator"]
// CHECK-NEXT:   chorus.node "Conv"
// CHECK-NEXT:   chorus.node "Add"
// CHECK-NEXT:   chorus.node "Sigmoid"
// CHECK-NEXT:   %[[MUL:[a-z0-9_]+]] = chorus.node "Mul"
// CHECK-NEXT:   chorus.yield %[[MUL]] : tensor<1x4x6x6xf32>
func.func @swish(%x: !x) -> !y {
  %w = chorus.weight_ref @w : !w
  %c = chorus.weight_ref @c3 : !c3
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "Add"(%0, %c) : (!y, !c3) -> !y
  %2 = chorus.node "Sigmoid"(%1) : (!y) -> !y
  %3 = chorus.node "Mul"(%1, %2) : (!y, !y) -> !y
  return %3 : !y
}

// -----

!a = tensor<2x3x4xf32>
!b = tensor<4x3x2xf32>
!f = tensor<24xf32>
!i = tensor<1xi64>
!r = tensor<2x1x4xf32>
chorus.weight @i : !i digest "xxh3-128:00000000000000000000000000000007" bytes 8 names ["i"]

// Tests injective chains (Transpose, Reshape) fusing into one group, and a
// Mul absorbed by the reduction that alone reads it (kind reduction).
// CHECK-LABEL: func.func @injective_and_reduction
// CHECK:      chorus.fused "injective" ["dominator"]
// CHECK-NEXT:   chorus.node "Transpose"
// CHECK-NEXT:   chorus.node "Reshape"
// CHECK-NEXT:   chorus.yield
// CHECK:      chorus.fused "reduction" ["dominator"]
// CHECK-NEXT:   chorus.node "Mul"
// CHECK-NEXT:   chorus.node "ReduceSum"
// CHECK-NEXT:   chorus.yield
func.func @injective_and_reduction(%x: !a) -> (!f, !r) {
  %i = chorus.weight_ref @i : !i
  %0 = chorus.node "Transpose"(%x) {perm = array<i64: 2, 1, 0>} : (!a) -> !b
  %1 = chorus.node "Reshape"(%0, %i) : (!b, !i) -> !f
  %2 = chorus.node "Mul"(%x, %x) : (!a, !a) -> !a
  %3 = chorus.node "ReduceSum"(%2, %i) : (!a, !i) -> !r
  return %1, %3 : !f, !r
}

// -----

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]

// Tests that a Conv whose result is also a model output is not fused: the
// value would have to be materialized anyway (TVM's external reference),
// and no named rule takes a node whose result has two readers.
// CHECK-LABEL: func.func @must_not_fuse_two_readers
// CHECK-NOT:  chorus.fused
// CHECK:      return
func.func @must_not_fuse_two_readers(%x: !x) -> (!y, !y) {
  %w = chorus.weight_ref @w : !w
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "Relu"(%0) : (!y) -> !y
  return %0, %1 : !y, !y
}

// -----

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
!s = tensor<f32>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]
chorus.weight @s : !s digest "xxh3-128:00000000000000000000000000000004" bytes 4 names ["s"]

// Tests cycle risk: the Add post-dominates the Conv, but one path between
// them runs through an opaque CumSum. Grouping Conv and Add would make the
// group both feed and read the CumSum, so nothing is fused.
// CHECK-LABEL: func.func @must_not_fuse_cycle
// CHECK-NOT:  chorus.fused
// CHECK:      return
func.func @must_not_fuse_cycle(%x: !x) -> !y {
  %w = chorus.weight_ref @w : !w
  %s = chorus.weight_ref @s : !s
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "CumSum"(%0, %s) : (!y, !s) -> !y
  %2 = chorus.node "Add"(%0, %1) : (!y, !y) -> !y
  return %2 : !y
}

// -----

!t = tensor<4xf32>
!n = tensor<1x?xi64>
!c = tensor<i1>

// Tests that opaque ops fuse with nothing: NonZero (data-dependent shape)
// and an If (a subgraph) between elementwise ops, and an unknown op.
// CHECK-LABEL: func.func @must_not_fuse_opaque
// CHECK-NOT:  chorus.fused
// CHECK:      return
func.func @must_not_fuse_opaque(%x: !t, %c: !c) -> (!n, !t, !t) {
  %0 = chorus.node "Relu"(%x) : (!t) -> !t
  %1 = chorus.node "NonZero"(%0) : (!t) -> !n
  %2 = chorus.node "If"(%c) : (!c) -> !t "then_branch" {
    chorus.yield %0 : !t
  } "else_branch" {
    chorus.yield %x : !t
  }
  %3 = chorus.node "Neg"(%2) : (!t) -> !t
  %4 = chorus.node "MyOp"(%3) attributes {domain = "com.example"} : (!t) -> !t
  %5 = chorus.node "Neg"(%4) : (!t) -> !t
  return %1, %5, %0 : !n, !t, !t
}
