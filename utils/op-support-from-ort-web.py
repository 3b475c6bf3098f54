#!/usr/bin/env python3
"""Writes Chorus's op-support tables from ONNX Runtime Web's published ones.

  utils/op-support-from-ort-web.py NODE_MODULES OUT_DIR [--refusals FILE]

Reads the operator tables that the npm package onnxruntime-web ships
(NODE_MODULES/onnxruntime-web/docs/webgpu-operators.md: the WebGPU
execution provider the package's default build uses, JSEP;
docs/webnn-operators.md: the WebNN execution provider) and writes one
chorus-op-support-1 JSON file per backend into OUT_DIR, named
onnxruntime-web-<version>-<backend>.json, with every operator, the opset
ranges of each domain in ONNX Runtime's notation and the table's comment.
Where a comment says that named inputs must be constants ("Input 'shape'
should be a constant", "Input 'starts', 'ends', 'axes', and 'steps' if
present must be a constant", "'axis' input should be a constant"), the
names are also written as "constant_inputs", which Chorus checks; the rest
of a comment is kept as text. The WebNN table also names, per operator,
the WebNN API operations (MLGraphBuilder methods) the provider builds it
from; they are written as "webnn_ops", so that a browser whose WebNN
context lacks one of them (its opSupportLimits()) can be told apart.
The wasm backend has no table: it is ONNX Runtime's CPU execution provider
compiled to WebAssembly, which Chorus treats as running every operator.

What the tables list is what ONNX Runtime Web claims; a variant of a
listed operator that fails when run (MaxPool with ceil_mode 1 on WebGPU)
is recorded by bench/browser-conformance.py in
utils/ort-web-refusals/onnxruntime-web-<version>.json (chorus-op-refusals-1:
per backend and operator, the condition, the runtime's message and where
it was seen). When that file exists for the package's version (or
--refusals names one), each refusal is written into its operator's entry
as "refusals", so that the table carries it with the version it was found
in.

The files under lib/Target/opsupport/ are this script's output for the
version bootstrap installs; test/Target/op-support-tables.test regenerates
them from the installed package and compares. Output is deterministic
(keys sorted, no dates).
"""
import json
import os
import re
import sys

TABLES = [("webgpu", "webgpu-operators.md"), ("webnn", "webnn-operators.md")]
DOMAIN = re.compile(r"([A-Za-z][A-Za-z0-9_.]*)\(([^)]*)\)")
# One or more quoted input names, optionally "input", a parenthesis and
# "if present", then "should/must be (a) constant(s)".
CONSTANT = re.compile(r"((?:'\w+'(?:,\s*and\s+|,\s*|\s+and\s+)?)+)\s*"
                      r"(?:input\s+)?(?:\([^)]*\)\s*)?(?:\(?if present\)?\s*)?"
                      r"(?:should|must) be (?:a )?constants?\b")


def constant_inputs(note):
    """The input names a table comment requires to be constants."""
    names = []
    for m in CONSTANT.finditer(note):
        names += [n for n in re.findall(r"'(\w+)'", m.group(1))
                  if n not in names]
    return names


def parse_table(text, path):
    """Rows of the first Markdown table whose header starts with Operator."""
    rows, header = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if header and rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            if cells and cells[0] == "Operator":
                header = cells
            continue
        if all(set(c) <= set(":- ") for c in cells):
            continue
        if len(cells) != len(header):
            sys.exit(f"{path}: a row has {len(cells)} cells, the header "
                     f"{len(header)}: {line}")
        rows.append(dict(zip(header, cells)))
    if not rows:
        sys.exit(f"{path}: no operator table found")
    return rows


def parse_opsets(cell, path, op):
    """'ai.onnx(7-12, 13+); com.microsoft(1+)' -> {domain: '7-12,13+'}."""
    domains = {}
    for domain, ranges in DOMAIN.findall(cell):
        parts = [p.strip() for p in ranges.split(",") if p.strip()]
        for p in parts:
            if not re.fullmatch(r"\d+(-\d+|\+)?", p):
                sys.exit(f"{path}: {op}: cannot read opset range '{p}'")
        domains[domain] = ",".join(parts)
    if not domains:
        sys.exit(f"{path}: {op}: cannot read the opset cell '{cell}'")
    return domains


REFUSALS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "ort-web-refusals")
WHEN_KEYS = {"attributes", "absent", "present", "input_types", "rank",
             "group"}


