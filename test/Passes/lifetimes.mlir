// RUN: chorus-opt %s --split-input-file --chorus-test-lifetimes -o /dev/null | FileCheck %s

// Tests that inputs live from step 0, activations from their node to their
// last use + 1, outputs to the end, and that a Reshape (a view) takes no
// memory but keeps its source alive until the view's last use. Weights are
// counted apart, once per symbol.
// CHECK-LABEL: lifetimes @chain: 4 steps, 4 arena tensors, weights 64 bytes
// CHECK-NEXT:  [0, 1) 64 B input 'x'
// CHECK-NEXT:  [0, 3) 64 B activation 'a' (+1 view)
// CHECK-NEXT:  [2, 4) 64 B activation 'c'
// CHECK-NEXT:  [3, 4) 64 B output 'd'
// CHECK:       memory profile @chain
// CHECK-NEXT:    0 Relu 'a': 128 <- peak
// CHECK-NEXT:    1 Reshape 'b': 64
// CHECK-NEXT:    2 Add 'c': 128
// CHECK-NEXT:    3 Relu 'd': 128
// CHECK-NEXT:  peak @chain: step 0, 128 bytes in 2 tensors; largest: 'x' 64, 'a' 64
chorus.weight @w : tensor<16xf32> digest "xxh3-128:00000000000000000000000000000001" bytes 64 names ["w"]
func.func @chain(%x: tensor<4x4xf32> {chorus.name = "x"}) -> tensor<4x4xf32> {
  %w = chorus.weight_ref @w : tensor<16xf32>
  %w2 = chorus.weight_ref @w : tensor<16xf32>
  %a = chorus.node "Relu"(%x) attributes {name = "a"} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = chorus.weight_ref @w : tensor<16xf32>
  %b = chorus.node "Reshape"(%a, %s) attributes {name = "b"} : (tensor<4x4xf32>, tensor<16xf32>) -> tensor<16xf32>
  %c = chorus.node "Add"(%b, %w) attributes {name = "c"} : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %d = chorus.node "Relu"(%c) attributes {name = "d"} : (tensor<16xf32>) -> tensor<4x4xf32>
  return %d : tensor<4x4xf32>
}

// -----

// Tests that an input returned as an output lives over the whole schedule,
// that a view of a weight takes no arena memory, and that an unused result
// lives only while its node runs.
// CHECK-LABEL: lifetimes @passthrough: 2 steps, 3 arena tensors, weights 8 bytes
// CHECK-NEXT:  [0, 2) 8 B input 'x'
// CHECK-NEXT:  [1, 2) 4 B activation 'unused#0'
// CHECK-NEXT:  [1, 2) 4 B activation 'unused#1'
chorus.weight @v : tensor<2xf32> digest "xxh3-128:00000000000000000000000000000002" bytes 8 names ["v"]
func.func @passthrough(%x: tensor<2xf32> {chorus.name = "x"}) -> (tensor<2xf32>, tensor<2xf32>) {
  %v = chorus.weight_ref @v : tensor<2xf32>
  %f = chorus.node "Identity"(%v) attributes {name = "wview"} : (tensor<2xf32>) -> tensor<2xf32>
  %u:2 = chorus.node "Split"(%x) attributes {name = "unused"} : (tensor<2xf32>) -> (tensor<1xf32>, tensor<1xf32>)
  return %x, %f : tensor<2xf32>, tensor<2xf32>
}

// -----

