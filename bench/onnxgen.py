"""Helpers the bench exporters share to write small ONNX models with
Debian's python3-onnx."""
import os

from onnx import TensorProto, helper


def tensor(name, dims, rng, low=0.5, high=1.5):
    """A float32 initializer of the given dims, uniform in [low, high)."""
    count = 1
    for d in dims:
        count *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims,
                              [rng.uniform(low, high) for _ in range(count)])


def scalar(name, value):
    return helper.make_tensor(name, TensorProto.FLOAT, [], [value])


def conv_attrs(k, group):
    """Every attribute of a 2-D k x k Conv with unit strides and dilations,
    padded to keep its size. Written out although they are ONNX's defaults:
    ONNX Runtime Web 1.30's WebGPU kernels reject a Conv without an explicit
    dilations attribute ("dilations should be 2D")."""
    return {"kernel_shape": [k, k], "strides": [1, 1], "dilations": [1, 1],
            "pads": [k // 2] * 4, "group": group}


def save_if_changed(model, path):
    """Writes the model unless the file already holds exactly these bytes
    (the exporters run before every bench; a file an older exporter wrote
    is replaced). Returns whether it wrote."""
    data = model.SerializeToString()
    if os.path.exists(path):
        with open(path, "rb") as fh:
            if fh.read() == data:
                return False
    with open(path + ".tmp", "wb") as fh:
        fh.write(data)
    os.replace(path + ".tmp", path)
    return True
