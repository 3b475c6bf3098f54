#!/usr/bin/env python3
"""Chorus's mirror of ONNX Runtime's CPU graph rewrites next to the graph
ONNX Runtime itself saves, kernel count and op by op.

  bench/ort-kernels.py [--build DIR] [--ort DIR] [--corpus DIR] [--block N]

For the three PaddleOCR models (dims bound as in bench/benchlib.py) and
every model bench/model-corpus.py --fetch wrote to --corpus (default
build/corpus) that takes a single --dim batch=1 or none:
- ONNX Runtime (onnxruntime-node under --ort, CPU, graph optimization
  level "all", one thread): the nodes of the model it saves with
  optimizedModelFilePath, counted per op (domain:op);
- Chorus: chorus-import, then chorus-opt --chorus-print-ort-kernels
  (level all, NCHWc block --block, default 8: AVX2).
Prints one line per model (equal, or the ops whose counts differ) and a
summary. Needs Debian's python3-onnx (run with /usr/bin/python3).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import MODELS, models_dir, add_build_and_ort, require_ort, tool

try:
    import onnx
except ImportError:
    sys.exit("needs python3-onnx (Debian): run with /usr/bin/python3")


def ort_ops(ort, model, tmp):
    out = os.path.join(tmp, "opt.onnx")
    subprocess.run(["node", os.path.join(HERE, "ort-optimize.js"), ort, model,
                    out], check=True, capture_output=True)
    graph = onnx.load(out).graph
    return collections.Counter(
        (n.domain + ":" if n.domain else "") + n.op_type for n in graph.node)


def chorus_ops(build, model, dims, block, tmp):
    mlir = os.path.join(tmp, "m.mlir")
    cmd = [tool(build, "chorus-import"), model, "-o", mlir]
    for d in dims:
        cmd += ["--dim", d]
    if subprocess.run(cmd, capture_output=True).returncode:
        return None
    text = subprocess.run([tool(build, "chorus-opt"), mlir,
                           f"--chorus-print-ort-kernels=nchwc-block={block}",
                           "-o", os.devnull], check=True, capture_output=True,
                          text=True).stdout
    counts = collections.Counter()
    for line in text.splitlines()[1:]:
        op, n = line.split()
        counts[op] = int(n)
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "build",
                                                     "corpus"))
    ap.add_argument("--block", type=int, default=8)
    args = ap.parse_args()
    require_ort(args.ort)
    entries = [(stem, os.path.join(models_dir(args.build), stem + ".onnx"),
                dims) for stem, dims, _ in MODELS]
    if os.path.isdir(args.corpus):
        for name in sorted(os.listdir(args.corpus)):
            if name.endswith(".onnx") and not name.startswith("hand_"):
                entries.append((name[:-5], os.path.join(args.corpus, name),
                                ["batch=1"]))
    equal = compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for stem, path, dims in entries:
            ort = ort_ops(args.ort, path, tmp)
            mine = chorus_ops(args.build, path, dims, args.block, tmp)
            if mine is None:
                mine = chorus_ops(args.build, path, [], args.block, tmp)
            if mine is None:
                print(f"{stem}: chorus-import needs more bindings; skipped")
                continue
            compared += 1
            diff = [f"{op} {ort[op]} vs {mine[op]}"
                    for op in sorted(set(ort) | set(mine)) if ort[op] != mine[op]]
            total = f"{sum(ort.values())} ORT, {sum(mine.values())} Chorus"
            if not diff:
                equal += 1
                print(f"{stem}: {total}: equal")
            else:
                print(f"{stem}: {total}: differ (ORT vs Chorus) " +
                      "; ".join(diff))
    print(f"{compared} models; kernel counts equal op by op for {equal}")


if __name__ == "__main__":
    main()
