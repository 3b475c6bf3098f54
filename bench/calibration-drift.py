#!/usr/bin/python3
"""How far the machine moved between two calibrations, model by model: two
folders of chorus-calibrate --measure --keep-measurements (two calibrations
in a row, say), and for each calibration model its quickest process in each,
next to the speed reference timed in that process.

  /usr/bin/python3 bench/calibration-drift.py FIRST_KEPT SECOND_KEPT

Per model: the model's time in its quickest process (the median of its timed
runs of the typical regime: the runs whose page faults are near those most
runs share, as chorus-calibrate takes them) among the processes whose
typical regime faults in as many pages as most of the model's processes in
both calibrations did, the second calibration's over the first's, and the
same ratio over the speed reference's (at one pace): a model that moved
beyond the reference moved with something the reference does not see. Then the median per kind of model (the name up to its first
number), and the speed reference's quickest tenth of processes in each.
Nothing is run: the figures are those the folders hold.
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys


def near(a, anchor):
    """chorus-calibrate's rule for runs of one regime: page faults within
    max(2, 10%) of each other."""
    return abs(a - anchor) <= max(2.0, 0.1 * anchor)


def typical(runs, faults):
    """(median ms, median page faults) of the runs of the regime most runs
    share, as chorus-calibrate takes them; all runs (faults None) when
    faults were not counted."""
    if not runs:
        return None
    if not faults or len(faults) != len(runs):
        return statistics.median(runs), None
    best = max(range(len(faults)),
               key=lambda i: (sum(near(p, faults[i]) for p in faults), -i))
    chosen = [(ms, p) for ms, p in zip(runs, faults) if near(p, faults[best])]
    return (statistics.median(ms for ms, _ in chosen),
            statistics.median(p for _, p in chosen))


def load(folder):
    """{model: [(ms, reference_ms), ...] per process}, and every process's
    reference."""
    if not os.path.isfile(os.path.join(folder, "settings.json")):
        sys.exit(f"calibration-drift.py: {folder} is not a folder of "
                 "chorus-calibrate --keep-measurements (no settings.json)")
    models, references = {}, []
    for path in sorted(glob.glob(os.path.join(folder, "*_r*.out"))):
        m = re.match(r"(.+)_r(\d+)\.out$", os.path.basename(path))
        if not m:
            continue
        try:
            with open(path) as f:
                o = json.load(f)
        except (OSError, ValueError):
            continue
        ref = o.get("reference_ms") or []
        regime = typical(o.get("runs_ms") or [], o.get("runs_faults"))
        if len(ref) < 2 or regime is None:
            continue
        pace = 0.5 * (ref[0] + ref[1])
        references.append(pace)
        models.setdefault(m.group(1), []).append((regime[0], pace,
                                                  regime[1]))
    if not models:
        sys.exit(f"calibration-drift.py: {folder} holds no measured "
                 "processes")
    return models, references


def quickest_tenth(values):
    values = sorted(values)
    return values[len(values) // 10]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("first")
    ap.add_argument("second")
    args = ap.parse_args()
    a, ref_a = load(args.first)
    b, ref_b = load(args.second)
    common = sorted(set(a) & set(b))
    if not common:
        sys.exit("calibration-drift.py: the two folders share no model")
    rows, apart = [], []
    for name in common:
        # The processes of the regime most of the model's processes ran in
        # (a model's runs fault in its results' pages in some processes and
        # not in others, and take several times as long when they do): a
        # model with none of it in one of the calibrations is listed apart.
        everyone = a[name] + b[name]
        pages = [p for _, _, p in everyone]
        if all(p is not None for p in pages):
            common_pages = max(pages,
                               key=lambda q: sum(near(p, q) for p in pages))
            pick = lambda v: [x for x in v if near(x[2], common_pages)]
        else:
            pick = lambda v: v
        in_a, in_b = pick(a[name]), pick(b[name])
        if not in_a or not in_b:
            apart.append(name)
            continue
        ms_a, pace_a, _ = min(in_a)
        ms_b, pace_b, _ = min(in_b)
        raw = ms_b / ms_a
        reference = pace_b / pace_a
        rows.append((raw / reference, raw, reference, ms_a, ms_b, name))
    print(f"{'calibration model':30} {'first ms':>9} {'second ms':>9} "
          f"{'second/first':>12} {'reference':>9} {'at one pace':>11}")
    for paced, raw, reference, ms_a, ms_b, name in sorted(rows):
        print(f"{name:30} {ms_a:9.3f} {ms_b:9.3f} {100 * (raw - 1):+11.1f}% "
              f"{100 * (reference - 1):+8.1f}% {100 * (paced - 1):+10.1f}%")
    if apart:
        print(f"not compared (no process of the common fault regime in one "
              f"of the two): {', '.join(apart)}")
    kinds = {}
    for paced, raw, _, _, _, name in rows:
        kind = re.split(r"_\d", name, maxsplit=1)[0]
        kinds.setdefault(kind, []).append((paced, raw))
    print()
    print(f"{'kind of model':30} {'models':>6} {'median second/first':>19} "
          f"{'at one pace':>11}")
    for kind, values in sorted(
            kinds.items(),
            key=lambda kv: statistics.median(v[0] for v in kv[1])):
        print(f"{kind:30} {len(values):6d} "
              f"{100 * (statistics.median(v[1] for v in values) - 1):+18.1f}% "
              f"{100 * (statistics.median(v[0] for v in values) - 1):+10.1f}%")
    qa, qb = quickest_tenth(ref_a), quickest_tenth(ref_b)
    print()
    print(f"speed reference, quickest tenth of processes: {qa:.3f} ms in the "
          f"first, {qb:.3f} ms in the second ({100 * (qb / qa - 1):+.1f}%); "
          f"models' median second/first "
          f"{100 * (statistics.median(r[1] for r in rows) - 1):+.1f}%, at one "
          f"pace {100 * (statistics.median(r[0] for r in rows) - 1):+.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
