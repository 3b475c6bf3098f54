#!/usr/bin/python3
"""Exports the PyTorch part of the real-model corpus (bench/model-corpus.py).

  /usr/bin/python3 bench/export-corpus.py OUT_DIR [NAME...]

Uses Debian's python3-torch and python3-torchvision (random weights: the
corpus checks structure, shapes and cost, not accuracy). Each model is
exported the way people export it for deployment: dynamic axes where the
model takes them (batch, sequence length), TorchScript for the models whose
loops must survive export, torchvision's detection models with their
NonMaxSuppression and control flow. Existing files are kept. With names,
only those are exported.
"""
import os
import sys

import torch
import torchvision


class ScriptedLoop(torch.nn.Module):
    """A loop whose trip count is an input's length: a scripted for loop
    exports as ONNX Loop with the trip count computed from a Shape."""

    def __init__(self):
        super().__init__()
        self.cell = torch.nn.Linear(32, 32)

    def forward(self, x):
        h = torch.zeros(x.shape[1], 32)
        for i in range(x.shape[0]):
            h = torch.tanh(self.cell(x[i]) + h)
        return h


class Recurrent(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        self.rnn = cls(input_size=40, hidden_size=64, num_layers=2,
                       batch_first=True, bidirectional=kind == "lstm")
        self.head = torch.nn.Linear(128 if kind == "lstm" else 64, 10)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y)


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(1000, 128)
        layer = torch.nn.TransformerEncoderLayer(128, 4, 256, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2)

    def forward(self, tokens):
        return self.encoder(self.embed(tokens))


def classifier(name, size=224):
    model = getattr(torchvision.models, name)(weights=None).eval()
    return (model, (torch.randn(1, 3, size, size),), ["input"], ["output"],
            {"input": {0: "batch"}, "output": {0: "batch"}}, 13)


def detector(name, size):
    builder = getattr(torchvision.models.detection, name)
    model = builder(weights=None, weights_backbone=None).eval()
    return (model, ([torch.rand(3, size, size)],), ["image"],
            ["boxes", "scores", "labels"], None, 13)


def build(name):
    if name == "vit_b_16_dynamic":
        m = classifier("vit_b_16")
        return m
    if name in ("resnet18_dynamic", "mobilenet_v3_small_dynamic",
                "efficientnet_b0_dynamic", "regnet_x_400mf_dynamic",
                "densenet121_dynamic"):
        return classifier(name[:-len("_dynamic")])
    if name == "ssdlite320_mobilenet_v3_large":
        return detector(name, 320)
    if name == "fasterrcnn_mobilenet_v3_large_320_fpn":
        return detector(name, 320)
    if name == "retinanet_resnet50_fpn":
        return detector(name, 512)
    if name == "scripted_loop":
        return (torch.jit.script(ScriptedLoop().eval()),
                (torch.randn(7, 2, 32),), ["x"], ["h"],
                {"x": {0: "steps", 1: "batch"}}, 13)
    if name in ("lstm_tagger", "gru_tagger"):
        return (Recurrent(name[:3]).eval(), (torch.randn(1, 50, 40),),
                ["features"], ["logits"],
                {"features": {0: "batch", 1: "frames"},
                 "logits": {0: "batch", 1: "frames"}}, 13)
    if name == "transformer_encoder":
        return (Encoder().eval(), (torch.randint(0, 1000, (1, 64)),),
                ["tokens"], ["hidden"],
                {"tokens": {0: "batch", 1: "sequence"},
                 "hidden": {0: "batch", 1: "sequence"}}, 14)
    raise SystemExit(f"unknown corpus model '{name}'")


DEFAULT = ["vit_b_16_dynamic", "resnet18_dynamic", "mobilenet_v3_small_dynamic",
           "efficientnet_b0_dynamic", "regnet_x_400mf_dynamic",
           "densenet121_dynamic", "ssdlite320_mobilenet_v3_large",
           "fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn",
           "scripted_loop", "lstm_tagger", "gru_tagger",
           "transformer_encoder"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:] or DEFAULT:
        path = os.path.join(out, name + ".onnx")
        if os.path.exists(path):
            continue
        torch.manual_seed(0)
        model, args, inputs, outputs, axes, opset = build(name)
        # Not under no_grad: there PyTorch's transformer layers take a fused
        # fast path that its ONNX exporter cannot write.
        torch.onnx.export(model, args, path + ".tmp", opset_version=opset,
                          input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, do_constant_folding=True)
        os.replace(path + ".tmp", path)
        print("exported", path, flush=True)


if __name__ == "__main__":
    main()
