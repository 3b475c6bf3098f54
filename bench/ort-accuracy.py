#!/usr/bin/env python3
"""How well the one-command calibration predicts ONNX Runtime as deployed,
on real models it never saw, and how stable it is.

  bench/ort-accuracy.py [--build DIR] [--ort DIR] [--models DIR]
                        [--levels all,disabled] [--runs N]
                        [--pace median|quiet] [--work DIR [--reuse]]

For each graph optimization level (default: all, ONNX Runtime's default,
and disabled):
1. `chorus-calibrate --measure --ort-level L --ort-modules ORT` fits a
   target to the models it generates itself (timed); where it finds the
   machine too noisy to fit and writes no target, the bench calibrates
   again, at most twice, and prints each refusal;
2. every held-out model is measured with bench/ort-run.js (onnxruntime-node
   under --ort, CPU, one intra-op thread, that level), in --rounds rounds
   (default 5) that each run every model once in a fresh process: the
   median over rounds of the median of N timed runs (on a shared VM one
   process of the same model can run 20-50% slower than the next, and
   the speed drifts over minutes); each process also times the
   calibration's speed reference, so that the table shows each model both
   as measured and brought to the calibration's pace (its time x the
   calibration's median reference time / the reference's time in its
   process, as chorus-calibrate treats its own measurements; for a
   target of an earlier version with runtime.speed_elasticity, that
   ratio to the power those give the model's mix of FLOP, byte and
   per-kernel time). A window that other load held for much
   of its time (the speed reference's median over its processes more than
   8% slower than their quickest tenth, the rule chorus-calibrate applies
   to its own processes) is measured again, at most twice; the errors
   against each such window are printed too, and it is kept in --work.
   In a quiet window, a model whose own processes ran in a loaded minute
   (their reference's median more than 8% slower than the window's
   quickest tenth) is measured again alone, at most twice, and the error
   with its first measurement is printed too. A model's figure is the
   median over its quiet processes of all its measurements: those whose
   speed reference ran at most 12% slower than in the model's quickest
   process (the rule chorus-calibrate applies to its own rounds; a
   process under other load ran a memory-bound model 25-35% slower while
   its reference ran 20-30% slower); the processes so left out are
   printed;
3. the calibration runs a second time; each model is predicted with both
   targets (chorus-import, chorus-annotate-cost: ONNX Runtime's kernels as
   Chorus mirrors them, each timed by its class's model): the first
   target's error against the measurement, and how far the two targets'
   predictions are apart, as they are and with the second brought to the
   first one's pace (its predictions x the first target's speed-reference
   time / the second's, to the model's power): the machine's speed moves
   between calibrations, the fit should not (how far it moved shows in
   the speed reference's quickest tenth of processes, its median and the
   targets' pace in each calibration, printed side by side). Right before the held-out
   measurements (each window of them), `chorus-calibrate --repace` brings
   the first target to the pace of that moment (kept in --work as
   repaced-L.json, of the last window); its error against the
   measurements is printed too.
4. memory: each held-out model in --rounds fresh processes
   (bench/ort-memory.js): resident-set growth from before the session's
   creation to after it, and to after the first run (the largest over the
   processes, as the calibration takes it: identical processes differ by
   up to half, as glibc's heaps keep or return freed copies), next to the
   first target's runtime memory for one session (chorus-plan's
   models[].runtime_memory).
5. pairs: PAIRS in one process with bench/ort-pair.js, one after the
   other and both at once (medians of --runs, in --rounds rounds),
   against chorus-plan's sequential and parallel makespans; and thread
   counts: each model with one intra-op thread and with each other count
   the target measured, against chorus-plan --strategy threads. Each of
   these processes times the speed reference too, so that their errors
   are also printed at the calibration's pace; a loaded window of them is
   measured again as in 2 (not a single pair or thread count: a process
   that holds two large sessions, or one of two threads, times the
   reference 8-42% slower, and again when measured again, load or not);
   a pair's or thread count's figure is the median over its quiet
   processes of every window measured (its speed reference at most 12%
   slower than in its own quickest process, the rule of 2 weighed
   against its own kind), and the processes so left out are printed.
--work DIR keeps the calibrations' measurements (--keep-measurements) and
the held-out measurements in a new folder; --work DIR --reuse measures
nothing and fits the calibrations again to what DIR holds
(chorus-calibrate --from-measurements), to weigh a change to the fit on the
same data.
No held-out model is ever a calibration model: the calibration models are
generated (tools/chorus-calibrate/CalibrationModels.cpp). The torchvision
models are exported with bench/export-torchvision.py into --models
(Debian's python3-torch and python3-torchvision; random weights); the
PaddleOCR models come from bootstrap's build/npm.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (HELD_OUT, MODELS, models_dir, add_build_and_ort,
                      ensure_torchvision, predict, require_ort, tool)



# Held-out pairs: two copies of one model, and models of different kinds.
PAIRS = [("resnet18", "resnet18"), ("ch_PP-OCRv4_det_infer",
                                    "ch_PP-OCRv4_det_infer"),
         ("ch_PP-OCRv4_det_infer", "ch_PP-OCRv4_rec_infer"),
         ("ch_PP-OCRv4_rec_infer", "ch_ppocr_mobile_v2.0_cls_infer"),
         ("resnet50", "mobilenet_v2"), ("vit_b_32", "resnet18"),
         ("efficientnet_b1", "squeezenet1_1"),
         ("densenet121", "shufflenet_v2_x1_0"),
         ("convnext_tiny", "mnasnet1_0"), ("googlenet", "regnet_y_400mf")]


def plan(build, entries, target_file, work, strategy="auto"):
    """chorus-plan's plan.json for the models (stem, path, dims, shape)."""
    out = os.path.join(work, "plan.json")
    cmd = [tool(build, "chorus-plan"), "--target-file", target_file,
           "--strategy", strategy, "-o", out]
    for stem, path, dims, shape in entries:
        cmd.append(path)
    for stem, path, dims, shape in {e[0]: e for e in entries}.values():
        for d in dims:
            cmd += ["--dim", f"{stem}:{d}"]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(out) as f:
        return json.load(f)


