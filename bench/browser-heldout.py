#!/usr/bin/python3
"""Accuracy of a browser calibration on models it never saw.

  /usr/bin/python3 bench/browser-heldout.py [--browser chromium|firefox]
      [--backend wasm|webgpu] [--fit kernels|latency] [--target T.json]
      [--rounds R] [--runs N] [--model-s S] [--work DIR] [--reuse]
      [--models DIR] [--time-weight W]

Calibration: unless --target, the one-command browser calibration's models
(Chorus's generated calibration models only) are timed in the same browser
sessions as the held-out models, every round both sets in one page, so that
both see the machine at about the same pace; tools/chorus-probe/
calibrate-browser.js --from then fits DIR/target.json to them, as the one
command does after timing them itself: --fit kernels (the default for
default) to their profiles (on WebGPU, the GPU's timestamps of each
kernel), --fit latency to their latencies. Every model is timed warm, one after another (browser-ort.js
--each: at least --runs runs and --model-s seconds), beside
chorus-calibrate's speed reference, and every time (latencies and
profiles) is brought to the run's median pace of the reference, as
calibrate-browser.js does (tools/chorus-probe/pace.js). Held out (real
networks, none of them ever a calibration model): the three PaddleOCR
models (dims as in bench/benchlib.py), torchvision networks
(bench/export-torchvision.py, random weights) and a decoder-only text
transformer with int64 inputs at 64 tokens
(bench/export-text-transformer.py). Ground truth: ONNX Runtime Web (from
build/npm) in the same browser and backend, graph optimization `all`, one
thread; --rounds rounds each start a fresh browser; a model's latency is
the median of all its timed runs at the median pace. Chorus's prediction
is chorus-plan's for the model alone on the target. A model the target's
op-support table says does not run there (a refusal) is not timed;
chorus-plan's verdict is printed instead.

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


def ort_web_version():
    """The version of onnxruntime-web in build/npm."""
    with open(os.path.join(ROOT, "build", "npm", "node_modules",
                           "onnxruntime-web", "package.json")) as fh:
        return json.load(fh)["version"]


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


def time_models(args, entries, reference, profiles=None):
    """Each model's timings (browser-ort.js --each, at least --model-s
    seconds of runs), with the speed reference `reference` (entry) timed
    beside each; with `profiles`, a new folder, each model's profile is
    written there too."""
    cmd = ["node", os.path.join(HERE, "browser-ort.js"), "--backend",
           args.backend, "--browser", args.browser, "--runs", str(args.runs),
           "--warmup", "2", "--warmup-s", "2", "--optimization", "all",
           "--each", "--model-s", str(args.model_s), "--reference",
           reference["path"] + ":" + ",".join(map(str, reference["shape"]))]
    for e in entries:
        for d in e["bind"]:
            if d not in cmd:
                cmd += ["--dim", d]
    if profiles:
        cmd += ["--profiles", profiles]
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
    ap.add_argument("--fit", choices=["kernels", "latency"])
    ap.add_argument("--model-s", type=float, default=0.3)
    ap.add_argument("--work")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    args = ap.parse_args()
    for k, v in DEFAULTS[args.backend].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.fit is None:
        args.fit = "kernels"
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
        manifest = os.path.join(calib, "models", "models.json")
        if args.target:
            # The speed reference alone, for the pace.
            reference_dir = os.path.join(work, "reference")
            if not os.path.exists(reference_dir):
                subprocess.run([tool(args.build, "chorus-calibrate"),
                                "--write-calibration-models", reference_dir],
                               check=True, capture_output=True)
            manifest = os.path.join(reference_dir, "models.json")
        with open(manifest) as fh:
            listed = json.load(fh)
        reference = {"path": os.path.join(os.path.dirname(manifest),
                                          listed["speed_reference"]["file"]),
                     "shape": listed["speed_reference"]["shape"]}
        if not args.target:
            generated = [{"stem": m["name"],
                          "path": os.path.join(calib, "models", m["file"]),
                          "shape": m["shape"], "bind": []}
                         for m in listed["models"]]
        both = generated + timed
        # Per model and round: browser-ort.js's result.
        rounds = {e["stem"]: [] for e in both}
        profiling = bool(generated) and args.fit == "kernels"
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}: {len(generated)} "
                  f"calibration and {len(timed)} held-out models", flush=True)
            pdir = os.path.join(work, f"profiles-r{r + 1}")
            for e, res in zip(both, time_models(
                    args, both, reference, pdir if profiling else None)):
                rounds[e["stem"]].append(res)
        # Every time at the run's median pace of the speed reference, as
        # tools/chorus-probe/pace.js brings calibrate-browser.js's.
        refs = [x for rs in rounds.values() for res in rs
                for x in (res["reference_ms"], res.get("profile_reference_ms"))
                if x]
        pace = statistics.median(refs)
        print(f"machine pace: the speed reference took {pace:.3f} ms "
              f"(median of {len(refs)} timings), "
              f"{sorted(refs)[len(refs) // 10]:.3f} to "
              f"{sorted(refs)[len(refs) * 9 // 10]:.3f} ms from the 10th to "
              f"the 90th percentile", flush=True)
        runs = {s: [t * pace / res["reference_ms"] for res in rs
                    for t in res["runs_ms"]] for s, rs in rounds.items()}
        latency = {s: statistics.median(t) for s, t in runs.items()}
        if profiling:
            # Each calibration model's profile from its median round, at
            # the median pace, as calibrate-browser.js keeps it.
            os.makedirs(os.path.join(calib, "profiles"))
            for e in generated:
                rs = sorted(rounds[e["stem"]], key=lambda res: statistics.median(
                    res["runs_ms"]) * pace / res["reference_ms"])
                chosen = rs[(len(rs) - 1) // 2]
                with open(chosen["profile_file"]) as fh:
                    events = json.load(fh)
                factor = pace / chosen["profile_reference_ms"]
                for ev in events:
                    if isinstance(ev.get("dur"), (int, float)):
                        ev["dur"] = round(ev["dur"] * factor, 3)
                with open(os.path.join(calib, "profiles",
                                       e["stem"] + ".json"), "w") as fh:
                    fh.write("[\n" + ",\n".join(json.dumps(ev)
                                                for ev in events) + "\n]\n")
        if generated:
            with open(os.path.join(calib, "latencies.json"), "w") as fh:
                json.dump({"browser": args.browser, "backend": args.backend,
                           "optimization": "all", "rounds": args.rounds,
                           "runs": args.runs, "fit": args.fit,
                           "ort_version": ort_web_version(),
                           "speed_reference_ms": pace,
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
    print(f"\nONNX Runtime Web {ort_web_version()} {args.backend} in {args.browser}, "
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
