#!/usr/bin/python3
"""Exports torchvision architectures to ONNX for the cost benchmarks.

  /usr/bin/python3 bench/export-torchvision.py [--batch-dim N] OUT_DIR [NAME...]

Uses Debian's python3-torch and python3-torchvision (random weights: the
benchmarks need structure and cost, not accuracy), batch 1, 3x224x224 or
the size after the name (NAME@S for SxS, NAME@HxW), opset 13, with names on every node (ONNX Runtime's profiles are matched to
the model by node name). Existing files are kept. Default names: resnet18,
resnet50, mobilenet_v2, squeezenet1_1, shufflenet_v2_x1_0, vit_b_16.
With --batch-dim N the batch is a symbolic dim named N (bind it with
--dim N=B), for the benches that run a range of batches.
"""
import os
import sys

import torch
import torchvision

DEFAULT = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "vit_b_32",
           "shufflenet_v2_x1_0", "vit_b_16"]


def main():
    args = sys.argv[1:]
    batch_dim = None
    if args[:1] == ["--batch-dim"]:
        if len(args) < 2:
            sys.exit(__doc__)
        batch_dim, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    out = args[0]
    names = args[1:] or DEFAULT
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for spec in names:
        name, _, size = spec.partition("@")
        size = size or "224"
        height, _, width = size.partition("x")
        height, width = int(height), int(width or height)
        stem = name.split(".")[-1]
        stem = stem if size == "224" else f"{stem}_{size}"
        path = os.path.join(out, stem + ".onnx")
        if os.path.exists(path):
            continue
        module = torchvision.models
        for part in name.split(".")[:-1]:  # e.g. segmentation.fcn_resnet50
            module = getattr(module, part)
        builder = getattr(module, name.split(".")[-1])
        kwargs = {"weights_backbone": None} if "." in name else {}
        model = builder(weights=None, **kwargs).eval()
        x = torch.randn(1, 3, height, width)
        torch.onnx.export(model, x, path + ".tmp", opset_version=13,
                          input_names=["input"], output_names=["output"],
                          do_constant_folding=True,
                          dynamic_axes=({"input": {0: batch_dim},
                                         "output": {0: batch_dim}}
                                        if batch_dim else None))
        os.replace(path + ".tmp", path)
        print("exported", path)


if __name__ == "__main__":
    main()
