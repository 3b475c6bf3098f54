#!/usr/bin/env python3
"""Where a target's predictions of held-out models miss, kernel by kernel.

  bench/kernel-errors.py --target T.json [--build DIR] [--ort DIR]
                         [--models DIR] [--only M,M,...] [--runs 20]
                         [--rounds 3] [--top 8]

T.json: a target from `chorus-calibrate --measure --ort-level disabled`.
At that level ONNX Runtime runs every node of the model as its own kernel,
under the node's name, so each kernel's predicted time (chorus-opt
--chorus-annotate-cost with the target, the `chorus.cost` time of the node)
meets its measured one by name. (At other levels the runtime's kernels are
its own rewrites, named otherwise: the bench says so and stops.) It shows
which kernels a target's errors on whole models (bench/ort-accuracy.py)
come from.

For each model (bench/ort-accuracy.py's held-out set, or --only): --rounds
fresh processes of bench/ort-run.js (onnxruntime-node, CPU, one intra-op
thread), each timing --runs runs and profiling --runs more, with the
target's speed reference timed before and after. A kernel's measured time
is the median over a process's profiled runs (the first left out), then
the median over the processes, less the profiler's own time per kernel
(at least what the profiled kernels' sum exceeds the unprofiled latency by,
spread over them; a few microseconds). Measured times are also brought to the target's
pace (x the target's speed reference time / the process's, to the power
1). Prints per model the predicted and measured sum of its kernels, per
op type, and the --top kernels by absolute error; then, over all models,
per op type and per weight size of the kernel (its constant operands).
The torchvision models are exported with bench/export-torchvision.py into
--models as bench/ort-accuracy.py does.
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (HELD_OUT, MODELS, models_dir, add_build_and_ort,
                      ensure_torchvision, import_model, require_ort, tool)

NODE = re.compile(r'chorus\.node "([\w.]+)"\((.*?)\).*time_s = ([0-9.eE+-]+)'
                  r'.*name = "([^"]*)"')


def predicted_kernels(build, path, dims, target, work):
    """{node name: (op, seconds, weight bytes)} from chorus.cost."""
    mlir = os.path.join(work, "model.mlir")
    import_model(build, path, dims, mlir)
    annotated = os.path.join(work, "annotated.mlir")
    subprocess.run([tool(build, "chorus-opt"), mlir, "-o", annotated,
                    "--chorus-annotate-cost=target-file=" + target],
                   check=True)
    # The constants' bytes, by SSA value: a kernel's weights.
    constant = re.compile(r'(%[\w#]+) = (?:chorus\.weight_ref|'
                          r'chorus\.constant|arith\.constant)'
                          r'.*: tensor<([0-9x]+)x(f32|f16|i64|i32|i8)>')
    sizes = {"f32": 4, "f16": 2, "i64": 8, "i32": 4, "i8": 1}
    weights, kernels = {}, {}
    with open(annotated) as f:
        for line in f:
            m = constant.search(line)
            if m:
                count = 1
                for d in m[2].split("x"):
                    count *= int(d)
                weights[m[1]] = count * sizes[m[3]]
                continue
            m = NODE.search(line)
            if m:
                operands = [o.strip() for o in m[2].split(",")]
                kernels[m[4]] = (m[1], float(m[3]),
                                 sum(weights.get(o, 0) for o in operands))
    return kernels


def measured_kernels(ort, path, shape, runs, reference, work):
    """({node name: ms}, latency ms, speed reference ms, the profiler's
    time per kernel taken off, ms) of one process."""
    prefix = os.path.join(work, "profile")
    for name in os.listdir(work):
        if name.startswith("profile"):
            os.remove(os.path.join(work, name))
    out = subprocess.run(
        ["node", os.path.join(HERE, "ort-run.js"), ort, path,
         ",".join(map(str, shape)), str(runs), "disabled", prefix,
         "--reference", *reference],
        check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    profile = [n for n in os.listdir(work) if n.startswith("profile")]
    if len(profile) != 1:
        sys.exit(f"kernel-errors.py: ONNX Runtime wrote {len(profile)} "
                 f"profiles for {path}, not one")
    with open(os.path.join(work, profile[0])) as f:
        events = json.load(f)
    times = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[e["name"][:-len("_kernel_time")]].append(e["dur"] * 1e-3)
    kernels = {n: statistics.median(t[1:] if len(t) > 1 else t)
               for n, t in times.items()}
    # The profiler's own time per kernel, at least: what the profiled
    # kernels' sum exceeds the unprofiled latency by, spread over them.
    extra = max(0.0, (sum(kernels.values()) - result["median_ms"]) /
                max(len(kernels), 1))
    return ({n: max(0.0, ms - extra) for n, ms in kernels.items()},
            result["median_ms"], statistics.mean(result["reference_ms"]),
            extra)


def error(predicted, measured):
    """The predicted time's error against the measured one, printed."""
    if measured <= 0:
        return "    n/a"
    return f"{100 * (predicted / measured - 1):+6.1f}%"


