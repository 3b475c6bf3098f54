#!/usr/bin/env python3
"""Plans interval problems with chorus-memplan and prints arena vs bound.

  bench/memplan-intervals.py [--build DIR] [--data DIR] [--runs N]

Problems: the traces of ../shared/data/intervals (MiniMalloc's CSV format,
with their published reference figures in that folder's README) and a
synthetic problem of 100,000 intervals written to a temporary file
(deterministic: a fixed linear congruential generator, about 60 buffers
live at any time, sizes 64 B to 1 MiB). Each line: buffers, lower bound,
arena, ratio, and the median wall time over --runs whole-process runs (the
tool's own figure, which excludes process start-up, is printed too).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def synthetic(path, n=100_000):
    x = 20261126
    with open(path, "w") as f:
        f.write("id,lower,upper,size\n")
        for i in range(n):
            x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            length = 1 + (x >> 33) % 120
            size = 64 << ((x >> 20) % 15)
            f.write(f"s{i},{i},{i + length},{size}\n")


def run(tool, path, runs):
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([tool, path], check=True, capture_output=True,
                             text=True).stdout
        times.append(time.perf_counter() - start)
    fields = dict(re.findall(r"^([a-z ]+):\s+(.*)$", out, re.M))
    return fields, statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared",
                                                   "data", "intervals"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tool = os.path.join(args.build, "bin", "chorus-memplan")
    problems = []
    for name in ("minimalloc_example_12", "somas_resnet50", "iopddl_G_1",
                 "iopddl_S_1"):
        path = os.path.join(args.data, name + ".csv")
        if os.path.exists(path):
            problems.append((name, path))
        else:
            print(f"(skipping {name}: {path} not found)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "synthetic_100k.csv")
        synthetic(path)
        problems.append(("synthetic_100k", path))
        print(f"{'problem':24} {'buffers':>8} {'lower bound':>16} "
              f"{'arena':>16} {'ratio':>9} {'median s':>9} {'tool s':>7}  "
              "algorithm")
        for name, path in problems:
            f, wall = run(tool, path, args.runs)
            print(f"{name:24} {f['buffers']:>8} "
                  f"{f['lower bound'].split()[0]:>16} "
                  f"{f['arena'].split()[0]:>16} {f['ratio'].split()[0]:>9} "
                  f"{wall:9.3f} {f['time'].split()[0]:>7}  {f['algorithm']}")


if __name__ == "__main__":
    main()
