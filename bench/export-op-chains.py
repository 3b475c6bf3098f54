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
BatchNormalization, residual Add), as real networks run them; and
"mixedse3", that block with squeeze-and-excitation after the depthwise
convolution (GlobalAveragePool, 1x1 convolution to C/4, Relu, 1x1
convolution back to C, HardSigmoid, Mul), as in MobileNetV3 and the
PaddleOCR models. Every Conv carries all its attributes (ONNX Runtime
Web's WebGPU kernels need an explicit dilations). Shapes:
small feature maps from 12 to 96 KiB, the regime of text-line models (the
PaddleOCR classifier and the recognizer's later stages) where a node costs
a few microseconds and the runtime's cost per kernel decides the total,
which networks at 224x224 and larger do not sample. Random weights from a
fixed seed. Files that hold the same model are kept. With --list, prints one line per
model: file stem and input shape (C,H,W comma-separated).
"""
import os
import random
import sys

import onnx
from onnx import TensorProto, helper

from onnxgen import conv_attrs, save_if_changed, scalar, tensor

NODES = 40
KINDS = ["conv1x1", "dwconv3x3", "dwconv5x5", "batchnorm", "add", "mul",
         "relu", "clip", "hardsigmoid", "mixed3", "mixed5", "mixedse3"]
# The op sequence of the mixed chains: a MobileNetV3 block.
BLOCK = ["conv1x1", "batchnorm", "add", "clip", "hswish_mul", "div",
         "dwconv", "batchnorm", "relu", "conv1x1", "batchnorm", "residual"]
# mixedse: the same block with squeeze-and-excitation after the depthwise
# convolution (global average pool, 1x1 convolutions to C/4 and back, Relu,
# HardSigmoid, Mul), as MobileNetV3's and the PaddleOCR models' blocks.
BLOCK_SE = BLOCK[:9] + ["se_pool", "se_reduce", "relu", "se_expand",
                        "hardsigmoid", "se_scale"] + BLOCK[9:]
# (C, H, W): 12, 48, 72 and 96 KiB of float32.
SHAPES = [(8, 16, 24), (16, 12, 64), (48, 6, 64), (96, 4, 64)]
# Transformer chains (T, D, heads): the recognizer's SVTR blocks (40 x 120,
# 8 heads) and two other sequence shapes.
TRANSFORMER_SHAPES = [(40, 120, 8), (80, 64, 4), (20, 192, 8)]


def chain(kind, c, h, w):
    rng = random.Random(f"{kind}-{c}-{h}-{w}")
    nodes, inits = [], []
    x = skip = se_in = "x"
    r = max(c // 4, 1)
    for i in range(NODES):
        y = f"{kind}_{i}"
        op = kind
        if kind.startswith("mixed"):
            block = BLOCK_SE if kind.startswith("mixedse") else BLOCK
            op = block[i % len(block)]
            if op == "dwconv":
                op = "dwconv" + kind[-1] + "x" + kind[-1]
        if op == "hswish_mul":
            # x * (the hard-swish input three nodes back), as Mul(x, t).
            nodes.append(helper.make_node("Mul", [x, nodes[-3].output[0]],
                                          [y], name=y))
        elif op == "div":
            inits.append(scalar(f"c{i}", 6.0))
            nodes.append(helper.make_node("Div", [x, f"c{i}"], [y], name=y))
        elif op == "se_pool":
            se_in = x
            nodes.append(helper.make_node("GlobalAveragePool", [x], [y],
                                          name=y))
        elif op in ("se_reduce", "se_expand"):
            dims = [r, c, 1, 1] if op == "se_reduce" else [c, r, 1, 1]
            inits.append(tensor(f"w{i}", dims, rng, -0.2, 0.2))
            nodes.append(helper.make_node("Conv", [x, f"w{i}"], [y], name=y,
                                          **conv_attrs(1, 1)))
        elif op == "se_scale":
            nodes.append(helper.make_node("Mul", [se_in, x], [y], name=y))
        elif op == "residual":
            nodes.append(helper.make_node("Add", [x, skip], [y], name=y))
            skip = y
        elif op == "conv1x1":
            inits.append(tensor(f"w{i}", [c, c, 1, 1], rng, -0.2, 0.2))
            nodes.append(helper.make_node("Conv", [x, f"w{i}"], [y], name=y,
                                          **conv_attrs(1, 1)))
        elif op.startswith("dwconv"):
            k = int(op[-1])
            inits.append(tensor(f"w{i}", [c, 1, k, k], rng, -0.2, 0.2))
            nodes.append(helper.make_node("Conv", [x, f"w{i}"], [y], name=y,
                                          **conv_attrs(k, c)))
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


def ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def transformer(t, d, heads):
    """Two pre-norm transformer blocks on a 1 x T x D sequence, written as
    the PaddleOCR recognizer's SVTR blocks are exported: LayerNorm as
    ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add; attention
    as MatMul to 3D, Reshape, Transpose, Slice + Squeeze of q, k, v, Mul by
    the scale, MatMul, Softmax, MatMul, Transpose, Reshape and the output
    MatMul; an MLP of MatMul to 2D, Swish (Sigmoid, Mul) and MatMul back;
    residual Adds. Reshape shapes are constants."""
    rng = random.Random(f"transformer-{t}-{d}-{heads}")
    nodes, inits = [], []
    counter = [0]

    def node(op, inputs, **attrs):
        y = f"{op.lower()}_{counter[0]}"
        counter[0] += 1
        nodes.append(helper.make_node(op, inputs, [y], name=y, **attrs))
        return y

    def const(dims, low=-0.2, high=0.2):
        name = f"c{len(inits)}"
        inits.append(tensor(name, dims, rng, low, high))
        return name

    def layer_norm(x):
        mean = node("ReduceMean", [x], axes=[-1], keepdims=1)
        centred = node("Sub", [x, mean])
        inits.append(scalar(f"two{len(inits)}", 2.0))
        square = node("Pow", [centred, inits[-1].name])
        var = node("ReduceMean", [square], axes=[-1], keepdims=1)
        inits.append(scalar(f"eps{len(inits)}", 1e-6))
        std = node("Sqrt", [node("Add", [var, inits[-1].name])])
        normed = node("Div", [centred, std])
        return node("Add", [node("Mul", [normed, const([d], 0.9, 1.1)]),
                            const([d])])

    def linear(x, n_in, n_out):
        return node("Add", [node("MatMul", [x, const([n_in, n_out])]),
                            const([n_out])])

    dh = d // heads
    x = "x"
    for _ in range(2):
        qkv = linear(layer_norm(x), d, 3 * d)
        inits.append(ints(f"shape{len(inits)}", [1, t, 3, heads, dh]))
        qkv = node("Transpose", [node("Reshape", [qkv, inits[-1].name])],
                   perm=[2, 0, 3, 1, 4])
        parts = []
        for i in range(3):
            starts, ends, axes = (ints(f"s{len(inits)}", [i]),
                                  ints(f"e{len(inits)}", [i + 1]),
                                  ints(f"a{len(inits)}", [0]))
            inits += [starts, ends, axes]
            part = node("Slice", [qkv, starts.name, ends.name, axes.name])
            inits.append(ints(f"sq{len(inits)}", [0]))
            parts.append(node("Squeeze", [part, inits[-1].name]))
        inits.append(scalar(f"scale{len(inits)}", dh ** -0.5))
        q = node("Mul", [parts[0], inits[-1].name])
        k = node("Transpose", [parts[1]], perm=[0, 1, 3, 2])
        attn = node("Softmax", [node("MatMul", [q, k])], axis=-1)
        out = node("Transpose", [node("MatMul", [attn, parts[2]])],
                   perm=[0, 2, 1, 3])
        inits.append(ints(f"shape{len(inits)}", [1, t, d]))
        out = node("Reshape", [out, inits[-1].name])
        x = node("Add", [x, linear(out, d, d)])
        hidden = linear(layer_norm(x), d, 2 * d)
        hidden = node("Mul", [hidden, node("Sigmoid", [hidden])])
        x = node("Add", [x, linear(hidden, 2 * d, d)])
    shape = [1, t, d]
    graph = helper.make_graph(
        nodes, "transformer_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, producer_name="chorus-bench",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def models():
    """(file stem, a function making the model, input dims after the
    batch)."""
    for kind in KINDS:
        for c, h, w in SHAPES:
            yield (f"chain_{kind}_{c}x{h}x{w}",
                   lambda k=kind, c=c, h=h, w=w: chain(k, c, h, w), (c, h, w))
    for t, d, heads in TRANSFORMER_SHAPES:
        yield (f"chain_transformer_{t}x{d}",
               lambda t=t, d=d, heads=heads: transformer(t, d, heads), (t, d))


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and
                                       sys.argv[2] != "--list"):
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for stem, make, dims in models():
        save_if_changed(make(), os.path.join(out, stem + ".onnx"))
        if len(sys.argv) == 3:
            print(stem, ",".join(map(str, dims)))


if __name__ == "__main__":
    main()