def weight_band(nbytes):
    mib = nbytes / 2**20
    for limit, label in ((0, "no weights"), (1, "under 1 MiB"),
                         (8, "1-8 MiB"), (64, "8-64 MiB")):
        if nbytes == 0 and limit == 0 or 0 < mib <= limit:
            return label
    return "over 64 MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_and_ort(ap)
    ap.add_argument("--target", required=True)
    ap.add_argument("--models", default=None,
                    help="torchvision exports (default BUILD/tv-models)")
    ap.add_argument("--only", default=None,
                    help="comma-separated held-out models to measure")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--top", type=int, default=8)
    args = ap.parse_args()
    if args.runs < 2 or args.rounds < 1 or args.top < 0:
        ap.error("--runs must be at least 2, --rounds at least 1, --top "
                 "at least 0")
    with open(args.target) as f:
        target = json.load(f)
    runtime = target.get("runtime", {})
    level = runtime.get("graph_optimization_level")
    if level != "disabled":
        ap.error(f"{args.target}: the target is for graph optimization level "
                 f"{level!r}; only at 'disabled' is every kernel a node of "
                 "the model, met by name")
    if "speed_reference_s" not in runtime:
        ap.error(f"{args.target}: no runtime.speed_reference_s (calibrate "
                 "with chorus-calibrate --measure)")
    pace = runtime["speed_reference_s"] * 1e3
    require_ort(args.ort)
    args.models = args.models or os.path.join(args.build, "tv-models")
    names = [m[0] for m in MODELS] + HELD_OUT
    if args.only:
        only = args.only.split(",")
        unknown = [m for m in only if m not in names]
        if unknown:
            ap.error("not a held-out model: " + ", ".join(unknown))
        names = [m for m in names if m in only]
    ensure_torchvision(args.models, [m for m in names if m in HELD_OUT])
    entries = [(stem, os.path.join(models_dir(args.build), stem + ".onnx"),
                dims, shape) for stem, dims, shape in MODELS if stem in names]
    entries += [(m, os.path.join(args.models, m + ".onnx"), [],
                 [1, 3, 224, 224]) for m in HELD_OUT if m in names]
    by_op = collections.defaultdict(lambda: [0.0, 0.0, 0])
    by_band = collections.defaultdict(lambda: [0.0, 0.0, 0])
    with tempfile.TemporaryDirectory() as work:
        # The target's speed reference, as chorus-calibrate generates it.
        models = os.path.join(work, "calibration-models")
        subprocess.run([tool(args.build, "chorus-calibrate"),
                        "--write-calibration-models", models], check=True,
                       capture_output=True)
        with open(os.path.join(models, "models.json")) as f:
            ref = json.load(f)["speed_reference"]
        reference = [os.path.join(models, ref["file"]),
                     ",".join(map(str, ref["shape"]))]
        for stem, path, dims, shape in entries:
            predicted = predicted_kernels(args.build, path, dims, args.target,
                                          work)
            rounds = [measured_kernels(args.ort, path, shape, args.runs,
                                       reference, work)
                      for _ in range(args.rounds)]
            names_measured = set(rounds[0][0])
            matched = [n for n in predicted if n in names_measured]
            measured = {n: statistics.median(r[0][n] * pace / r[2]
                                             for r in rounds)
                        for n in matched}
            raw = {n: statistics.median(r[0][n] for r in rounds)
                   for n in matched}
            latency = statistics.median(r[1] for r in rounds)
            profiler = statistics.median(r[3] for r in rounds)
            psum = sum(predicted[n][1] * 1e3 for n in matched)
            msum, rsum = sum(measured.values()), sum(raw.values())
            print(f"{stem}: {len(matched)} of {len(predicted)} kernels met by "
                  f"name ({len(names_measured)} profiled); kernels predicted "
                  f"{psum:.2f} ms, measured {rsum:.2f} ms "
                  f"({error(psum, rsum).strip()}), at the target's pace "
                  f"{msum:.2f} ms ({error(psum, msum).strip()}); latency "
                  f"{latency:.2f} ms; {1e3 * profiler:.1f} us per kernel "
                  "taken off as the profiler's")
            ops = collections.defaultdict(lambda: [0.0, 0.0, 0])
            for n in matched:
                op, seconds, weights = predicted[n]
                for table, key in ((ops, op), (by_op, op),
                                   (by_band, weight_band(weights))):
                    table[key][0] += seconds * 1e3
                    table[key][1] += measured[n]
                    table[key][2] += 1
            for op, (p, m, count) in sorted(ops.items(),
                                            key=lambda kv: -kv[1][1]):
                print(f"  {op:24s} {count:4d} kernels  predicted {p:9.3f} ms"
                      f"  at pace {m:9.3f} ms  {error(p, m)}")
            worst = sorted(matched, key=lambda n: (
                -abs(predicted[n][1] * 1e3 - measured[n]), n))[:args.top]
            for n in worst:
                op, seconds, weights = predicted[n]
                print(f"    {n[:48]:48s} {op:12s} {weights / 2**20:7.2f} MiB "
                      f"predicted {seconds * 1e3:7.3f} ms at pace "
                      f"{measured[n]:7.3f} ms "
                      f"{error(seconds * 1e3, measured[n])}")
            sys.stdout.flush()
    for title, table in (("op type", by_op), ("weights", by_band)):
        print(f"all models, by {title}:")
        for key, (p, m, count) in sorted(table.items(),
                                         key=lambda kv: -kv[1][1]):
            print(f"  {key:24s} {count:5d} kernels  predicted {p:10.3f} ms"
                  f"  at pace {m:10.3f} ms  {error(p, m)}")


if __name__ == "__main__":
    main()
