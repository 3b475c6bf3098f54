#!/usr/bin/env python3
"""Counts, independently of Chorus, the initializer bytes two ONNX files
share: protoc decodes each file to protobuf text, and an initializer counts
when one with the same data type, dims and values is in the other file.

  count_shared_initializers.py A.onnx B.onnx   prints "shared bytes: N"
"""
import re
import subprocess
import sys

BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4,
         13: 8, 16: 2}


def initializers(path):
    text = subprocess.run(
        ["protoc", "--decode=onnx.ModelProto", "-I/usr/include",
         "/usr/include/onnx/onnx.proto"],
        stdin=open(path, "rb"), capture_output=True, check=True).stdout.decode()
    result = []
    for block in re.findall(r"initializer \{(.*?)\n  \}", text, re.S):
        dtype = int(re.search(r"data_type: (\d+)", block).group(1))
        dims = tuple(int(d) for d in re.findall(r"dims: (\d+)", block))
        values = tuple(re.findall(r"(?:float|int32|int64|double)_data: (\S+)",
                                  block))
        raw = re.findall(r"raw_data: (\".*\")", block)
        count = 1
        for d in dims:
            count *= d
        result.append(((dtype, dims, values, tuple(raw)), count * BYTES[dtype]))
    return result


def main():
    a, b = initializers(sys.argv[1]), initializers(sys.argv[2])
    in_b = {key for key, _ in b}
    # Each distinct tensor counts once, as one weight symbol would.
    shared = {key: size for key, size in a if key in in_b}
    print("shared bytes: %d" % sum(shared.values()))


if __name__ == "__main__":
    main()
