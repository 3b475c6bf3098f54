#!/usr/bin/env python3
"""Imports every model.onnx under a folder with chorus-import and reports.

Each model is imported in its own process. An import passes when
chorus-import exits 0 and, with --roundtrip, chorus-opt parses the output
and prints it back byte for byte. A failure is clean when the process exits
1 with one "error:" line; anything else (a signal, another exit code, no
message, a time-out) is a crash. Prints the counts, the failures grouped by
reason, and exits 1 when any import crashed or fewer than --min-percent
passed.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys


def run_one(args, path):
    try:
        imp = subprocess.run([args.importer, path], capture_output=True,
                             timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return ("crash", "time-out after %ss" % args.timeout)
    err = imp.stderr.decode("utf-8", "replace")
    errors = [l for l in err.splitlines() if ": error: " in l]
    if imp.returncode == 0:
        if not args.roundtrip:
            return ("ok", "")
        try:
            opt = subprocess.run([args.opt, "-"], input=imp.stdout,
                                 capture_output=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            return ("crash", "chorus-opt time-out")
        if opt.returncode != 0:
            return ("crash", "output does not parse back: " +
                    opt.stderr.decode("utf-8", "replace").strip()[:300])
        if opt.stdout != imp.stdout:
            return ("crash", "output does not print back identically")
        return ("ok", "")
    if imp.returncode == 1 and errors:
        # Group by the message with file-specific names taken out.
        reason = errors[0].split(": error: ", 1)[1]
        reason = re.sub(r"'[^']*'", "'…'", reason)
        return ("error", reason)
    return ("crash", "exit code %d: %s" % (imp.returncode, err.strip()[:300]))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--importer", required=True)
    parser.add_argument("--opt", help="chorus-opt, for --roundtrip")
    parser.add_argument("--roundtrip", action="store_true")
    parser.add_argument("--min-percent", type=float, default=98.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--every", type=int, default=1,
                        help="run every N-th model of the sorted list only "
                        "(the first, the N+1-th, ...)")
    parser.add_argument("roots", nargs="+")
    args = parser.parse_args()

    paths = []
    for root in args.roots:
        for folder, _, files in os.walk(root):
            if "model.onnx" in files:
                paths.append(os.path.join(folder, "model.onnx"))
    paths.sort()
    if args.every < 1:
        parser.error("--every must be at least 1")
    paths = paths[::args.every]
    if not paths:
        print("no model.onnx found under", " ".join(args.roots))
        return 1

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda p: run_one(args, p), paths))

    counts = {"ok": 0, "error": 0, "crash": 0}
    by_reason = {}
    for path, (kind, reason) in zip(paths, results):
        counts[kind] += 1
        if kind != "ok":
            by_reason.setdefault((kind, reason), []).append(path)
    total = len(paths)
    percent = 100.0 * counts["ok"] / total
    print("models: %d" % total)
    print("imported: %d (%.1f%%)" % (counts["ok"], percent))
    print("clean errors: %d" % counts["error"])
    print("crashes: %d" % counts["crash"])
    for (kind, reason), group in sorted(by_reason.items()):
        print("%s (%d): %s" % (kind, len(group), reason))
        for path in group:
            print("    " + os.path.relpath(path, os.path.commonpath(args.roots)))
    ok = counts["crash"] == 0 and percent >= args.min_percent
    print("corpus: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
