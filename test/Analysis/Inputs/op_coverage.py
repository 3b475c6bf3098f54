"""Imports every model under the given folder in batches and reports the
op types chorus-test-op-table does not know, and how many models did not
import: a model that fails to import would hide its ops, so the test
requires none (the corpus imports completely; test/Import checks why)."""
import glob
import os
import re
import subprocess
import sys

root = sys.argv[1]
models = sorted(glob.glob(os.path.join(root, "*", "*", "model.onnx")))
unknown, known = {}, set()
not_imported = 0
for start in range(0, len(models), 100):
    batch = models[start:start + 100]
    imp = subprocess.run(["chorus-import"] + batch, capture_output=True)
    if imp.returncode:
        # Fall back to one at a time so one bad model does not hide others.
        outputs = [subprocess.run(["chorus-import", m],
                                  capture_output=True).stdout for m in batch]
    else:
        outputs = [imp.stdout]
    for ir in outputs:
        if not ir:
            not_imported += 1
            continue
        r = subprocess.run(["chorus-opt", "--chorus-test-op-table",
                            "-o", os.devnull], input=ir, capture_output=True,
                           check=True)
        for line in r.stdout.decode().splitlines():
            m = re.match(r"unknown op '(\S+)' \(domain '(\S*)'\)", line)
            if m:
                unknown[(m.group(2), m.group(1))] = True
        for op in re.findall(rb'chorus.node "([A-Za-z0-9_]+)"', ir):
            known.add(op)
for domain, op in sorted(unknown):
    print(f"unknown op '{op}' (domain '{domain}')")
print(f"models: {len(models)}, not imported: {not_imported}")
print(f"op types known: {len(known) - len(unknown)}, unknown: {len(unknown)}")
