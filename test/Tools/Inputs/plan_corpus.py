"""Runs chorus-plan on every ONNX test model under the given folder, one
model per process (the default strategies on the host target), and checks
that each run either succeeds or fails with a clear error: exit code 1 and
a line with "error:" on stderr, never a signal (crash) or a hang. Prints
how many were planned and how many were refused, and every bad run; and
flags as BAD a run where fewer than MIN_PLANNED of the models were planned
(a chorus-plan that refused everything with a clear error would otherwise
pass)."""
import glob
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

root = sys.argv[1]
# An optional second argument N: every N-th model of the sorted list only.
every = int(sys.argv[2]) if len(sys.argv) > 2 else 1
if every < 1:
    sys.exit("plan_corpus.py: the sampling step must be at least 1")
# About a tenth are refused for reasons no flag can change (sequences,
# optionals, data-dependent shapes).
MIN_PLANNED = 0.85
models = sorted(glob.glob(os.path.join(root, "*", "*", "model.onnx")))[::every]


def run(path):
    try:
        r = subprocess.run(["chorus-plan", path], capture_output=True,
                           text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return path, "hang", ""
    if r.returncode == 0:
        return path, "planned", ""
    if r.returncode == 1 and "error:" in r.stderr:
        return path, "refused", ""
    return path, "bad", f"exit {r.returncode}: {r.stderr.strip()[-300:]}"


with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    results = list(pool.map(run, models))
counts = {}
for path, kind, detail in results:
    counts[kind] = counts.get(kind, 0) + 1
    if kind in ("bad", "hang"):
        print(f"BAD {os.path.relpath(path, root)}: {kind} {detail}")
if counts.get("planned", 0) < MIN_PLANNED * len(results):
    print(f"BAD only {counts.get('planned', 0)} of {len(results)} planned "
          f"(expected at least {MIN_PLANNED:.0%})")
print(f"models: {len(results)}, planned: {counts.get('planned', 0)}, "
      f"refused with an error: {counts.get('refused', 0)}, "
      f"crashed or hung: {counts.get('bad', 0) + counts.get('hang', 0)}")
