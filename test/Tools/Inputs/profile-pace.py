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

from keptprofiles import one_thread_profile, scaled_events

folder = sys.argv[1]
for out in sorted(glob.glob(os.path.join(folder, "*_r0.out"))):
    stem = out[:-len("_r0.out")]
    with open(out) as f:
        result = json.load(f)
    result["reference_ms"] = [1.0, 1.0, 3.0]
    with open(out, "w") as f:
        json.dump(result, f)
    profile = one_thread_profile(stem)
    events = scaled_events(profile, 2)
    with open(profile, "w") as f:
        json.dump(events, f)
