"""Imports every model under the given folders in batches and runs
chorus-test-fusion-roundtrip on them: fuse, verify, unfuse, and compare the
node and edge multisets with the original. Prints one summary line: models
checked, models with at least one group, groups, and failures (each failure
also printed with the pass's error). Models that do not import (none at the
time of writing) are skipped: import is tested elsewhere."""
import glob
import os
import re
import subprocess
import sys

models = []
for root in sys.argv[1:]:
    if root.endswith(".onnx"):
        models.append(root)
    else:
        models += sorted(glob.glob(os.path.join(root, "*", "*", "model.onnx")))
checked = fused = groups = failed = 0
for start in range(0, len(models), 100):
    batch = models[start:start + 100]
    imp = subprocess.run(["chorus-import"] + batch, capture_output=True)
    outputs = [imp.stdout] if imp.returncode == 0 else [
        subprocess.run(["chorus-import", m], capture_output=True).stdout
        for m in batch]
    for ir in outputs:
        if not ir:
            continue
        r = subprocess.run(["chorus-opt", "--chorus-test-fusion-roundtrip",
                            "-o", os.devnull], input=ir, capture_output=True)
        if r.returncode:
            failed += 1
            print(r.stderr.decode().strip())
        for m in re.finditer(r"^roundtrip @\S+: \d+ nodes, \d+ edges, "
                             r"(\d+) groups, \d+ kernels: ok$",
                             r.stdout.decode(), re.M):
            checked += 1
            groups += int(m.group(1))
            fused += int(m.group(1)) > 0
print(f"models: {checked}, with groups: {fused}, groups: {groups}, "
      f"failed runs: {failed}")
