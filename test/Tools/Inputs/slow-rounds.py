#!/usr/bin/env python3
"""Rewrites a one-round folder chorus-calibrate --keep-measurements kept
into three rounds, for the test of rounds run while other load slowed the
machine: every speed reference of round 0 is 1.0 ms; rounds 1 and 2 are
copies of round 0 whose speed reference took 1.5 ms and whose runs and
kernels took twice round 0's (memory-bound kernels slow more than the
reference under such load).

With --faults, for the test of runs that fault in their results' pages:
in round 0 every timed run of model i (in file order) also faults in 500
x (i % 7 + 1) pages and takes 10 us more per page; the runs of rounds 1
and 2 fault in none (their earlier results collected).

  slow-rounds.py [--faults] <folder>
"""
import glob
import json
import os
import sys

from keptprofiles import one_thread_profile, scaled_events

args = sys.argv[1:]
faults = "--faults" in args
folder = [a for a in args if a != "--faults"][0]
settings_path = os.path.join(folder, "settings.json")
with open(settings_path) as f:
    settings = json.load(f)
assert settings["rounds"] == 1, settings
settings["rounds"] = 3
with open(settings_path, "w") as f:
    json.dump(settings, f)

for i, out in enumerate(sorted(glob.glob(os.path.join(folder, "*_r0.out")))):
    stem = out[:-len("_r0.out")]
    with open(out) as f:
        first = json.load(f)
    # The later rounds measured no co-runs nor other thread counts.
    slow = {k: v for k, v in first.items()
            if not k.startswith(("corun", "threads"))}
    slow["reference_ms"] = [1.5, 1.5]
    slow["runs_ms"] = [2 * t for t in first["runs_ms"]]
    first["reference_ms"] = [1.0, 1.0]
    if faults:
        pages = 500 * (i % 7 + 1)
        slow["runs_faults"] = [0 for _ in first["runs_ms"]]
        first["runs_ms"] = [t + pages * 0.01 for t in first["runs_ms"]]
        first["runs_faults"] = [pages for _ in first["runs_ms"]]
    with open(out, "w") as f:
        json.dump(first, f)
    profile = one_thread_profile(stem)
    events = scaled_events(profile, 2)
    for r in (1, 2):
        with open(f"{stem}_r{r}.out", "w") as f:
            json.dump(slow, f)
        suffix = os.path.basename(profile).split("_r0_profile_", 1)[1]
        with open(f"{stem}_r{r}_profile_{suffix}", "w") as f:
            json.dump(events, f)
