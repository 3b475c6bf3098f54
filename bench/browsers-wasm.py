#!/usr/bin/env python3
"""ONNX Runtime Web's wasm backend in two browsers, side by side.

  bench/browsers-wasm.py [--rounds R] [--runs N] [--warmup-s S]
      [--models DIR] [--optimization disabled|all]

Times the same models with onnxruntime-web 1.30.0 (build/npm, one thread)
in Debian's headless Chromium (driven by playwright-core) and Firefox ESR
(the page times by itself and posts its results), with bench/browser-ort.js.
The browsers take turns: each of --rounds rounds starts a fresh Chromium,
then a fresh Firefox, and times every model in one page (--warmup-s seconds
of warm-up runs, then --runs timed ones). A model's latency in a browser is
the median of its timed runs over all rounds; the ratio is Firefox's over
Chromium's, so both figures come from the same minutes of the machine.

Models: the three PaddleOCR models (dims as in bench/benchlib.py),
torchvision networks (bench/export-torchvision.py, random weights) and a
small decoder-only text transformer with int64 inputs at 64 tokens
(bench/export-text-transformer.py), exported into --models.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from benchlib import MODELS as PADDLE, models_dir  # noqa: E402

TORCHVISION = ["resnet18", "mobilenet_v2", "squeezenet1_1",
               "shufflenet_v2_x1_0"]
TEXT = ("text_transformer", ["sequence=64"])
BROWSERS = ["chromium", "firefox"]


def entries(models):
    ocr = models_dir(os.path.join(ROOT, "build"))
    out = [(stem, os.path.join(ocr, stem + ".onnx"), shape, [])
           for stem, _, shape in PADDLE]
    out += [(name, os.path.join(models, name + ".onnx"), [1, 3, 224, 224],
             []) for name in TORCHVISION]
    out.append((TEXT[0], os.path.join(models, TEXT[0] + ".onnx"), None,
                TEXT[1]))
    return out


def run(browser, models, args):
    cmd = ["node", os.path.join(HERE, "browser-ort.js"), "--backend", "wasm",
           "--browser", browser, "--runs", str(args.runs), "--warmup", "2",
           "--warmup-s", str(args.warmup_s), "--optimization",
           args.optimization]
    for _, _, _, dims in models:
        for d in dims:
            if ["--dim", d] not in [cmd[i:i + 2] for i in range(len(cmd))]:
                cmd += ["--dim", d]
    cmd += [path + (":" + ",".join(map(str, shape)) if shape else "")
            for _, path, shape, _ in models]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"bench/browser-ort.js --browser {browser} failed:\n"
                 f"{out.stderr}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup-s", type=float, default=3)
    ap.add_argument("--optimization", default="all",
                    choices=["disabled", "basic", "extended", "all"])
    ap.add_argument("--models", default=os.path.join(ROOT, "build",
                                                     "bench-models"))
    args = ap.parse_args()
    for path in ("/usr/bin/chromium", "/usr/bin/firefox-esr"):
        if not os.path.exists(path):
            sys.exit(f"no {path}; run utils/bootstrap.sh")
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-torchvision.py"), args.models]
                   + TORCHVISION, check=True, capture_output=True)
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "export-text-transformer.py"),
                    os.path.join(args.models, TEXT[0] + ".onnx")],
                   check=True, capture_output=True)
    models = entries(args.models)
    times = {b: {stem: [] for stem, *_ in models} for b in BROWSERS}
    for r in range(args.rounds):
        for b in BROWSERS:
            print(f"round {r + 1}/{args.rounds}: {b}", file=sys.stderr,
                  flush=True)
            for (stem, *_), res in zip(models, run(b, models, args)):
                times[b][stem] += res["runs_ms"]
    print(f"ONNX Runtime Web 1.30.0 wasm, 1 thread, graph optimization "
          f"{args.optimization}; median of {args.rounds} rounds x "
          f"{args.runs} runs, the browsers taking turns\n")
    print(f"{'model':34} {'Chromium ms':>12} {'Firefox ms':>12} "
          f"{'Firefox/Chromium':>17}")
    ratios = []
    for stem, *_ in models:
        c = statistics.median(times["chromium"][stem])
        f = statistics.median(times["firefox"][stem])
        ratios.append(f / c)
        print(f"{stem:34} {c:12.2f} {f:12.2f} {f / c:17.2f}")
    print(f"\nFirefox/Chromium: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f} to {max(ratios):.2f}")


if __name__ == "__main__":
    main()
