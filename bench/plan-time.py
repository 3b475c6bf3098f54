#!/usr/bin/env python3
"""Planning the three-model PaddleOCR pipeline with chorus-plan, side by
side with ONNX Runtime creating the three sessions.

  bench/plan-time.py [--build DIR] [--ort DIR] [--runs N]

Alternates, --runs times: one chorus-plan process on det + rec + cls (dims
bound as in bench/benchlib.py; import, sharing, fusion, cost, the three
strategies simulated, memory planned and verified, no files written) and
one node process creating the three ONNX Runtime sessions (CPU, default
options; the time measured inside the process, so node's own start-up is
not counted against ONNX Runtime). Prints the medians and their ratio.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
from benchlib import MODELS, models_dir, add_build_and_ort, require_ort, tool


def main():
    ap = argparse.ArgumentParser()
    add_build_and_ort(ap)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    require_ort(args.ort)
    ocr = models_dir(os.path.join(ROOT, "build"))
    paths = [os.path.join(ocr, stem + ".onnx") for stem, _, _ in MODELS]
    cmd = [tool(args.build, "chorus-plan")] + paths
    for stem, dims, _ in MODELS:
        for d in dims:
            cmd += ["--dim", f"{stem}:{d}"]
    plan, create = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        plan.append((time.perf_counter() - start) * 1e3)
        out = subprocess.run(["node", os.path.join(HERE, "ort-create.js"),
                              args.ort] + paths, check=True,
                             capture_output=True, text=True).stdout
        create.append(json.loads(out)["create_ms"])
    p, c = statistics.median(plan), statistics.median(create)
    print(f"chorus-plan det+rec+cls (whole process): {p:.1f} ms median")
    print(f"ONNX Runtime creating the three sessions: {c:.1f} ms median")
    print(f"ratio: {p / c:.2f} (the issue asks for under 0.5); "
          f"{args.runs} alternating runs")


if __name__ == "__main__":
    main()
