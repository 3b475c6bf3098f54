// RUN: chorus-opt %s --split-input-file --chorus-share --verify-diagnostics | FileCheck %s

// Tests that weights with equal digest, type, size and values merge into the
// first, keeping every ONNX name, and that an equal digest with different
// values (a collision) never merges.
// CHECK-LABEL: chorus.weight @a.w : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000001" bytes 8 names ["w", "w_b"] value dense<[1.000000e+00, 2.000000e+00]>
// CHECK-NEXT:  chorus.weight @c.w : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000001" bytes 8 names ["w"] value dense<9.000000e+00>
// CHECK-NOT:   chorus.weight
// CHECK-LABEL: func.func @a(
// CHECK:       chorus.weight_ref @a.w
// CHECK-LABEL: func.func @b(
// CHECK:       chorus.weight_ref @a.w
// CHECK-LABEL: func.func @c(
// CHECK:       chorus.weight_ref @c.w
chorus.weight @a.w : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000001" bytes 8 names ["w"] value dense<[1.0, 2.0]> : tensor<2xf32>
chorus.weight @b.w : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000001" bytes 8 names ["w_b"] value dense<[1.0, 2.0]> : tensor<2xf32>
chorus.weight @c.w : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000001" bytes 8 names ["w"] value dense<[9.0, 9.0]> : tensor<2xf32>
func.func @a() -> tensor<2xf32> {
  %0 = chorus.weight_ref @a.w : tensor<2xf32>
  return %0 : tensor<2xf32>
}
func.func @b() -> tensor<2xf32> {
  %0 = chorus.weight_ref @b.w : tensor<2xf32>
  return %0 : tensor<2xf32>
}
func.func @c() -> tensor<2xf32> {
  %0 = chorus.weight_ref @c.w : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Tests that weights whose bytes cannot be compared (no values in the IR, no
// model file) stay apart, with a warning that says what to do.
// CHECK-LABEL: chorus.weight @big_a
// CHECK:       chorus.weight @big_b
// expected-warning @+1 {{1 weight(s) with the digest of another were not merged because their bytes could not be compared (@big_b has no model file to read it from); run where the model files are, or pass trust-digest=true}}
module {
  chorus.weight @big_a : tensor<100xf32> digest "xxh3-128:00000000000000000000000000000002" bytes 400 names ["w"]
  chorus.weight @big_b : tensor<100xf32> digest "xxh3-128:00000000000000000000000000000002" bytes 400 names ["w"]
  func.func @a() -> tensor<100xf32> {
    %0 = chorus.weight_ref @big_a : tensor<100xf32>
    return %0 : tensor<100xf32>
  }
  func.func @b() -> tensor<100xf32> {
    %0 = chorus.weight_ref @big_b : tensor<100xf32>
    return %0 : tensor<100xf32>
  }
}

// -----

// Tests that without a shared input nothing is computed once, while nodes
// reading only shared weights are (the same op on the same weight), and that
// identical subgraph bodies compare equal.
// CHECK-LABEL: chorus.weight @w :
// CHECK:       func.func @a(
// CHECK:       chorus.node "Neg"(%{{.+}}) attributes {chorus.compute_id = 0 : i64}
// CHECK:       chorus.node "If"(%{{.+}}) attributes {chorus.compute_id = 1 : i64}
// CHECK:       chorus.node "Add"(%{{.+}}, %{{.+}}) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK-LABEL: func.func @b(
// CHECK:       chorus.node "Neg"(%{{.+}}) attributes {chorus.compute_id = 0 : i64}
// CHECK:       chorus.node "If"(%{{.+}}) attributes {chorus.compute_id = 1 : i64}
chorus.weight @w : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000003" bytes 8 names ["w"] value dense<[1.0, 2.0]> : tensor<2xf32>
chorus.weight @c : tensor<i1> digest "xxh3-128:00000000000000000000000000000004" bytes 1 names ["c"] value dense<true> : tensor<i1>
func.func @a(%x: tensor<2xf32>) -> tensor<2xf32> {
  %w = chorus.weight_ref @w : tensor<2xf32>
  %c = chorus.weight_ref @c : tensor<i1>
  %n = chorus.node "Neg"(%w) : (tensor<2xf32>) -> tensor<2xf32>
  %i = chorus.node "If"(%c) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
    chorus.yield %n : tensor<2xf32>
  } "else_branch" {
    chorus.yield %w : tensor<2xf32>
  }
  %y = chorus.node "Add"(%x, %i) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
func.func @b(%x: tensor<2xf32>) -> tensor<2xf32> {
  %w = chorus.weight_ref @w : tensor<2xf32>
  %c = chorus.weight_ref @c : tensor<i1>
  %n = chorus.node "Neg"(%w) : (tensor<2xf32>) -> tensor<2xf32>
  %i = chorus.node "If"(%c) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
    chorus.yield %n : tensor<2xf32>
  } "else_branch" {
    chorus.yield %w : tensor<2xf32>
  }
  %y = chorus.node "Add"(%x, %i) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
