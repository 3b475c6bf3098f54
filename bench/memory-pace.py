#!/usr/bin/python3
"""Whether the machine's memory holds its speed from one process to the
next: one model run in several processes in a row (bench/ort-run.js, level
all, one intra-op thread), each timing it many times and the speed
reference before and after.

  /usr/bin/python3 bench/memory-pace.py [--ort DIR] [--processes N]
      [--runs N] MODEL.onnx DIMS REFERENCE.onnx DIMS

For a model that streams its weights from memory on every run
(chorus-calibrate's `weights_large_1`, kept with --keep-measurements) and
the calibration's speed reference (`speed_reference.onnx` in the same
folder), per process: the median of its first 20 runs and of all its
runs, and the reference's medians before and after. A process whose first
20 runs agree with all of them, while the next process's differ, shows
the memory's speed moving between processes (other tenants) rather than
from run to run. Nothing is written.
"""
import argparse
import os
import statistics
import subprocess
import sys
import json

from benchlib import HERE, ROOT, require_ort


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ort", type=os.path.abspath,
                    default=os.path.join(ROOT, "build", "npm",
                                         "node_modules"))
    ap.add_argument("--processes", type=int, default=10)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("model")
    ap.add_argument("dims")
    ap.add_argument("reference")
    ap.add_argument("reference_dims")
    args = ap.parse_args()
    require_ort(args.ort)
    if args.processes < 1 or args.runs < 20:
        ap.error("--processes must be at least 1 and --runs at least 20")
    for p in (args.model, args.reference):
        if not os.path.isfile(p):
            ap.error(f"{p}: no such file")
    print(f"{'process':>7} {'first 20 runs ms':>17} {'all runs ms':>12} "
          f"{'reference ms':>20}")
    firsts, alls = [], []
    for i in range(args.processes):
        run = subprocess.run(
            ["node", os.path.join(HERE, "ort-run.js"), args.ort,
             os.path.abspath(args.model), args.dims, str(args.runs), "all",
             "--reference", os.path.abspath(args.reference),
             args.reference_dims],
            capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"memory-pace.py: ONNX Runtime failed on {args.model}: "
                     + run.stderr.strip())
        out = json.loads(run.stdout)
        runs = out["runs_ms"]
        first, every = statistics.median(runs[:20]), statistics.median(runs)
        firsts.append(first)
        alls.append(every)
        ref = " ".join(f"{r:.3f}" for r in out.get("reference_ms", []))
        print(f"{i + 1:7d} {first:17.3f} {every:12.3f} {ref:>20}",
              flush=True)
    print(f"all runs' medians over the processes: {min(alls):.3f} to "
          f"{max(alls):.3f} ms ({max(alls) / min(alls):.2f}x); each "
          f"process's first 20 runs within "
          f"{100 * max(abs(f / a - 1) for f, a in zip(firsts, alls)):.1f}% "
          "of all its runs")


if __name__ == "__main__":
    main()
