#!/usr/bin/env python3
"""Rewrites a one-round folder chorus-calibrate --keep-measurements kept,
for the test of profiled runs that met another pace than the timed ones:
every speed reference timed before and between is 1.0 ms and the one
after the profiled runs 3.0 ms (their pace 2.0 ms, the mean of the two
around them), and every profiled kernel took twice its time. The timed
runs are left as they were.

  profile-pace.py <folder>
"""
import glob
import json
import os
import sys

folder = sys.argv[1]
for out in sorted(glob.glob(os.path.join(folder, "*_r0.out"))):
    stem = out[:-len("_r0.out")]
    with open(out) as f:
        result = json.load(f)
    result["reference_ms"] = [1.0, 1.0, 3.0]
    with open(out, "w") as f:
        json.dump(result, f)
    profiles = [p for p in glob.glob(stem + "_r0_profile_*.json")
                if not os.path.basename(p)[len(os.path.basename(stem)):]
                .startswith("_r0_profile_t")]
    assert len(profiles) == 1, profiles
    with open(profiles[0]) as f:
        events = json.load(f)
    for e in events:
        if "dur" in e:
            e["dur"] = 2 * e["dur"]
    with open(profiles[0], "w") as f:
        json.dump(events, f)
