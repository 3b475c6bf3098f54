#!/usr/bin/env python3
"""Chorus's kernel count after chorus-fuse next to ONNX Runtime's optimized
graph, and the time chorus-fuse takes.

  bench/fusion-vs-ort.py [--build DIR] [--models DIR] [--ort DIR] [--runs N]

For each PaddleOCR model (dims bound as in bench/benchlib.py):
- Chorus: chorus-import, then chorus-opt --chorus-fuse=print=true: nodes
  before, kernels after (top-level nodes plus groups), groups.
- ONNX Runtime (onnxruntime-node under --ort, default build/npm; CPU,
  graph optimization level "all", the same dims as free dimension
  overrides): the node count of the optimized model it writes
  (optimizedModelFilePath), and how many of those are the NCHWc layout
  reorders that level adds.
- The wall time of the chorus-fuse pass alone (MLIR's --mlir-timing) and
  of the whole chorus-opt process, medians of --runs runs.
Needs Debian's python3-onnx to count the optimized graph's nodes (run with
/usr/bin/python3 if another python3 comes first on PATH).
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

from benchlib import MODELS, models_dir, add_build_and_ort, require_ort, tool

try:
    import onnx
except ImportError:
    sys.exit("needs python3-onnx (Debian): run with /usr/bin/python3")


def chorus(build, model, dims, tmp, runs):
    mlir = os.path.join(tmp, "m.mlir")
    cmd = [tool(build, "chorus-import"), model, "-o", mlir]
    for d in dims:
        cmd += ["--dim", d]
    subprocess.run(cmd, check=True)
    opt = tool(build, "chorus-opt")
    out = subprocess.run([opt, mlir, "--chorus-fuse=print=true", "-o",
                          os.devnull], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"(\d+) nodes, \d+ kernels -> (\d+) kernels \((\d+) groups", out)
    times, walls = [], []
    for _ in range(runs):
        start = time.perf_counter()
        report = subprocess.run([opt, mlir, "--chorus-fuse", "--mlir-timing",
                                 "-o", os.devnull], check=True,
                                capture_output=True, text=True).stderr
        walls.append(time.perf_counter() - start)
        times.append(float(re.search(r"([0-9.]+) \([ 0-9.]+%\)\s+FuseOpsPass",
                                     report).group(1)))
    return {"nodes": int(m.group(1)), "kernels": int(m.group(2)),
            "groups": int(m.group(3)), "fuse_ms": statistics.median(times) * 1e3,
            "wall_ms": statistics.median(walls) * 1e3}


def ort(ort_dir, model, dims, tmp):
    out = os.path.join(tmp, "opt.onnx")
    overrides = [d.split(":")[-1] for d in dims]
    subprocess.run(["node", os.path.join(HERE, "ort-optimize.js"), ort_dir,
                    model, out] + overrides, check=True, capture_output=True)
    graph = onnx.load(out).graph
    reorders = sum(n.op_type in ("ReorderInput", "ReorderOutput")
                   for n in graph.node)
    return {"nodes": len(graph.node), "reorders": reorders}


def main():
    ap = argparse.ArgumentParser()
    add_build_and_ort(ap)
    ap.add_argument("--models", default=models_dir(os.path.join(ROOT, "build")))
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    require_ort(args.ort)
    print(f"{'model':32} {'ONNX nodes':>10} {'ORT nodes':>9} "
          f"{'(reorders)':>10} {'Chorus kernels':>14} {'groups':>6} "
          f"{'fuse ms':>8} {'opt ms':>7}  Chorus <= ORT")
    all_ok = True
    for name, dims, _ in MODELS:
        path = os.path.join(args.models, name + ".onnx")
        with tempfile.TemporaryDirectory() as tmp:
            c = chorus(args.build, path, dims, tmp, args.runs)
            o = ort(args.ort, path, dims, tmp)
        ok = c["kernels"] <= o["nodes"]
        all_ok &= ok
        print(f"{name:32} {c['nodes']:10} {o['nodes']:9} "
              f"{'(' + str(o['reorders']) + ')':>10} {c['kernels']:14} "
              f"{c['groups']:6} {c['fuse_ms']:8.2f} {c['wall_ms']:7.1f}  "
              f"{'yes' if ok else 'NO'}")
    print(f"fuse ms: the chorus-fuse pass alone (--mlir-timing); opt ms: the "
          f"whole chorus-opt process (parse, fuse, print); medians of "
          f"{args.runs} runs")
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
