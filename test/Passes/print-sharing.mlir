// RUN: chorus-opt %s --chorus-print-sharing -o /dev/null | FileCheck %s
// RUN: chorus-opt %s --chorus-print-sharing=same-input=a:x=b:x,a:x=c:x -o /dev/null | FileCheck %s --check-prefix=SAME
// RUN: chorus-opt %s --chorus-print-sharing=format=json -o /dev/null | FileCheck %s --check-prefix=JSON

// Tests the report: models with the same weights and structure are
// batchable, the same structure on other weights is not, and FLOPs follow
// the op table (MatMul 2*M*N*K, Relu one per element).
// CHECK:      sharing across 3 models
// CHECK-NEXT:   @a: 1 weights, 64 bytes; 2 nodes, 144 FLOPs
// CHECK-NEXT:   @b: 1 weights, 64 bytes; 2 nodes, 144 FLOPs
// CHECK-NEXT:   @c: 1 weights, 64 bytes; 2 nodes, 144 FLOPs
// CHECK-NEXT: @a ~ @b: batchable
// CHECK-NEXT:   weights: 1 shared, 64 bytes (100.0% of @a, 100.0% of @b)
// CHECK-NEXT:   compute: 0 nodes, 0 FLOPs (0.0% of @a's FLOPs, 0.0% of its nodes)
// CHECK-NEXT:   regions: none
// CHECK-NEXT: @a ~ @c: same-structure
// CHECK-NEXT:   weights: 0 shared, 0 bytes (0.0% of @a, 0.0% of @c)
// CHECK:      @b ~ @c: same-structure
// CHECK:      saved: 64 bytes of weights, 0 FLOPs

// SAME:      @a ~ @b: batchable
// SAME-NEXT:   weights: 1 shared, 64 bytes (100.0% of @a, 100.0% of @b)
// SAME-NEXT:   compute: 2 nodes, 144 FLOPs (100.0% of @a's FLOPs, 100.0% of its nodes)
// SAME-NEXT:   regions: 1 (sizes 2)
// SAME-NEXT: @a ~ @c: same-structure
// SAME-NEXT:   weights: 0 shared, 0 bytes
// SAME-NEXT:   compute: 0 nodes, 0 FLOPs
// SAME:      saved: 64 bytes of weights, 144 FLOPs

// JSON:      "version": 1,
// JSON:      "name": "a",
// JSON-NEXT: "weights": 1,
// JSON-NEXT: "weight_bytes": 64,
// JSON-NEXT: "nodes": 2,
// JSON-NEXT: "flops": 144,
// JSON:      "saved": {
// JSON-NEXT:   "weight_bytes": 64,
// JSON-NEXT:   "flops": 0

chorus.weight @w : tensor<4x4xf32> digest "xxh3-128:00000000000000000000000000000005" bytes 64 names ["w"]
chorus.weight @v : tensor<4x4xf32> digest "xxh3-128:00000000000000000000000000000006" bytes 64 names ["w"]
func.func @a(%x: tensor<4x4xf32> {chorus.name = "x"}) -> tensor<4x4xf32> {
  %w = chorus.weight_ref @w : tensor<4x4xf32>
  %m = chorus.node "MatMul"(%x, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = chorus.node "Relu"(%m) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
func.func @b(%x: tensor<4x4xf32> {chorus.name = "x"}) -> tensor<4x4xf32> {
  %w = chorus.weight_ref @w : tensor<4x4xf32>
  %m = chorus.node "MatMul"(%x, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = chorus.node "Relu"(%m) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
func.func @c(%x: tensor<4x4xf32> {chorus.name = "x"}) -> tensor<4x4xf32> {
  %w = chorus.weight_ref @v : tensor<4x4xf32>
  %m = chorus.node "MatMul"(%x, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = chorus.node "Relu"(%m) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