def read_refusals(version, tables, path=None):
    """{backend: {op: [refusal]}} from `path`, else the refusals file of
    `version` if there is one; `tables` maps backend to its operators, to
    check that every refused operator is one the table lists."""
    if path is None:
        path = os.path.join(REFUSALS, f"onnxruntime-web-{version}.json")
        if not os.path.exists(path):
            return {}
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: cannot read: {e}")
    if doc.get("schema") != "chorus-op-refusals-1":
        sys.exit(f"{path}: schema must be chorus-op-refusals-1")
    if doc.get("runtime") != f"onnxruntime-web {version}":
        sys.exit(f"{path}: runtime must be 'onnxruntime-web {version}', not "
                 f"{doc.get('runtime')!r}")
    out = {}
    backends = doc.get("backends")
    if not isinstance(backends, dict):
        sys.exit(f"{path}: backends must be an object from backend to "
                 f"operators")
    for backend, ops in backends.items():
        if backend not in tables:
            sys.exit(f"{path}: no table for backend '{backend}'")
        for op, refusals in ops.items():
            if op not in tables[backend]:
                sys.exit(f"{path}: {backend}: operator {op} is not in the "
                         f"table, so it cannot be refused")
            if not isinstance(refusals, list) or not refusals:
                sys.exit(f"{path}: {backend}: {op}: refusals must be a "
                         f"non-empty list")
            for r in refusals:
                if not isinstance(r, dict) or set(r) != {
                        "when", "error", "stage", "seen"} or not (
                        isinstance(r["when"], dict) and r["when"] and
                        set(r["when"]) <= WHEN_KEYS):
                    sys.exit(f"{path}: {backend}: {op}: a refusal needs "
                             f"when ({', '.join(sorted(WHEN_KEYS))}), "
                             f"error, stage and seen")
        out[backend] = ops
    return out


def main():
    args = sys.argv[1:]
    refusals_path = None
    if "--refusals" in args:
        i = args.index("--refusals")
        if i + 1 >= len(args):
            sys.exit(__doc__)
        refusals_path = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    sys.argv[1:] = args
    package = os.path.join(sys.argv[1], "onnxruntime-web")
    try:
        with open(os.path.join(package, "package.json")) as fh:
            version = json.load(fh)["version"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"{package}/package.json: cannot read the version: {e}")
    os.makedirs(sys.argv[2], exist_ok=True)
    tables = {}
    for backend, doc in TABLES:
        path = os.path.join(package, "docs", doc)
        try:
            with open(path, encoding="utf-8") as fh:
                rows = parse_table(fh.read(), path)
        except OSError as e:
            sys.exit(f"{path}: cannot read: {e.strerror}")
        ops = {}
        for row in rows:
            op = row["Operator"].strip()
            entry = {"opsets": parse_opsets(row["Opset"], path, op)}
            if row.get("Comments"):
                entry["note"] = row["Comments"]
                names = constant_inputs(row["Comments"])
                if names:
                    entry["constant_inputs"] = names
            if row.get("WebNN API"):
                webnn = [w.strip() for w in row["WebNN API"].split(",")]
                for w in webnn:
                    if not re.fullmatch(r"[a-z][A-Za-z0-9]*", w):
                        sys.exit(f"{path}: {op}: cannot read the WebNN API "
                                 f"cell '{row['WebNN API']}'")
                entry["webnn_ops"] = sorted(set(webnn))
            if op in ops:
                sys.exit(f"{path}: operator {op} is listed twice")
            ops[op] = entry
        tables[backend] = (doc, ops)
    refusals = read_refusals(version, {b: t[1] for b, t in tables.items()},
                             refusals_path)
    # How the tables name the refusals file: the repository's by its path
    # there, another by its file name.
    refusals_name = (os.path.basename(refusals_path) if refusals_path else
                     f"utils/ort-web-refusals/onnxruntime-web-{version}.json")
    for backend, (doc, ops) in tables.items():
        for op, entries in refusals.get(backend, {}).items():
            ops[op]["refusals"] = entries
        name = f"onnxruntime-web-{version}-{backend}"
        table = {
            "schema": "chorus-op-support-1",
            "name": name,
            "runtime": f"onnxruntime-web {version}",
            "backend": backend,
            "source": f"onnxruntime-web {version} (npm), docs/{doc}" + (
                f"; refusals: {refusals_name} (bench/browser-conformance.py)"
                if refusals.get(backend) else ""),
            "ops": ops,
        }
        with open(os.path.join(sys.argv[2], name + ".json"), "w",
                  encoding="utf-8") as fh:
            json.dump(table, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.write("\n")


if __name__ == "__main__":
    main()
