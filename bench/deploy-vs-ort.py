#!/usr/bin/env python3
"""What chorus-plan --emit-ort deploys, measured: the loader it writes
(run.js) against the plan's predictions, with onnxruntime-node.

For each workload (the PaddleOCR pipeline, held-out torchvision pairs) and
each strategy (the one chorus-plan recommends, then sequential and parallel
forced with --strategy): chorus-plan --target-file TARGET --emit-ort DIR,
then node DIR/run.js --json, which creates every session from the emitted
files exactly as written and runs the strategy --rounds times; every
deployment is run --repeats times, interleaved. Prints the predicted and
measured makespan and mean request latency (the median over the repeats of
the rounds' medians) and their errors, and the mean absolute error over the
recommended strategies and over all.

TARGET is a target from chorus-calibrate --measure on this machine (pass
--target, or the bench calibrates one first and says so). Neither the
PaddleOCR models nor the torchvision models are ever calibration models
(tools/chorus-calibrate/CalibrationModels.cpp generates its own).

  /usr/bin/python3 bench/deploy-vs-ort.py --ort build/npm/node_modules \
      [--target host.json] [--rounds 15] [--repeats 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (MODELS, models_dir, add_build_and_ort, ensure_torchvision,
                      require_ort, tool)

# (name, [model stems]); a stem twice is two requests of it.
WORKLOADS = [
    ("PaddleOCR pipeline", ["ch_PP-OCRv4_det_infer", "ch_PP-OCRv4_rec_infer",
                            "ch_ppocr_mobile_v2.0_cls_infer"]),
    ("resnet18 + mobilenet_v2", ["resnet18", "mobilenet_v2"]),
    ("squeezenet1_1 x 2", ["squeezenet1_1", "squeezenet1_1"]),
]
TORCHVISION = ["resnet18", "mobilenet_v2", "squeezenet1_1"]


def entries(args):
    """stem -> (path, [--dim values])."""
    out = {stem: (os.path.join(models_dir(args.build), stem + ".onnx"), dims)
           for stem, dims, _ in MODELS}
    for stem in TORCHVISION:
        out[stem] = (os.path.join(args.models, stem + ".onnx"), [])
    return out


def deploy_and_run(args, models, stems, strategy, work):
    out = os.path.join(work, f"ort-{strategy}")
    cmd = [tool(args.build, "chorus-plan"), "--target-file", args.target,
           "--strategy", strategy, "--emit-ort", out, "--force"]
    for stem in stems:
        cmd.append(models[stem][0])
    for stem in dict.fromkeys(stems):
        for d in models[stem][1]:
            cmd += ["--dim", f"{stem}:{d}"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    run = subprocess.run(["node", os.path.join(out, "run.js"), "--ort",
                          args.ort, "--rounds", str(args.rounds), "--warmup",
                          "3", "--json"], check=True, capture_output=True,
                         text=True)
    return json.loads(run.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--models", type=os.path.abspath,
                    default=os.path.join(HERE, "..", "build", "tv-models"))
    ap.add_argument("--target", type=os.path.abspath,
                    help="a target from chorus-calibrate --measure (default: "
                    "calibrate one now)")
    ap.add_argument("--rounds", type=int, default=15,
                    help="rounds of each run.js run (default 15)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs of every deployment, interleaved (default 3)")
    args = ap.parse_args()
    if args.rounds < 1 or args.repeats < 1:
        sys.exit("--rounds and --repeats must be at least 1")
    require_ort(args.ort)
    ensure_torchvision(args.models, TORCHVISION)
    models = entries(args)
    with tempfile.TemporaryDirectory() as work:
        if not args.target:
            args.target = os.path.join(work, "host.json")
            print("calibrating this machine: chorus-calibrate --measure")
            subprocess.run([tool(args.build, "chorus-calibrate"), "--measure",
                            "--ort-modules", args.ort, "-o", args.target],
                           check=True, capture_output=True)
        # Every deployment once per repeat, interleaved, so that the
        # machine's drift over minutes falls on all of them alike.
        configs, results = [], {}
        for name, stems in WORKLOADS:
            configs.append((name, stems, "auto"))
            configs += [(name, stems, s) for s in ("sequential", "parallel")]
        for _ in range(args.repeats):
            for name, stems, strategy in configs:
                r = deploy_and_run(args, models, stems, strategy, work)
                results.setdefault((name, strategy), []).append(r)
        print(f"target {args.target}; {args.repeats} repeats of "
              f"{args.rounds} rounds, the median repeat of the rounds' "
              "medians")
        print(f"  {'workload':26s} {'strategy':36s} {'makespan ms':>23s} "
              f"{'mean latency ms':>23s}")
        print(f"  {'':26s} {'':36s} {'predicted':>9s} {'measured':>8s} "
              f"{'error':>5s} {'predicted':>9s} {'measured':>8s} {'error':>5s}")
        recommended, every = [], []
        for name, stems in WORKLOADS:
            chosen = results[(name, "auto")][0]["strategy"]
            for strategy in ("auto", "sequential", "parallel"):
                if strategy == chosen:
                    continue
                runs = results[(name, strategy)]
                p = runs[0]["predicted"]
                make = statistics.median(r["measured"]["makespan_ms"]
                                         for r in runs)
                mean = statistics.median(r["measured"]["mean_latency_ms"]
                                         for r in runs)
                e_make = (p["makespan_ms"] - make) / make
                e_mean = (p["mean_latency_ms"] - mean) / mean
                label = (f"{chosen} (recommended)" if strategy == "auto"
                         else strategy)
                if strategy == "auto":
                    recommended += [abs(e_make), abs(e_mean)]
                every += [abs(e_make), abs(e_mean)]
                print(f"  {name:26s} {label:36s} {p['makespan_ms']:9.2f} "
                      f"{make:8.2f} {100 * e_make:+5.0f}% "
                      f"{p['mean_latency_ms']:9.2f} {mean:8.2f} "
                      f"{100 * e_mean:+5.0f}%")
        within = sum(e <= 0.15 for e in recommended)
        print(f"  recommended strategies: mean absolute error "
              f"{100 * statistics.mean(recommended):.1f}%, {within} of "
              f"{len(recommended)} figures within 15%")
        within = sum(e <= 0.15 for e in every)
        print(f"  every strategy deployed: mean absolute error "
              f"{100 * statistics.mean(every):.1f}%, {within} of "
              f"{len(every)} figures within 15%")


if __name__ == "__main__":
    main()
