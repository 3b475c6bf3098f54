#!/usr/bin/env python3
"""Plans every ONNX test model's arena and reports arena / lower bound.

  bench/memplan-corpus.py [--build DIR] [--data DIR] [--jobs N]

For each model.onnx under Debian's libonnx-testdata: chorus-import, then
chorus-opt --chorus-plan-memory (alignment 64). Models whose values do not
all have static shapes are counted apart (planning needs --dim or is not
possible for data-dependent shapes). Prints the number planned, how many
are exactly at the bound, the worst ratio and the models at the worst.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import tempfile

from benchlib import tool

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def plan(build, model):
    with tempfile.TemporaryDirectory() as tmp:
        mlir = os.path.join(tmp, "m.mlir")
        r = subprocess.run([tool(build, "chorus-import"), model,
                            "-o", mlir], capture_output=True, text=True)
        if r.returncode:
            return model, "import-failed", None
        r = subprocess.run([tool(build, "chorus-opt"), mlir,
                            "--chorus-plan-memory"], capture_output=True,
                           text=True)
    if r.returncode:
        if "no static size" in r.stderr:
            return model, "not-static", None
        return model, "error: " + r.stderr.strip().splitlines()[0], None
    m = re.search(r"arena_bytes = (\d+) : i64, lower_bound_bytes = (\d+)",
                  r.stdout)
    return model, "planned", (int(m.group(1)), int(m.group(2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    args = ap.parse_args()
    models = sorted(glob.glob(os.path.join(args.data, "*", "*", "model.onnx")))
    counts, ratios, errors = {}, [], []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for model, status, figures in pool.map(lambda m: plan(args.build, m),
                                               models):
            key = status if not status.startswith("error") else "error"
            counts[key] = counts.get(key, 0) + 1
            if figures:
                arena, bound = figures
                ratios.append((arena / bound if bound else 1.0, model))
            if key == "error":
                errors.append((model, status))
    print(f"models: {len(models)}")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    at_bound = sum(1 for r, _ in ratios if r == 1.0)
    print(f"planned exactly at the lower bound: {at_bound} of {len(ratios)}")
    if ratios:
        worst = max(r for r, _ in ratios)
        print(f"worst arena / lower bound: {worst:.6f}")
        for r, m in sorted(ratios, reverse=True)[:5]:
            print(f"  {r:.6f} {os.path.relpath(m, args.data)}")
    for model, status in errors[:10]:
        print(f"  {os.path.relpath(model, args.data)}: {status}")


if __name__ == "__main__":
    main()
