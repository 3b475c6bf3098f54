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
4. memory: each held-out model in --rounds fresh processes
   (bench/ort-memory.js): resident-set growth from before the session's
   creation to after it, and to after the first run (the largest over the
   processes, as the calibration takes it: identical processes differ by
   up to half, as glibc's heaps keep or return freed copies), next to the
   first target's runtime memory for one session (chorus-plan's
   models[].runtime_memory).
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


def measure_memory(ort, path, shape, level):
    """Resident growth (bytes) after the session's creation and after its
    first run, in a fresh process."""
    out = subprocess.run(["node", os.path.join(HERE, "ort-memory.js"), ort,
                          path, ",".join(map(str, shape)), level],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return (r["rss_created"] - r["rss_before"],
            r["rss_after_run"] - r["rss_before"])


def predict_memory(build, path, dims, target_file, work):
    """chorus-plan's runtime memory of one session of the model alone."""
    plan = os.path.join(work, "plan.json")
    cmd = [tool(build, "chorus-plan"), path, "--target-file", target_file,
           "--strategy", "sequential", "-o", plan]
    for d in dims:
        cmd += ["--dim", d]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(plan) as f:
        memory = json.load(f)["models"][0]["runtime_memory"]
    return memory["after_load_bytes"], memory["after_first_run_bytes"]


def print_memory(args, level, models, target_file, work):
    rounds = {stem: [] for stem, *_ in models}
    for _ in range(args.rounds):
        for stem, path, dims, shape in models:
            rounds[stem].append(measure_memory(args.ort, path, shape, level))
    print(f"  {'held-out model':30s} {'after load MB':>24s} "
          f"{'after first run MB':>24s}")
    print(f"  {'':30s} {'predicted measured error':>24s} "
          f"{'predicted measured error':>24s}")
    errors = []
    for stem, path, dims, shape in models:
        load = max(r[0] for r in rounds[stem])
        run = max(r[1] for r in rounds[stem])
        p_load, p_run = predict_memory(args.build, path, dims, target_file,
                                       work)
        e_load, e_run = (p_load - load) / load, (p_run - run) / run
        errors += [abs(e_load), abs(e_run)]
        print(f"  {stem:30s} {p_load / 1e6:9.1f} {load / 1e6:8.1f} "
              f"{100 * e_load:+6.1f}% {p_run / 1e6:9.1f} {run / 1e6:8.1f} "
              f"{100 * e_run:+6.1f}%")
    within = sum(e <= 0.15 for e in errors)
    print(f"  level {level}: memory MAPE {100 * statistics.mean(errors):.1f}%, "
          f"{within} of {len(errors)} figures within 15%")


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
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the memory measurements")
    ap.add_argument("--memory-only", metavar="TARGET",
                    help="only the memory table, with this calibrated target")
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
    if args.memory_only:
        with open(args.memory_only) as f:
            level = json.load(f)["runtime"]["graph_optimization_level"]
        with tempfile.TemporaryDirectory() as work:
            print(f"level {level}: memory with {args.memory_only}")
            print_memory(args, level, models, args.memory_only, work)
        return
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
            if not args.no_memory:
                print_memory(args, level, models, first, work)


if __name__ == "__main__":
    main()
