#!/usr/bin/env python3
"""What an ONNX Runtime session's load leaves resident, traced: the heap's
high-water mark during the load against the process's resident growth.

For each model and graph optimization level, one fresh onnxruntime-node
process creates one session (bench/ort-load.js ... once) with
bench/malloc-trace.c preloaded, and the trace of its allocations of 60 KiB
or more gives:

  live heap    bytes still allocated on glibc's heap after the load (the
               weights the session keeps)
  live mapped  bytes still allocated in mappings of their own (blocks at
               or above glibc's mmap threshold)
  heap extent  the span the heap's blocks reached during the load, from
               the lowest block to the highest end (its high-water mark),
               summed over glibc's heaps: the main one (below the
               mappings) and each 64 MiB heap of a thread's arena
  resident     the process's resident-set growth from its start to the
               end of the load (the trace's RSS column)
  rest         resident - heap extent - live mapped: what the process holds
               besides (node, ONNX Runtime's code and small allocations);
               a column that stays constant from model to model says the
               load leaves its heap's high-water mark resident

  bench/load-heap.py --ort build/npm/node_modules --levels all,disabled \\
      build/tv-models/resnet18.onnx build/tv-models/resnet50.onnx

Needs gcc (to build the tracer into build/malloc-trace.so), node and
onnxruntime-node; Linux and glibc only. Writes the tracer and its traces
under build/ only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from benchlib import add_build_and_ort, require_ort

HERE = os.path.dirname(os.path.abspath(__file__))
# x86-64 Linux: the program's heap (brk) lies above the executable, below
# 0x5800_0000_0000 even for a position-independent one, and the mappings
# (a thread arena's heaps among them) near the top of the address space,
# from 0x7000_0000_0000 up; a thread arena's heaps are 64 MiB each,
# aligned to their size (glibc's HEAP_MAX_SIZE on 64-bit).
kMappingsStart = 0x6000_0000_0000
kThreadHeapBytes = 64 << 20


def build_tracer(build):
    so = os.path.join(build, "malloc-trace.so")
    src = os.path.join(HERE, "malloc-trace.c")
    if (not os.path.exists(so)
            or os.path.getmtime(so) < os.path.getmtime(src)):
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", so, src,
                        "-ldl"], check=True)
    return so


def summarize(trace):
    """(live heap, live mapped, heap extent, resident growth) in bytes."""
    live = {}
    spans = {}  # heap -> [lowest start, highest end]
    first_rss = last_rss = None
    with open(trace) as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if len(fields) != 5:
                sys.exit(f"{trace}:{n}: expected OP BYTES ADDRESS MAPPED RSS")
            op, size, address, mapped, rss = fields
            size, rss = int(size), int(rss)
            first_rss = rss if first_rss is None else first_rss
            last_rss = rss
            if op in "mcrpa":
                live[address] = (size, mapped == "1")
                if mapped != "1":
                    start = int(address, 16)
                    heap = ("main" if start < kMappingsStart
                            else start // kThreadHeapBytes)
                    span = spans.setdefault(heap, [start, start + size])
                    span[0] = min(span[0], start)
                    span[1] = max(span[1], start + size)
            elif op in "fF":
                live.pop(address, None)
    if first_rss is None:
        sys.exit(f"{trace}: the trace is empty (was the tracer preloaded?)")
    heap = sum(s for s, m in live.values() if not m)
    mapped = sum(s for s, m in live.values() if m)
    extent = sum(end - start for start, end in spans.values())
    return heap, mapped, extent, last_rss - first_rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--levels", default="all,disabled",
                    help="graph optimization levels, comma-separated")
    ap.add_argument("models", nargs="+", metavar="MODEL.onnx")
    args = ap.parse_args()
    levels = args.levels.split(",")
    for level in levels:
        if level not in ("disabled", "basic", "extended", "all"):
            ap.error(f"unknown level '{level}' in --levels (disabled, "
                     "basic, extended or all)")
    require_ort(args.ort)
    for m in args.models:
        if not os.path.isfile(m):
            ap.error(f"no such model: {m}")
    so = build_tracer(args.build)
    print(f"{'model':28s} {'level':9s} {'live heap':>10s} {'live mapped':>12s}"
          f" {'heap extent':>12s} {'resident':>9s} {'rest':>7s}   (MB)")
    with tempfile.TemporaryDirectory(dir=args.build) as tmp:
        for level in levels:
            for m in args.models:
                trace = os.path.join(tmp, "trace.txt")
                env = dict(os.environ, MT_OUT=trace, LD_PRELOAD=so)
                r = subprocess.run(
                    ["node", os.path.join(HERE, "ort-load.js"), args.ort,
                     level, os.path.abspath(m), "once"],
                    env=env, capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"{m}: ort-load.js failed: {r.stderr.strip()}")
                json.loads(r.stdout)  # the load ran and reported
                heap, mapped, extent, resident = summarize(trace)
                os.remove(trace)
                mb = 1e-6
                print(f"{os.path.basename(m)[:-5]:28s} {level:9s} "
                      f"{heap * mb:10.1f} {mapped * mb:12.1f} "
                      f"{extent * mb:12.1f} {resident * mb:9.1f} "
                      f"{(resident - extent - mapped) * mb:7.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
