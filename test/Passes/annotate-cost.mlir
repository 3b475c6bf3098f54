// RUN: chorus-opt %s --split-input-file --chorus-annotate-cost=target-file=%S/../Target/Inputs/round.json --verify-diagnostics | FileCheck %s

// Tests hand-computed costs on a target of round numbers (1 GFLOP/s, 1 GB/s,
// 1 us per kernel; conv at half efficiency with 2 us overhead).
// Conv: 1x8x8x8 outputs x 27 multiply-adds = 27,648 FLOPs + 512 bias adds
// = 28,160; bytes 3,072 + 864 + 32 read and 2,048 written = 6,016; time
// 28,160 / 0.5e9 + 6,016 / 0.5e9 + 2e-6 = 7.0352e-5 s, compute-bound.
// Relu: 512 FLOPs, 4,096 bytes: 5.12e-7 + 4.096e-6 + 1e-6 = 5.608e-6 s,
// memory-bound. Reshape (a view): nothing moved, 1 us, overhead-bound.
// CHECK-LABEL: func.func @convnet
// CHECK-SAME:  chorus.cost = {bytes = 10112 : i64, estimated_flops = 0 : i64, estimated_nodes = 0 : i64, flops = 28672 : i64, kernels = 3 : i64, target = "round", time_s = 7.696000e-05 : f64}
// CHECK:       "Conv"{{.*}}chorus.cost = {bound = "compute", bytes = 6016 : i64, flops = 28160 : i64, intensity = 4.6808510638297873 : f64, time_s = 7.0351999999999993E-5 : f64}
// CHECK:       "Relu"{{.*}}chorus.cost = {bound = "memory", bytes = 4096 : i64, flops = 512 : i64, intensity = 1.250000e-01 : f64, time_s = 5.608000e-06 : f64}
// CHECK:       "Reshape"{{.*}}chorus.cost = {bound = "overhead", bytes = 0 : i64, flops = 0 : i64, intensity = 0.000000e+00 : f64, time_s = 9.9999999999999995E-7 : f64}
func.func @convnet(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>, %s: tensor<2xi64>) -> tensor<1x512xf32> {
  %c = chorus.node "Conv"(%x, %w, %b) {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %r = chorus.node "Relu"(%c) : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %f = chorus.node "Reshape"(%r, %s) : (tensor<1x8x8x8xf32>, tensor<2xi64>) -> tensor<1x512xf32>
  return %f : tensor<1x512xf32>
}

// -----

// Tests the per-group and per-row terms of a depthwise convolution
// (conv_grouped: half efficiency, 1 us per kernel, 0.1 us per group, 10 ns
// per im2col row). 1x8x8x8 outputs x 9 multiply-adds = 9,216 FLOPs:
// 1.8432e-5 s; bytes 2,048 + 288 read, 2,048 written = 4,384: 8.768e-6 s;
// 8 groups and 8 channels x 9 kernel elements x 8 output rows = 576 rows:
// 1e-6 + 8e-7 + 5.76e-6 = 7.56e-6 s. Total 3.476e-5 s, compute-bound.
// CHECK-LABEL: func.func @depthwise
// CHECK:       "Conv"{{.*}}chorus.cost = {bound = "compute", bytes = 4384 : i64, flops = 9216 : i64, intensity = 2.1021897810218979 : f64, time_s = 3.476000e-05 : f64}
func.func @depthwise(%x: tensor<1x8x8x8xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32> {
  %y = chorus.node "Conv"(%x, %w) {group = 8 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// -----

// Tests that an op without an op table entry gets a warning naming it and
// is counted: one FLOP per output element, all its bytes.
// CHECK-LABEL: func.func @unknown
// CHECK-SAME:  estimated_flops = 4 : i64, estimated_nodes = 1 : i64
// expected-warning @+1 {{1 node of op 'MyCustomOp' have no op table entry; their cost is a conservative estimate}}
func.func @unknown(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = chorus.node "MyCustomOp"(%x) attributes {domain = "com.example"} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Tests that a dynamic shape is an error naming the op, where the shape
// was lost and the fix.
func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cannot estimate the cost of 'Relu': an operand or result has no static shape; it comes from model input '#0' (?x4): give its shape with --input-shape dynamic:#0=?x4 (each '?' a value)}}
  %y = chorus.node "Relu"(%x) : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Tests a fused group as one kernel: the Conv's and the Relu's compute
// (28,160 / 0.5e9 + 512 / 1e9 = 5.6832e-5 s), only the group's external
// bytes (3,072 + 864 + 32 read, 2,048 written = 6,016 at the Conv's memory
// efficiency: 1.2032e-5 s) and one overhead, the Conv's (2e-6 s): 7.0864e-5
// s, where the two nodes apart cost 7.0352e-5 + 5.608e-6 = 7.596e-5 s.
// CHECK-LABEL: func.func @fused
// CHECK-SAME:  chorus.cost = {bytes = 6016 : i64, estimated_flops = 0 : i64, estimated_nodes = 0 : i64, flops = 28672 : i64, kernels = 1 : i64, target = "round", time_s = 7.0863999999999991E-5 : f64}
// CHECK:       chorus.fused {{.*}}chorus.cost = {bound = "compute", bytes = 6016 : i64, flops = 28672 : i64, intensity = 4.7659574468085104 : f64, time_s = 7.0863999999999991E-5 : f64}
func.func @fused(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x8x8xf32> {
  %0 = chorus.fused "out_elementwise_fusable" ["conv-activation"] (%a = %x, %c = %w, %d = %b) : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32> {
    %1 = chorus.node "Conv"(%a, %c, %d) {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
    %2 = chorus.node "Relu"(%1) : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    chorus.yield %2 : tensor<1x8x8x8xf32>
  }
  return %0 : tensor<1x8x8x8xf32>
}

// -----

// Tests that an unknown op inside a group is still counted and warned about.
// CHECK-LABEL: func.func @fused_unknown
// CHECK-SAME:  estimated_flops = 4 : i64, estimated_nodes = 1 : i64
// expected-warning @+1 {{1 node of op 'MyCustomOp' have no op table entry; their cost is a conservative estimate}}
func.func @fused_unknown(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = chorus.fused "opaque" [] (%a = %x) : (tensor<4xf32>) -> tensor<4xf32> {
    %1 = chorus.node "MyCustomOp"(%a) attributes {domain = "com.example"} : (tensor<4xf32>) -> tensor<4xf32>
    %2 = chorus.node "Relu"(%1) : (tensor<4xf32>) -> tensor<4xf32>
    chorus.yield %2 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}
