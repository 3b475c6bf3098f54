// RUN: chorus-opt %s --split-input-file --chorus-print-op-support=tables=onnxruntime-web-1.30.0-webgpu -o /dev/null | FileCheck %s --check-prefix=GPU
// RUN: chorus-opt %s --split-input-file --chorus-print-op-support=tables=onnxruntime-web-1.30.0-webnn -o /dev/null | FileCheck %s --check-prefix=NN
// RUN: not chorus-opt %s --split-input-file --chorus-print-op-support=tables=nope -o /dev/null 2>&1 | FileCheck %s --check-prefix=ERR --implicit-check-not="see current operation"

// Tests the placement of nodes on a browser backend by ONNX Runtime Web's
// op tables, at opset 13 (ai.onnx) and 1 (com.microsoft), hand-checked
// against lib/Target/opsupport/. WebGPU runs Relu, Sigmoid, Cast and
// com.microsoft's Gelu, not ai.onnx's Gelu (opset 20 and later) nor
// NonZero: sides B F B F B B, 5 segments. Crossings: x (an input, CPU side)
// to Relu, a to Gelu, b to Sigmoid, c to NonZero (once, though c also
// feeds a node on its own side), e to the return: 5 x 16 bytes; d to Cast
// and f to the return have no static size. WebNN runs Relu, Sigmoid and
// Cast only: sides B F B F F B; c crosses once to the two fallback nodes,
// e stays on the CPU side: 4 x 16 bytes and the same 2 of dynamic size.
// GPU: op support @m (opsets ai.onnx 13 com.microsoft 1)
// GPU-NEXT: webgpu (onnxruntime-web-1.30.0-webgpu): 4 of 6 nodes; falls back to wasm: Gelu x1 NonZero x1; 5 segments, 7 crossings per run (80 bytes + 2 of dynamic size)
// NN: op support @m (opsets ai.onnx 13 com.microsoft 1)
// NN-NEXT: webnn (onnxruntime-web-1.30.0-webnn): 3 of 6 nodes; falls back to wasm: Gelu x1 NonZero x1 com.microsoft.Gelu x1; 5 segments, 6 crossings per run (64 bytes + 2 of dynamic size)
// ERR: error: chorus-print-op-support: unknown op-support table 'nope' (built-in: onnxruntime-web-1.30.0-webgpu, onnxruntime-web-1.30.0-webnn)
func.func @m(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<2x?xf32>) attributes {chorus.opset_import = {ai.onnx = 13 : i64, com.microsoft = 1 : i64}} {
  %a = chorus.node "Relu"(%x) : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %b = chorus.node "Gelu"(%a) : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %c = chorus.node "Sigmoid"(%b) : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %d = chorus.node "NonZero"(%c) : (tensor<1x4xf32>) -> tensor<2x?xi64>
  %e = chorus.node "Gelu"(%c) attributes {domain = "com.microsoft"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %f = chorus.node "Cast"(%d) {to = 1 : i64} : (tensor<2x?xi64>) -> tensor<2x?xf32>
  return %e, %f : tensor<1x4xf32>, tensor<2x?xf32>
}

// -----

// Tests that a fused group runs on the backend only when all its nodes do,
// that nodes inside it are counted, and that a model without an opset
// for a domain runs none of its nodes there. The group holds Relu and
// ai.onnx Gelu (opset 20 here): both supported on WebGPU and WebNN, so one
// segment; x in, the group's result out: 2 crossings of 8 bytes.
// GPU: op support @g (opsets ai.onnx 20)
// GPU-NEXT: webgpu (onnxruntime-web-1.30.0-webgpu): 2 of 2 nodes, no fallback; 1 segment, 2 crossings per run (16 bytes)
// NN: op support @g (opsets ai.onnx 20)
// NN-NEXT: webnn (onnxruntime-web-1.30.0-webnn): 2 of 2 nodes, no fallback; 1 segment, 2 crossings per run (16 bytes)
func.func @g(%x: tensor<2xf32>) -> tensor<2xf32> attributes {chorus.opset_import = {ai.onnx = 20 : i64}} {
  %0 = chorus.fused "elementwise" ["gelu"] (%in = %x) : (tensor<2xf32>) -> tensor<2xf32> {
    %r = chorus.node "Relu"(%in) : (tensor<2xf32>) -> tensor<2xf32>
    %s = chorus.node "Gelu"(%r) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %s : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// GPU: op support @noopset
// GPU-NEXT: webgpu (onnxruntime-web-1.30.0-webgpu): 0 of 1 nodes; falls back to wasm: Relu x1; 1 segment, 0 crossings per run (0 bytes)
func.func @noopset(%x: tensor<2xf32>) -> tensor<2xf32> {
  %r = chorus.node "Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Tests the inputs WebNN's table requires to be constants (Reshape's
// 'shape', Slice's 'starts', 'ends', 'axes' and 'steps' where present),
// checked as ONNX Runtime folds constants before placing nodes: %r1's shape
// is a weight; %r2's is computed from the static shape of %x and weights
// (Shape, Gather, Concat: all folded); %r3's is the graph input %s; %r4's
// is Shape of %y, whose shape is dynamic. %sl's starts and ends are
// weights, its axes and steps absent. So WebNN runs 7 of 9 nodes, sides
// B B B B B F B F B: 5 segments; crossings: %x to the backend (96 bytes),
// %y to it (dynamic size), r1, r2 and sl back (96 each) and %ys to r4 on
// the CPU side (16): 6 crossings, 400 bytes + 1 of dynamic size. WebGPU
// lists these operators without such a condition: 9 of 9, 1 segment; %x,
// %s (16 bytes), %y in, r1 to r4 and sl out: 8 crossings, 496 bytes + 2
// of dynamic size.
// GPU: op support @constants (opsets ai.onnx 13)
// GPU-NEXT: webgpu (onnxruntime-web-1.30.0-webgpu): 9 of 9 nodes, no fallback; 1 segment, 8 crossings per run (496 bytes + 2 of dynamic size)
// GPU-NOT: checked that
// NN: op support @constants (opsets ai.onnx 13)
// NN-NEXT: webnn (onnxruntime-web-1.30.0-webnn): 7 of 9 nodes; falls back to wasm: Reshape x2 (input 'shape' not constant); 5 segments, 6 crossings per run (400 bytes + 1 of dynamic size)
// NN-DAG: checked that input 'shape' is constant where present; rest not checked, Reshape: Input 'shape' should be a constant, 0 dimension value in 'shape' is not supported
// NN-DAG: checked that inputs 'starts', 'ends', 'axes', 'steps' are constant where present; rest not checked, Slice: Input 'starts', 'ends', 'axes', and 'steps' if present must be a constant
chorus.weight @shape : tensor<2xi64> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 16 names ["shape"]
chorus.weight @zero : tensor<1xi64> digest "xxh3-128:0123456789abcdef0123456789abcdf0" bytes 8 names ["zero"]
chorus.weight @twelve : tensor<1xi64> digest "xxh3-128:0123456789abcdef0123456789abcdf1" bytes 8 names ["twelve"]
func.func @constants(%x: tensor<2x3x4xf32>, %s: tensor<2xi64>, %y: tensor<?x12xf32>) -> (tensor<6x4xf32>, tensor<2x12xf32>, tensor<6x4xf32>, tensor<12x?xf32>, tensor<2x3x4xf32>) attributes {chorus.opset_import = {ai.onnx = 13 : i64}} {
  %w = chorus.weight_ref @shape : tensor<2xi64>
  %r1 = chorus.node "Reshape"(%x, %w) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %shape = chorus.node "Shape"(%x) : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i = chorus.weight_ref @zero : tensor<1xi64>
  %n = chorus.node "Gather"(%shape, %i) : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %twelve = chorus.weight_ref @twelve : tensor<1xi64>
  %s2 = chorus.node "Concat"(%n, %twelve) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r2 = chorus.node "Reshape"(%x, %s2) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  %r3 = chorus.node "Reshape"(%x, %s) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %ys = chorus.node "Shape"(%y) : (tensor<?x12xf32>) -> tensor<2xi64>
  %r4 = chorus.node "Reshape"(%y, %ys) : (tensor<?x12xf32>, tensor<2xi64>) -> tensor<12x?xf32>
  %st = chorus.weight_ref @zero : tensor<1xi64>
  %en = chorus.weight_ref @twelve : tensor<1xi64>
  %sl = chorus.node "Slice"(%x, %st, %en) : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x4xf32>
  return %r1, %r2, %r3, %r4, %sl : tensor<6x4xf32>, tensor<2x12xf32>, tensor<6x4xf32>, tensor<12x?xf32>, tensor<2x3x4xf32>
}

// -----

// At opset 9 Slice's starts and ends are attributes, constant by
// construction: WebNN runs it.
// NN: op support @opset9 (opsets ai.onnx 9)
// NN-NEXT: webnn (onnxruntime-web-1.30.0-webnn): 1 of 1 nodes, no fallback; 1 segment, 2 crossings per run (24 bytes)
func.func @opset9(%x: tensor<4xf32>) -> tensor<2xf32> attributes {chorus.opset_import = {ai.onnx = 9 : i64}} {
  %s = chorus.node "Slice"(%x) {starts = array<i64: 0>, ends = array<i64: 2>} : (tensor<4xf32>) -> tensor<2xf32>
  return %s : tensor<2xf32>
}