// Tests that values of the enclosing graph read inside an If body are used
// when the If runs, and that one branch's values (the larger: only one
// runs) are charged as a workspace live during the If.
// CHECK-LABEL: lifetimes @branches: 2 steps, 4 arena tensors
// CHECK-NEXT:  [0, 2) 1 B input 'c'
// CHECK-NEXT:  [0, 2) 16 B activation 'x'
// CHECK-NEXT:  [1, 2) 16 B workspace 'if (subgraph workspace)'
// CHECK-NEXT:  [1, 2) 16 B output 'if'
func.func @branches(%c: tensor<i1> {chorus.name = "c"}) -> tensor<4xf32> {
  %x = chorus.node "RandomNormal"() {shape = array<i64: 4>} attributes {name = "x"} : () -> tensor<4xf32>
  %r = chorus.node "If"(%c) attributes {name = "if"} : (tensor<i1>) -> tensor<4xf32> "then_branch" {
      %t = chorus.node "Relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
      chorus.yield %t : tensor<4xf32>
    } "else_branch" {
      %e = chorus.node "Neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
      chorus.yield %e : tensor<4xf32>
    }
  return %r : tensor<4xf32>
}

// -----

// Tests that an If whose branch the importer found taken charges only that
// branch: the else branch's 16 B, not the then branch's 48 B.
// CHECK-LABEL: lifetimes @taken: 2 steps, 4 arena tensors
// CHECK:       [1, 2) 16 B workspace 'if (subgraph workspace)'
func.func @taken(%c: tensor<i1> {chorus.name = "c"}) -> tensor<4xf32> {
  %x = chorus.node "RandomNormal"() {shape = array<i64: 4>} attributes {name = "x"} : () -> tensor<4xf32>
  %r = chorus.node "If"(%c) attributes {chorus.taken_branch = "else", name = "if"} : (tensor<i1>) -> tensor<4xf32> "then_branch" {
      %t = chorus.node "Relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
      %u = chorus.node "Relu"(%t) : (tensor<4xf32>) -> tensor<4xf32>
      %v = chorus.node "Relu"(%u) : (tensor<4xf32>) -> tensor<4xf32>
      chorus.yield %v : tensor<4xf32>
    } "else_branch" {
      %e = chorus.node "Neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
      chorus.yield %e : tensor<4xf32>
    }
  return %r : tensor<4xf32>
}

// -----

// Tests the planner-problem form of the intervals.
// RUN: chorus-opt %s --split-input-file --chorus-test-lifetimes=format=csv -o /dev/null | FileCheck %s --check-prefix=CSV
// CSV:       id,lower,upper,size
// CSV-NEXT:  x,0,1,64
// CSV:       x,0,1,12
// CSV-NEXT:  y,0,1,12
func.func @csv(%x: tensor<3xf32> {chorus.name = "x"}) -> tensor<3xf32> {
  %y = chorus.node "Relu"(%x) attributes {name = "y"} : (tensor<3xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// Tests that an unknown format is refused.
// RUN: not chorus-opt %s --split-input-file --chorus-test-lifetimes=format=xml 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: chorus-opt: for the --format option: Cannot find option named 'xml'!
func.func @any() {
  return
}

// -----

// Tests that a fused group is one step whose inner values take no memory:
// only its input and its yielded result are arena tensors, the result named
// after the node that computes it.
// CHECK-LABEL: lifetimes @fused: 2 steps, 3 arena tensors, weights 0 bytes
// CHECK-NEXT:  [0, 1) 64 B input 'x'
// CHECK-NEXT:  [0, 2) 64 B activation 'n'
// CHECK-NEXT:  [1, 2) 64 B output 'o'
// CHECK:       memory profile @fused
// CHECK-NEXT:    0 fused Relu+Neg: 128 <- peak
// CHECK-NEXT:    1 Abs 'o': 128
func.func @fused(%x: tensor<4x4xf32> {chorus.name = "x"}) -> tensor<4x4xf32> {
  %0 = chorus.fused "elementwise" ["dominator"] (%a = %x) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
    %r = chorus.node "Relu"(%a) attributes {name = "r"} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    %n = chorus.node "Neg"(%r) attributes {name = "n"} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    chorus.yield %n : tensor<4x4xf32>
  }
  %o = chorus.node "Abs"(%0) attributes {name = "o"} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %o : tensor<4x4xf32>
}
