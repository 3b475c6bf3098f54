#!/usr/bin/env python3
"""Runs every kept fuzzer input through the tool it came from.

  run_regressions.py BIN_DIR REGRESSIONS_DIR

regressions/onnx-binary/* and regressions/onnx-text/* go through
chorus-import (--format binary / text), regressions/mlir/* through
chorus-opt. Each must end with exit status 0 or 1 (a clean error); a
signal, a sanitizer's exit status or a time-out is a crash. Prints the
counts and exits 1 on any crash.
"""
import os
import subprocess
import sys

TOOLS = {
    "onnx-binary": ["chorus-import", "--format=binary", "-o", os.devnull],
    "onnx-text": ["chorus-import", "--format=text", "-o", os.devnull],
    "mlir": ["chorus-opt", "-o", os.devnull],
}


def main():
    bin_dir, root = sys.argv[1], sys.argv[2]
    total = crashes = 0
    for target, cmd in sorted(TOOLS.items()):
        folder = os.path.join(root, target)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            total += 1
            tool = [os.path.join(bin_dir, cmd[0])] + cmd[1:] + [path]
            try:
                result = subprocess.run(tool, capture_output=True, timeout=60)
                ok = result.returncode in (0, 1)
                why = "exit status %d" % result.returncode
            except subprocess.TimeoutExpired:
                ok, why = False, "time-out"
            if not ok:
                crashes += 1
                print("crash: %s/%s: %s" % (target, name, why))
    print("regression inputs: %d, crashes: %d" % (total, crashes))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
