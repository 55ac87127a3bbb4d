#!/usr/bin/python3
"""Golden fixtures for spec 004's auto-decoder (tests/test_autodecoder.cpp), written with PyTorch:
  autodecoder/  N = 4 codes of z = 3, ids [2, 0, 2] (a repeated row: the embedding's backward
                must scatter-add), weights from det_weight() below (both sides compute them, so
                only results are stored): the output's centre crop, the MSE loss, every parameter's
                gradient, then three Keras-Adam steps (lr 1e-2, eps 1e-7 added to the uncorrected
                sqrt(v), spec 004 §1.4): the loss before each step and the final weights.
Run: python3 tools/golden_autodecoder.py
"""
import math
import os
import shutil
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import ROOT, save  # noqa: E402

STAGES = [(64, 3, 1), (64, 3, 1), (32, 3, 1), (32, 3, 2), (16, 3, 2), (16, 3, 2), (8, 3, 2), (3, 4, 2)]
N, Z, IDS = 4, 3, [2, 0, 2]


def det_weight(shape, layer, scale):
    """Deterministic values: scale * sin(0.37 i + 1.3 layer) over the C-order flat index i."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (scale * torch.sin(0.37 * i + 1.3 * layer)).reshape(shape).float()


class AutoDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.codes = nn.Embedding(N, Z)
        self.convs = nn.ModuleList()
        cin = Z
        for cout, k, s in STAGES:
            self.convs.append(nn.ConvTranspose2d(cin, cout, k, stride=s))  # padding 0 = Keras "valid"
            cin = cout

    def named(self):
        yield "codes.weight", self.codes.weight
        for i, c in enumerate(self.convs):
            yield f"decoder.convt{i + 1}.weight", c.weight
            yield f"decoder.convt{i + 1}.bias", c.bias

    def forward(self, ids):
        h = self.codes(ids).reshape(len(ids), Z, 1, 1)
        for i, c in enumerate(self.convs):
            h = c(h)
            h = torch.sigmoid(h) if i + 1 == len(self.convs) else torch.relu(h)
        return h


def target(n):
    c, y, x = torch.meshgrid(torch.arange(3.), torch.arange(256.), torch.arange(256.), indexing="ij")
    return torch.stack([0.5 + 0.4 * torch.sin(1.1 * c + 0.05 * y + 0.07 * x + k) for k in range(n)])


def main():
    torch.manual_seed(0)
    m = AutoDecoder()
    with torch.no_grad():
        for layer, (name, p) in enumerate(m.named()):
            fan = (p.shape[0] + p.shape[1]) * p.shape[2] * p.shape[3] if p.dim() == 4 else 1
            scale = 0.5 if name.startswith("codes") else (0.01 if p.dim() == 1 else math.sqrt(6.0 / fan))
            p.copy_(det_weight(p.shape, layer, scale))
    ids = torch.tensor(IDS)
    x = target(len(IDS))
    case = "autodecoder"
    shutil.rmtree(os.path.join(ROOT, case), ignore_errors=True)
    out = m(ids)
    loss = ((out - x) ** 2).mean()
    loss.backward()
    save(case, "out_crop", out[:, :, 120:136, 120:136])
    save(case, "loss", loss.reshape(1))
    for name, p in m.named():
        save(case, "grad." + name, p.grad)
    # Keras 2.3 Adam, dense (rows outside the batch keep moving with their momentum).
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-7
    state = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in m.named()}
    losses = []
    for t in range(1, 4):
        m.zero_grad()
        l = ((m(ids) - x) ** 2).mean()
        losses.append(l.item())
        l.backward()
        with torch.no_grad():
            lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            for name, p in m.named():
                mm, vv = state[name]
                mm.mul_(b1).add_((1 - b1) * p.grad)
                vv.mul_(b2).add_((1 - b2) * p.grad * p.grad)
                p.sub_(lr_t * mm / (vv.sqrt() + eps))
    save(case, "adam_losses", torch.tensor(losses))
    for name, p in m.named():
        save(case, "adam." + name, p)


if __name__ == "__main__":
    main()
