#!/usr/bin/env python3
"""Chorus's planned memory next to ONNX Runtime's measured growth.

  bench/memory-vs-ort.py [--build DIR] [--models DIR] [--ort DIR] [--runs N]

For each PaddleOCR model (dims bound as in bench/benchlib.py): Chorus's
plan (chorus-import, then chorus-opt --chorus-plan-memory): weight bytes,
activation arena and lower bound. ONNX Runtime (onnxruntime-node, installed
with `npm install --ignore-scripts onnxruntime-node` into --ort, default
build/npm): resident memory growth of a fresh process from before
session creation to its peak after one run (VmHWM - VmRSS before), the
median over --runs processes. docs/MemoryPlanning.md explains the gap.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

from benchlib import MODELS, models_dir, add_build_and_ort, require_ort, tool

MB = 1e6


def chorus_plan(build, model, dims):
    with tempfile.TemporaryDirectory() as tmp:
        mlir = os.path.join(tmp, "m.mlir")
        cmd = [tool(build, "chorus-import"), model, "-o", mlir]
        for d in dims:
            cmd += ["--dim", d]
        subprocess.run(cmd, check=True)
        out = subprocess.run([tool(build, "chorus-opt"), mlir,
                              "--chorus-plan-memory"], check=True,
                             capture_output=True, text=True).stdout
    memory = re.search(r"chorus.memory = \{([^}]*)\}", out).group(1)
    fields = dict(re.findall(r"(\w+) = (\d+) : i64", memory))
    return {k: int(v) for k, v in fields.items()}


def main():
    ap = argparse.ArgumentParser()
    add_build_and_ort(ap)
    ap.add_argument("--models", default=models_dir(os.path.join(ROOT, "build")))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    require_ort(args.ort)
    print(f"{'model':32} {'weights':>8} {'arena':>8} {'bound':>8} "
          f"{'chorus':>8} | {'ORT peak growth':>15} {'ORT after create':>16}"
          "   (MB; ORT: median of runs)")
    for name, dims, shape in MODELS:
        path = os.path.join(args.models, name + ".onnx")
        plan = chorus_plan(args.build, path, dims)
        growth, created = [], []
        for _ in range(args.runs):
            out = subprocess.run(
                ["node", os.path.join(HERE, "ort-memory.js"), args.ort, path,
                 ",".join(map(str, shape))],
                check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            growth.append(r["peak"] - r["rss_before"])
            created.append(r["rss_created"] - r["rss_before"])
        total = plan["weight_bytes"] + plan["arena_bytes"]
        print(f"{name:32} {plan['weight_bytes'] / MB:8.2f} "
              f"{plan['arena_bytes'] / MB:8.2f} "
              f"{plan['lower_bound_bytes'] / MB:8.2f} {total / MB:8.2f} | "
              f"{statistics.median(growth) / MB:15.2f} "
              f"{statistics.median(created) / MB:16.2f}")


if __name__ == "__main__":
    main()
