#!/usr/bin/env python3
"""How much longer a kernel takes when the caches no longer hold what it
reads and writes: a calibration chain's kernels against the same kernels
after other work has swept the caches (docs/CostModel.md, "Where the
errors come from, kernel by kernel").

  bench/cold-kernels.py [--ort DIR] [--rounds 3] [--runs 20]
                        [--evict-mib 48]

Builds, per layer shape (a 3x3 convolution of 256 channels over 14x14 and
of 128 over 28x28, a 1x1 of 64 over 56x56), two models of four layers,
each layer a convolution, its ReLU and a Mul by a scalar the next layer
waits for. In the "swept" model that scalar comes from an Add over a
separate tensor of --evict-mib MiB, which reads and writes more than the
shared cache holds between one layer and the next, as a network's other
layers do; in the "chain" model the same Add runs over 256 elements
(the calibration's chains: every layer's weights and tensors stay
cached). Runs both with onnxruntime-node (CPU, one intra-op thread,
graph optimizations disabled, bench/ort-cold.js) in --rounds fresh
processes each, interleaved, and prints, per shape and op, the median
profiled time of the layers in each model (each process's median over
its --runs runs, after five, then the median over the processes) and how
much longer the swept one took. Needs Debian's python3-onnx (run with
/usr/bin/python3). Writes nothing outside a scratch folder.
"""
import argparse
import collections
import glob
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import add_build_and_ort, profiled_kernel_ms, require_ort

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto
except ImportError:
    sys.exit("needs python3-onnx (Debian): run with /usr/bin/python3")

# (channels, map size, filter size)
SHAPES = [(256, 14, 3), (128, 28, 3), (64, 56, 1)]
CHAIN_EVICT = 256


def layers(channels, size, k, evict, path):
    """Four layers: Conv, Relu, a tap of the Relu (Slice) the Add over y
    waits for, the Add, a Slice of its result, and the Mul by it the next
    layer reads."""
    rng = np.random.default_rng(0)
    starts = numpy_helper.from_array(np.zeros(4, np.int64), "starts")
    ends = numpy_helper.from_array(np.ones(4, np.int64), "ends")
    weights, nodes, x, y = [starts, ends], [], "x", "y"
    for i in range(4):
        w = (rng.standard_normal((channels, channels, k, k)) * 0.01).astype(
            np.float32)
        weights += [numpy_helper.from_array(w, f"w{i}"),
                    numpy_helper.from_array(np.zeros(channels, np.float32),
                                            f"b{i}")]
        nodes += [
            helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"],
                             name=f"conv{i}", kernel_shape=[k, k],
                             pads=[k // 2] * 4),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"),
            helper.make_node("Slice", [f"r{i}", "starts", "ends"], [f"t{i}"],
                             name=f"tap{i}"),
            helper.make_node("Add", [y, f"t{i}"], [f"y{i}"],
                             name=f"sweep{i}"),
            helper.make_node("Slice", [f"y{i}", "starts", "ends"], [f"s{i}"],
                             name=f"scalar{i}"),
            helper.make_node("Mul", [f"r{i}", f"s{i}"], [f"m{i}"],
                             name=f"mul{i}"),
        ]
        x, y = f"m{i}", f"y{i}"
    shape = [1, channels, size, size]
    graph = helper.make_graph(
        nodes, "cold_kernels",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                       [1, 1, 1, evict])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape),
         helper.make_tensor_value_info(y, TensorProto.FLOAT,
                                       [1, 1, 1, evict])],
        weights)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def profiled(path):
    """{op: [each layer's median kernel time, us]} of one profile."""
    by_op = collections.defaultdict(list)
    for name, t in sorted(profiled_kernel_ms(path).items()):
        op = name.rstrip("0123456789")
        if op in ("conv", "relu", "mul"):
            by_op[op].append(1e3 * statistics.median(t[5:]))
    return by_op


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_and_ort(ap)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--evict-mib", type=int, default=48)
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 1 or args.evict_mib < 1:
        ap.error("--rounds, --runs and --evict-mib must be at least 1")
    require_ort(args.ort)
    evict = args.evict_mib * 2**20 // 4
    kinds = [("chain", CHAIN_EVICT), ("swept", evict)]
    results = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as work:
        for c, hw, k in SHAPES:
            for kind, n in kinds:
                layers(c, hw, k, n,
                       os.path.join(work, f"{kind}_{c}_{hw}_{k}.onnx"))
        for r in range(args.rounds):
            for c, hw, k in SHAPES:
                for kind, n in kinds:
                    stem = f"{kind}_{c}_{hw}_{k}"
                    prefix = os.path.join(work, f"{stem}_r{r}")
                    subprocess.run(
                        ["node", os.path.join(HERE, "ort-cold.js"), args.ort,
                         os.path.join(work, stem + ".onnx"),
                         f"{c},{hw},{hw}", str(n), str(args.runs), prefix],
                        check=True, capture_output=True,
                        env={**os.environ, "ORT_DISABLE_TELEMETRY": "1"})
                    found = glob.glob(prefix + "_*.json")
                    if len(found) != 1:
                        sys.exit(f"cold-kernels.py: ONNX Runtime wrote "
                                 f"{len(found)} profiles for {stem}, not one")
                    for op, t in profiled(found[0]).items():
                        results[(c, hw, k, op, kind)].append(
                            statistics.median(t))
            print(f"round {r + 1} of {args.rounds}", file=sys.stderr)
    print(f"layers after a sweep of {args.evict_mib} MiB against the same "
          "layers in a chain (median profiled time, us)")
    for c, hw, k in SHAPES:
        for op in ("conv", "relu", "mul"):
            chain = statistics.median(results[(c, hw, k, op, "chain")])
            swept = statistics.median(results[(c, hw, k, op, "swept")])
            print(f"  {k}x{k} conv {c} x {hw}x{hw}  {op:5s} chain "
                  f"{chain:8.1f}  swept {swept:8.1f}  "
                  f"{100 * (swept / chain - 1):+6.1f}%")


if __name__ == "__main__":
    main()
