#!/usr/bin/env python3
"""What a fused activation costs an NCHWc convolution in ONNX Runtime's CPU
provider (docs/CostModel.md, "The runtime's own kernels").

  bench/conv-activations.py [--ort DIR] [--rounds 5] [--runs 30]

Builds chains of four convolutions (depthwise 3x3, pointwise 1x1,
alternating) over 32x112x112 and 96x56x56 maps, each convolution followed
by ReLU, Clip(0, 6) or HardSwish, which ONNX Runtime at level "all" fuses
into its NCHWc Conv. Runs each with onnxruntime-node (CPU, one thread,
level all, bench/ort-run.js with its profile) in --rounds fresh processes,
interleaved, and prints the median profiled time of the depthwise and of
the pointwise layers per activation. MLAS applies ReLU as it stores the
output; the others in a second pass over it. Needs Debian's python3-onnx
(run with /usr/bin/python3).
"""
import argparse
import collections
import glob
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
    from onnx import helper, numpy_helper, TensorProto
except ImportError:
    sys.exit("needs python3-onnx (Debian): run with /usr/bin/python3")

ACTIVATIONS = ["Relu", "Clip", "HardSwish"]
SHAPES = [(32, 112), (96, 56)]


def chain(activation, channels, size, path):
    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"
    for i in range(4):
        depthwise = i % 2 == 0
        k = 3 if depthwise else 1
        group = channels if depthwise else 1
        w = (rng.random((channels, channels // group, k, k)) * 0.1).astype(
            np.float32)
        weights += [numpy_helper.from_array(w, f"w{i}"),
                    numpy_helper.from_array(np.zeros(channels, np.float32),
                                            f"b{i}")]
        nodes.append(helper.make_node(
            "Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], name=f"layer{i}",
            group=group, kernel_shape=[k, k], pads=[k // 2] * 4))
        inputs = [f"c{i}"]
        if activation == "Clip":
            weights += [numpy_helper.from_array(np.array(0, np.float32),
                                                f"lo{i}"),
                        numpy_helper.from_array(np.array(6, np.float32),
                                                f"hi{i}")]
            inputs += [f"lo{i}", f"hi{i}"]
        nodes.append(helper.make_node(activation, inputs, [f"a{i}"]))
        x = f"a{i}"
    shape = [1, channels, size, size]
    graph = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                       shape)],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)], weights)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return shape


def layer_times(profile):
    """Median profiled milliseconds per Conv kernel, by its output's name."""
    with open(profile) as f:
        events = json.load(f)
    runs = collections.defaultdict(list)
    for e in events:
        if (e.get("cat") == "Node" and e["name"].endswith("_kernel_time")
                and e["args"].get("op_name") == "Conv"):
            runs[e["name"][:-len("_kernel_time")]].append(e["dur"] / 1e3)
    return {name: statistics.median(v) for name, v in runs.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_and_ort(ap)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    require_ort(args.ort)
    with tempfile.TemporaryDirectory() as work:
        cases = []
        for channels, size in SHAPES:
            for act in ACTIVATIONS:
                path = os.path.join(work, f"{act}_{channels}_{size}.onnx")
                cases.append((act, channels, size, path,
                              chain(act, channels, size, path)))
        times = collections.defaultdict(list)
        for r in range(args.rounds):
            for act, channels, size, path, shape in cases:
                prefix = os.path.join(work, f"p{r}_{act}_{channels}")
                subprocess.run(
                    ["node", os.path.join(HERE, "ort-run.js"), args.ort, path,
                     ",".join(map(str, shape)), str(args.runs), "all",
                     prefix], check=True, capture_output=True, cwd=work)
                (profile,) = glob.glob(prefix + "*.json")
                by_layer = layer_times(profile)
                # The NCHWc Conv is named after its result: the fused
                # activation's output, a0 to a3 (c0 to c3 where ONNX
                # Runtime names it after the Conv's).
                for i in range(4):
                    kind = "depthwise" if i % 2 == 0 else "pointwise"
                    ms = [v for k, v in by_layer.items()
                          if k.split("_")[0] in (f"a{i}", f"c{i}")]
                    times[(channels, size, act, kind)] += ms
        print(f"{'map':>10} {'activation':>10} {'depthwise ms':>13} "
              f"{'pointwise ms':>13}")
        for channels, size in SHAPES:
            for act in ACTIVATIONS:
                row = [statistics.median(times[(channels, size, act, k)])
                       for k in ("depthwise", "pointwise")]
                print(f"{channels:>3}x{size}x{size} {act:>10} "
                      f"{row[0]:13.3f} {row[1]:13.3f}")


if __name__ == "__main__":
    main()
