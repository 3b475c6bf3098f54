#!/usr/bin/env python3
"""Rewrites a one-round folder chorus-calibrate --keep-measurements kept
into three rounds, for the test of rounds run while other load slowed the
machine: every speed reference of round 0 is 1.0 ms; rounds 1 and 2 are
copies of round 0 whose speed reference took 1.5 ms and whose runs and
kernels took twice round 0's (memory-bound kernels slow more than the
reference under such load).

  slow-rounds.py <folder>
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

for out in sorted(glob.glob(os.path.join(folder, "*_r0.out"))):
    stem = out[:-len("_r0.out")]
    with open(out) as f:
        first = json.load(f)
    first["reference_ms"] = [1.0, 1.0]
    with open(out, "w") as f:
        json.dump(first, f)
    # The later rounds measured no co-runs nor other thread counts.
    slow = {k: v for k, v in first.items()
            if not k.startswith(("corun", "threads"))}
    slow["reference_ms"] = [1.5, 1.5]
    slow["runs_ms"] = [2 * t for t in first["runs_ms"]]
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
