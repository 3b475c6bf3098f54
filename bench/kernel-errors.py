#!/usr/bin/env python3
"""Where a target's predictions of held-out models miss, kernel by kernel.

  bench/kernel-errors.py --target T.json [--build DIR] [--ort DIR]
                         [--models DIR] [--only M,M,...] [--runs 20]
                         [--rounds 3] [--top 8]
  bench/kernel-errors.py --calibration DIR [--build DIR] [--top 8]

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
per op type, per kind of convolution (dense KxK, pointwise, depthwise,
grouped; strided or not) and per weight size of the kernel (its constant
operands).

With --calibration DIR (a folder `chorus-calibrate --measure
--keep-measurements DIR` kept, at level disabled), nothing is run: the
same tables for the fit's own kernels, the calibration models' profiled
kernels against the target the folder fits to (`chorus-calibrate --measure
--from-measurements DIR`, into a scratch folder). Each kernel's measured
time is taken as the fit takes it: its median over a round's profiled
runs, brought to the target's pace by the round's speed reference (the
mean of its last two timings), the median over the rounds not left out as
loaded (speed reference more than 12% slower than in the model's quickest
round), less the profiler's time per kernel the fit found (at least a
tenth of the kernel kept). A class whose own kernels the fit meets while
the held-out models' kernels of the same kind miss runs slower inside a
whole network than in the calibration's chains. No --target, no ONNX
Runtime needed.
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
                      ensure_torchvision, import_model, profiled_kernel_ms,
                      require_ort, tool)

NODE = re.compile(r'chorus\.node "([\w.]+)"\((.*?)\).*time_s = ([0-9.eE+-]+)'
                  r'.*name = "([^"]*)"')
CONV_TYPES = re.compile(r': \(tensor<1x(\d+)x[^>]*>, tensor<(\d+)x(\d+)x(\d+)x(\d+)x')


def conv_kind(line):
    """A convolution's kind from its annotated line: dense KxK, pointwise,
    depthwise or grouped, strided when a stride is over 1 (None where the
    line is not a 2-D convolution with a constant filter)."""
    m = CONV_TYPES.search(line)
    if not m:
        return None
    channels, _, per_group, kh, kw = (int(v) for v in m.groups())
    group = re.search(r'\bgroup = (\d+)', line)
    group = int(group[1]) if group else 1
    strides = re.search(r'strides = array<i64: ([\d, ]+)>', line)
    strided = bool(strides) and any(int(v) > 1
                                    for v in strides[1].split(","))
    if group > 1:
        kind = "depthwise" if group == channels and per_group == 1 \
            else "grouped"
        kind += f" {kh}x{kw}"
    elif kh == 1 and kw == 1:
        kind = "pointwise"
    else:
        kind = f"dense {kh}x{kw}"
    return kind + (" strided" if strided else "")


def predicted_kernels(build, path, dims, target, work, shape=None):
    """{node name: (op, seconds, weight bytes, convolution kind or None)}
    from chorus.cost; `shape`: the input x's shape, where the model leaves
    it open (a calibration model)."""
    mlir = os.path.join(work, "model.mlir")
    if shape is None:
        import_model(build, path, dims, mlir)
    else:
        subprocess.run([tool(build, "chorus-import"), path, "-o", mlir,
                        "--input-shape",
                        "x=" + "x".join(map(str, shape))], check=True)
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
                                 sum(weights.get(o, 0) for o in operands),
                                 conv_kind(line) if m[1] == "Conv" else None)
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
    times = profiled_kernel_ms(os.path.join(work, profile[0]))
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


class Tables:
    """Predicted and measured milliseconds (and kernels) per model and
    over all of them, by op type, convolution kind and weight size."""

    def __init__(self, top):
        self.top = top
        self.totals = {title: collections.defaultdict(lambda: [0.0, 0.0, 0])
                       for title in ("op type", "convolution kind",
                                     "weights")}

    def model(self, predicted, measured):
        """Prints one model's op types and --top kernels; adds them to the
        totals. `predicted`: {name: predicted_kernels' tuple}; `measured`:
        {name: ms at the target's pace} for the kernels met."""
        ops = collections.defaultdict(lambda: [0.0, 0.0, 0])
        for n, m in sorted(measured.items()):
            op, seconds, weights, kind = predicted[n]
            keys = [(ops, op), (self.totals["op type"], op),
                    (self.totals["weights"], weight_band(weights))]
            if kind:
                keys.append((self.totals["convolution kind"], kind))
            for table, key in keys:
                table[key][0] += seconds * 1e3
                table[key][1] += m
                table[key][2] += 1
        for op, (p, m, count) in sorted(ops.items(),
                                        key=lambda kv: (-kv[1][1], kv[0])):
            print(f"  {op:24s} {count:4d} kernels  predicted {p:9.3f} ms"
                  f"  at pace {m:9.3f} ms  {error(p, m)}")
        worst = sorted(measured, key=lambda n: (
            -abs(predicted[n][1] * 1e3 - measured[n]), n))[:self.top]
        for n in worst:
            op, seconds, weights, _ = predicted[n]
            print(f"    {n[:48]:48s} {op:12s} {weights / 2**20:7.2f} MiB "
                  f"predicted {seconds * 1e3:7.3f} ms at pace "
                  f"{measured[n]:7.3f} ms "
                  f"{error(seconds * 1e3, measured[n])}")
        sys.stdout.flush()

    def print_totals(self, who):
        for title, table in self.totals.items():
            print(f"{who}, by {title}:")
            for key, (p, m, count) in sorted(
                    table.items(), key=lambda kv: (-kv[1][1], kv[0])):
                print(f"  {key:24s} {count:5d} kernels  predicted {p:10.3f}"
                      f" ms  at pace {m:10.3f} ms  {error(p, m)}")


def calibration_models(build, work):
    """chorus-calibrate's calibration models written into a new folder
    under `work`: (the folder, its models.json)."""
    models = os.path.join(work, "calibration-models")
    subprocess.run([tool(build, "chorus-calibrate"),
                    "--write-calibration-models", models], check=True,
                   capture_output=True)
    with open(os.path.join(models, "models.json")) as f:
        return models, json.load(f)


PROFILER = re.compile(r"profiler time taken off every profiled kernel: "
                      r"([0-9.]+) us")


def calibration_kernels(folder, stem, pace, profiler_ms):
    """{kernel name: ms} of one calibration model in a kept folder, as the
    fit takes them (the module docstring), or None without profiles."""
    rounds = []
    r = 0
    while os.path.exists(os.path.join(folder, f"{stem}_r{r}.out")):
        with open(os.path.join(folder, f"{stem}_r{r}.out")) as f:
            lines = f.read().strip().splitlines()
        profiles = [n for n in os.listdir(folder)
                    if n.startswith(f"{stem}_r{r}_profile_2")]
        r += 1
        if not lines or len(profiles) != 1:
            continue
        result = json.loads(lines[-1])
        reference = result.get("reference_ms") or []
        if len(reference) < 2:
            continue
        speed = statistics.mean(reference[-2:])
        times = profiled_kernel_ms(os.path.join(folder, profiles[0]))
        kernels = {n: statistics.median(t[1:] if len(t) > 1 else t) * pace /
                   speed for n, t in times.items()}
        rounds.append((speed, kernels))
    if not rounds:
        return None
    quickest = min(speed for speed, _ in rounds)
    kept = [k for speed, k in rounds if speed <= 1.12 * quickest]
    names = sorted(set.intersection(*(set(k) for k in kept)))
    return {n: max(statistics.median(k[n] for k in kept) - profiler_ms,
                   0.1 * statistics.median(k[n] for k in kept))
            for n in names}


def calibration_main(args):
    folder = args.calibration
    settings = os.path.join(folder, "settings.json")
    if not os.path.isfile(settings):
        sys.exit(f"kernel-errors.py: {folder} holds no settings.json: not a "
                 "folder chorus-calibrate --measure --keep-measurements kept")
    with open(settings) as f:
        level = json.load(f).get("graph_optimization_level")
    if level != "disabled":
        sys.exit(f"kernel-errors.py: {folder} was measured at graph "
                 f"optimization level {level!r}; only at 'disabled' is every "
                 "kernel a node of the model, met by name")
    tables = Tables(args.top)
    with tempfile.TemporaryDirectory() as work:
        target = os.path.join(work, "target.json")
        fit = subprocess.run(
            [tool(args.build, "chorus-calibrate"), "--measure",
             "--from-measurements", folder, "-o", target],
            capture_output=True, text=True)
        if fit.returncode != 0:
            sys.exit("kernel-errors.py: chorus-calibrate could not fit "
                     f"{folder} again:\n{fit.stderr}")
        found = PROFILER.search(fit.stdout)
        profiler_ms = float(found[1]) * 1e-3 if found else 0.0
        with open(target) as f:
            pace = json.load(f)["runtime"]["speed_reference_s"] * 1e3
        print(f"the fit of {folder}: speed reference {pace:.3f} ms, "
              f"{1e3 * profiler_ms:.3f} us per kernel taken off as the "
              "profiler's")
        _, listed = calibration_models(args.build, work)
        for entry in listed["models"]:
            stem = entry["name"]
            path = os.path.join(folder, entry["file"])
            if not os.path.exists(path):
                sys.exit(f"kernel-errors.py: {folder} lacks {entry['file']}: "
                         "kept by a version that generated other models")
            measured = calibration_kernels(folder, stem, pace, profiler_ms)
            if measured is None:
                continue
            predicted = predicted_kernels(args.build, path, [], target, work,
                                          shape=entry["shape"])
            met = {n: ms for n, ms in measured.items() if n in predicted}
            psum = sum(predicted[n][1] * 1e3 for n in met)
            msum = sum(met.values())
            print(f"{stem}: {len(met)} of {len(predicted)} kernels met by "
                  f"name; kernels predicted {psum:.3f} ms, at the fit's pace "
                  f"{msum:.3f} ms ({error(psum, msum).strip()})")
            tables.model(predicted, met)
    tables.print_totals("the calibration's kernels")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_build_and_ort(ap)
    ap.add_argument("--target", default=None)
    ap.add_argument("--calibration", default=None, metavar="DIR",
                    help="a folder chorus-calibrate --measure "
                    "--keep-measurements kept at level disabled: the fit's "
                    "own kernels, nothing run")
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
    if (args.target is None) == (args.calibration is None):
        ap.error("give one of --target T.json (measure the held-out models) "
                 "and --calibration DIR (the fit's own kernels)")
    if args.calibration:
        return calibration_main(args)
    try:
        with open(args.target) as f:
            target = json.load(f)
    except (OSError, ValueError) as e:
        ap.error(f"{args.target}: not a readable target file ({e})")
    runtime = target.get("runtime", {}) if isinstance(target, dict) else {}
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
    tables = Tables(args.top)
    with tempfile.TemporaryDirectory() as work:
        # The target's speed reference, as chorus-calibrate generates it.
        models, listed = calibration_models(args.build, work)
        ref = listed["speed_reference"]
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
            tables.model(predicted, measured)
    tables.print_totals("all models")


if __name__ == "__main__":
    main()
