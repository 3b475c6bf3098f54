#!/usr/bin/python3
"""Which operator variants ONNX Runtime Web's backends refuse, found by
running them in real browsers.

  /usr/bin/python3 bench/browser-conformance.py [--models DIR] [--work DIR]
      [--write-refusals FILE] [--no-verify] [MODEL.onnx[:NAME=V,...] ...]

1. Variants. Every top-level node of the corpus models (default: the three
   PaddleOCR models, torchvision networks, a text transformer with int64
   inputs; or the models given, with their symbolic dims bound) is
   described by its operator, its input element types, the rank of its
   first input, the group of a convolution (1, depthwise or grouped) and
   its attributes: INT and STRING ones by value (an absent one by its ONNX
   default), the others by presence. Nodes with the same description are
   one variant.
2. One model per variant: the first node of each, alone, with its
   model's opset. Its model is run once with ONNX Runtime (bench/
   ort-values.js, onnxruntime-node) for the dims of every value; the
   node's constant inputs (initializers, Constant outputs) and the small
   integer values the run computed (shapes, axes, indices: at most 64
   elements) become initializers, its other inputs model inputs of those
   dims.
3. Execution: each variant model is created and run once
   (bench/browser-ort.js --check; inputs 0.5 for floats, 1 for integers)
   on every backend: wasm and WebGPU (SwiftShader) in Chromium, wasm in
   Firefox ESR. A variant that runs on wasm in Chromium but fails on a
   backend, or whose outputs there differ from wasm's (sum or largest
   magnitude off by more than 1e-3 relative, or values that are not
   finite where wasm's are), is refused by that backend.
4. Refusals: for each refused variant, the condition is what sets it apart
   from the variants of the same operator that ran (the features no
   passing variant shares), else its whole description. --write-refusals
   writes them (chorus-op-refusals-1), the file
   utils/op-support-from-ort-web.py merges into Chorus's op-support
   tables.
5. Verification (unless --no-verify): every corpus model runs whole on
   every backend, and chorus-plan's verdict for it on the browser target
   (with the op-support table as built: rebuild after writing new
   refusals) must agree: "does not run" exactly where the run failed.

Prints each backend's refused variants with the runtime's message, the
variants no backend could check (they fail on wasm too, mostly from the
sweep's own input values), and the verification table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import onnx
from onnx import defs, helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from benchlib import MODELS as PADDLE, models_dir  # noqa: E402

TORCHVISION = ["resnet18", "mobilenet_v2", "squeezenet1_1",
               "shufflenet_v2_x1_0", "segmentation.lraspp_mobilenet_v3_large@512"]
TEXT = "text_transformer"
# (name, browser, backend): where every variant runs. The first is the
# reference the others are compared with.
BACKENDS = [("chromium-wasm", "chromium", "wasm"),
            ("chromium-webgpu", "chromium", "webgpu"),
            ("firefox-wasm", "firefox", "wasm")]
TYPE_NAMES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16:
              "float16", onnx.TensorProto.DOUBLE: "float64",
              onnx.TensorProto.INT64: "int64", onnx.TensorProto.INT32:
              "int32", onnx.TensorProto.INT16: "int16", onnx.TensorProto.INT8:
              "int8", onnx.TensorProto.UINT8: "uint8", onnx.TensorProto.UINT16:
              "uint16", onnx.TensorProto.UINT32: "uint32",
              onnx.TensorProto.UINT64: "uint64", onnx.TensorProto.BOOL:
              "bool", onnx.TensorProto.STRING: "string"}


def corpus(models, given):
    """[(stem, path, {dim: value} or None, first input shape or None)]."""
    if given:
        out = []
        for spec in given:
            path, _, dims = spec.partition(":")
            bound = {}
            for d in filter(None, dims.split(",")):
                name, _, value = d.partition("=")
                bound[name] = int(value)
            out.append((os.path.splitext(os.path.basename(path))[0], path,
                        bound, None))
        return out
    ocr = models_dir(os.path.join(ROOT, "build"))
    out = [(stem, os.path.join(ocr, stem + ".onnx"), {}, shape)
           for stem, _, shape in PADDLE]
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-torchvision.py"), models] +
                   TORCHVISION, check=True, capture_output=True)
    for spec in TORCHVISION:
        name, _, size = spec.partition("@")
        stem = name.split(".")[-1] + (f"_{size}" if size else "")
        size = int(size or 224)
        out.append((stem, os.path.join(models, stem + ".onnx"), {},
                    [1, 3, size, size]))
    text = os.path.join(models, TEXT + ".onnx")
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-text-transformer.py"), text],
                   check=True, capture_output=True)
    out.append((TEXT, text, {"sequence": 64}, None))
    return out


def bind(model, dims, shape):
    """Fixes the model's input dims: the first input's to `shape`, every
    symbolic one to dims[name]."""
    for i, value in enumerate(model.graph.input):
        for j, d in enumerate(value.type.tensor_type.shape.dim):
            if i == 0 and shape:
                d.Clear()
                d.dim_value = shape[j]
            elif d.dim_param in dims:
                v = dims[d.dim_param]
                d.Clear()
                d.dim_value = v


def opset_of(model, domain):
    for o in model.opset_import:
        if o.domain == domain or (domain in ("", "ai.onnx") and
                                  o.domain in ("", "ai.onnx")):
            return o.version
    return None


def attribute_value(a):
    if a.type == onnx.AttributeProto.INT:
        return a.i
    if a.type == onnx.AttributeProto.STRING:
        return a.s.decode()
    return "present"


def describe(node, model, types, shapes):
    """The variant's features: {name: value}."""
    f = {"op": (node.domain or "ai.onnx") + "." + node.op_type}
    f["input_types"] = ",".join(types.get(i, "?") if i else "-"
                                for i in node.input)
    if node.input and node.input[0] in shapes:
        f["rank"] = len(shapes[node.input[0]])
    attrs = {a.name: a for a in node.attribute}
    try:
        schema = defs.get_schema(node.op_type, opset_of(model, node.domain),
                                 node.domain)
        names = set(schema.attributes) | set(attrs)
    except Exception:
        schema, names = None, set(attrs)
    for name in sorted(names):
        if name in attrs:
            f["attr:" + name] = attribute_value(attrs[name])
        else:
            default = schema.attributes[name].default_value
            if default.type in (onnx.AttributeProto.INT,
                                onnx.AttributeProto.STRING):
                f["attr:" + name] = attribute_value(default)
            else:
                f["attr:" + name] = "absent"
    if node.op_type in ("Conv", "ConvTranspose") and "attr:group" in f:
        g = f["attr:group"]
        channels = (shapes.get(node.input[0]) or [0, 0])[1]
        f["attr:group"] = (1 if g == 1 else "depthwise"
                           if g == channels else "grouped")
    return f


