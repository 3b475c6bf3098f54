#!/usr/bin/python3
"""Exports a small decoder-only text transformer to ONNX, for the benches
that need a model with token-id inputs.

  /usr/bin/python3 bench/export-text-transformer.py OUT.onnx [--layers L]
      [--width D] [--heads H] [--vocab V] [--context T]

Uses Debian's python3-torch (random weights: the benches need structure and
cost, not text): a token embedding and a learned position embedding,
L pre-norm blocks of causal self-attention and a 4D MLP (GELU), a final
LayerNorm and the vocabulary head. Inputs: input_ids and attention_mask,
both int64 [1, sequence] with the dim `sequence` symbolic (bind it, e.g.
--dim sequence=64; at most --context); output: logits [1, sequence, V].
Opset 14, names on every node. An existing file is kept.
Defaults: 4 layers, width 256, 4 heads, vocabulary 8000, context 256.
"""
import argparse
import os

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, width))

    def forward(self, x, mask):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TextTransformer(nn.Module):
    def __init__(self, layers, width, heads, vocab, context):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.tokens(input_ids) + self.positions(pos)
        # Causal, and padding positions (mask 0) never attended to.
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        pad = (attention_mask[0] == 0).unsqueeze(0)
        mask = torch.zeros(t, t).masked_fill(causal | pad, float("-inf"))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--context", type=int, default=256)
    args = ap.parse_args()
    if os.path.exists(args.out):
        return
    if args.width % args.heads:
        ap.error("--width must be a multiple of --heads")
    torch.manual_seed(0)
    model = TextTransformer(args.layers, args.width, args.heads, args.vocab,
                            args.context).eval()
    ids = torch.ones(1, 16, dtype=torch.int64)
    mask = torch.ones(1, 16, dtype=torch.int64)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.onnx.export(model, (ids, mask), args.out + ".tmp", opset_version=14,
                      input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], do_constant_folding=True,
                      dynamic_axes={"input_ids": {1: "sequence"},
                                    "attention_mask": {1: "sequence"},
                                    "logits": {1: "sequence"}})
    os.replace(args.out + ".tmp", args.out)
    print("exported", args.out)


if __name__ == "__main__":
    main()
