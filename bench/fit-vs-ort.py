#!/usr/bin/env python3
"""Will the models fit, and what to do when they do not: chorus-plan's
predictions against ONNX Runtime (onnxruntime-node, CPU, one intra-op
thread) on this machine.

  bench/fit-vs-ort.py --target T.json [--build DIR] [--ort DIR]
                      [--level all] [--rounds 3] [--no-sets] [--no-sequences]
                      [--no-on-demand]

T.json: a target from `chorus-calibrate --measure` at the same level (it
has runtime_memory with `retained`, and session_load). Where its runtime
profile fixes glibc's mmap threshold (--malloc-mmap-threshold), every
onnxruntime-node process runs with MALLOC_MMAP_THRESHOLD_ set to it.

1. Sets of 2 to 6 models in one process (bench/ort-footprint.js set), at
   the small and the large end of a batch range (N=1 and N=8): the
   process's resident memory growth from before onnxruntime-node is loaded,
   after every session is created, after each ran once, in service (after
   each ran a second time) and at its peak (VmHWM) (median of --rounds
   processes), against chorus-plan's footprint with each session loading
   its own weights (runtime_unshared_*: onnxruntime-node cannot share
   them). One set holds the same model twice under two names, so
   that the plan finds every weight shared.
2. Shape sequences: one session run at batches in a given order
   (bench/ort-footprint.js sequence): what the runs added to the process
   after each, against chorus-plan --dim-sequence (ONNX Runtime's arena
   replayed over the runs, each session alone).
3. The on-demand strategy (chorus-plan --rate, --memory-limit) on two
   request mixes: every resident set the plan finds within the limit is run
   (bench/ort-on-demand.js) on the plan's first requests; prints the
   predicted and measured mean latency of each, whether its measured peak
   stayed under the limit, and whether the plan's choice is the best
   measured.

Models: torchvision exports with a symbolic batch (bench/export-torchvision.py
--batch-dim N, into build/tv-batch) and the PaddleOCR models.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

from benchlib import add_build_and_ort, models_dir, require_ort, tool

BATCH_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1",
                "shufflenet_v2_x1_0"]
# PaddleOCR: file stem, fixed dims, batch dim, input shape after the batch.
OCR = {
    "det": ("ch_PP-OCRv4_det_infer",
            ["p2o.DynamicDimension.1=640", "p2o.DynamicDimension.2=640"],
            "p2o.DynamicDimension.0", [3, 640, 640]),
    "rec": ("ch_PP-OCRv4_rec_infer", ["p2o.DynamicDimension.1=320"],
            "p2o.DynamicDimension.0", [3, 48, 320]),
    "cls": ("ch_ppocr_mobile_v2.0_cls_infer",
            ["p2o.DynamicDimension.1=48", "p2o.DynamicDimension.2=192"],
            "p2o.DynamicDimension.0", [3, 48, 192]),
}
SETS = [
    ["resnet18", "mobilenet_v2"],
    ["rec", "resnet18"],
    ["resnet18", "resnet18_copy"],
    ["resnet18", "mobilenet_v2", "rec"],
    ["squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v2"],
    ["det", "rec", "cls"],
    ["resnet50", "rec", "cls", "det"],
    ["resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0", "rec",
     "cls"],
]
# Request mixes: rates (requests per second) and the memory limits (bytes)
# that keep some models out of memory, with glibc's default allocator and
# with its mmap threshold fixed (where sessions take less).
MIXES = [
    ("ocr and a classifier", {"rec": 3, "cls": 3, "det": 0.3, "resnet50": 0.5},
     390_000_000, 300_000_000),
    ("three classifiers", {"mobilenet_v2": 4, "resnet18": 1,
                           "squeezenet1_1": 2}, 190_000_000, 160_000_000),
]
BATCHES = [1, 8]


class Models:
    def __init__(self, build, work):
        self.tv = os.path.join(build, "tv-batch")
        self.ocr = models_dir(build)
        self.work = work
        missing = [m for m in BATCH_MODELS
                   if not os.path.exists(os.path.join(self.tv, m + ".onnx"))]
        if missing:
            subprocess.run(["/usr/bin/python3",
                            os.path.join(HERE, "export-torchvision.py"),
                            "--batch-dim", "N", self.tv, *missing], check=True)
        # The same model under a second name: two sessions, every weight
        # shared in the plan.
        shutil.copy(os.path.join(self.tv, "resnet18.onnx"),
                    os.path.join(work, "resnet18_copy.onnx"))

    def file(self, name):
        if name in OCR:
            return os.path.join(self.ocr, OCR[name][0] + ".onnx")
        if name == "resnet18_copy":
            return os.path.join(self.work, name + ".onnx")
        return os.path.join(self.tv, name + ".onnx")

    def dims(self, name, batch):
        """chorus-plan's --dim flags for the model at this batch."""
        stem = os.path.splitext(os.path.basename(self.file(name)))[0]
        if name in OCR:
            _, fixed, batch_dim, _ = OCR[name]
            flags = [f"{stem}:{batch_dim}={batch}"] + [f"{stem}:{d}"
                                                      for d in fixed]
        else:
            flags = [f"{stem}:N={batch}"]
        return sum((["--dim", f] for f in flags), [])

    def shape(self, name, batch):
        return [batch] + (OCR[name][3] if name in OCR else [3, 224, 224])


