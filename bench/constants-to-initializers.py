#!/usr/bin/env python3
"""Writes a copy of an ONNX model whose Constant nodes (those holding a
tensor in their `value` attribute) are graph initializers instead, the
rest unchanged, so that what a runtime's load takes can be compared
between the two ways a file holds the same weights:

  /usr/bin/python3 bench/constants-to-initializers.py IN.onnx OUT.onnx
  node bench/ort-load.js build/npm/node_modules disabled IN.onnx once
  node bench/ort-load.js build/npm/node_modules disabled OUT.onnx once

Needs Python's onnx package (Debian: python3-onnx). Writes OUT only.
"""

import argparse
import os
import sys

try:
    import onnx
except ImportError:
    sys.exit("constants-to-initializers.py: needs Python's onnx package "
             "(apt-get install python3-onnx)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", metavar="IN.onnx")
    ap.add_argument("output", metavar="OUT.onnx")
    args = ap.parse_args()
    if not os.path.isfile(args.input):
        ap.error(f"no such model: {args.input}")
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        ap.error("OUT.onnx must differ from IN.onnx")
    try:
        model = onnx.load(args.input)
    except Exception as e:  # onnx raises several kinds on a bad file
        sys.exit(f"{args.input}: not an ONNX model: {e}")
    graph = model.graph
    kept, moved, moved_bytes = [], 0, 0
    for node in graph.node:
        if (node.op_type == "Constant" and node.domain in ("", "ai.onnx")
                and len(node.attribute) == 1
                and node.attribute[0].name == "value"
                and len(node.output) == 1):
            tensor = onnx.TensorProto()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
            moved += 1
            moved_bytes += len(tensor.raw_data)
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    onnx.save(model, args.output)
    print(f"{moved} Constant nodes made initializers "
          f"({moved_bytes / 1e6:.2f} MB of raw data); wrote {args.output}")


if __name__ == "__main__":
    main()
