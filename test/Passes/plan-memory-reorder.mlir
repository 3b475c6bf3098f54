// RUN: chorus-opt %s --chorus-plan-memory=reorder=true | FileCheck %s

// Tests that the memory-aware order runs the branch that frees memory
// before the one that allocates more: in the body's order both 256-byte
// expansions (b1, b2) are live together; reordered, each is reduced
// before the next is made, and the peak falls.
// CHECK-LABEL: func.func @branches
// CHECK-SAME:  arena_bytes = 384 : i64, chosen_order_peak_bytes = 384 : i64
// CHECK-SAME:  original_order_peak_bytes = 576 : i64
// CHECK:       chorus.node "Tile"{{.*}}name = "b1"
// CHECK-NEXT:  chorus.node "ReduceSum"{{.*}}name = "r1"
// CHECK-NEXT:  chorus.node "Tile"{{.*}}name = "b2"
// CHECK-NEXT:  chorus.node "ReduceSum"{{.*}}name = "r2"
// CHECK-NEXT:  chorus.node "Add"
func.func @branches(%x: tensor<16xf32> {chorus.name = "x"}) -> tensor<4xf32> {
  %b1 = chorus.node "Tile"(%x) attributes {name = "b1"} : (tensor<16xf32>) -> tensor<64xf32>
  %b2 = chorus.node "Tile"(%x) attributes {name = "b2"} : (tensor<16xf32>) -> tensor<64xf32>
  %r1 = chorus.node "ReduceSum"(%b1) attributes {name = "r1"} : (tensor<64xf32>) -> tensor<4xf32>
  %r2 = chorus.node "ReduceSum"(%b2) attributes {name = "r2"} : (tensor<64xf32>) -> tensor<4xf32>
  %s = chorus.node "Add"(%r1, %r2) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}