def plan(args, models, names, batch, extra=()):
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, "plan.json")
        cmd = [tool(args.build, "chorus-plan"), "--target-file", args.target,
               *[models.file(n) for n in names],
               *sum((models.dims(n, batch) for n in names), []),
               "--strategy", "sequential", "-o", out, *extra]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(out) as f:
            return json.load(f)


def measure_set(args, models, names, batch):
    runs = []
    for _ in range(args.rounds):
        out = subprocess.run(
            ["node", os.path.join(HERE, "ort-footprint.js"), "set", args.ort,
             args.level] +
            [f"{models.file(n)}@{','.join(map(str, models.shape(n, batch)))}"
             for n in names], check=True, capture_output=True,
            text=True).stdout
        d = json.loads(out)
        runs.append([d[k] - d["rss_start"] for k in
                     ("rss_loaded", "rss_after_runs", "rss_in_service",
                      "peak")])
    return [statistics.median(r[i] for r in runs) for i in range(4)]


def bench_sets(args, models):
    print(f"sets in one process, level {args.level} (MB; measured: median of "
          f"{args.rounds} processes, growth from before onnxruntime-node "
          "loads)")
    figures = ("after load", "after first runs", "in service", "peak")
    print(f"{'batch':>5} {'models':60} " + " ".join(
        f"{f[:16]:>23}" for f in figures))
    print(f"{'':5} {'':60} " + " ".join(
        f"{'pred':>7} {'meas':>7} {'err':>7}" for _ in figures))
    errors = {f: [] for f in figures}
    for batch in BATCHES:
        for names in SETS:
            s = plan(args, models, names, batch)["strategies"][0]
            predicted = [s["runtime_unshared_after_load_bytes"],
                         s["runtime_unshared_after_first_run_bytes"],
                         s["runtime_unshared_bytes"],
                         s["runtime_unshared_peak_bytes"]]
            measured = measure_set(args, models, names, batch)
            row = f"{batch:5} {'+'.join(names):60}"
            for f, p_, m in zip(figures, predicted, measured):
                e = p_ / m - 1
                errors[f].append(abs(e))
                row += f" {p_ / 1e6:7.1f} {m / 1e6:7.1f} {100 * e:+6.1f}%"
            print(row, flush=True)
    for f in figures:
        within = sum(e <= 0.15 for e in errors[f])
        print(f"sets, {f}: MAPE {100 * statistics.mean(errors[f]):.1f}%, "
              f"{within} of {len(errors[f])} within 15%, worst "
              f"{100 * max(errors[f]):.1f}%")
    every = sum(errors.values(), [])
    print(f"sets: MAPE {100 * statistics.mean(every):.1f}%, "
          f"{sum(e <= 0.15 for e in every)} of {len(every)} figures within "
          f"15%, worst {100 * max(every):.1f}%")


