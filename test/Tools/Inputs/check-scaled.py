#!/usr/bin/env python3
"""Checks that the kernel models of one target are another's times a factor:
the median over every class's per-unit times (at one intra-op thread) of
their ratio to the base target's within 1% of the factor. (The fits are
not all linear in the times: the profiler's time per kernel is bounded by
the shortest kernel's, in whole microseconds, and moves a fifth to a third
of the terms by more than 10%; and a class's term fitted in one target
may be left out of the other, as its fit chose a form without it: only the
terms both have count.)

  check-scaled.py <target> <base target> <factor>
"""
import json
import sys

target_path, base_path, factor = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(target_path) as f:
    target = json.load(f)
with open(base_path) as f:
    base = json.load(f)
ratios = []
for cls, model in base["kernel_models"].items():
    for term, value in model.items():
        other = target["kernel_models"].get(cls, {}).get(term)
        if (term.endswith("_s") and isinstance(value, float) and value > 0
                and isinstance(other, float)):
            ratios.append(other / value)
if not ratios:
    sys.exit("no per-unit times to compare")
ratios.sort()
median = ratios[len(ratios) // 2]
near = sum(abs(r / factor - 1) <= 0.1 for r in ratios)
if abs(median / factor - 1) > 0.01:
    sys.exit(f"per-unit times {median:.4f} x the base target's (median of "
             f"{len(ratios)}), {near} within 10% of {factor:g} x")
print(f"per-unit times {factor:g} x the base target's (median of "
      f"{len(ratios)}; {near} within 10%)")
