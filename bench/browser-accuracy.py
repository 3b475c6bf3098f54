#!/usr/bin/env python3
"""Accuracy of Chorus's latency predictions in a real browser, leave one
model out.

  bench/browser-accuracy.py --backend wasm|webgpu [--rounds R] [--runs N]
      [--warmup N] [--work DIR] [--reuse] [--no-pairs]

Ground truth is ONNX Runtime Web (onnxruntime-web 1.30.0 from build/npm, one
thread, graph optimizations disabled) in Debian's headless chromium driven
by playwright-core (bench/browser-ort.js): the wasm backend, or the WebGPU
backend on SwiftShader (a CPU-backed WebGPU adapter). Each of --rounds
rounds starts a fresh browser and times every model (--warmup untimed
runs, then --runs timed ones); a model's latency is the median of all its
timed runs. Models: the three PaddleOCR models (dims as in
bench/benchlib.py), torchvision networks exported by
bench/export-torchvision.py (random weights), the overhead probe of
bench/export-overhead-probe.py and the op chains of
bench/export-op-chains.py.

ONNX Runtime Web does not hand its per-node profile to the page, so the
browser target is calibrated from whole-model latencies: for each PaddleOCR
model, `chorus-calibrate --latency-only --base host` on every other
model's latency (never its own), with the kind and browser object of the
target tools/chorus-probe writes for this browser and backend; then
chorus-opt --chorus-annotate-cost predicts the left-out model. Prints
predicted vs measured per model and the mean absolute percentage error.

Unless --no-pairs: two PaddleOCR models at once, in one page (each round
requests both; ONNX Runtime Web runs one session at a time per page, so
they queue) and in two tabs (separate sites, so separate renderer
processes), next to each alone, as measured (one round each).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
from benchlib import (MODELS as PADDLE, leave_one_out, models_dir, predict,
                      calibrate_command)

OCR = models_dir(os.path.join(ROOT, "build"))
TORCHVISION = ["resnet18", "mobilenet_v2", "squeezenet1_1",
               "shufflenet_v2_x1_0", "segmentation.lraspp_mobilenet_v3_large@512"]
PROBE = "overhead_probe"
# min_work_share: chorus-calibrate's; on webgpu 0, every class with work
# gets its own factor: the base is the CPU target `host`, whose shares of
# the work say little about a GPU's (pooling is 1% of the host's work in
# the classifier and a third of its time on SwiftShader).
DEFAULTS = {"wasm": {"rounds": 3, "runs": 5, "warmup": 2,
                     "min_work_share": 0.02},
            "webgpu": {"rounds": 2, "runs": 2, "warmup": 1,
                       "min_work_share": 0.0}}
# Two models at once: recognizer and classifier (the detector on SwiftShader
# takes 40 s a run).
PAIR = ["ch_PP-OCRv4_rec_infer", "ch_ppocr_mobile_v2.0_cls_infer"]


def entries(models):
    out = []
    for stem, dims, shape in PADDLE:
        out.append({"stem": stem, "path": os.path.join(OCR, stem + ".onnx"),
                    "dims": dims, "shape": shape, "paddle": True})
    for spec in TORCHVISION:
        name, _, size = spec.partition("@")
        stem = name.split(".")[-1] + (f"_{size}" if size else "")
        size = int(size or 224)
        out.append({"stem": stem, "path": os.path.join(models, stem + ".onnx"),
                    "dims": [], "shape": [1, 3, size, size], "paddle": False})
    out.append({"stem": PROBE, "path": os.path.join(models, PROBE + ".onnx"),
                "dims": [], "shape": [1, 8, 8, 8], "paddle": False})
    listed = subprocess.run(["/usr/bin/python3",
                             os.path.join(HERE, "export-op-chains.py"), models,
                             "--list"], check=True, capture_output=True,
                            text=True).stdout.split()
    for stem, chw in zip(listed[0::2], listed[1::2]):
        out.append({"stem": stem, "path": os.path.join(models, stem + ".onnx"),
                    "dims": [], "shape": [1] + [int(v) for v in chw.split(",")],
                    "paddle": False})
    return out


def browser_run(backend, models, runs, warmup, mode=None):
    cmd = ["node", os.path.join(HERE, "browser-ort.js"), "--backend", backend,
           "--runs", str(runs), "--warmup", str(warmup)]
    if mode:
        cmd.append(mode)
    cmd += [f"{e['path']}:{','.join(map(str, e['shape']))}" for e in models]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"bench/browser-ort.js failed:\n{out.stderr}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True, choices=["wasm", "webgpu"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--work", default=None)
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the latencies saved in --work by an earlier "
                         "run")
    ap.add_argument("--no-pairs", dest="pairs", action="store_false")
    ap.add_argument("--min-work-share", type=float,
                    help="passed to chorus-calibrate --latency-only")
    args = ap.parse_args()
    for k, v in DEFAULTS[args.backend].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    npm = os.path.join(ROOT, "build", "npm", "node_modules")
    for package in ("onnxruntime-web", "playwright-core"):
        if not os.path.isdir(os.path.join(npm, package)):
            sys.exit(f"{package} not found under {npm}; run utils/bootstrap.sh")
    if not os.path.exists("/usr/bin/chromium"):
        sys.exit("no /usr/bin/chromium; run utils/bootstrap.sh")
    work = args.work or tempfile.mkdtemp(prefix="chorus-browser-")
    os.makedirs(work, exist_ok=True)
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-torchvision.py"), args.models] +
                   [s for s in TORCHVISION], check=True)
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-overhead-probe.py"),
                    os.path.join(args.models, PROBE + ".onnx")], check=True)
    models = entries(args.models)
    if args.backend == "webgpu":
        # ONNX Runtime Web 1.30's WebGPU kernels fail on MaxPool with
        # ceil_mode 1 ("ceil_mode kernel execution (padding) is not yet
        # implemented", SqueezeNet) though its table lists the op. (They
        # also reject a Conv without an explicit dilations attribute,
        # "dilations should be 2D"; the probe and chain exports write every
        # Conv attribute.)
        models = [e for e in models if e["stem"] != "squeezenet1_1"]

    probe_dir = os.path.join(work, "probe")
    probe_cmd = ["node", os.path.join(ROOT, "tools", "chorus-probe",
                                      "run-probe.js"), "--out", probe_dir]
    if args.backend == "webgpu":
        probe_cmd.append("--webgpu-swiftshader")
    print(subprocess.run(probe_cmd, check=True, capture_output=True,
                         text=True).stdout)
    browser_file = os.path.join(probe_dir, f"chromium-{args.backend}.json")

    saved = os.path.join(work, f"latencies-{args.backend}.json")
    if args.reuse:
        with open(saved) as fh:
            measured = json.load(fh)
        missing = [e["stem"] for e in models
                   if e["stem"] not in measured["latency_ms"]]
        if missing:
            print("not in the saved measurements, left out: " +
                  ", ".join(missing) + "\n")
        models = [e for e in models if e["stem"] in measured["latency_ms"]]
    else:
        times = {e["stem"]: [] for e in models}
        for r in range(args.rounds):
            for e, res in zip(models, browser_run(args.backend, models,
                                                  args.runs, args.warmup)):
                times[e["stem"]] += res["runs_ms"]
        measured = {"latency_ms": {s: statistics.median(t)
                                   for s, t in times.items()},
                    "runs_ms": times}
        if args.pairs:
            pair = [e for e in models if e["stem"] in PAIR]
            measured["pairs"] = {}
            for mode in ("alone", "--together", "--tabs"):
                runs = {e["stem"]: [] for e in pair}
                for r in range(1):
                    if mode == "alone":
                        res = [browser_run(args.backend, [e], args.runs,
                                           args.warmup)[0] for e in pair]
                    else:
                        res = browser_run(args.backend, pair, args.runs,
                                          args.warmup, mode)
                    for e, x in zip(pair, res):
                        runs[e["stem"]] += x["runs_ms"]
                measured["pairs"][mode.lstrip("-")] = {
                    s: statistics.median(t) for s, t in runs.items()}
        with open(saved, "w") as fh:
            json.dump(measured, fh, indent=1)

    print(f"ONNX Runtime Web 1.30.0, {args.backend}"
          f"{' (SwiftShader)' if args.backend == 'webgpu' else ''}, 1 thread, "
          f"optimizations disabled, headless Chromium; latency: median of "
          f"{args.rounds} rounds x {args.runs} runs\n")
    print(f"{'calibration model':34} {'measured ms':>12}")
    for e in models:
        if not e["paddle"]:
            print(f"{e['stem']:34} {measured['latency_ms'][e['stem']]:12.3f}")
    print()
    def predict_left_out(e):
        target = os.path.join(work, f"loo-{args.backend}-{e['stem']}.json")
        cmd = calibrate_command(
            args.build, target, f"chromium-{args.backend}",
            [o for o in models if o is not e],
            latency_ms=measured["latency_ms"],
            extra=["--latency-only", "--base", "host", "--browser-file",
                   browser_file, "--min-work-share",
                   str(args.min_work_share)])
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        return predict(args.build, e["path"], e["dims"], target, work)[0]

    leave_one_out(models, lambda e: measured["latency_ms"][e["stem"]],
                  predict_left_out)

    if "pairs" in measured:
        print(f"two models at once ({', '.join(PAIR)}), measured ms:")
        print(f"{'':34} {'alone':>10} {'one page':>10} {'two tabs':>10}")
        p = measured["pairs"]
        for stem in PAIR:
            print(f"{stem:34} {p['alone'][stem]:10.3f} "
                  f"{p['together'][stem]:10.3f} {p['tabs'][stem]:10.3f}")


if __name__ == "__main__":
    main()
