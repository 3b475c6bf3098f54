#!/usr/bin/env python3
"""chorus-plan's predictions for pairs of models next to measured runs.

  bench/plan-vs-ort.py [--build DIR] [--ort DIR] [--rounds N]
                       [--calibration-rounds N] [--write-host F]

For the pairs of PaddleOCR models (dims bound as in bench/benchlib.py) and
each model with itself, measured with onnxruntime-node (CPU, one intra-op
thread per session, graph optimizations disabled, as the cost model was
calibrated):
- sequential: one process, both sessions, the two runs one after the other;
- parallel: two processes, one session each, started together (both wait
  for the same wall-clock instant, then run once);
sequential and parallel rounds alternate.
Before every timed round each process runs its models once as a warm-up
that ends just before the start, so the runs are as warm as the
back-to-back runs the cost model is calibrated on (after an idle gap the
same model runs 10-70% slower here).
Each figure is the median makespan over --rounds rounds (three times as
many for the pairs without the detector, whose runs are short and noisier),
the processes warmed up first. The host target is calibrated in the same run
(this machine's speed drifts by tens of percent within an hour, so a
target calibrated earlier predicts another machine): each model's ONNX
Runtime profile, --calibration-rounds interleaved rounds as
bench/cost-accuracy.py takes them, and its latency timed with the pairs
(half its sequential makespan with itself), then chorus-calibrate on the
three with the built-in host as the base. The host's concurrency gain is
measured from the models run with themselves: two identical jobs that
take S one after the other and P at once achieve speedup S / P, gain =
speedup - 1 (the median over the three models). Then chorus-plan
predicts both strategies for every pair with that target and gain (and
the machine's cores), and the table prints predicted vs measured and
whether the advisor (goal throughput: the lower
makespan) picks the measured-faster strategy where the two differ by more
than 10%. chorus-plan runs with --no-fuse: ONNX Runtime runs the graphs
unfused here, as the host target was calibrated. --write-host writes the
host target with the measured gain.
"""
import argparse
import json
import os
import statistics
import subprocess
import shutil
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
from benchlib import (MODELS, models_dir, add_build_and_ort, require_ort,
                      measure_interleaved, tool, calibrate_command)

SHORT = {"ch_PP-OCRv4_det_infer": "det", "ch_PP-OCRv4_rec_infer": "rec",
         "ch_ppocr_mobile_v2.0_cls_infer": "cls"}


def worker(ort, starts, specs):
    return subprocess.Popen(
        ["node", os.path.join(HERE, "ort-worker.js"), ort,
         ",".join(f"{s:.3f}" for s in starts)] + specs,
        stdout=subprocess.PIPE, text=True)


def measure(args, a, b, rounds, spacing_ms):
    """Median makespans (ms): sequential a then b in one process, and a and
    b in two processes at once."""
    spec = lambda m: f"{m['path']}:{','.join(map(str, m['shape']))}"
    # Sequential and parallel rounds alternate (the three workers live
    # together, each idle outside its own rounds), so that the machine's
    # drift over the minutes of a measurement falls on both alike.
    first = time.time() * 1e3 + 8000
    seq_starts = [first + 2 * i * spacing_ms for i in range(rounds)]
    par_starts = [s + spacing_ms for s in seq_starts]
    seq = worker(args.ort, seq_starts, [spec(a), spec(b)])
    pa = worker(args.ort, par_starts, [spec(a)])
    pb = worker(args.ort, par_starts, [spec(b)])
    out = json.loads(seq.communicate()[0])
    sequential = [r[1] - s for r, s in zip(out["ends"], seq_starts)]
    ea = json.loads(pa.communicate()[0])["ends"]
    eb = json.loads(pb.communicate()[0])["ends"]
    parallel = [max(x[0], y[0]) - s for x, y, s in zip(ea, eb, par_starts)]
    return statistics.median(sequential), statistics.median(parallel)


def calibrate_host(args, entries, alone, work):
    """The host target calibrated now: chorus-calibrate on the profiles of
    `entries` (taken at the start of the run) and their latencies `alone`
    (stem -> ms: half of each model's sequential makespan with itself,
    timed as the pairs are), the built-in host as the base; the
    profiler's time per kernel and the slowdown of the timed runs against
    the profiled ones are fitted to those latencies. Timing the latencies
    with the pairs keeps what the target is calibrated to and what it is
    checked against one measurement: timed in a loop by themselves, the
    same models measured up to 20% faster. Prints each model's latency and
    what the new target predicts for it alone."""
    for e in entries:
        e["loop_ms"] = e["measured_ms"]
        e["measured_ms"] = alone[e["stem"]]
    out = os.path.join(work, "calibrated.json")
    cmd = calibrate_command(
        args.build, out, "host", entries, profiles=True,
        latency_ms={e["stem"]: e["measured_ms"] for e in entries},
        extra=["--base-file",
               os.path.join(ROOT, "lib", "Target", "targets", "host.json")])
    subprocess.run(cmd, check=True, capture_output=True)
    print("host calibrated in this run (chorus-calibrate on the three "
          "models' profiles and latencies):")
    for e in entries:
        plan = os.path.join(work, "alone.json")
        cmd = [tool(args.build, "chorus-plan"), e["path"],
               "--target-file", out, "--no-fuse", "-o", plan]
        cmd += [f"--dim={e['stem']}:{d}" for d in e["dims"]]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(plan) as f:
            p = json.load(f)
        predicted = next(s["makespan_ns"] for s in p["strategies"]
                         if s["name"] == "sequential") / 1e6
        print(f"  {SHORT[e['stem']]}: measured {e['measured_ms']:.2f} ms "
              f"({e['loop_ms']:.2f} ms in a loop), "
              f"predicted alone {predicted:.2f} ms "
              f"({100 * (predicted - e['measured_ms']) / e['measured_ms']:+.1f}%)")
    print()
    return out


