#!/usr/bin/env python3
"""Rewrites a one-round folder chorus-calibrate --keep-measurements kept
into three rounds, for the test of runs that fault in their results'
pages: in round 0 (speed reference 1.0 ms) every timed run of model i
faults in 500 x (i % 7 + 1) pages and takes 10 us more per page; rounds 1
and 2 are copies of round 0 whose speed reference took 1.5 ms, whose runs
and kernels took twice round 0's and whose runs faulted in none (their
earlier results collected). The slow rounds are left out of each model's
medians; what is left is round 0, with its pages.

  fault-rounds.py <folder>
"""
import glob
import json
import os
import sys

folder = sys.argv[1]
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
    slow["runs_faults"] = [0 for _ in first["runs_ms"]]
    pages = 500 * (i % 7 + 1)
    first["reference_ms"] = [1.0, 1.0]
    first["runs_ms"] = [t + pages * 0.01 for t in first["runs_ms"]]
    first["runs_faults"] = [pages for _ in first["runs_ms"]]
    with open(out, "w") as f:
        json.dump(first, f)
    profiles = [p for p in glob.glob(stem + "_r0_profile_*.json")
                if not os.path.basename(p)[len(os.path.basename(stem)):]
                .startswith("_r0_profile_t")]
    assert len(profiles) == 1, profiles
    with open(profiles[0]) as f:
        events = json.load(f)
    for e in events:
        if "dur" in e:
            e["dur"] = 2 * e["dur"]
    for r in (1, 2):
        with open(f"{stem}_r{r}.out", "w") as f:
            json.dump(slow, f)
        suffix = os.path.basename(profiles[0]).split("_r0_profile_", 1)[1]
        with open(f"{stem}_r{r}_profile_{suffix}", "w") as f:
            json.dump(events, f)