def pace_power(build, entries, target_file, work):
    """The power of a process's pace ratio (the calibration's reference
    time over the reference's time in that process) by which the
    predicted time of `entries` moves: their predicted terms' shares
    (chorus-plan's models[].predicted_terms_ns) weighted by the target's
    runtime.speed_elasticity (1 for each term when absent)."""
    with open(target_file) as f:
        e = json.load(f)["runtime"].get("speed_elasticity", {})
    if all(e.get(k, 1) == 1 for k in ("flop", "byte", "kernel")):
        return 1  # Every term moves by the ratio itself.
    weights = {"compute": e.get("flop", 1), "memory": e.get("byte", 1),
               "overhead": e.get("kernel", 1)}
    total = weighted = 0
    for model in plan(build, entries, target_file, work,
                      "sequential")["models"]:
        for term, ns in model["predicted_terms_ns"].items():
            total += ns
            weighted += weights[term] * ns
    return weighted / total if total else 1


def makespans(plan_json):
    return {s["name"]: s["makespan_ns"] * 1e-6
            for s in plan_json["strategies"] if s["available"]}


def print_pairs_and_threads(args, level, models, target_file, work,
                            reference=None, pace=None):
    """Pairs and thread counts against chorus-plan. With `reference` (the
    calibration's speed reference) and `pace` (its time at the target's
    pace, ms),
    every process times the reference too, and the errors are printed both
    as measured and brought to the calibration's pace."""
    by_stem = {m[0]: m for m in models}
    spec = lambda m: f"{m[1]}:{','.join(map(str, m[3]))}"
    with open(target_file) as f:
        counts = sorted(int(t) for t in
                        json.load(f).get("thread_kernel_models", {}))

    timing = ["--reference", *reference] if reference else []

    def measure_all():
        # Keyed by text, to be kept as JSON.
        rounds = {" + ".join(p): [] for p in PAIRS}
        threads = {f"{m[0]}@{t}": [] for m in models for t in counts}
        for _ in range(args.rounds):
            for p in PAIRS:
                out = subprocess.run(
                    ["node", os.path.join(HERE, "ort-pair.js"), args.ort,
                     level, str(args.runs), spec(by_stem[p[0]]),
                     spec(by_stem[p[1]]), *timing],
                    check=True, capture_output=True, text=True).stdout
                rounds[" + ".join(p)].append(json.loads(out))
            for key in threads:
                stem, t = key.split("@")
                out = subprocess.run(
                    ["node", os.path.join(HERE, "ort-pair.js"), args.ort,
                     level, str(args.runs), spec(by_stem[stem]), "--threads",
                     t, *timing], check=True, capture_output=True,
                    text=True).stdout
                threads[key].append(json.loads(out))
        return {"pairs": rounds, "threads": threads}
    kept_runs, loaded = measured_window(
        args, level, "window of pairs and thread counts",
        f"pairs-{level}.json", measure_all,
        lambda w: [statistics.mean(r["reference_ms"])
                   for kind in ("pairs", "threads")
                   for rs in w[kind].values() for r in rs
                   if "reference_ms" in r])
    # Each pair's and thread count's processes of every window measured,
    # less those that ran while other load slowed the machine (their speed
    # reference more than QUIET_PROCESS_SPREAD% slower than in the pair's
    # own quickest process, the rule for the single models): a process
    # that holds two sessions, or one of two threads, times the reference
    # slower than a single model's process does, so each is weighed only
    # against its own kind.
    windows = [w for _, _, w in loaded] + [kept_runs]
    pooled = lambda kind, key: quiet_runs(
        [r for w in windows for r in w[kind][key]])
    rounds = {p: pooled("pairs", " + ".join(p)) for p in PAIRS}
    threads = {(m[0], t): pooled("threads", f"{m[0]}@{t}")
               for m in models for t in counts}
    left_out = {k: n for k, n in
                [(" + ".join(p), sum(len(w["pairs"][" + ".join(p)])
                                     for w in windows) - len(rs))
                 for p, rs in rounds.items()] +
                [(f"{s} at {t} threads", sum(len(w["threads"][f"{s}@{t}"])
                                             for w in windows) - len(rs))
                 for (s, t), rs in threads.items()] if n}
    if left_out:
        print(f"  level {level}: pair and thread-count processes left out as "
              f"loaded (of {len(windows)} window(s); their speed reference "
              f"more than {QUIET_PROCESS_SPREAD}% slower than in their own "
              f"quickest process): " +
              ", ".join(f"{k} {n}" for k, n in left_out.items()), flush=True)
    print(f"  {'held-out pair':52s} {'sequential ms':>22s} "
          f"{'parallel ms':>22s} {'faster':>17s}")
    print(f"  {'':52s} {'predicted measured':>22s} {'predicted measured':>22s}"
          f" {'predicted measured':>17s}")
    # Brought to the calibration's pace: each process's time x (pace / its
    # reference's time) to the power of the entries' mix of terms, or to
    # the power 1 for other thread counts, as chorus-calibrate brings them
    # (None where the kept runs carry no reference).
    def at_pace(rs, key, entries=None):
        if not pace or any("reference_ms" not in r for r in rs):
            return None
        power = (pace_power(args.build, entries, target_file, work)
                 if entries else 1)
        return statistics.median(r[key] * (pace /
                                 statistics.mean(r["reference_ms"])) ** power
                                 for r in rs)
    errors, paced, right, decided = [], [], 0, 0
    for p in PAIRS:
        seq = statistics.median(r["sequential_ms"] for r in rounds[p])
        par = statistics.median(r["parallel_ms"] for r in rounds[p])
        entries = [by_stem[p[0]], by_stem[p[1]]]
        pseq_ms = at_pace(rounds[p], "sequential_ms", entries)
        ppar_ms = at_pace(rounds[p], "parallel_ms", entries)
        spans = makespans(plan(args.build, [by_stem[p[0]], by_stem[p[1]]],
                               target_file, work))
        pseq, ppar = spans["sequential"], spans["parallel"]
        errors += [abs(pseq - seq) / seq, abs(ppar - par) / par]
        if pseq_ms is not None:
            paced += [abs(pseq - pseq_ms) / pseq_ms,
                      abs(ppar - ppar_ms) / ppar_ms]
        faster = "parallel" if par < seq else "sequential"
        pfaster = "parallel" if ppar < pseq else "sequential"
        if abs(seq - par) / min(seq, par) > 0.10:
            decided += 1
            right += faster == pfaster
        print(f"  {p[0] + ' + ' + p[1]:52s} {pseq:10.2f} {seq:11.2f} "
              f"{ppar:10.2f} {par:11.2f} {pfaster:>8s} {faster:>8s}")
    print(f"  level {level}: pair makespans MAPE "
          f"{100 * statistics.mean(errors):.1f}% (sequential and parallel); "
          f"the faster predicted right for {right} of the {decided} pairs "
          f"whose measured gap exceeds 10%")
    if paced:
        print(f"  level {level}: pair makespans MAPE at the calibration's "
              f"pace {100 * statistics.mean(paced):.1f}%")
    if not counts:
        return
    print(f"  {'held-out model':30s} {'threads':>7s} {'predicted ms':>12s} "
          f"{'measured ms':>11s} {'error':>7s} {'speedup':>15s}")
    terrors, tpaced = [], []
    for (stem, t), rs in threads.items():
        one = statistics.median(r["one_ms"] for r in rs)
        many = statistics.median(r["threads_ms"] for r in rs)
        many_at_pace = at_pace(rs, "threads_ms")
        spans = makespans(plan(args.build, [by_stem[stem]], target_file, work,
                               "threads"))
        predicted = spans[f"sequential-{t}-threads"]
        single = makespans(plan(args.build, [by_stem[stem]], target_file,
                                work, "sequential"))["sequential"]
        terrors.append(abs(predicted - many) / many)
        if many_at_pace is not None:
            tpaced.append(abs(predicted - many_at_pace) / many_at_pace)
        print(f"  {stem:30s} {t:7d} {predicted:12.2f} {many:11.2f} "
              f"{100 * (predicted - many) / many:+6.1f}% "
              f"{single / predicted:6.2f} {one / many:8.2f}")
    print(f"  level {level}: thread counts MAPE "
          f"{100 * statistics.mean(terrors):.1f}%, "
          f"{sum(e <= 0.15 for e in terrors)} of {len(terrors)} within 15%")
    if tpaced:
        print(f"  level {level}: thread counts MAPE at the calibration's pace "
              f"{100 * statistics.mean(tpaced):.1f}%, "
              f"{sum(e <= 0.15 for e in tpaced)} of {len(tpaced)} within 15%")


