#!/usr/bin/env python3
"""Plans interval problems with chorus-memplan and prints arena vs bound.

  bench/memplan-intervals.py [--build DIR] [--data DIR] [--runs N]
                             [--minimalloc PATH] [--minimalloc-timeout S]

Problems: the traces of ../shared/data/intervals (MiniMalloc's CSV format,
with their published reference figures in that folder's README) and a
synthetic problem of 100,000 intervals written to a temporary file
(deterministic: a fixed linear congruential generator, about 60 buffers
live at any time, sizes 64 B to 1 MiB). Each line: buffers, lower bound,
arena, ratio, and the median wall time over --runs whole-process runs (the
tool's own figure, which excludes process start-up, is printed too), and
the exact search's nodes.

With --minimalloc PATH (a MiniMalloc binary built from its repository; not
installed by the set-up), MiniMalloc runs on each problem too, in the same
process loop, asked for a plan at the capacity Chorus reached (MiniMalloc's
decision form, its default portfolio): its median wall time and whether it
found a plan within --minimalloc-timeout seconds.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import tool

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
        out = subprocess.run([tool, path, "--runs"], check=True,
                             capture_output=True, text=True).stdout
        times.append(time.perf_counter() - start)
    fields = dict(re.findall(r"^([a-z ]+):\s+(.*)$", out, re.M))
    nodes = re.search(r"^exact search: ([\d,]+) nodes", out, re.M)
    fields["nodes"] = nodes.group(1) if nodes else "-"
    return fields, statistics.median(times)


def run_minimalloc(binary, path, capacity, runs, timeout):
    """Median wall time of MiniMalloc asked for a plan within `capacity`,
    and whether it found one (None on a time-out)."""
    times, found = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            start = time.perf_counter()
            try:
                r = subprocess.run(
                    [binary, f"--input={path}", f"--capacity={capacity}",
                     f"--output={os.path.join(tmp, 'out.csv')}"],
                    capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return None, timeout
            times.append(time.perf_counter() - start)
            found = r.returncode == 0
    return found, statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared",
                                                   "data", "intervals"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--minimalloc")
    ap.add_argument("--minimalloc-timeout", type=float, default=60)
    args = ap.parse_args()
    binary = tool(args.build, "chorus-memplan")
    problems = []
    for name in ("minimalloc_example_12", "minimalloc_challenging_A",
                 "minimalloc_challenging_B", "minimalloc_challenging_C",
                 "somas_resnet50", "iopddl_G_1", "iopddl_S_1"):
        path = os.path.join(args.data, name + ".csv")
        if os.path.exists(path):
            problems.append((name, path))
        else:
            print(f"(skipping {name}: {path} not found)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "synthetic_100k.csv")
        synthetic(path)
        problems.append(("synthetic_100k", path))
        header = (f"{'problem':24} {'buffers':>8} {'lower bound':>16} "
                  f"{'arena':>16} {'ratio':>9} {'median s':>9} {'tool s':>7} "
                  f"{'nodes':>9}  algorithm")
        if args.minimalloc:
            header += "  | MiniMalloc at that arena: median s"
        print(header)
        for name, path in problems:
            f, wall = run(binary, path, args.runs)
            line = (f"{name:24} {f['buffers']:>8} "
                    f"{f['lower bound'].split()[0]:>16} "
                    f"{f['arena'].split()[0]:>16} {f['ratio'].split()[0]:>9} "
                    f"{wall:9.3f} {f['time'].split()[0]:>7} {f['nodes']:>9}  "
                    f"{f['algorithm']}")
            if args.minimalloc:
                arena = int(f["arena"].split()[0].replace(",", ""))
                found, mm = run_minimalloc(args.minimalloc, path, arena,
                                           args.runs, args.minimalloc_timeout)
                verdict = ("plan" if found else "no plan" if found is False
                           else f"time-out at {mm:.0f} s")
                line += f"  | {mm:.3f} ({verdict})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
