#!/usr/bin/env python3
"""How far a calibration model's co-run ratio (pair / alone) moves from
one calibration of a machine to the next, by the model's time alone.

    python3 bench/corun-spread.py A1 A2 [B1 B2]...

Each pair of arguments: two folders `chorus-calibrate --measure
--keep-measurements` kept on one machine at one level (as
bench/ort-accuracy.py --work keeps them: calibration-LEVEL-1 and -2). For
every model both kept in the same allocator regime (runs at once faulting
twice the pages of runs alone, within a quarter or 16 pages: the rule the
calibration applies), the difference of its two ratios over sqrt(2)
estimates the spread of one; printed per band of time alone as the
median times 1.4826 (a standard deviation's estimate)."""
import glob
import json
import math
import os
import statistics
import sys


def ratio(path):
    """(pair / alone, ms alone) of a kept first-round result, or None
    where its co-runs ran in another allocator regime."""
    with open(path) as f:
        d = json.load(f)
    if not d.get("corun_ms"):
        return None
    pair, alone = (statistics.median(d["corun_faults"]),
                   statistics.median(d["corun_alone_faults"]))
    if abs(pair - 2 * alone) > max(16, 0.25 * max(pair, 2 * alone)):
        return None
    ms = statistics.median(d["corun_alone_ms"])
    return statistics.median(d["corun_ms"]) / ms, ms


def main():
    folders = sys.argv[1:]
    if not folders or len(folders) % 2:
        sys.exit(__doc__)
    for folder in folders:
        if not glob.glob(os.path.join(folder, "*_r0.out")):
            sys.exit(f"corun-spread.py: {folder}: no kept calibration "
                     "measurements (*_r0.out) there")
    points = []
    for first, second in zip(folders[::2], folders[1::2]):
        for path in sorted(glob.glob(os.path.join(first, "*_r0.out"))):
            other = os.path.join(second, os.path.basename(path))
            if not os.path.exists(other):
                continue
            a, b = ratio(path), ratio(other)
            if a and b:
                points.append(((a[1] + b[1]) / 2,
                               abs(a[0] - b[0]) / math.sqrt(2)))
    if not points:
        sys.exit("corun-spread.py: no model has co-runs kept in both "
                 "folders of a pair, in one allocator regime")
    print(f"{'time alone':>16s} {'models':>7s} {'spread of the ratio':>20s}")
    for lo, hi in [(0, 0.2), (0.2, 0.5), (0.5, 1), (1, 2), (2, 5),
                   (5, math.inf)]:
        v = [d for ms, d in points if lo <= ms < hi]
        if v:
            print(f"{lo:6g} to {hi:4g} ms {len(v):7d} "
                  f"{1.4826 * statistics.median(v):20.2f}")


if __name__ == "__main__":
    main()
