#!/usr/bin/env python3
"""How well a target with runtime kernel models predicts ONNX Runtime as
deployed, on models its calibration never saw.

  bench/ort-accuracy.py [--build DIR] [--ort DIR] [--models DIR]
                        [--levels all,disabled] [--runs N]

For each graph optimization level (default: all, ONNX Runtime's default,
and disabled):
1. measures every model with bench/ort-run.js (onnxruntime-node under
   --ort, CPU, one intra-op thread, that level): the median of N timed runs,
   then N profiled runs;
2. fits a target with chorus-calibrate --kernel-models to the profiles and
   latencies of the CALIBRATION models only;
3. predicts every HELD_OUT model with that target (chorus-import, then
   chorus-annotate-cost: ONNX Runtime's kernels as Chorus mirrors them,
   each timed by its class's model) and prints predicted against measured.
The two sets are disjoint (checked below). The torchvision models are
exported with bench/export-torchvision.py into --models (Debian's
python3-torch and python3-torchvision; random weights); the PaddleOCR
models come from bootstrap's build/npm.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import MODELS, models_dir, add_build_and_ort, require_ort, tool

# Models whose profiles the target is fitted to.
CALIBRATION = ["resnet18", "mobilenet_v2", "squeezenet1_1", "vit_b_32"]
# Models no calibration sees: only predicted and measured.
HELD_OUT = ["resnet34", "resnet50", "wide_resnet50_2", "resnext50_32x4d",
            "googlenet", "mnasnet1_0", "mobilenet_v3_large", "regnet_y_400mf",
            "efficientnet_b1", "densenet121", "shufflenet_v2_x1_0", "alexnet",
            "vgg11", "convnext_tiny", "swin_t"]
assert not set(CALIBRATION) & set(HELD_OUT)


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


def predict(build, path, dims, target, work):
    mlir = os.path.join(work, "m.mlir")
    cmd = [tool(build, "chorus-import"), path, "-o", mlir]
    for d in dims:
        cmd += ["--dim", d]
    subprocess.run(cmd, check=True)
    out = subprocess.run(
        [tool(build, "chorus-opt"), mlir,
         f"--chorus-annotate-cost=target-file={target} print=true format=json",
         "-o", os.devnull], check=True, capture_output=True, text=True).stdout
    report = json.loads(out)[0]
    return report["time_s"] * 1e3, report["kernels"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--models", default=os.path.join(HERE, "..", "build",
                                                     "tv-models"))
    ap.add_argument("--levels", default="all,disabled")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    require_ort(args.ort)
    missing = [m for m in CALIBRATION + HELD_OUT
               if not os.path.exists(os.path.join(args.models, m + ".onnx"))]
    if missing:
        subprocess.run(["/usr/bin/python3",
                        os.path.join(HERE, "export-torchvision.py"),
                        args.models] + missing, check=True)
    ocr = [(stem, os.path.join(models_dir(args.build), stem + ".onnx"), dims,
            shape) for stem, dims, shape in MODELS]
    tv = {m: (m, os.path.join(args.models, m + ".onnx"), [], [1, 3, 224, 224])
          for m in CALIBRATION + HELD_OUT}
    calibration = ocr + [tv[m] for m in CALIBRATION]
    held_out = [tv[m] for m in HELD_OUT]
    for level in args.levels.split(","):
        with tempfile.TemporaryDirectory() as work:
            cmd = [tool(args.build, "chorus-calibrate"), "--kernel-models",
                   "--ort-level", level, "--name", f"ort-{level}",
                   "-o", os.path.join(work, "target.json")]
            for stem, path, dims, shape in calibration:
                ms, profile = measure(args.ort, path, shape, args.runs, level,
                                      work)
                cmd += [path, profile, "--latency", f"{path}={ms}"]
            subprocess.run(cmd, check=True, capture_output=True)
            target = os.path.join(work, "target.json")
            print(f"level {level}: fitted to {len(calibration)} calibration "
                  f"models ({', '.join(s for s, *_ in calibration)})")
            print(f"  {'held-out model':22s} {'kernels':>7s} {'predicted ms':>12s}"
                  f" {'measured ms':>11s} {'error':>7s}")
            errors = []
            for stem, path, dims, shape in held_out:
                ms, _ = measure(args.ort, path, shape, args.runs, level, work)
                predicted, kernels = predict(args.build, path, dims, target,
                                             work)
                error = (predicted - ms) / ms
                errors.append(abs(error))
                print(f"  {stem:22s} {kernels:7d} {predicted:12.2f} {ms:11.2f}"
                      f" {100 * error:+6.1f}%")
            within = sum(e <= 0.15 for e in errors)
            print(f"  level {level}: held-out MAPE "
                  f"{100 * statistics.mean(errors):.1f}%, {within} of "
                  f"{len(errors)} within 15%")


if __name__ == "__main__":
    main()
