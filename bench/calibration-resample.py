#!/usr/bin/python3
"""How stable a calibration is, from two calibrations' kept measurements:
every way of taking each round from one or the other, fitted again, and
each pseudo-calibration compared with its complement (the one of the
other rounds) on the held-out models, as targets-apart.py compares two
targets.

  /usr/bin/python3 bench/calibration-resample.py [--build DIR]
      [--models DIR] [--pace quiet|median] --work NEW_DIR
      FIRST_KEPT SECOND_KEPT

FIRST_KEPT and SECOND_KEPT are folders of chorus-calibrate --measure
--keep-measurements made at one level with the same settings (two
calibrations in a row, as bench/ort-accuracy.py --work keeps them). A
calibration of R rounds measures every calibration model once per round,
each round in processes of its own spread over minutes; a pseudo-
calibration takes round r's files (MODEL_rR.out, .err, its profiles) from
either folder, and the rest (the models, the runner, the memory readings)
from the folder of its round 0. Of the 2^R pseudo-calibrations, each and its
complement share no process: 2^(R-1) pairs, each as independent as the
two calibrations measured, where the two calibrations give one. So one
bench shows how far two calibrations of the machine can land apart, not
only how far one pair did. The pair of the two calibrations as measured is
the first.

Nothing is run with ONNX Runtime: each pseudo-calibration is fitted with
chorus-calibrate --measure --from-measurements (seconds each) and the
held-out models predicted with chorus-opt. Everything is written under
--work, a folder this makes (hard links to the kept files where the file
system allows, else copies).
"""
import argparse
import filecmp
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

from benchlib import (add_build_and_held_out, held_out_models,
                      predict_held_out, tool)

ROUND_FILE = re.compile(r"^(.+)_r(\d+)(\.out|\.err|_profile.*)$")


def fail(message):
    sys.exit(f"calibration-resample.py: {message}")


def settings(folder):
    path = os.path.join(folder, "settings.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{folder} is not a folder of chorus-calibrate "
             f"--keep-measurements ({path}: {e})")


def link(source, dest):
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_held_out(ap)
    ap.add_argument("--pace", choices=["quiet", "median"], default="quiet",
                    help="chorus-calibrate's --pace for every fit (default "
                    "quiet, as bench/ort-accuracy.py)")
    ap.add_argument("--work", required=True,
                    help="a new folder for the pseudo-calibrations and "
                    "their targets")
    ap.add_argument("first", metavar="FIRST_KEPT")
    ap.add_argument("second", metavar="SECOND_KEPT")
    args = ap.parse_args()
    kept = [os.path.abspath(args.first), os.path.abspath(args.second)]
    first, second = settings(kept[0]), settings(kept[1])
    if first != second:
        fail(f"{kept[0]} and {kept[1]} were measured with different "
             "settings (their settings.json differ): they are not two "
             "calibrations of one kind")
    rounds = first.get("rounds")
    if not isinstance(rounds, int) or not 2 <= rounds <= 6:
        fail(f"{kept[0]}: its settings.json holds {rounds!r} rounds; "
             "resampling needs 2 to 6")
    # Files of one round in each folder; the rest from round 0's source.
    listing = [sorted(os.listdir(k)) for k in kept]
    per_round = [[[] for _ in range(rounds)] for _ in kept]
    shared = [[], []]
    for k, names in enumerate(listing):
        for name in names:
            m = ROUND_FILE.match(name)
            if m and int(m.group(2)) < rounds:
                per_round[k][int(m.group(2))].append(name)
            else:
                shared[k].append(name)
    models = [n for n in shared[0] if n.endswith(".onnx")]
    for n in models:
        other = os.path.join(kept[1], n)
        if not os.path.exists(other) or not filecmp.cmp(
                os.path.join(kept[0], n), other, shallow=False):
            fail(f"calibration model {n} differs between the two folders "
                 "(kept by different versions of chorus-calibrate)")
    for r in range(rounds):
        outs = [sorted(n for n in per_round[k][r] if n.endswith(".out"))
                for k in range(2)]
        if not outs[0] or outs[0] != outs[1]:
            fail(f"round {r}: the two folders hold different models' "
                 "outputs (an incomplete calibration?)")
    held_out = held_out_models(args.build, args.models,
                               "calibration-resample.py")
    try:
        os.makedirs(args.work)
    except OSError as e:
        fail(f"cannot make --work {args.work}: {e}")
    # Pseudo-calibration `bits`: round r from kept[bits[r]].
    combos = list(itertools.product((0, 1), repeat=rounds))
    label = lambda bits: "".join(str(b + 1) for b in bits)
    targets = {}
    for i, bits in enumerate(combos):
        folder = os.path.join(args.work, label(bits))
        os.makedirs(folder)
        for name in shared[bits[0]]:
            link(os.path.join(kept[bits[0]], name), os.path.join(folder, name))
        for r, k in enumerate(bits):
            for name in per_round[k][r]:
                link(os.path.join(kept[k], name), os.path.join(folder, name))
        target = folder + ".json"
        fit = subprocess.run(
            [tool(args.build, "chorus-calibrate"), "--measure", "--name",
             "resample-" + label(bits), "--pace", args.pace,
             "--from-measurements", folder, "-o", target],
            capture_output=True, text=True)
        with open(folder + ".log", "w") as f:
            f.write(fit.stdout + fit.stderr)
        if fit.returncode != 0:
            fail(f"the fit of pseudo-calibration {label(bits)} failed "
                 f"(rc {fit.returncode}; {folder}.log): "
                 + (fit.stderr.strip().splitlines() or [""])[-1])
        targets[bits] = target
        print(f"fitted {i + 1} of {len(combos)}: rounds from "
              f"{label(bits)}", file=sys.stderr, flush=True)

    predicted = predict_held_out(args.build, held_out,
                                 [targets[bits] for bits in combos])
    predicted = {bits: predicted[targets[bits]] for bits in combos}
    # Pairs: each pseudo-calibration with its complement, the measured
    # pair (all rounds of the first against all of the second) first.
    pairs = [bits for bits in combos if bits[0] == 0]
    print(f"{len(pairs)} pairs of pseudo-calibrations that share no "
          f"process, from {kept[0]} (1) and {kept[1]} (2), {rounds} rounds, "
          f"pace {args.pace}; each held-out model's predictions apart "
          "(|second / first - 1|):")
    worst = []
    over = {stem: 0 for stem, _, _ in held_out}
    for bits in pairs:
        other = tuple(1 - b for b in bits)
        d = {s: abs(predicted[other][s] / predicted[bits][s] - 1)
             for s, _, _ in held_out}
        top = max(d, key=lambda s: (d[s], s))
        worst.append(d[top])
        for s, x in d.items():
            over[s] += x > 0.05
        print(f"  {label(bits)} vs {label(other)}: at most "
              f"{100 * d[top]:.1f}% apart ({top}; median "
              f"{100 * statistics.median(d.values()):.1f}%), "
              f"{sum(x <= 0.05 for x in d.values())} of {len(d)} within 5%")
    print(f"pairs within 5% on every model: "
          f"{sum(w <= 0.05 for w in worst)} of {len(worst)}; the largest "
          f"difference per pair: median {100 * statistics.median(worst):.1f}%,"
          f" {100 * min(worst):.1f}% to {100 * max(worst):.1f}%")
    often = sorted((n, s) for s, n in over.items() if n)
    if often:
        print("models over 5% apart in some pair: " + ", ".join(
            f"{s} {n} of {len(pairs)}" for n, s in reversed(often)))


if __name__ == "__main__":
    main()
