#!/usr/bin/python3
"""Chorus's mirror of ONNX Runtime Web's WebGPU kernels against the kernels
the GPU ran.

  /usr/bin/python3 bench/webgpu-kernels.py --profiles DIR [--models DIR]
      [--build BUILD]

DIR holds one WebGPU profile per held-out model of bench/browser-heldout.py
(MODEL.json, as `bench/browser-heldout.py --backend webgpu --work W` leaves
them in W/profiles-r1, or `node bench/browser-ort.js --backend webgpu
--optimization all --profiles DIR ...` writes them): ONNX Runtime Web's
dispatches timed by the GPU's timestamps, one event per node and run. For
each model it counts the nodes the GPU ran per op, and the kernels
`chorus-opt --chorus-print-ort-kernels="nchwc-block=0 webgpu=true"` lists
that dispatch GPU work (FusedConv counted as Conv: the GPU's profile names
both Conv), and prints the totals and every op whose counts differ.
"""
import argparse
import collections
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from benchlib import tool  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "heldout", os.path.join(HERE, "browser-heldout.py"))
heldout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout)


def gpu_ops(path):
    """Per op, the nodes one run of the profile dispatched."""
    with open(path) as fh:
        events = json.load(fh)
    runs = collections.Counter(e["name"] for e in events)
    per_run = max(runs.values())
    ops = collections.Counter()
    for e in events:
        ops[e["args"]["op_name"]] += 1
    return {op: n // per_run for op, n in ops.items()}


def mirror_ops(build, e):
    """Per op, the kernels of Chorus's mirror that dispatch GPU work."""
    imported = subprocess.run(
        [tool(build, "chorus-import"), e["path"], "-o", "-"] +
        [f"--dim={d}" for d in e["dims"]], capture_output=True, text=True)
    if imported.returncode:
        sys.exit(f"chorus-import failed on {e['stem']}:\n{imported.stderr}")
    listed = subprocess.run(
        [tool(build, "chorus-opt"), "-",
         "--chorus-print-ort-kernels=nchwc-block=0 webgpu=true list=true",
         "-o", os.devnull], input=imported.stdout, capture_output=True,
        text=True)
    if listed.returncode:
        sys.exit(f"chorus-opt failed on {e['stem']}:\n{listed.stderr}")
    ops = collections.Counter()
    for line in listed.stdout.splitlines():
        if line.startswith("  - ") and "no-gpu-work" not in line:
            op = line[4:].split()[0].removeprefix("com.microsoft:")
            ops["Conv" if op == "FusedConv" else op] += 1
    return ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    print(f"{'model':34} {'GPU ran':>8} {'Chorus':>7}  differences")
    equal = 0
    entries = heldout.held_out(args.models)
    missing = [e["stem"] for e in entries if not os.path.exists(
        os.path.join(args.profiles, e["stem"] + ".json"))]
    if len(missing) == len(entries):
        sys.exit(f"no profile of a held-out model in {args.profiles}")
    for e in entries:
        path = os.path.join(args.profiles, e["stem"] + ".json")
        if e["stem"] in missing:
            print(f"{e['stem']:34} no profile (not timed: a refusal?)")
            continue
        gpu, ours = gpu_ops(path), mirror_ops(args.build, e)
        diff = [f"{op} {gpu.get(op, 0)} vs {ours.get(op, 0)}"
                for op in sorted(set(gpu) | set(ours))
                if gpu.get(op, 0) != ours.get(op, 0)]
        equal += not diff
        print(f"{e['stem']:34} {sum(gpu.values()):8} {sum(ours.values()):7}"
              f"  {'; '.join(diff) if diff else 'equal op by op'}")
    print(f"\n{equal} of {len(entries) - len(missing)} equal op by op")


if __name__ == "__main__":
    main()