# Shape sequences: model, batch values in the order run.
SEQUENCES = [
    ("rec", [1, 8, 1, 16]),
    ("rec", [16, 1, 8]),
    ("rec", [8, 8, 8]),
    ("resnet18", [1, 8, 1, 16]),
    ("resnet18", [16, 1, 8]),
    ("mobilenet_v2", [2, 8, 2, 8]),
    ("det", [1, 2, 1, 4]),
    ("cls", [1, 32, 8, 32]),
]


def bench_sequences(args, models):
    print(f"\nshape sequences, level {args.level}: one session run at these "
          "batches in turn; what the runs added to the process's resident "
          "memory after each (MB; measured: median of "
          f"{args.rounds} processes)")
    print(f"  {'model':14} {'batches':14} {'predicted':>30} | "
          f"{'measured':>30} | worst")
    errors = []
    for name, batches in SEQUENCES:
        with tempfile.TemporaryDirectory() as t:
            out = os.path.join(t, "plan.json")
            stem = os.path.splitext(os.path.basename(models.file(name)))[0]
            dims = [d for d in models.dims(name, 1)
                    if not d.endswith("=1") or d == "--dim"]
            batch_dim = OCR[name][2] if name in OCR else "N"
            fixed = [f for f in dims if f != "--dim"
                     and not f.startswith(f"{stem}:{batch_dim}=")]
            cmd = [tool(args.build, "chorus-plan"), "--target-file",
                   args.target, models.file(name),
                   *sum((["--dim", f] for f in fixed), []),
                   "--dim-sequence",
                   f"{batch_dim}={','.join(map(str, batches))}",
                   "--strategy", "sequential", "-o", out]
            subprocess.run(cmd, check=True, capture_output=True)
            with open(out) as f:
                p = json.load(f)
        load = p["models"][0]["runtime_memory"]["after_load_bytes"]
        steps = p["shape_sequence"]["models"][0]["steps"]
        predicted = [s["session_bytes"] - load for s in steps]
        shapes = ":".join(",".join(map(str, models.shape(name, b)))
                          for b in batches)
        runs = []
        for _ in range(args.rounds):
            d = json.loads(subprocess.run(
                ["node", os.path.join(HERE, "ort-footprint.js"), "sequence",
                 args.ort, args.level, models.file(name), shapes],
                check=True, capture_output=True, text=True).stdout)
            runs.append([r - d["rss_created"] for r in d["rss_after_runs"]])
        measured = [statistics.median(r[i] for r in runs)
                    for i in range(len(batches))]
        # Steps that added less than 5 MB are left out of the errors: a
        # few pages of the heap weigh more there than the arena.
        errs = [p_ / m - 1 for p_, m in zip(predicted, measured) if m >= 5e6]
        errors += [abs(e) for e in errs]
        worst = max(errs, key=abs) if errs else 0
        print(f"  {name:14} {','.join(map(str, batches)):14} " +
              " ".join(f"{v / 1e6:6.1f}" for v in predicted).rjust(30) +
              " | " +
              " ".join(f"{v / 1e6:6.1f}" for v in measured).rjust(30) +
              f" | {100 * worst:+.1f}%", flush=True)
    within = sum(e <= 0.15 for e in errors)
    print(f"sequences: MAPE {100 * statistics.mean(errors):.1f}% over "
          f"{len(errors)} steps that added 5 MB or more, {within} within "
          f"15%, worst {100 * max(errors):.1f}%")


