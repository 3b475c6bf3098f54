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
both Conv), and prints the totals and every op whose counts differ. Then,
per model, the GPU time of one run (the sum of its kernels) and, with
--measured (the heldout-*.json of browser-heldout.py), the model's
measured latency over it, the Transposes' share of that time and the op
with the largest share;
last, the rate of every profiled convolution in DIR (calibration models
included), lowest and highest.
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


def gpu_times(path):
    """The GPU milliseconds of one run, and per op its milliseconds."""
    with open(path) as fh:
        events = json.load(fh)
    per_run = max(collections.Counter(e["name"] for e in events).values())
    ops = collections.Counter()
    for e in events:
        ops[e["args"]["op_name"]] += e["dur"] / 1e3 / per_run
    return sum(ops.values()), ops


def conv_rates(folder):
    """GFLOP/s of every profiled convolution event in `folder`'s profiles
    (shapes in NCHW, as the page writes them)."""
    rates = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name)) as fh:
            events = json.load(fh)
        for e in events:
            if e["args"].get("op_name") not in ("Conv", "FusedConv"):
                continue
            shapes = [list(t.values())[0]
                      for t in e["args"]["input_type_shape"]]
            out = list(e["args"]["output_type_shape"][0].values())[0]
            if len(out) != 4 or len(shapes) < 2 or len(shapes[1]) != 4:
                continue
            w = shapes[1]
            flops = 2 * out[0] * out[1] * out[2] * out[3] * w[1] * w[2] * w[3]
            if e["dur"] > 0:
                rates.append(flops / (e["dur"] * 1e3))
    return rates


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
    ap.add_argument("--measured")
    args = ap.parse_args()
    measured = {}
    if args.measured:
        with open(args.measured) as fh:
            measured = json.load(fh)["latency_ms"]
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
    print(f"\n{'model':34} {'GPU ms':>9} {'measured':>9} {'ratio':>6} "
          f"{'Transpose':>9}  largest op")
    for e in entries:
        if e["stem"] in missing:
            continue
        total, ops = gpu_times(os.path.join(args.profiles,
                                            e["stem"] + ".json"))
        op, ms = ops.most_common(1)[0]
        m = measured.get(e["stem"])
        print(f"{e['stem']:34} {total:9.1f} "
              f"{m if m else float('nan'):9.1f} "
              f"{m / total if m else float('nan'):6.2f} "
              f"{100 * ops.get('Transpose', 0) / total:8.0f}%  "
              f"{op} {100 * ms / total:.0f}%")
    rates = conv_rates(args.profiles)
    if rates:
        print(f"\nconvolutions profiled in {args.profiles}: {len(rates)}, "
              f"{min(rates):.2g} to {max(rates):.2g} GFLOP/s")


if __name__ == "__main__":
    main()
