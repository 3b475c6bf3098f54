#!/usr/bin/python3
"""How far apart targets predict the held-out models: two or more targets
of chorus-calibrate --measure (two calibrations in a row, say), each
held-out model predicted with each, and per pair of targets the largest
and the median difference and how many models lie within 5%.

  /usr/bin/python3 bench/targets-apart.py [--build DIR] [--models DIR]
      [--per-model] TARGET.json TARGET.json [TARGET.json ...]

The held-out models are the bench's (bench/benchlib.py: the PaddleOCR
models and the torchvision architectures no calibration sees; missing
torchvision exports are made with bench/export-torchvision.py). Nothing is
run with ONNX Runtime: the figures are the targets' predictions only, so
that two calibrations can be compared in a minute. A difference is
|second / first - 1|, the first target of the pair as the base.
"""
import argparse
import itertools
import json
import os
import statistics

from benchlib import (add_build_and_held_out, held_out_models,
                      predict_held_out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_held_out(ap)
    ap.add_argument("--per-model", action="store_true",
                    help="also print each model's prediction with each "
                    "target")
    ap.add_argument("targets", nargs="+", metavar="TARGET.json")
    args = ap.parse_args()
    if len(args.targets) < 2:
        ap.error("give at least two targets to compare")
    for t in args.targets:
        try:
            with open(t) as f:
                runtime = json.load(f).get("runtime")
        except (OSError, ValueError) as e:
            ap.error(f"{t}: {e}")
        if not isinstance(runtime, dict):
            ap.error(f"{t}: no runtime (not a target of chorus-calibrate "
                     "--measure)")
    models = held_out_models(args.build, args.models, "targets-apart.py")
    predicted = predict_held_out(args.build, models, args.targets)
    if args.per_model:
        print(f"{'held-out model':32s} " +
              " ".join(f"{os.path.basename(t):>14.14s}"
                       for t in args.targets) + "  spread")
        for stem, _, _ in models:
            v = [predicted[t][stem] for t in args.targets]
            print(f"{stem:32s} " + " ".join(f"{x:14.2f}" for x in v) +
                  f"  {100 * (max(v) / min(v) - 1):5.1f}%")
    for a, b in itertools.combinations(args.targets, 2):
        d = [abs(predicted[b][s] / predicted[a][s] - 1) for s, _, _ in models]
        print(f"{a} vs {b}: at most {100 * max(d):.1f}% apart (median "
              f"{100 * statistics.median(d):.1f}%), "
              f"{sum(x <= 0.05 for x in d)} of {len(d)} models within 5%")


if __name__ == "__main__":
    main()
