#!/usr/bin/python3
"""Accuracy of a browser calibration on models it never saw.

  /usr/bin/python3 bench/browser-heldout.py [--browser chromium|firefox]
      [--backend wasm|webgpu] [--target T.json] [--rounds R] [--runs N]
      [--work DIR] [--reuse] [--models DIR] [--time-weight W]

Calibration: unless --target, the one-command browser calibration's models
(Chorus's generated calibration models only) are timed in the same browser
sessions as the held-out models, every round both sets in one page, so that
both see the machine at the same pace (this VM's pace moves by up to half
between minutes); tools/chorus-probe/calibrate-browser.js --from then fits
DIR/target.json to their latencies, as the one command does after timing
them itself. Held out (real networks, none of them ever a calibration
model): the three PaddleOCR models (dims as in
bench/benchlib.py), torchvision networks (bench/export-torchvision.py,
random weights) and a decoder-only text transformer with int64 inputs at 64
tokens (bench/export-text-transformer.py). Ground truth: ONNX Runtime Web
1.30.0 in the same browser and backend, graph optimization `all`, one
thread; --rounds rounds each start a fresh browser and time every model
(warm-up, then --runs timed runs); a model's latency is the median of all
its timed runs. Chorus's prediction is chorus-plan's for the model alone
on the target. A model the target's op-support
table says does not run there (a refusal) is not timed; chorus-plan's
verdict is printed instead.

Prints predicted vs measured per model, the MAPE and how many are within
15%. --reuse takes the latencies saved in --work by an earlier run and fits
again.
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
sys.path.insert(0, HERE)
from benchlib import MODELS as PADDLE, models_dir, tool  # noqa: E402

TORCHVISION = ["resnet18", "mobilenet_v2", "squeezenet1_1",
               "shufflenet_v2_x1_0"]
TEXT = "text_transformer"
DEFAULTS = {"wasm": {"rounds": 3, "runs": 5}, "webgpu": {"rounds": 1,
                                                         "runs": 3}}


def held_out(models):
    ocr = models_dir(os.path.join(ROOT, "build"))
    out = [{"stem": stem, "path": os.path.join(ocr, stem + ".onnx"),
            "dims": dims, "shape": shape, "bind": []}
           for stem, dims, shape in PADDLE]
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-torchvision.py"), models] +
                   TORCHVISION, check=True, capture_output=True)
    out += [{"stem": n, "path": os.path.join(models, n + ".onnx"),
             "dims": [], "shape": [1, 3, 224, 224], "bind": []}
            for n in TORCHVISION]
    text = os.path.join(models, TEXT + ".onnx")
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-text-transformer.py"), text],
                   check=True, capture_output=True)
    out.append({"stem": TEXT, "path": text, "dims": ["sequence=64"],
                "shape": None, "bind": ["sequence=64"]})
    return out


def plan(build, e, target):
    """chorus-plan's prediction for the model alone on the target (ms), as
    its table prints it, with the pipeline chorus-plan runs for it."""
    cmd = [tool(build, "chorus-plan"), e["path"], "--target-file", target,
           "-o", os.devnull] + [f"--dim={d}" for d in e["dims"]]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"chorus-plan failed on {e['stem']}:\n{r.stderr}")
    lines = r.stdout.splitlines()
    header = next(i for i, line in enumerate(lines)
                  if line.startswith("model") and "predicted ms" in line)
    return float(lines[header + 1].split()[2])


def verdict(build, e, target):
    """chorus-plan's word on whether the model runs on the target: None when
    it does, else its message."""
    cmd = [tool(build, "chorus-plan"), e["path"], "--target-file", target,
           "-o", os.devnull] + [f"--dim={d}" for d in e["dims"]]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode == 0:
        return None
    if "does not run on target" in r.stderr:
        return r.stderr.strip().split("error: ", 1)[-1]
    sys.exit(f"chorus-plan failed on {e['stem']}:\n{r.stderr}")


def time_models(args, entries):
    cmd = ["node", os.path.join(HERE, "browser-ort.js"), "--backend",
           args.backend, "--browser", args.browser, "--runs", str(args.runs),
           "--warmup", "2", "--warmup-s", "2", "--optimization", "all"]
    for e in entries:
        for d in e["bind"]:
            if d not in cmd:
                cmd += ["--dim", d]
    cmd += [e["path"] + (":" + ",".join(map(str, e["shape"]))
                         if e["shape"] else "") for e in entries]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"bench/browser-ort.js failed:\n{r.stderr}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--browser", default="chromium",
                    choices=["chromium", "firefox"])
    ap.add_argument("--backend", default="wasm", choices=["wasm", "webgpu"])
    ap.add_argument("--target")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--time-weight", default="0")
    ap.add_argument("--work")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    args = ap.parse_args()
    for k, v in DEFAULTS[args.backend].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    work = args.work or tempfile.mkdtemp(prefix="chorus-heldout-")
    os.makedirs(work, exist_ok=True)
    entries = held_out(args.models)
    target = args.target or os.path.join(work, "target.json")
    calib = os.path.join(work, "calibration")
    saved = os.path.join(work, f"heldout-{args.browser}-{args.backend}.json")
    refused = {}
    if not args.reuse and not args.target:
        if os.path.exists(calib):
            sys.exit(f"{calib} exists: give a new --work, or --reuse")
        # The calibration models, and the probe for the target's browser
        # object, as tools/chorus-probe/calibrate-browser.js makes them.
        subprocess.run([tool(args.build, "chorus-calibrate"),
                        "--write-calibration-models",
                        os.path.join(calib, "models")], check=True,
                       capture_output=True)
        probe = ["node", os.path.join(ROOT, "tools", "chorus-probe",
                                      "run-probe.js"), "--out",
                 os.path.join(calib, "probe"), "--browser", args.browser]
        if args.backend == "webgpu":
            probe.append("--webgpu-swiftshader")
        subprocess.run(probe, check=True, capture_output=True)
    if args.target:
        for e in entries:
            why = verdict(args.build, e, target)
            if why:
                refused[e["stem"]] = why
    elif args.backend == "webgpu":
        probe_target = os.path.join(calib, "probe",
                                    f"{args.browser}-webgpu.json")
        for e in entries:
            why = verdict(args.build, e, probe_target)
            if why:
                refused[e["stem"]] = why
    timed = [e for e in entries if e["stem"] not in refused]
    if args.reuse:
        with open(saved) as fh:
            measured = json.load(fh)
    else:
        # Every round times the calibration models and the held-out ones in
        # one browser, so that both see the machine at the same pace.
        generated = []
        if not args.target:
            with open(os.path.join(calib, "models", "models.json")) as fh:
                generated = [{"stem": m["name"],
                              "path": os.path.join(calib, "models", m["file"]),
                              "shape": m["shape"], "bind": []}
                             for m in json.load(fh)["models"]]
        both = generated + timed
        runs = {e["stem"]: [] for e in both}
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}: {len(generated)} "
                  f"calibration and {len(timed)} held-out models", flush=True)
            for e, res in zip(both, time_models(args, both)):
                runs[e["stem"]] += res["runs_ms"]
        latency = {s: statistics.median(t) for s, t in runs.items()}
        if generated:
            with open(os.path.join(calib, "latencies.json"), "w") as fh:
                json.dump({"browser": args.browser, "backend": args.backend,
                           "optimization": "all", "rounds": args.rounds,
                           "runs": args.runs,
                           "latency_ms": {e["stem"]: latency[e["stem"]]
                                          for e in generated}}, fh, indent=1)
        measured = {"latency_ms": {e["stem"]: latency[e["stem"]]
                                   for e in timed},
                    "runs_ms": {e["stem"]: runs[e["stem"]] for e in timed}}
        with open(saved, "w") as fh:
            json.dump(measured, fh, indent=1)
    if not args.target:
        # The one-command calibration's fit, on the latencies timed above.
        subprocess.run(["node", os.path.join(ROOT, "tools", "chorus-probe",
                                             "calibrate-browser.js"),
                        "--from", calib, "-o", target,
                        "--time-weight", args.time_weight,
                        "--chorus-calibrate",
                        tool(args.build, "chorus-calibrate")], check=True)
    print(f"\nONNX Runtime Web 1.30.0 {args.backend} in {args.browser}, "
          f"optimization all, 1 thread; median of {args.rounds} rounds x "
          f"{args.runs} runs; target {target}\n")
    print(f"{'held-out model':34} {'predicted ms':>12} {'measured ms':>12} "
          f"{'error':>8}")
    errors = []
    for e in timed:
        ms = measured["latency_ms"][e["stem"]]
        pred = plan(args.build, e, target)
        err = 100 * (pred - ms) / ms
        errors.append(err)
        print(f"{e['stem']:34} {pred:12.2f} {ms:12.2f} {err:+7.1f}%")
    for stem, why in refused.items():
        print(f"{stem:34} not timed: {why}")
    mape = statistics.mean(abs(x) for x in errors)
    within = sum(abs(x) <= 15 for x in errors)
    print(f"\nheld-out MAPE {mape:.1f}%, {within} of {len(errors)} within "
          f"15%, worst {max(errors, key=abs):+.1f}%")


if __name__ == "__main__":
    main()