def measure(ort, path, shape, runs, level, reference):
    """The median latency (ms) of `runs` runs in a fresh process, and the
    time of the calibration's speed reference in that process (ms)."""
    out = subprocess.run(["node", os.path.join(HERE, "ort-run.js"), ort, path,
                          ",".join(map(str, shape)), str(runs), level,
                          "--reference", *reference],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["median_ms"], statistics.mean(r["reference_ms"])


def reference_times(folder):
    """The speed reference's time (ms) in each timed process of a kept
    calibration, sorted."""
    times = []
    for name in sorted(os.listdir(folder)):
        # A round's process (model_r0.out), not the memory-only ones
        # (model_m0.out).
        if re.search(r"_r[0-9]+\.out$", name):
            with open(os.path.join(folder, name)) as f:
                times.append(statistics.mean(json.load(f)["reference_ms"]))
    return sorted(times)


# A window of processes whose speed reference's median is more than this
# percentage slower than its quickest tenth was held by other load for much
# of its time (chorus-calibrate warns beyond 5%); on a machine of two paces
# every window is, and is measured three times.
MAX_PACE_SPREAD = 8


def window_pace(references):
    """How loaded a window of measurements was, from the speed reference's
    time in each of its processes (ms): the percentage their median is
    slower than their quickest tenth, the median and the quickest tenth."""
    refs = sorted(references)
    median, quick = refs[len(refs) // 2], refs[len(refs) // 10]
    return 100 * (median / quick - 1), median, quick


def window_file(name, loaded):
    """The file a window is kept in after `loaded` loaded windows."""
    return name if not loaded else name.replace(".json",
                                                f"-{loaded + 1}.json")


def measured_window(args, level, what, name, measure_all, references):
    """measure_all()'s result, kept in --work as `name`, and the windows
    measured before it that other load held for much of their time (the
    speed reference's median over their processes, references(result),
    more than MAX_PACE_SPREAD% slower than its quickest tenth): each
    measured again,
    at most twice, kept as name-2.json and name-3.json; with --reuse,
    read back so. The loaded windows as (file, percentage behind, result)."""
    loaded = []
    while True:
        file = window_file(name, len(loaded))
        value = kept(args, file, measure_all)
        refs = references(value)
        if not refs:
            return value, loaded
        spread, median, quick = window_pace(refs)
        following = window_file(name, len(loaded) + 1)
        more = (os.path.exists(os.path.join(args.work, following))
                if args.reuse else len(loaded) < 2)
        if spread <= MAX_PACE_SPREAD or not more:
            return value, loaded
        loaded.append((file, spread, value))
        print(f"  level {level}: {what} loaded: the speed reference's median "
              f"over its processes {median:.3f} ms is {spread:.1f}% slower "
              f"than their quickest tenth ({quick:.3f} ms; more than "
              f"{MAX_PACE_SPREAD}%), measuring again",
              flush=True)


def remeasure_loaded_models(args, level, name, rounds, measure_some):
    """`rounds` (model: [(ms, reference ms), ...]) with each model whose
    processes other load held (the speed reference's median over them more
    than MAX_PACE_SPREAD% slower than the window's quickest tenth of
    processes, the rule measured_window applies to a whole window) measured
    again with measure_some(models), at most twice, kept in --work as
    name-models-2.json and name-models-3.json (read back so with --reuse).
    A window can be quiet as a whole while a few of its models ran in a
    loaded minute. Each model's processes of every measurement stay in
    `rounds` (quiet_processes() then keeps the quiet ones); the decision to
    measure again looks at the latest only. The first measurements of the
    models measured again as {model: rounds}."""
    first, latest = {}, dict(rounds)
    refs = sorted(ref for r in rounds.values() for _, ref in r)
    quick = refs[len(refs) // 10]
    for attempt in (2, 3):
        behind = {stem: 100 * (statistics.median(ref for _, ref in r) /
                               quick - 1)
                  for stem, r in latest.items()}
        loaded = sorted(s for s, b in behind.items() if b > MAX_PACE_SPREAD)
        file = name.replace(".json", f"-models-{attempt}.json")
        if not loaded or (args.reuse and not os.path.exists(
                os.path.join(args.work, file))):
            break
        print(f"  level {level}: held-out models loaded (the speed "
              f"reference's median over their processes slower than the "
              f"window's quickest tenth, {quick:.3f} ms, by more than "
              f"{MAX_PACE_SPREAD}%): " +
              ", ".join(f"{s} {behind[s]:.1f}%" for s in loaded) +
              "; measuring them again", flush=True)
        again = kept(args, file, lambda: measure_some(loaded))
        latest = again
        for stem, r in again.items():
            first.setdefault(stem, list(rounds[stem]))
            rounds[stem] = rounds[stem] + r
    return first


# chorus-calibrate's kQuietRoundSpread: a model's process whose speed
# reference ran more than this percentage slower than the model's quickest
# process's ran while other load slowed the machine.
QUIET_PROCESS_SPREAD = 12


def quiet_processes(r):
    """A model's processes [(ms, reference ms), ...] less those that ran
    while other load slowed the machine (their speed reference more than
    QUIET_PROCESS_SPREAD% slower than the model's quickest process's), the
    rule chorus-calibrate applies to its own rounds: such load slows a
    model that streams through memory more than the reference, which stays
    in the caches, so that neither their times nor their times brought to
    pace are the model's on the machine at hand."""
    return quiet_by(r, lambda p: p[1])


def quiet_by(items, reference_ms):
    """`items` less those whose reference_ms(item) is more than
    QUIET_PROCESS_SPREAD% slower than the quickest item's."""
    refs = [reference_ms(i) for i in items]
    quickest = min(refs)
    return [i for i, ref in zip(items, refs)
            if ref <= quickest * (1 + QUIET_PROCESS_SPREAD / 100)]


def quiet_runs(rs):
    """The processes of one pair or thread count (bench/ort-pair.js's
    results) less those that ran while other load slowed the machine, as
    quiet_processes() (all of them where they timed no reference)."""
    if any("reference_ms" not in r for r in rs):
        return rs
    return quiet_by(rs, lambda r: statistics.mean(r["reference_ms"]))


def calibration_pace(folder, target):
    """The speed reference of a kept calibration: (model, its input shape),
    and the time (ms) at the pace chorus-calibrate brought every
    measurement to, as its target records it (runtime.speed_reference_s:
    the machine's quiet pace or the median over the calibration's
    processes, chorus-calibrate's --pace)."""
    with open(os.path.join(folder, "settings.json")) as f:
        settings = json.load(f)
    with open(target) as f:
        pace = json.load(f)["runtime"]["speed_reference_s"] * 1e3
    return ((os.path.join(folder, settings["speed_reference"]),
             settings["speed_reference_shape"]), pace)


def measure_memory(ort, path, shape, level):
    """Resident growth (bytes) after the session's creation and after its
    first run, in a fresh process."""
    out = subprocess.run(["node", os.path.join(HERE, "ort-memory.js"), ort,
                          path, ",".join(map(str, shape)), level],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return (r["rss_created"] - r["rss_before"],
            r["rss_after_run"] - r["rss_before"])


def predict_memory(build, path, dims, target_file, work):
    """chorus-plan's runtime memory of one session of the model alone."""
    plan = os.path.join(work, "plan.json")
    cmd = [tool(build, "chorus-plan"), path, "--target-file", target_file,
           "--strategy", "sequential", "-o", plan]
    for d in dims:
        cmd += ["--dim", d]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(plan) as f:
        memory = json.load(f)["models"][0]["runtime_memory"]
    return memory["after_load_bytes"], memory["after_first_run_bytes"]


def print_memory(args, level, models, target_file, work):
    def measure_all():
        rounds = {stem: [] for stem, *_ in models}
        for _ in range(args.rounds):
            for stem, path, dims, shape in models:
                rounds[stem].append(measure_memory(args.ort, path, shape,
                                                   level))
        return rounds
    rounds = kept(args, f"memory-{level}.json", measure_all)
    print(f"  {'held-out model':30s} {'after load MB':>24s} "
          f"{'after first run MB':>24s}")
    print(f"  {'':30s} {'predicted measured error':>24s} "
          f"{'predicted measured error':>24s}")
    errors = []
    for stem, path, dims, shape in models:
        load = max(r[0] for r in rounds[stem])
        run = max(r[1] for r in rounds[stem])
        p_load, p_run = predict_memory(args.build, path, dims, target_file,
                                       work)
        e_load, e_run = (p_load - load) / load, (p_run - run) / run
        errors += [abs(e_load), abs(e_run)]
        print(f"  {stem:30s} {p_load / 1e6:9.1f} {load / 1e6:8.1f} "
              f"{100 * e_load:+6.1f}% {p_run / 1e6:9.1f} {run / 1e6:8.1f} "
              f"{100 * e_run:+6.1f}%")
    within = sum(e <= 0.15 for e in errors)
    print(f"  level {level}: memory MAPE {100 * statistics.mean(errors):.1f}%, "
          f"{within} of {len(errors)} figures within 15%")


def calibrate(build, ort, level, path, keep=None, reuse=False,
              pace="quiet"):
    """chorus-calibrate --measure --pace `pace`; its seconds. With `keep`,
    its measurements stay in that folder; with `reuse`, it fits again to
    them and runs nothing."""
    cmd = [tool(build, "chorus-calibrate"), "--measure", "--name",
           f"ort-{level}", "--pace", pace, "-o", path]
    if reuse:
        cmd += ["--from-measurements", keep]
    else:
        cmd += ["--ort-level", level, "--ort-modules", ort]
        if keep:
            cmd += ["--keep-measurements", keep]
    # A calibration that finds the machine too noisy writes no target; as a
    # user would, the bench calibrates again (at most twice more), and says
    # so.
    for attempt in range(3):
        start = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0:
            return time.perf_counter() - start
        if reuse or "too noisy to fit" not in r.stderr or attempt == 2:
            sys.stderr.write(r.stderr)
            r.check_returncode()
        print(f"  level {level}: chorus-calibrate refused after "
              f"{time.perf_counter() - start:.0f} s, calibrating again: "
              f"{r.stderr.strip()}", flush=True)
        if keep:
            shutil.rmtree(keep)


def kept(args, name, make):
    """make()'s JSON result, kept in --work as `name` (and read from it with
    --reuse)."""
    if not args.work:
        return make()
    path = os.path.join(args.work, name)
    if args.reuse:
        with open(path) as f:
            return json.load(f)
    value = make()
    with open(path, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    return value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_build_and_ort(ap)
    ap.add_argument("--models", default=os.path.join(HERE, "..", "build",
                                                     "tv-models"))
    ap.add_argument("--levels", default="all,disabled")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pace", choices=["median", "quiet"], default="quiet",
                    help="chorus-calibrate's --pace for both calibrations "
                    "and --repace (with --reuse: the targets fitted again at "
                    "that pace)")
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the memory measurements")
    ap.add_argument("--no-pairs", action="store_true",
                    help="skip the pairs and thread counts")
    ap.add_argument("--memory-only", metavar="TARGET",
                    help="only the memory table, with this calibrated target")
    ap.add_argument("--pairs-only", metavar="TARGET",
                    help="only the pairs and threads tables, with this "
                    "calibrated target")
    ap.add_argument("--work", metavar="DIR",
                    help="keep the calibrations' measurements and the "
                    "held-out measurements in this new folder")
    ap.add_argument("--reuse", action="store_true",
                    help="with --work: measure nothing; fit the calibrations "
                    "again to their kept measurements and compare with the "
                    "kept held-out measurements (to weigh a change to the "
                    "fit on the same data)")
    args = ap.parse_args()
    if args.reuse and not args.work:
        ap.error("--reuse needs --work")
    if args.work and not args.reuse:
        if os.path.exists(args.work):
            ap.error(f"--work {args.work} exists: name a new folder")
        os.makedirs(args.work)
    require_ort(args.ort)
    ensure_torchvision(args.models, HELD_OUT)
    models = [(stem, os.path.join(models_dir(args.build), stem + ".onnx"),
               dims, shape) for stem, dims, shape in MODELS]
    models += [(m, os.path.join(args.models, m + ".onnx"), [],
                [1, 3, 224, 224]) for m in HELD_OUT]
    if args.pairs_only:
        with open(args.pairs_only) as f:
            level = json.load(f)["runtime"]["graph_optimization_level"]
        with tempfile.TemporaryDirectory() as work:
            print(f"level {level}: pairs and threads with {args.pairs_only}")
            print_pairs_and_threads(args, level, models, args.pairs_only,
                                    work)
        return
    if args.memory_only:
        with open(args.memory_only) as f:
            level = json.load(f)["runtime"]["graph_optimization_level"]
        with tempfile.TemporaryDirectory() as work:
            print(f"level {level}: memory with {args.memory_only}")
            print_memory(args, level, models, args.memory_only, work)
        return
    for level in args.levels.split(","):
        with tempfile.TemporaryDirectory() as work:
            first = os.path.join(work, "first.json")
            second = os.path.join(work, "second.json")
            keep = lambda n: os.path.join(args.work or work,
                                          f"calibration-{level}-{n}")
            seconds = calibrate(args.build, args.ort, level, first, keep(1),
                                args.reuse, args.pace)
            reference, pace = calibration_pace(keep(1), first)
            # The first target brought to the pace of the moment right
            # before the held-out models are measured (kept in --work):
            # before each window, so that the one kept is of the window
            # the errors are of.
            repaced = os.path.join(args.work or work, f"repaced-{level}.json")

            def measure_some(stems):
                rounds = {stem: [] for stem in stems}
                for _ in range(args.rounds):
                    for stem, path, dims, shape in models:
                        if stem in rounds:
                            rounds[stem].append(measure(
                                args.ort, path, shape, args.runs, level,
                                reference))
                return rounds

            def measure_all():
                subprocess.run([tool(args.build, "chorus-calibrate"),
                                "--repace", first, "--pace", args.pace,
                                "--ort-modules", args.ort,
                                "-o", repaced], check=True,
                               capture_output=True)
                return measure_some([stem for stem, *_ in models])
            rounds, loaded = measured_window(
                args, level, "held-out window", f"measured-{level}.json",
                measure_all,
                lambda w: [ref for r in w.values() for _, ref in r])
            first_rounds = remeasure_loaded_models(
                args, level, window_file(f"measured-{level}.json",
                                         len(loaded)), rounds, measure_some)
            # As measured, and brought to the calibration's pace with the
            # same speed reference (each process's time x pace / its
            # reference's time), over each model's quiet processes (of
            # all its measurements).
            quiet = {stem: quiet_processes(r) for stem, r in rounds.items()}
            measured = {stem: statistics.median(ms for ms, _ in r)
                        for stem, r in quiet.items()}
            powers = {m[0]: pace_power(args.build, [m], first, work)
                      for m in models}
            at_pace = {stem: statistics.median(ms * (pace / ref) **
                                               powers[stem]
                                               for ms, ref in r)
                       for stem, r in quiet.items()}
            left_out = {stem: len(rounds[stem]) - len(r)
                        for stem, r in quiet.items() if len(r) <
                        len(rounds[stem])}
            if left_out:
                print(f"  level {level}: processes left out as loaded (their "
                      f"speed reference more than {QUIET_PROCESS_SPREAD}% "
                      f"slower than the model's quickest process's): " +
                      ", ".join(f"{s} {n} of {len(rounds[s])}"
                                for s, n in sorted(left_out.items())),
                      flush=True)
            seconds2 = calibrate(args.build, args.ort, level, second, keep(2),
                                 args.reuse, args.pace)
            _, pace2 = calibration_pace(keep(2), second)
            print(f"level {level}: chorus-calibrate --measure took "
                  f"{seconds:.0f} s, then {seconds2:.0f} s")
            print(f"  {'held-out model':30s} {'kernels':>7s} "
                  f"{'predicted ms':>12s} {'measured ms':>11s} {'error':>7s} "
                  f"{'at pace ms':>10s} {'error':>7s} {'2nd run':>8s} "
                  f"{'one pace':>8s}")
            errors, paced, drifts, same_pace, now = [], [], [], [], []
            first_predicted = {}
            for stem, path, dims, shape in models:
                predicted, report = predict(args.build, path, dims, first,
                                            work)
                kernels = report["kernels"]
                first_predicted[stem] = predicted
                again, _ = predict(args.build, path, dims, second, work)
                if os.path.exists(repaced):
                    at_now, _ = predict(args.build, path, dims, repaced, work)
                    now.append(abs(at_now - measured[stem]) / measured[stem])
                ms, pms = measured[stem], at_pace[stem]
                error = (predicted - ms) / ms
                perror = (predicted - pms) / pms
                drift = (again - predicted) / predicted
                errors.append(abs(error))
                paced.append(abs(perror))
                drifts.append(abs(drift))
                # The second target brought to the first one's pace: how
                # far the fits differ, apart from the machine's speed.
                one = (again * (pace / pace2) ** powers[stem] -
                       predicted) / predicted
                same_pace.append(abs(one))
                print(f"  {stem:30s} {kernels:7d} {predicted:12.2f} {ms:11.2f}"
                      f" {100 * error:+6.1f}% {pms:10.2f} {100 * perror:+6.1f}%"
                      f" {100 * drift:+7.1f}% {100 * one:+7.1f}%")
            labels = [("as measured", errors),
                      ("at the calibration's pace", paced)]
            if now:
                labels.append(("as measured, the target re-paced just "
                               "before (chorus-calibrate --repace)", now))
            # The windows measured again, as measured and at pace.
            for file, spread, window in loaded:
                for how, value in (
                        ("as measured", lambda ms, ref, stem: ms),
                        ("at the calibration's pace",
                         lambda ms, ref, stem: ms * (pace / ref) **
                         powers[stem])):
                    e = [abs(first_predicted[stem] / statistics.median(
                        value(ms, ref, stem) for ms, ref in r) - 1)
                         for stem, r in window.items()]
                    labels.append((f"{how} in the refused loaded window "
                                   f"({spread:.1f}% behind; {file})", e))
            # The models measured again, at their first measurement.
            if first_rounds:
                e = [abs(first_predicted[stem] / statistics.median(
                    ms for ms, _ in first_rounds.get(stem, r)) - 1)
                     for stem, r in rounds.items()]
                labels.append(("as measured, the models measured again at "
                               "their first measurement (" +
                               ", ".join(sorted(first_rounds)) + ")", e))
            for label, e in labels:
                print(f"  level {level}: held-out MAPE {label} "
                      f"{100 * statistics.mean(e):.1f}%, "
                      f"{sum(x <= 0.15 for x in e)} of {len(e)} within 15%")
            print(f"  level {level}: the two calibrations' predictions differ "
                  f"by at most {100 * max(drifts):.1f}% (median "
                  f"{100 * statistics.median(drifts):.1f}%); speed reference "
                  f"{pace:.3f} ms at the first calibration's pace, "
                  f"{pace2:.3f} ms at the second's")
            # How far the machine itself moved: its quickest tenth of
            # processes (a machine's pace free of its neighbours' load)
            # against its median one (with that load).
            times = (reference_times(keep(1)), reference_times(keep(2)))
            quick = [t[len(t) // 10] for t in times]
            middle = [t[len(t) // 2] for t in times]
            print(f"  level {level}: the speed reference's quickest tenth of "
                  f"processes {quick[0]:.3f} ms in the first calibration, "
                  f"{quick[1]:.3f} ms in the second "
                  f"({100 * (quick[1] / quick[0] - 1):+.1f}%; median "
                  f"{100 * (middle[1] / middle[0] - 1):+.1f}%; the targets' "
                  f"pace {100 * (pace2 / pace - 1):+.1f}%)")
            print(f"  level {level}: brought to one pace, the two "
                  f"calibrations' predictions differ by at most "
                  f"{100 * max(same_pace):.1f}% (median "
                  f"{100 * statistics.median(same_pace):.1f}%), "
                  f"{sum(x <= 0.05 for x in same_pace)} of {len(same_pace)} "
                  f"within 5%")
            if not args.no_memory:
                print_memory(args, level, models, first, work)
            if not args.no_pairs:
                print_pairs_and_threads(args, level, models, first, work,
                                        reference, pace)


if __name__ == "__main__":
    main()