def run_values(model, stem, dims, shape, work, ort):
    """Every value of `model` in one run of ONNX Runtime (bench/
    ort-values.js): {name: {type, dims, data?}}."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    listed = {o.name for o in m.graph.output}
    for node in m.graph.node:
        for name in node.output:
            if name and name not in listed:
                m.graph.output.append(onnx.ValueInfoProto(name=name))
                listed.add(name)
    path = os.path.join(work, f"{stem}-all-values.onnx")
    onnx.save(m, path)
    cmd = ["node", os.path.join(HERE, "ort-values.js"), ort, path,
           ",".join(map(str, shape)) if shape else "-",
           ",".join(f"{k}={v}" for k, v in dims.items())]
    out = subprocess.run(cmd, capture_output=True, text=True)
    os.remove(path)
    if out.returncode:
        sys.exit(f"bench/ort-values.js failed on {stem}:\n{out.stderr}")
    return json.loads(out.stdout)


def variants(models, work, ort):
    """[(key, features, model, node, stem, values)], the first node of each
    variant."""
    found = {}
    for stem, path, dims, shape in models:
        model = onnx.load(path)
        bind(model, dims, shape)
        inferred = shape_inference.infer_shapes(model)
        values = run_values(model, stem, dims, shape, work, ort)
        types, shapes = {}, {}
        for v in (list(inferred.graph.input) + list(inferred.graph.output) +
                  list(inferred.graph.value_info)):
            t = v.type.tensor_type
            types[v.name] = TYPE_NAMES.get(t.elem_type, str(t.elem_type))
            if t.HasField("shape"):
                shapes[v.name] = [d.dim_value if d.HasField("dim_value")
                                  else None for d in t.shape.dim]
        for name, v in values.items():
            types[name] = v["type"]
            shapes[name] = v["dims"]
        for init in model.graph.initializer:
            types[init.name] = TYPE_NAMES.get(init.data_type,
                                              str(init.data_type))
            shapes[init.name] = list(init.dims)
        for node in model.graph.node:
            if node.op_type == "Constant":
                continue
            f = describe(node, model, types, shapes)
            key = json.dumps(f, sort_keys=True)
            if key not in found:
                found[key] = (f, inferred, node, stem, values)
    return [(k, *v) for k, v in sorted(found.items())]


ELEM_TYPES = {v: k for k, v in TYPE_NAMES.items()}


def one_node_model(inferred, node, values, path):
    """Writes `node` alone as a model: its constant inputs (initializers,
    Constant outputs, and small integer values the run computed: shapes,
    axes, indices) as initializers, its other inputs as model inputs of the
    dims the run gave them. False when an input is unknown."""
    g = inferred.graph
    inits = {i.name: i for i in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
    inputs, initializers = [], []
    for name in dict.fromkeys(i for i in node.input if i):
        if name in inits:
            initializers.append(inits[name])
        elif name in consts:
            value = next(a for a in consts[name].attribute)
            if value.type != onnx.AttributeProto.TENSOR:
                return False
            t = onnx.TensorProto()
            t.CopyFrom(value.t)
            t.name = name
            initializers.append(t)
        elif name in values and values[name]["type"] in ELEM_TYPES:
            v = values[name]
            if "data" in v and v["type"] != "bool":
                initializers.append(helper.make_tensor(
                    name, ELEM_TYPES[v["type"]], v["dims"], v["data"]))
            else:
                inputs.append(helper.make_tensor_value_info(
                    name, ELEM_TYPES[v["type"]], v["dims"]))
        else:
            return False
    outputs = []
    for name in node.output:
        if not name:
            continue
        if name not in values or values[name]["type"] not in ELEM_TYPES:
            return False
        outputs.append(helper.make_tensor_value_info(
            name, ELEM_TYPES[values[name]["type"]], values[name]["dims"]))
    graph = helper.make_graph([node], "variant", inputs, outputs,
                              initializer=initializers)
    m = helper.make_model(graph, opset_imports=inferred.opset_import)
    m.ir_version = inferred.ir_version
    onnx.save(m, path)
    return True


def check(browser, backend, paths):
    cmd = ["node", os.path.join(HERE, "browser-ort.js"), "--check",
           "--backend", backend, "--browser", browser,
           "--optimization", "all"] + paths
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"bench/browser-ort.js --check ({browser} {backend}) "
                 f"failed:\n{out.stderr}")
    return json.loads(out.stdout)


def differs(ref, got):
    """Why `got`'s outputs differ from the reference's, or None."""
    for a, b in zip(ref["outputs"], got["outputs"]):
        if a["dims"] != b["dims"]:
            return f"output '{a['name']}' has dims {b['dims']}, not {a['dims']}"
        if b["nonfinite"] > a["nonfinite"]:
            return (f"output '{a['name']}' has {b['nonfinite']} values that "
                    f"are not finite")
        for stat in ("sum", "absmax"):
            x, y = a[stat], b[stat]
            if abs(x - y) > 1e-3 * max(1.0, abs(x)):
                return (f"output '{a['name']}': {stat} {y:.6g}, "
                        f"wasm {x:.6g}")
    return None


def condition(features, passing):
    """The features of a refused variant no passing variant of its operator
    shares; all of them when there is none."""
    unique = {k: v for k, v in features.items() if k != "op" and
              all(p.get(k) != v for p in passing)}
    return unique or {k: v for k, v in features.items() if k != "op"}


def when_object(cond):
    """Features -> the op-support table's "when" object."""
    when = {}
    for k, v in sorted(cond.items()):
        if k.startswith("attr:"):
            name = k[5:]
            if v == "absent":
                when.setdefault("absent", []).append(name)
            elif v == "present":
                when.setdefault("present", []).append(name)
            elif name == "group" and k == "attr:group" and isinstance(v, str):
                when["group"] = v
            else:
                when.setdefault("attributes", {})[name] = v
        elif k == "input_types":
            when["input_types"] = v.split(",")
        elif k == "rank":
            when["rank"] = v
    return when