def bench_on_demand(args, models):
    print(f"\non demand, level {args.level}: the plan's first "
          f"{args.requests} requests, each resident set within the limit "
          "run once")
    for title, rates, default_limit, mmap_limit in MIXES:
        limit = mmap_limit if args.mmap_threshold else default_limit
        names = list(rates)
        extra = ["--memory-limit", str(limit),
                 "--on-demand-requests", str(args.requests)]
        for n in names:
            stem = os.path.splitext(os.path.basename(models.file(n)))[0]
            extra += ["--rate", f"{stem}={rates[n]}"]
        od = plan(args, models, names, 1, extra)["on_demand"]
        model_names = [m["name"] for m in od["models"]]
        spec_models = [{"name": m, "file": models.file(n),
                        "shape": models.shape(n, 1)}
                       for m, n in zip(model_names, names)]
        requests = [[r[0], r[1]] for r in od["requests"]]
        print(f"mix '{title}': " + ", ".join(
            f"{n} {rates[n]}/s" for n in names) +
            f"; memory limit {limit / 1e6:.0f} MB")
        print(f"  {'resident':48} {'predicted ms':>12} {'measured ms':>12}"
              f" {'err':>7} {'peak MB':>8} {'measured':>8}  under the limit")
        measured = {}
        for i, c in enumerate(od["candidates"]):
            if not c["feasible"]:
                continue
            with tempfile.NamedTemporaryFile("w", suffix=".json",
                                             delete=False) as f:
                json.dump({"models": spec_models, "resident": c["resident"],
                           "requests": requests}, f)
                spec = f.name
            try:
                out = subprocess.run(
                    ["node", os.path.join(HERE, "ort-on-demand.js"), args.ort,
                     args.level, spec], check=True, capture_output=True,
                    text=True).stdout
            finally:
                os.unlink(spec)
            d = json.loads(out)
            mean = statistics.mean(r["latency_s"] for r in d["requests"])
            under = d["peak_growth"] <= limit
            measured[i] = (mean, under)
            err = c["mean_latency_s"] / mean - 1
            mark = "  (chosen)" if i == od["chosen"] else ""
            print(f"  {', '.join(c['resident']) or 'none':48} "
                  f"{1e3 * c['mean_latency_s']:12.2f} {1e3 * mean:12.2f} "
                  f"{100 * err:+6.1f}% {c['peak_bytes'] / 1e6:8.1f} "
                  f"{d['peak_growth'] / 1e6:8.1f}  "
                  f"{'yes' if under else 'NO'}{mark}", flush=True)
        # The best measured among the sets tried (those the plan finds
        # within the limit).
        best = min(measured.items(), key=lambda m: m[1][0], default=None)
        chosen = od["chosen"]
        if chosen < 0 or chosen not in measured:
            print("  the plan chose no resident set")
            continue
        c = od["candidates"][chosen]
        err = c["mean_latency_s"] / measured[chosen][0] - 1
        if best is None:
            verdict = "no resident set was run"
        else:
            verdict = ("the best measured of those tried: " +
                       (", ".join(od["candidates"][best[0]]["resident"]) or
                        "none") +
                       (" (the same)" if best[0] == chosen else " (another)"))
        print(f"  chosen: {', '.join(c['resident']) or 'none'}: predicted "
              f"{1e3 * c['mean_latency_s']:.2f} ms, measured "
              f"{1e3 * measured[chosen][0]:.2f} ms ({100 * err:+.1f}%); "
              f"{verdict}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--target", required=True,
                    help="a target from chorus-calibrate --measure")
    ap.add_argument("--level", default="all")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=150,
                    help="requests of each on-demand run")
    ap.add_argument("--no-sets", action="store_true")
    ap.add_argument("--no-sequences", action="store_true")
    ap.add_argument("--no-on-demand", action="store_true")
    args = ap.parse_args()
    require_ort(args.ort)
    # ONNX Runtime runs as the target was calibrated: glibc's mmap
    # threshold fixed where its runtime profile fixes it.
    with open(args.target) as f:
        threshold = json.load(f).get("runtime", {}).get(
            "malloc_mmap_threshold", 0)
    args.mmap_threshold = threshold
    if threshold:
        os.environ["MALLOC_MMAP_THRESHOLD_"] = str(threshold)
        print(f"onnxruntime-node runs with MALLOC_MMAP_THRESHOLD_={threshold}"
              " (the target's runtime profile)")
    else:
        os.environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    with tempfile.TemporaryDirectory() as work:
        models = Models(args.build, work)
        if not args.no_sets:
            bench_sets(args, models)
        if not args.no_sequences:
            bench_sequences(args, models)
        if not args.no_on_demand:
            bench_on_demand(args, models)


if __name__ == "__main__":
    main()
