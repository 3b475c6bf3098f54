#!/usr/bin/env python3
"""How a fully connected layer's time depends on the weights of the model
around it: the same Gemm (1x4096 by 4096x4096, 64 MB of weights) alone,
beside a second one, and after a 144 MB one as in AlexNet's classifier.

  /usr/bin/python3 bench/weights-beyond-cache.py [--build DIR] [--ort DIR]
                                                [--rounds 3] [--runs 20]
                                                [--level disabled]

Each model is written with Debian's python3-onnx (random weights, transB=1
as exporters write nn.Linear) and run in --rounds fresh processes of
bench/ort-run.js (onnxruntime-node, CPU, one intra-op thread): the median
of each Gemm kernel's profiled time over --runs runs (the first left out),
then over the processes. Weights that fit in the part of the shared cache
the process keeps are partly read from it on the next run; a model whose
weights are well beyond it reads them all from memory
(docs/Rationale.md, "A term for weights beyond the shared cache").
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import add_build_and_ort, require_ort

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    sys.exit("weights-beyond-cache.py needs Debian's python3-onnx and "
             "python3-numpy: run it with /usr/bin/python3")

# (name, the fully connected layers' sizes in order)
MODELS = [("one 64 MB", [4096, 4096]),
          ("two 64 MB", [4096, 4096, 4096]),
          ("144 + 64 + 16 MB", [9216, 4096, 4096, 1000])]


def write_model(path, sizes):
    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"
    for i, (k, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        weights += [numpy_helper.from_array(
            (rng.standard_normal((n, k)) * 0.01).astype(np.float32), f"w{i}"),
            numpy_helper.from_array(np.zeros(n, np.float32), f"b{i}")]
        nodes += [helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"g{i}"],
                                   transB=1, name=f"gemm{i}"),
                  helper.make_node("Relu", [f"g{i}"], [f"r{i}"],
                                   name=f"relu{i}")]
        x = f"r{i}"
    graph = helper.make_graph(
        nodes, "fc",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                       [1, sizes[0]])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT,
                                       [1, sizes[-1]])], weights)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def gemm_times(ort, path, shape, runs, level, work):
    """{Gemm node: median profiled ms} of one fresh process."""
    for name in os.listdir(work):
        if name.startswith("profile"):
            os.remove(os.path.join(work, name))
    subprocess.run(["node", os.path.join(HERE, "ort-run.js"), ort, path,
                    shape, str(runs), level,
                    os.path.join(work, "profile")],
                   check=True, capture_output=True)
    [profile] = [n for n in os.listdir(work) if n.startswith("profile")]
    with open(os.path.join(work, profile)) as f:
        events = json.load(f)
    times = collections.defaultdict(list)
    for e in events:
        if (e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and
                e["args"].get("op_name") == "Gemm"):
            times[e["name"][:-len("_kernel_time")]].append(e["dur"] * 1e-3)
    return {n: statistics.median(t[1:]) for n, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_and_ort(ap)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--level", default="disabled",
                    choices=["disabled", "basic", "extended", "all"])
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 2:
        ap.error("--rounds must be at least 1 and --runs at least 2")
    require_ort(args.ort)
    with tempfile.TemporaryDirectory() as work:
        paths = []
        for i, (_, sizes) in enumerate(MODELS):
            paths.append(os.path.join(work, f"fc{i}.onnx"))
            write_model(paths[-1], sizes)
        rounds = collections.defaultdict(list)
        # Interleaved: each round runs every model once.
        for _ in range(args.rounds):
            for (label, sizes), path in zip(MODELS, paths):
                rounds[label].append(gemm_times(args.ort, path,
                                                f"1,{sizes[0]}", args.runs,
                                                args.level, work))
        for label, sizes in MODELS:
            total = sum(k * n * 4 for k, n in zip(sizes[:-1], sizes[1:]))
            cells = []
            for i, (k, n) in enumerate(zip(sizes[:-1], sizes[1:])):
                ms = statistics.median(r[f"gemm{i}"] for r in rounds[label])
                cells.append(f"{k}x{n} ({k * n * 4 / 1e6:.0f} MB) "
                             f"{ms:.3f} ms")
            print(f"{label:18s} model weights {total / 1e6:4.0f} MB: "
                  + ", ".join(cells))


if __name__ == "__main__":
    main()
