#!/usr/bin/env python3
"""How well the one-command calibration predicts ONNX Runtime as deployed,
on real models it never saw, and how stable it is.

  bench/ort-accuracy.py [--build DIR] [--ort DIR] [--models DIR]
                        [--levels all,disabled] [--runs N]

For each graph optimization level (default: all, ONNX Runtime's default,
and disabled):
1. `chorus-calibrate --measure --ort-level L --ort-modules ORT` fits a
   target to the models it generates itself (timed);
2. every held-out model is measured with bench/ort-run.js (onnxruntime-node
   under --ort, CPU, one intra-op thread, that level), in --rounds rounds
   that each run every model once (this machine's speed drifts over
   minutes): the median over rounds of the median of N timed runs;
3. the calibration runs a second time; each model is predicted with both
   targets (chorus-import, chorus-annotate-cost: ONNX Runtime's kernels as
   Chorus mirrors them, each timed by its class's model): the first
   target's error against the measurement, and how far the two targets'
   predictions are apart.
No held-out model is ever a calibration model: the calibration models are
generated (tools/chorus-calibrate/CalibrationModels.cpp). The torchvision
models are exported with bench/export-torchvision.py into --models
(Debian's python3-torch and python3-torchvision; random weights); the
PaddleOCR models come from bootstrap's build/npm.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (MODELS, models_dir, add_build_and_ort, predict,
                      require_ort, tool)

# Real models, all held out: calibration sees only generated models.
HELD_OUT = ["resnet18", "mobilenet_v2", "squeezenet1_1", "vit_b_32",
            "resnet34", "resnet50", "wide_resnet50_2", "resnext50_32x4d",
            "googlenet", "mnasnet1_0", "mobilenet_v3_large", "regnet_y_400mf",
            "efficientnet_b1", "densenet121", "shufflenet_v2_x1_0", "alexnet",
            "vgg11", "convnext_tiny", "swin_t"]


def measure(ort, path, shape, runs, level, work):
    prefix = os.path.join(work, os.path.basename(path)[:-5] + "_" + level)
    out = subprocess.run(["node", os.path.join(HERE, "ort-run.js"), ort, path,
                          ",".join(map(str, shape)), str(runs), level, prefix],
                         check=True, capture_output=True, text=True,
                         cwd=work).stdout
    result = json.loads(out)
    profile = result.get("profile")
    if not profile or not os.path.isfile(profile):
        profile = sorted(glob.glob(prefix + "_*.json"))[-1]
    return result["median_ms"], os.path.abspath(os.path.join(work, profile))


def calibrate(build, ort, level, path):
    start = time.perf_counter()
    subprocess.run([tool(build, "chorus-calibrate"), "--measure",
                    "--ort-level", level, "--ort-modules", ort,
                    "--name", f"ort-{level}", "-o", path], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--models", default=os.path.join(HERE, "..", "build",
                                                     "tv-models"))
    ap.add_argument("--levels", default="all,disabled")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    require_ort(args.ort)
    missing = [m for m in HELD_OUT
               if not os.path.exists(os.path.join(args.models, m + ".onnx"))]
    if missing:
        subprocess.run(["/usr/bin/python3",
                        os.path.join(HERE, "export-torchvision.py"),
                        args.models] + missing, check=True)
    models = [(stem, os.path.join(models_dir(args.build), stem + ".onnx"),
               dims, shape) for stem, dims, shape in MODELS]
    models += [(m, os.path.join(args.models, m + ".onnx"), [],
                [1, 3, 224, 224]) for m in HELD_OUT]
    for level in args.levels.split(","):
        with tempfile.TemporaryDirectory() as work:
            first = os.path.join(work, "first.json")
            second = os.path.join(work, "second.json")
            seconds = calibrate(args.build, args.ort, level, first)
            rounds = {stem: [] for stem, *_ in models}
            for _ in range(args.rounds):
                for stem, path, dims, shape in models:
                    rounds[stem].append(measure(args.ort, path, shape,
                                                args.runs, level, work)[0])
            measured = {stem: statistics.median(t) for stem, t in rounds.items()}
            seconds2 = calibrate(args.build, args.ort, level, second)
            print(f"level {level}: chorus-calibrate --measure took "
                  f"{seconds:.0f} s, then {seconds2:.0f} s")
            print(f"  {'held-out model':30s} {'kernels':>7s} "
                  f"{'predicted ms':>12s} {'measured ms':>11s} {'error':>7s} "
                  f"{'2nd run':>8s}")
            errors, drifts = [], []
            for stem, path, dims, shape in models:
                predicted, report = predict(args.build, path, dims, first,
                                            work)
                kernels = report["kernels"]
                again, _ = predict(args.build, path, dims, second, work)
                ms = measured[stem]
                error = (predicted - ms) / ms
                drift = (again - predicted) / predicted
                errors.append(abs(error))
                drifts.append(abs(drift))
                print(f"  {stem:30s} {kernels:7d} {predicted:12.2f} {ms:11.2f}"
                      f" {100 * error:+6.1f}% {100 * drift:+7.1f}%")
            within = sum(e <= 0.15 for e in errors)
            print(f"  level {level}: held-out MAPE "
                  f"{100 * statistics.mean(errors):.1f}%, {within} of "
                  f"{len(errors)} within 15%; the two calibrations' "
                  f"predictions differ by at most {100 * max(drifts):.1f}%")


if __name__ == "__main__":
    main()
