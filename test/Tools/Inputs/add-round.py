#!/usr/bin/env python3
"""Copies a folder chorus-calibrate --keep-measurements kept of one round
(copy-kept.py's way) and gives it a second round: each model's first
round again, without its co-runs and other thread counts, as a round
past --scaling-rounds holds it. The settings say two rounds, the first
of them scaled.

  add-round.py <kept folder of one round> <new folder>
"""
import json
import os
import re
import shutil
import subprocess
import sys

source, dest = sys.argv[1:]
subprocess.run([sys.executable,
                os.path.join(os.path.dirname(__file__), "copy-kept.py"),
                source, dest], check=True)
settings = os.path.join(dest, "settings.json")
with open(settings) as f:
    s = json.load(f)
if s["rounds"] != 1:
    sys.exit(f"{source}: {s['rounds']} rounds kept, not 1")
s["rounds"] = 2
s["scaling_rounds"] = 1
with open(settings, "w") as f:
    json.dump(s, f, indent=2)
for name in sorted(os.listdir(dest)):
    path = os.path.join(dest, name)
    if name.endswith("_r0.out"):
        with open(path) as f:
            o = json.load(f)
        for key in ("corun_ms", "threads", "threads_faults"):
            o.pop(key, None)
        with open(path[:-len("_r0.out")] + "_r1.out", "w") as f:
            json.dump(o, f)
    elif re.search(r"_r0_profile_\d", name):
        shutil.copy2(path, os.path.join(dest, name.replace("_r0_profile_",
                                                           "_r1_profile_")))
