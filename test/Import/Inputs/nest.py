#!/usr/bin/env python3
"""Prints a model whose If nodes nest DEPTH levels deep.

  nest.py text DEPTH    ONNX text syntax
  nest.py binary DEPTH  binary protobuf, written here (protoc itself
                        overflows its stack encoding thousands of levels)
"""
import sys


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def binary(depth):
    identity = field(1, field(1, "c") + field(2, "y") + field(4, "Identity"))
    graph = identity + field(2, "inner") + field(12, field(1, "y"))
    for level in range(depth):
        attr = field(1, "then_branch") + field(6, graph) + field(20, 5)
        node = field(1, "c") + field(2, "y") + field(4, "If") + field(5, attr)
        graph = field(1, node) + field(2, "g%d" % level) + field(12, field(1, "y"))
    graph += field(11, field(1, "c"))
    return field(1, 8) + field(8, field(1, "") + field(2, 17)) + field(7, graph)


def text(depth):
    body = "y = Identity(c)"
    for level in range(depth):
        body = ("y = If(c) <then_branch = t%d () => (bool y) { %s }, "
                "else_branch = e%d () => (bool y) { y = Identity(c) }>"
                % (level, body, level))
    return ('<ir_version: 8, opset_import: ["" : 17]>\n'
            "g (bool c) => (bool y) { %s }\n" % body)


def proto(depth):
    graph = ('name: "inner" node { input: "c" output: "y" op_type: "Identity" } '
             'output { name: "y" }')
    for level in range(depth):
        graph = ('name: "g%d" node { input: "c" output: "y" op_type: "If" '
                 'attribute { name: "then_branch" type: GRAPH g { %s } } '
                 'attribute { name: "else_branch" type: GRAPH g { %s } } } '
                 'output { name: "y" }'
                 % (level, graph, 'name: "e" node { input: "c" output: "y" '
                    'op_type: "Identity" } output { name: "y" }'))
    return ('ir_version: 8 opset_import { domain: "" version: 17 } graph { %s '
            'input { name: "c" type { tensor_type { elem_type: 9 shape { } } } } }\n'
            % graph)


if __name__ == "__main__":
    kind, depth = sys.argv[1], int(sys.argv[2])
    if kind == "binary":
        sys.stdout.buffer.write(binary(depth))
    else:
        sys.stdout.write(text(depth) if kind == "text" else proto(depth))
