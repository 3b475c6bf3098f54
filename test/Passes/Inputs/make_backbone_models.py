#!/usr/bin/env python3
"""Writes three small ONNX models as protobuf text into a folder:

  backbone_a.textproto  conv backbone + a 5-class head
  backbone_b.textproto  the same backbone weights + a different 3-class head
  lookalike.textproto   backbone_a's structure and shapes, other weight values

Values are pseudo-random from a fixed seed, so the files are the same on
every run. Encode them with protoc --encode=onnx.ModelProto.
"""
import os
import random
import sys


def tensor(name, dims, rng):
    count = 1
    for d in dims:
        count *= d
    values = " ".join("float_data: %.6f" % rng.uniform(-1, 1)
                      for _ in range(count))
    return "initializer { name: \"%s\" data_type: 1 %s %s }" % (
        name, " ".join("dims: %d" % d for d in dims), values)


def model(backbone_seed, head_seed, classes):
    bb = random.Random(backbone_seed)
    hd = random.Random(head_seed)
    inits = [tensor("conv1.w", [4, 3, 3, 3], bb), tensor("conv1.b", [4], bb),
             tensor("conv2.w", [8, 4, 3, 3], bb), tensor("conv2.b", [8], bb),
             tensor("head.w", [classes, 8], hd), tensor("head.b", [classes], hd)]
    f = lambda name, dims: ("{ name: \"%s\" type { tensor_type { elem_type: 1 "
                            "shape { %s } } } }" % (name, " ".join(
                                "dim { dim_value: %d }" % d for d in dims)))
    nodes = [
        'node { input: "x" input: "conv1.w" input: "conv1.b" output: "c1" op_type: "Conv" '
        'attribute { name: "pads" type: INTS ints: 1 ints: 1 ints: 1 ints: 1 } }',
        'node { input: "c1" output: "r1" op_type: "Relu" }',
        'node { input: "r1" input: "conv2.w" input: "conv2.b" output: "c2" op_type: "Conv" '
        'attribute { name: "pads" type: INTS ints: 1 ints: 1 ints: 1 ints: 1 } }',
        'node { input: "c2" output: "r2" op_type: "Relu" }',
        'node { input: "r2" output: "g" op_type: "GlobalAveragePool" }',
        'node { input: "g" output: "f" op_type: "Flatten" }',
        'node { input: "f" input: "head.w" input: "head.b" output: "y" op_type: "Gemm" '
        'attribute { name: "transB" type: INT i: 1 } }',
    ]
    return ("ir_version: 8\nopset_import { domain: \"\" version: 17 }\n"
            "graph {\n  name: \"g\"\n  " + "\n  ".join(nodes + inits) +
            "\n  input " + f("x", [1, 3, 8, 8]) +
            "\n  output " + f("y", [1, classes]) + "\n}\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, text in [("backbone_a", model(1, 2, 5)),
                       ("backbone_b", model(1, 3, 3)),
                       ("lookalike", model(4, 5, 5))]:
        with open(os.path.join(out, name + ".textproto"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
