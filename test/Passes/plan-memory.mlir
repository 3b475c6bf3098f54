// RUN: chorus-opt %s --split-input-file --chorus-plan-memory --verify-diagnostics | FileCheck %s
// RUN: chorus-opt %s --split-input-file --chorus-plan-memory=alignment=1 --verify-diagnostics | FileCheck %s --check-prefix=ALIGN1

// Tests that a chain reuses memory at the lower bound: x, a and the shape s
// are live together at the Shape node (64 + 64 + 8 bytes, 64 + 64 + 64
// aligned); d reuses x's slot. A view (Reshape) gets its source's offset.
// CHECK-LABEL: func.func @chain
// CHECK-SAME:  chorus.memory = {algorithm = "{{[a-z-]+}}", alignment = 64 : i64, arena_bytes = 192 : i64, lower_bound_bytes = 192 : i64, weight_bytes = 0 : i64}
// CHECK:       %[[A:.+]] = chorus.node "Relu"{{.*}}chorus.arena_offsets = array<i64: [[OA:[0-9]+]]>
// CHECK:       chorus.node "Reshape"(%[[A]]{{.*}}chorus.arena_offsets = array<i64: [[OA]]>
// CHECK:       chorus.node "Relu"{{.*}}chorus.arena_offsets = array<i64: [[OD:[0-9]+]]>
// ALIGN1-LABEL: func.func @chain
// ALIGN1-SAME:  arena_bytes = 136 : i64
func.func @chain(%x: tensor<4x4xf32> {chorus.name = "x"}) -> tensor<16xf32> {
  %a = chorus.node "Relu"(%x) attributes {name = "a"} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = chorus.node "Shape"(%x) attributes {name = "s"} : (tensor<4x4xf32>) -> tensor<1xi64>
  %b = chorus.node "Reshape"(%a, %s) attributes {name = "b"} : (tensor<4x4xf32>, tensor<1xi64>) -> tensor<16xf32>
  %d = chorus.node "Relu"(%b) attributes {name = "d"} : (tensor<16xf32>) -> tensor<16xf32>
  return %d : tensor<16xf32>
}

// -----

// Tests that sizes are rounded up to the alignment: three 4-byte tensors
// live at once take 3 x 64 bytes, or 12 bytes with alignment 1.
// CHECK-LABEL: func.func @small
// CHECK-SAME:  arena_bytes = 192 : i64, lower_bound_bytes = 192 : i64
// ALIGN1-LABEL: func.func @small
// ALIGN1-SAME:  arena_bytes = 12 : i64, lower_bound_bytes = 12 : i64
func.func @small(%x: tensor<1xf32> {chorus.name = "x"}) -> (tensor<1xf32>, tensor<1xf32>) {
  %a = chorus.node "Relu"(%x) : (tensor<1xf32>) -> tensor<1xf32>
  %b = chorus.node "Neg"(%x) : (tensor<1xf32>) -> tensor<1xf32>
  return %a, %b : tensor<1xf32>, tensor<1xf32>
}

// -----

// Tests that a value without a static size is an error naming it and the
// flag that fixes it.
func.func @dynamic(%x: tensor<?x4xf32> {chorus.name = "x"}) -> tensor<?x4xf32> {
  // expected-error @-1 {{'x' has no static size ('tensor<?x4xf32>'); it comes from model input 'x' (?x4): give its shape with --input-shape dynamic:x=?x4 (each '?' a value)}}
  %a = chorus.node "Relu"(%x) : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %a : tensor<?x4xf32>
}

// -----

// Tests that a zero alignment is refused.
// RUN: not chorus-opt %s --split-input-file --chorus-plan-memory=alignment=0 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: chorus-plan-memory: alignment must be at least 1
func.func @any() {
  return
}

// -----

// Tests that a sequence is refused with why, not with a --dim hint that
// cannot help.
func.func @sequence(%x: !chorus.seq<tensor<4xf32>> {chorus.name = "s"}) -> !chorus.seq<tensor<4xf32>> {
  // expected-error @-1 {{'s' has no static size ('!chorus.seq<tensor<4xf32>>'); sequences and optionals hold tensors known only at run time, so their memory cannot be planned}}
  %a = chorus.node "Identity"(%x) : (!chorus.seq<tensor<4xf32>>) -> !chorus.seq<tensor<4xf32>>
  return %a : !chorus.seq<tensor<4xf32>>
}
