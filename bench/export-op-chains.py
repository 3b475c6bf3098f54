#!/usr/bin/python3
"""Writes the op-chain microbenchmarks of the cost benchmarks.

  /usr/bin/python3 bench/export-op-chains.py OUT_DIR [--list]

Each model is a chain of 40 nodes of one kind on one activation shape that
every node keeps (1 x C x H x W), so that the model's latency without the
profiler, over its node count, is what one such node costs when it runs
between others as it does in a real network; its profile, taken like any
other model's, gives the same per node. Kinds: 1x1 convolution (C to C),
depthwise 3x3 and 5x5 convolution (padded), BatchNormalization, Add of a
scalar, Mul by a per-channel vector, Relu, Clip and HardSigmoid, each
alone; and "mixed3"/"mixed5", the ops of a MobileNetV3 block in turn (1x1
convolution, BatchNormalization, hard-swish as Add, Clip, Mul, Div,
depthwise 3x3 or 5x5, BatchNormalization, Relu, 1x1 convolution,
BatchNormalization, residual Add), as real networks run them. Shapes:
small feature maps from 12 to 96 KiB, the regime of text-line models (the
PaddleOCR classifier and the recognizer's later stages) where a node costs
a few microseconds and the runtime's cost per kernel decides the total,
which networks at 224x224 and larger do not sample. Random weights from a
fixed seed. Files that exist are kept. With --list, prints one line per
model: file stem and input shape (C,H,W comma-separated).
"""
import os
import random
import sys

import onnx
from onnx import TensorProto, helper

NODES = 40
KINDS = ["conv1x1", "dwconv3x3", "dwconv5x5", "batchnorm", "add", "mul",
         "relu", "clip", "hardsigmoid", "mixed3", "mixed5"]
# The op sequence of the mixed chains: a MobileNetV3 block.
BLOCK = ["conv1x1", "batchnorm", "add", "clip", "hswish_mul", "div",
         "dwconv", "batchnorm", "relu", "conv1x1", "batchnorm", "residual"]
# (C, H, W): 12, 48, 72 and 96 KiB of float32.
SHAPES = [(8, 16, 24), (16, 12, 64), (48, 6, 64), (96, 4, 64)]


def tensor(name, dims, rng, low=0.5, high=1.5):
    count = 1
    for d in dims:
        count *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims,
                              [rng.uniform(low, high) for _ in range(count)])


def scalar(name, value):
    return helper.make_tensor(name, TensorProto.FLOAT, [], [value])


def chain(kind, c, h, w):
    rng = random.Random(f"{kind}-{c}-{h}-{w}")
    nodes, inits = [], []
    x = skip = "x"
    for i in range(NODES):
        y = f"{kind}_{i}"
        op = kind
        if kind.startswith("mixed"):
            op = BLOCK[i % len(BLOCK)]
            if op == "dwconv":
                op = "dwconv" + kind[-1] + "x" + kind[-1]
        if op == "hswish_mul":
            # x * (the hard-swish input three nodes back), as Mul(x, t).
            nodes.append(helper.make_node("Mul", [x, nodes[-3].output[0]],
                                          [y], name=y))
        elif op == "div":
            inits.append(scalar(f"c{i}", 6.0))
            nodes.append(helper.make_node("Div", [x, f"c{i}"], [y], name=y))
        elif op == "residual":
            nodes.append(helper.make_node("Add", [x, skip], [y], name=y))
            skip = y
        elif op == "conv1x1":
            inits.append(tensor(f"w{i}", [c, c, 1, 1], rng, -0.2, 0.2))
            nodes.append(helper.make_node("Conv", [x, f"w{i}"], [y], name=y))
        elif op.startswith("dwconv"):
            k = int(op[-1])
            inits.append(tensor(f"w{i}", [c, 1, k, k], rng, -0.2, 0.2))
            nodes.append(helper.make_node("Conv", [x, f"w{i}"], [y], name=y,
                                          group=c, kernel_shape=[k, k],
                                          pads=[k // 2] * 4))
        elif op == "batchnorm":
            names = [f"{p}{i}" for p in ("scale", "bias", "mean", "var")]
            inits += [tensor(n, [c], rng) for n in names]
            nodes.append(helper.make_node("BatchNormalization", [x] + names,
                                          [y], name=y))
        elif op == "add":
            inits.append(scalar(f"c{i}", 0.5))
            nodes.append(helper.make_node("Add", [x, f"c{i}"], [y], name=y))
        elif op == "mul":
            inits.append(tensor(f"c{i}", [1, c, 1, 1], rng, 0.9, 1.1))
            nodes.append(helper.make_node("Mul", [x, f"c{i}"], [y], name=y))
        elif op == "relu":
            nodes.append(helper.make_node("Relu", [x], [y], name=y))
        elif op == "clip":
            inits += [scalar(f"lo{i}", 0.0), scalar(f"hi{i}", 6.0)]
            nodes.append(helper.make_node("Clip", [x, f"lo{i}", f"hi{i}"],
                                          [y], name=y))
        elif op == "hardsigmoid":
            nodes.append(helper.make_node("HardSigmoid", [x], [y], name=y))
        else:
            raise ValueError(kind)
        x = y
    shape = [1, c, h, w]
    graph = helper.make_graph(
        nodes, f"{kind}_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, producer_name="chorus-bench",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def models():
    for kind in KINDS:
        for c, h, w in SHAPES:
            yield f"chain_{kind}_{c}x{h}x{w}", kind, (c, h, w)


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and
                                       sys.argv[2] != "--list"):
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for stem, kind, (c, h, w) in models():
        path = os.path.join(out, stem + ".onnx")
        if not os.path.exists(path):
            onnx.save(chain(kind, c, h, w), path)
        if len(sys.argv) == 3:
            print(stem, f"{c},{h},{w}")


if __name__ == "__main__":
    main()