def browser_versions(work):
    """The browsers' versions, as the probe reads them."""
    out = {}
    for browser in ("chromium", "firefox"):
        d = os.path.join(work, "probe-" + browser)
        cmd = ["node", os.path.join(ROOT, "tools", "chorus-probe",
                                    "run-probe.js"), "--out", d,
               "--browser", browser]
        if browser == "chromium":
            cmd.append("--webgpu-swiftshader")
        subprocess.run(cmd, check=True, capture_output=True)
        with open(os.path.join(d, f"{browser}-wasm.json")) as fh:
            out[browser] = json.load(fh)["browser"]["version"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models_given", nargs="*", metavar="MODEL")
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--ort", default=os.path.join(ROOT, "build", "npm",
                                                  "node_modules"),
                    help="node_modules holding onnxruntime-node")
    ap.add_argument("--write-refusals", metavar="FILE")
    ap.add_argument("--no-verify", dest="verify", action="store_false")
    args = ap.parse_args()
    for path in ("/usr/bin/chromium", "/usr/bin/firefox-esr"):
        if not os.path.exists(path):
            sys.exit(f"no {path}; run utils/bootstrap.sh")
    work = args.work or tempfile.mkdtemp(prefix="chorus-conformance-")
    os.makedirs(work, exist_ok=True)
    models = corpus(args.models, args.models_given)
    found = variants(models, work, args.ort)
    paths, kept = [], []
    for i, (key, f, inferred, node, stem, values) in enumerate(found):
        path = os.path.join(work, f"variant{i:03d}-{node.op_type}.onnx")
        if one_node_model(inferred, node, values, path):
            paths.append(path)
            kept.append((key, f, stem, path))
        else:
            print(f"not built (an input is neither a value of the run nor "
                  f"a constant): {f['op']} from {stem}")
    print(f"{len(found)} variants of "
          f"{len({f['op'] for _, f, *_ in found})} operators in "
          f"{len(models)} models; {len(kept)} built\n")
    results = {name: check(browser, backend, paths)
               for name, browser, backend in BACKENDS}
    ref = results[BACKENDS[0][0]]
    refused, unchecked = {}, []
    for j, (key, f, stem, path) in enumerate(kept):
        if not ref[j]["ok"]:
            unchecked.append((f, stem, ref[j]))
            continue
        for name, _, _ in BACKENDS[1:]:
            got = results[name][j]
            why = (f"{got['stage']}: {got['error']}" if not got["ok"] else
                   differs(ref[j], got))
            if why:
                refused.setdefault(name, []).append((f, stem, why, got))
    versions = browser_versions(work)
    doc = {"schema": "chorus-op-refusals-1",
           "runtime": "onnxruntime-web 1.30.0", "backends": {}}
    for name, _, backend in BACKENDS[1:]:
        print(f"{name}: {len(refused.get(name, []))} of {len(kept)} "
              f"variants refused")
        for f, stem, why, got in refused.get(name, []):
            passing = [g for (_, g, _, _), r in zip(kept, results[name])
                       if g["op"] == f["op"] and r["ok"] and
                       g is not f]
            cond = condition(f, passing)
            print(f"  {f['op']} {json.dumps(cond, sort_keys=True)} "
                  f"(from {stem}): {why}")
            browser = name.split("-")[0]
            entry = {"when": when_object(cond),
                     "error": got["error"] if not got["ok"] else why,
                     "stage": got["stage"] if not got["ok"] else "result",
                     "seen": f"{browser} {versions[browser]}" +
                             (", SwiftShader adapter" if backend == "webgpu"
                              else "")}
            op = f["op"][len("ai.onnx."):] if f["op"].startswith(
                "ai.onnx.") else f["op"]
            ops = doc["backends"].setdefault(backend, {})
            if entry not in ops.setdefault(op, []):
                ops[op].append(entry)
    if unchecked:
        print(f"\nnot checked: {len(unchecked)} variants fail on wasm too "
              "(with the sweep's input values):")
        for f, stem, r in unchecked:
            print(f"  {f['op']} from {stem}: {r['stage']}: "
                  f"{r['error'][:160]}")
    if args.write_refusals:
        with open(args.write_refusals, "w") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"\nwrote {args.write_refusals}")
    if args.verify:
        verify(args, models, work)


