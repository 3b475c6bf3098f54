#!/usr/bin/env python3
"""Accuracy of Chorus's latency predictions on this CPU, leave one model out.

  bench/cost-accuracy.py [--build DIR] [--runs N] [--rounds N] [--no-chains]
      [--profile-report] [--work DIR] [--reuse] [--write-host F]

Ground truth is ONNX Runtime (onnxruntime-node under build/npm, CPU, one
intra-op thread, graph optimizations disabled so that each kernel is one
node of the model Chorus sees; fusion is a later issue). For every model:
the median latency of --runs timed runs once warm (bench/ort-run.js), and
an ONNX Runtime profile of --runs more runs. Models: the three PaddleOCR
models (dims bound as in bench/benchlib.py), torchvision architectures
exported by bench/export-torchvision.py (random weights), the per-kernel
overhead probe of bench/export-overhead-probe.py, and (unless --no-chains)
the op chains of bench/export-op-chains.py (single-op-class and
MobileNetV3-block chains at small feature-map sizes, and transformer
blocks; see docs/CostModel.md for what they showed). --rounds (default 10)
interleaved rounds, each running every model once in a fresh process: this
machine's speed drifts over minutes and not alike for every model, and ten
rounds (about ten minutes) average over more of it than five.

For each PaddleOCR model: chorus-calibrate on the profiles and latencies of
every other model (never its own), then chorus-opt --chorus-annotate-cost
with that target; prints predicted vs measured and the error, and the mean
absolute percentage error. Then FLOPs of well-known architectures next to
their published multiply-accumulate counts. --write-host writes the target
calibrated on all models (the built-in `host`).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
from benchlib import (MODELS as PADDLE, models_dir, add_build_and_ort,
                      require_ort, measure_interleaved, predict as predict_ms,
                      leave_one_out, calibrate_command)

OCR = models_dir(os.path.join(ROOT, "build"))
# (export spec, input size): 224 is the usual; three at 512 put working
# sets beyond the last-level cache, as the PaddleOCR detector's are (the
# LR-ASPP segmentation network is, like the detector, a MobileNetV3-style
# backbone with a dense head at high resolution).
TORCHVISION = [("resnet18", 224), ("mobilenet_v2", 224),
               ("squeezenet1_1", 224), ("shufflenet_v2_x1_0", 224),
               ("vit_b_32", 224), ("mobilenet_v2", 512),
               ("squeezenet1_1", 512),
               ("segmentation.lraspp_mobilenet_v3_large", 512),
               ("segmentation.lraspp_mobilenet_v3_large", 640)]
# 200 kernels that do almost nothing (bench/export-overhead-probe.py): its
# latency over its node count is the runtime's cost per kernel.
PROBE = "overhead_probe"
# Published multiply-accumulate counts at 224x224 (torchvision's model
# documentation, "GFLOPS" column, which counts multiply-adds).
PUBLISHED_GMACS = [("resnet50", 4.09), ("mobilenet_v2", 0.30),
                   ("vit_b_16", 17.56), ("resnet18", 1.81)]


def predict(args, path, dims, target_file, work):
    return predict_ms(args.build, path, dims, target_file, work)


def calibrate(args, entries, name, out, quiet=True):
    latency = ({e["stem"]: e["measured_ms"] for e in entries}
               if args.profiler_correction else None)
    cmd = calibrate_command(args.build, out, name, entries, profiles=True,
                            latency_ms=latency, extra=["--base", "x86-avx2"])
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    if not quiet:
        print(r.stdout)


def profile_report(entries):
    """Per model: the unprofiled latency next to the sum of its profiled
    node medians, their ratio and the difference per node: what the
    profiler adds (or, for large models, how far the timed and the
    profiled session drifted apart)."""
    print(f"{'model':34} {'nodes':>6} {'latency ms':>11} {'profiled ms':>12} "
          f"{'ratio':>6} {'excess/node us':>15}")
    for e in entries:
        with open(e["profile"]) as fh:
            runs = {}
            for ev in json.load(fh):
                name = ev.get("name", "")
                if ev.get("cat") == "Node" and name.endswith("_kernel_time"):
                    runs.setdefault(name, []).append(ev["dur"] * 1e-3)
        profiled = sum(statistics.median(v) for v in runs.values())
        lat = e["measured_ms"]
        print(f"{e['stem']:34} {len(runs):6} {lat:11.3f} {profiled:12.3f} "
              f"{profiled / lat:6.2f} "
              f"{1e3 * (profiled - lat) / len(runs):15.2f}")
    print()


def main():
    ap = argparse.ArgumentParser()
    add_build_and_ort(ap)
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--work", default=None)
    ap.add_argument("--write-host", default=None)
    ap.add_argument("--no-profiler-correction", dest="profiler_correction",
                    action="store_false",
                    help="do not pass the measured latencies to "
                         "chorus-calibrate (--latency), which takes the "
                         "profiler's time back from the nodes")
    ap.add_argument("--chains", action="store_true", default=True,
                    help="include the op chains (the default; kept so that "
                         "older commands in docs/ still run)")
    ap.add_argument("--no-chains", dest="chains", action="store_false",
                    help="leave the op-chain microbenchmarks "
                         "(bench/export-op-chains.py) out of the "
                         "calibration set")
    ap.add_argument("--profile-report", action="store_true",
                    help="print, per model, the unprofiled latency next to "
                         "the sum of the profiled node times")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the measurements saved in --work by an "
                         "earlier run (to try calibration settings)")
    args = ap.parse_args()
    require_ort(args.ort)
    subprocess.run(["/usr/bin/python3", os.path.join(HERE,
                                                     "export-torchvision.py"),
                    args.models] +
                   [n if size == 224 else f"{n}@{size}" for n, size in TORCHVISION] +
                   ["resnet50", "vit_b_16"],
                   check=True)
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-overhead-probe.py"),
                    os.path.join(args.models, PROBE + ".onnx")], check=True)
    chains = []
    if args.chains:
        listed = subprocess.run(["/usr/bin/python3",
                                 os.path.join(HERE, "export-op-chains.py"),
                                 args.models, "--list"], check=True,
                                capture_output=True, text=True).stdout.split()
        chains = list(zip(listed[0::2], listed[1::2]))
    work = args.work or tempfile.mkdtemp(prefix="chorus-cost-")
    os.makedirs(work, exist_ok=True)
    entries = []
    for stem, dims, shape in PADDLE:
        entries.append({"stem": stem, "path": os.path.join(OCR, stem + ".onnx"),
                        "dims": dims, "shape": shape, "paddle": True})
    for name, size in TORCHVISION:
        stem = name.split(".")[-1]
        stem = stem if size == 224 else f"{stem}_{size}"
        entries.append({"stem": stem,
                        "path": os.path.join(args.models, stem + ".onnx"),
                        "dims": [], "shape": [1, 3, size, size],
                        "paddle": False})
    entries.append({"stem": PROBE,
                    "path": os.path.join(args.models, PROBE + ".onnx"),
                    "dims": [], "shape": [1, 8, 8, 8], "paddle": False})
    for stem, chw in chains:
        entries.append({"stem": stem,
                        "path": os.path.join(args.models, stem + ".onnx"),
                        "dims": [],
                        "shape": [1] + [int(v) for v in chw.split(",")],
                        "paddle": False})
    saved = os.path.join(work, "measurements.json")
    if args.reuse:
        with open(saved) as fh:
            measured = json.load(fh)
        missing = [e["stem"] for e in entries if e["stem"] not in measured]
        if missing:
            print("not in the saved measurements, left out: " +
                  ", ".join(missing) + "\n")
        entries = [e for e in entries if e["stem"] in measured]
        for e in entries:
            e["measured_ms"] = measured[e["stem"]]["measured_ms"]
            e["profile"] = measured[e["stem"]]["profile"]
    else:
        measure_interleaved(args.ort, entries, work, args.rounds, args.runs)
        with open(saved, "w") as fh:
            json.dump({e["stem"]: {"measured_ms": e["measured_ms"],
                                   "profile": e["profile"]} for e in entries},
                      fh, indent=1)
    if args.profile_report:
        profile_report(entries)
    print(f"ONNX Runtime CPU, 1 thread, optimizations disabled; latency: "
          f"median of {args.rounds} interleaved rounds x {args.runs} runs\n")
    def predict_left_out(e):
        target = os.path.join(work, "loo-" + e["stem"] + ".json")
        calibrate(args, [o for o in entries if o is not e], "loo", target)
        return predict(args, e["path"], e["dims"], target, work)[0]

    leave_one_out(entries, lambda e: e["measured_ms"], predict_left_out)

    print(f"{'architecture':20} {'Chorus GMACs':>13} {'published':>10} "
          f"{'diff':>7}")
    for name, published in PUBLISHED_GMACS:
        _, fields = predict(args, os.path.join(args.models, name + ".onnx"),
                            [], os.path.join(ROOT, "lib", "Target", "targets",
                                             "x86-avx2.json"), work)
        gmacs = int(fields["flops"]) / 2e9
        print(f"{name:20} {gmacs:13.3f} {published:10.2f} "
              f"{100 * (gmacs - published) / published:+6.1f}%")

    if args.write_host:
        calibrate(args, entries, "host", args.write_host, quiet=False)


if __name__ == "__main__":
    main()
