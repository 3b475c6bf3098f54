#!/usr/bin/env python3
"""Times sharing detection on two large models that share a backbone.

  bench/sharing-large.py [--mb 100] [--runs 5] [--build DIR]

Writes two ONNX models of about --mb MB each into a temporary folder
(removed at the end): a chain of MatMul+Relu layers whose weights are the
same in both models (the backbone), then a head layer that differs. The
files are encoded here with a minimal protobuf writer, so the benchmark
needs no ONNX Python package. Then, per run: chorus-import of both models
(timed for reference), and chorus-opt --chorus-share with --mlir-timing,
whose pass time (weight merge with byte comparison read back from the
files, value numbering, batch signatures) is the figure. Prints medians.
"""
import argparse
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import tool


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def string(num, s):
    return field(num, 2, s.encode() if isinstance(s, str) else s)


def tensor_type(dims):
    shape = b"".join(field(1, 2, field(1, 0, d)) for d in dims)
    return field(1, 2, field(1, 0, 1) + field(2, 2, shape))  # tensor_type


def value_info(name, dims):
    return string(1, name) + field(2, 2, tensor_type(dims))


def initializer(name, dims, raw):
    body = b"".join(field(1, 0, d) for d in dims) + field(2, 0, 1)
    return body + string(8, name) + string(9, raw)


def node(inputs, outputs, op):
    return (b"".join(string(1, i) for i in inputs) +
            b"".join(string(2, o) for o in outputs) + string(4, op))


def write_model(path, width, layers, backbone_seed, head_seed):
    rng = random.Random(backbone_seed)
    graph = bytearray()
    inits = bytearray()
    x = "x"
    for i in range(layers + 1):
        if i == layers:
            rng = random.Random(head_seed)
        raw = rng.randbytes(width * width * 4)
        w = "w%d" % i
        inits += field(5, 2, initializer(w, [width, width], raw))
        graph += field(1, 2, node([x, w], ["m%d" % i], "MatMul"))
        graph += field(1, 2, node(["m%d" % i], ["r%d" % i], "Relu"))
        x = "r%d" % i
    graph += string(2, "g") + inits
    graph += field(11, 2, value_info("x", [1, width]))
    graph += field(12, 2, value_info(x, [1, width]))
    model = field(1, 0, 8) + field(8, 2, string(1, "") + field(2, 0, 17))
    model += field(7, 2, bytes(graph))
    with open(path, "wb") as f:
        f.write(model)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build", default=os.path.join(root, "build"))
    args = parser.parse_args()
    width = 1024  # 4 MiB per layer
    layers = max(1, math.ceil(args.mb * 1000 * 1000 / (width * width * 4)) - 1)
    with tempfile.TemporaryDirectory() as tmp:
        a = os.path.join(tmp, "a.onnx")
        b = os.path.join(tmp, "b.onnx")
        write_model(a, width, layers, 1, 2)
        write_model(b, width, layers, 1, 3)
        mlir = os.path.join(tmp, "ab.mlir")
        print("models: %.1f MB and %.1f MB, %d shared layers of %d x %d f32" % (
            os.path.getsize(a) / 1e6, os.path.getsize(b) / 1e6, layers, width,
            width))
        imports, passes = [], []
        report = ""
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([tool(args.build, "chorus-import"), a, b,
                            "-o", mlir], check=True, cwd=tmp)
            imports.append(time.perf_counter() - start)
            out = subprocess.run(
                [tool(args.build, "chorus-opt"), mlir,
                 "--chorus-share=same-input=a:x=b:x",
                 "--chorus-print-sharing=same-input=a:x=b:x", "--mlir-timing",
                 "-o", os.devnull],
                check=True, cwd=tmp, capture_output=True, text=True)
            m = re.search(r"^\s*([0-9.]+) \([ 0-9.]+%\)\s+ShareModelsPass",
                          out.stderr, re.M)
            if not m:
                print(out.stderr)
                return 1
            passes.append(float(m.group(1)))
            report = out.stdout
        print(report, end="")
        print("chorus-import of both (whole process): median %.0f ms" %
              (1000 * statistics.median(imports)))
        print("chorus-share pass: median %.0f ms [%.0f, %.0f] over %d runs" % (
            1000 * statistics.median(passes), 1000 * min(passes),
            1000 * max(passes), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