def verify(args, models, work):
    """Runs every corpus model whole on every backend and compares with
    chorus-plan's verdict on the probe's target for that backend."""
    print("\nwhole models, run on each backend against chorus-plan's "
          "verdict (measured/predicted)")
    print(f"{'model':34} " + " ".join(f"{n:>22}" for n, _, _ in BACKENDS))
    agree = total = 0
    specs = []
    for stem, path, dims, shape in models:
        spec = path + (":" + ",".join(map(str, shape)) if shape else "")
        specs.append(spec)
    runs = {}
    for name, browser, backend in BACKENDS:
        cmd = ["node", os.path.join(HERE, "browser-ort.js"), "--check",
               "--backend", backend, "--browser", browser,
               "--optimization", "all"]
        for _, _, dims, _ in models:
            for k, v in dims.items():
                cmd += ["--dim", f"{k}={v}"]
        out = subprocess.run(cmd + specs, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"whole-model check on {name} failed:\n{out.stderr}")
        runs[name] = json.loads(out.stdout)
    for i, (stem, path, dims, shape) in enumerate(models):
        cells = []
        for name, browser, backend in BACKENDS:
            target = os.path.join(work, f"probe-{browser}",
                                  f"{browser}-{backend}.json")
            cmd = [os.path.join(args.build, "bin", "chorus-plan"), path,
                   "--target-file", target, "-o", os.devnull]
            cmd += [f"--dim={k}={v}" for k, v in dims.items()]
            if shape:
                model = onnx.load(path, load_external_data=False)
                cmd.append(f"--input-shape={model.graph.input[0].name}="
                           + "x".join(map(str, shape)))
            plan = subprocess.run(cmd, capture_output=True, text=True)
            predicted = "does not run on" not in plan.stderr
            if plan.returncode and predicted:
                sys.exit(f"chorus-plan failed on {stem}:\n{plan.stderr}")
            ran = runs[name][i]["ok"]
            total += 1
            agree += predicted == ran
            cells.append(f"{'runs' if ran else 'fails'}/"
                         f"{'runs' if predicted else 'refused'}"
                         f"{'' if predicted == ran else ' MISMATCH'}")
        print(f"{stem:34} " + " ".join(f"{c:>22}" for c in cells))
    print(f"\nverdicts agreeing with execution: {agree} of {total}")


if __name__ == "__main__":
    main()