def predict(args, a, b, target):
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.json")
        cmd = [tool(args.build, "chorus-plan"), a["path"],
               b["path"], "--target-file", target, "--goal", "throughput",
               "--no-fuse", "-o", plan]
        for m in {a["stem"]: a, b["stem"]: b}.values():
            for d in m["dims"]:
                cmd += ["--dim", f"{m['stem']}:{d}"]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(plan) as f:
            p = json.load(f)
    by = {s["name"]: s for s in p["strategies"] if s["available"]}
    return (by["sequential"]["makespan_ns"] / 1e6,
            by["parallel"]["makespan_ns"] / 1e6,
            p["recommendation"]["strategy"])


def main():
    ap = argparse.ArgumentParser()
    add_build_and_ort(ap)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calibration-rounds", type=int, default=3)
    ap.add_argument("--write-host", default=None)
    args = ap.parse_args()
    require_ort(args.ort)
    ocr = models_dir(os.path.join(ROOT, "build"))
    models = {SHORT[stem]: {"stem": stem,
                            "path": os.path.join(ocr, stem + ".onnx"),
                            "dims": dims, "shape": shape}
              for stem, dims, shape in MODELS}
    work = tempfile.mkdtemp(prefix="chorus-plan-vs-ort-")
    measure_interleaved(args.ort, list(models.values()), work,
                        args.calibration_rounds, 10)
    pairs = [("det", "rec"), ("det", "cls"), ("rec", "cls"), ("det", "det"),
             ("rec", "rec"), ("cls", "cls")]
    measured = {}
    for a, b in pairs:
        # Room for a warm-up (2.5 times a run, bench/ort-worker.js) and
        # the timed runs of the pair in every round; pairs of the small
        # models get three times the rounds (their runs are short and
        # their times noisier).
        big = "det" in (a, b)
        rounds = args.rounds if big else 3 * args.rounds
        measured[(a, b)] = measure(args, models[a], models[b], rounds,
                                   5 * 400 if big else 5 * 120)
    # A model's latency: half its sequential makespan with itself, the
    # time one run takes in a stream of runs timed as the pairs are.
    alone = {models[m]["stem"]: measured[(m, m)][0] / 2 for m in models}
    calibrated = calibrate_host(args, list(models.values()), alone, work)
    gains = []
    for m in ("det", "rec", "cls"):
        seq, par = measured[(m, m)]
        gains.append(max(0.0, min(1.0, seq / par - 1)))
    gain = statistics.median(gains)
    print("concurrency gain measured from each model with itself: " +
          ", ".join(f"{m} {g:.3f}" for m, g in zip(("det", "rec", "cls"),
                                                   gains)) +
          f"; median {gain:.3f}\n")

    with open(calibrated) as f:
        host = json.load(f)
    host["parallel_units"] = os.cpu_count() or 1
    host["concurrency_gain"] = round(gain, 3)
    target = os.path.join(work, "host.json")
    with open(target, "w") as f:
        json.dump(host, f, indent=2, sort_keys=True)
    if args.write_host:
        with open(args.write_host, "w") as f:
            json.dump(host, f, indent=2, sort_keys=True)
            f.write("\n")

    print(f"{'pair':10} {'seq measured':>12} {'predicted':>10} {'err':>7}  "
          f"{'par measured':>12} {'predicted':>10} {'err':>7}  "
          f"{'faster':>10} {'advisor':>10}")
    errors, picks = [], []
    for a, b in pairs:
        seq, par = measured[(a, b)]
        pseq, ppar, pick = predict(args, models[a], models[b], target)
        es, ep = (pseq - seq) / seq, (ppar - par) / par
        errors += [abs(es), abs(ep)]
        faster = "sequential" if seq < par else "parallel"
        differ = abs(seq - par) / min(seq, par) > 0.10
        ok = "" if not differ else ("ok" if pick == faster else "WRONG")
        picks.append(ok != "WRONG")
        print(f"{a + '+' + b:10} {seq:12.2f} {pseq:10.2f} {100 * es:+6.1f}%  "
              f"{par:12.2f} {ppar:10.2f} {100 * ep:+6.1f}%  {faster:>10} "
              f"{pick:>10} {ok}")
    shutil.rmtree(work)
    print(f"\nmakespan error: max {100 * max(errors):.1f}%, mean "
          f"{100 * statistics.mean(errors):.1f}%; advisor right where the "
          f"strategies differ by >10%: {sum(picks)} of {len(picks)}")


if __name__ == "__main__":
    main()
