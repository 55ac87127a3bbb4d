#!/usr/bin/python3
"""Golden fixtures for spec 000 (tests/test_stacked_ae.cpp), written with PyTorch 1.13:
  ae1/    AE1 at 2x3x32x32: torch-initialised weights, forward, MSE loss, every parameter and input
          gradient, then three Adam steps (lr 1e-2): the loss of each step and the final weights.
  ae1odd/ AE1 at 2x3x18x18 (forward and input gradient): 18 -> 9 -> 5 pooling pads bottom/right
          (Keras "same") and the upsamplings 5 -> 10 -> crop 9 -> 18 (our documented crop).
  cnn8_32/, cnn8_20/ CNN8 forward (eval: dropout off) at 2x3x32x32 and 2x3x20x20 (odd pools 5 -> 3).
          The 6.3 M weights are not stored: both sides compute them from cnn8_weight() below.
Run: /usr/bin/python3 tools/golden_stacked_ae.py
"""
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import ROOT, save  # noqa: E402

FILTERS = (8, 16, 32, 64, 128, 256, 512, 1024)


def same_pool(x):
    """Keras MaxPooling2D(2, padding='same'): out = ceil(n/2), the padding at the bottom/right."""
    h, w = x.shape[2], x.shape[3]
    x = F.pad(x, (0, w % 2, 0, h % 2), value=-math.inf)
    return F.max_pool2d(x, 2)


def up_to(x, h, w):
    """UpSampling2D((2,2)) nearest, cropped bottom/right to h x w."""
    return F.interpolate(x, scale_factor=2, mode="nearest")[:, :, :h, :w]


class AE1(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.c3, self.c4 = nn.Conv2d(16, 16, 3, padding=1), nn.Conv2d(16, 3, 3, padding=1)
        self.keras = {"conv2d_1": self.c1, "conv2d_2": self.c2, "conv2d_3": self.c3, "conv2d_4": self.c4}

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        p1 = same_pool(torch.tanh(self.c1(x)))
        code = same_pool(torch.tanh(self.c2(p1)))
        d = torch.tanh(self.c3(up_to(code, p1.shape[2], p1.shape[3])))
        return torch.sigmoid(self.c4(up_to(d, h, w)))


def named(model):
    for kname, conv in model.keras.items():
        yield kname + ".weight", conv.weight
        yield kname + ".bias", conv.bias


def ae1_cases():
    torch.manual_seed(0)
    model = AE1()
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    save("stacked_ae/ae1", "x", x)
    for n, p in named(model):
        save("stacked_ae/ae1", n, p)
    y = model(x)
    loss = F.mse_loss(y, x)
    loss.backward()
    save("stacked_ae/ae1", "y", y)
    save("stacked_ae/ae1", "loss", loss.reshape(1))
    save("stacked_ae/ae1", "x.grad", x.grad)
    for n, p in named(model):
        save("stacked_ae/ae1", n + ".grad", p.grad)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xs = x.detach()
    losses = []
    for _ in range(3):
        opt.zero_grad()
        l = F.mse_loss(model(xs), xs)
        l.backward()
        opt.step()
        losses.append(l.item())
    save("stacked_ae/ae1", "adam_losses", np.array(losses))
    for n, p in named(model):
        save("stacked_ae/ae1", n + ".adam3", p)

    # odd sizes: forward and input gradient with the same (reset) weights
    torch.manual_seed(1)
    model = AE1()
    x = torch.rand(2, 3, 18, 18, requires_grad=True)
    save("stacked_ae/ae1odd", "x", x)
    for n, p in named(model):
        save("stacked_ae/ae1odd", n, p)
    y = model(x)
    F.mse_loss(y, x).backward()
    save("stacked_ae/ae1odd", "y", y)
    save("stacked_ae/ae1odd", "x.grad", x.grad)


def splitmix_u01(stream, n):
    """u[i] = splitmix64(i + stream * golden) / 2^64 in [0, 1): exact integer arithmetic, so C++
    (tests/test_stacked_ae.cpp) reproduces every bit."""
    g = np.uint64
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=g) + g(stream) * g(0x9E3779B97F4A7C15)
        z = (z ^ (z >> g(30))) * g(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> g(27))) * g(0x94D049BB133111EB)
        z = z ^ (z >> g(31))
    return (z >> g(11)).astype(np.float64) * 2.0 ** -53


def cnn8_weight(layer, shape, fan_in, bias):
    """Deterministic CNN8 weights shared with the C++ test, flat index in PyTorch layout:
    weights U(+-sqrt(12 / fan_in)) from stream 2*layer, biases U(+-0.1) from stream 2*layer+1.
    (Std 2/sqrt(fan_in): large enough that the input still moves the logits after 8 tanh/max-pool
    blocks; smaller scales wash it out and the test could not see a wrong early layer.)"""
    u = splitmix_u01(2 * layer + int(bias), int(np.prod(shape)))
    v = (2 * u - 1) * (0.1 if bias else math.sqrt(12.0 / fan_in))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def cnn8_logits(x):
    c = 3
    for l, co in enumerate(FILTERS):
        w = cnn8_weight(l, (co, c, 3, 3), c * 9, False)
        b = cnn8_weight(l, (co,), c * 9, True)
        x = same_pool(torch.tanh(F.conv2d(x, w, b, padding=1)))
        c = co
    x = torch.tanh(torch.flatten(x, 1))
    return F.linear(x, cnn8_weight(8, (2, x.shape[1]), x.shape[1], False), cnn8_weight(8, (2,), x.shape[1], True))


def cnn8_cases():
    for size in (32, 20):
        torch.manual_seed(2 + size)
        x = torch.rand(2, 3, size, size)
        with torch.no_grad():
            z = cnn8_logits(x)
        case = "stacked_ae/cnn8_%d" % size
        save(case, "x", x)
        save(case, "logits", z)
        save(case, "probs", torch.softmax(z, 1))


if __name__ == "__main__":
    shutil.rmtree(os.path.join(ROOT, "stacked_ae"), ignore_errors=True)
    torch.set_num_threads(1)
    ae1_cases()
    cnn8_cases()
