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
