#!/usr/bin/python3
"""Writes the per-kernel overhead probe for the cost benchmarks.

  /usr/bin/python3 bench/export-overhead-probe.py OUT.onnx [C H W]

A chain of 200 kernels on a 1x8x8x8 tensor (2 KiB): 25 times a 1x1
convolution, a depthwise 3x3 convolution, BatchNormalization, Relu, Add,
Mul, Transpose and Softmax, each node named. Every kernel does almost no
work, so the model's latency without the profiler, divided by its node
count, is what one kernel costs the runtime beyond its work, and its
profile shows what the profiler adds to each. Calibrating with it pins
the per-kernel overhead that decides small models such as the PaddleOCR
direction classifier (221 nodes in 3 ms). Uses Debian's python3-onnx;
random weights from a fixed seed. An existing file that holds the same
model is kept.
"""
import random
import sys

import onnx
from onnx import TensorProto, helper

from onnxgen import conv_attrs, save_if_changed, tensor

REPEATS = 25
C, H, W = 8, 8, 8


def main():
    global C, H, W
    if len(sys.argv) not in (2, 5):
        sys.exit(__doc__)
    path = sys.argv[1]
    if len(sys.argv) == 5:
        C, H, W = map(int, sys.argv[2:])
    rng = random.Random(0)
    nodes, inits = [], []
    x = "input"
    for i in range(REPEATS):
        def node(op, inputs, **attrs):
            nonlocal x
            out = f"t{len(nodes)}"
            nodes.append(helper.make_node(op, [x] + inputs, [out],
                                          name=f"{op}_{len(nodes)}", **attrs))
            x = out
        inits += [tensor(f"w1_{i}", [C, C, 1, 1], rng),
                  tensor(f"wd_{i}", [C, 1, 3, 3], rng),
                  tensor(f"scale_{i}", [C], rng), tensor(f"bias_{i}", [C], rng),
                  tensor(f"mean_{i}", [C], rng), tensor(f"var_{i}", [C], rng),
                  tensor(f"add_{i}", [C, 1, 1], rng),
                  tensor(f"mul_{i}", [C, 1, 1], rng)]
        node("Conv", [f"w1_{i}"], **conv_attrs(1, 1))
        node("Conv", [f"wd_{i}"], **conv_attrs(3, C))
        node("BatchNormalization",
             [f"scale_{i}", f"bias_{i}", f"mean_{i}", f"var_{i}"])
        node("Relu", [])
        node("Add", [f"add_{i}"])
        node("Mul", [f"mul_{i}"])
        node("Transpose", [], perm=[0, 1, 3, 2])
        node("Softmax", [], axis=-1)
    graph = helper.make_graph(
        nodes, "overhead_probe",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       [1, C, H, W])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, C, H, W])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="chorus-bench")
    onnx.checker.check_model(model, full_check=True)
    if save_if_changed(model, path):
        print("wrote", path)


if __name__ == "__main__":
    main()
