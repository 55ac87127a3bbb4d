#!/usr/bin/python3
"""PyTorch reference for long runs of spec 004's auto-decoder (EXP-055), from a fas checkpoint.

  train:    python3 tools/autodecoder_torch_run.py CKPT LIST STEPS [--eps 1e-7]
            full-batch Keras Adam (lr 1e-3) from CKPT's weights and codes on LIST (256x256 RGB
            images, one code per line in list order, as `fas train --batch N` with N = the list
            length sees them), printing the loss before every step and, now and then, the
            diagnostics below: fas's history.csv gives the same per-step curve.
  diagnose: python3 tools/autodecoder_torch_run.py CKPT --diagnose
            per layer, the ReLU channels that are dead (no positive output for any code and
            position); the spread of the codes; how much the decodings vary in space and across
            codes (0 = every decoding is the same image).
Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-pil).
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch

STAGES = [(64, 3, 1), (64, 3, 1), (32, 3, 1), (32, 3, 2), (16, 3, 2), (16, 3, 2), (8, 3, 2), (3, 4, 2)]


def load_weights(path):
    """The model tensors of a fas checkpoint (safetensors, F32), optimizer state left out."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head, base = json.loads(b[8:8 + n]), 8 + n
    return {k: torch.from_numpy(np.frombuffer(b[base + v["data_offsets"][0]:base + v["data_offsets"][1]], "<f4")
                                .reshape(v["shape"]).copy())
            for k, v in head.items() if k != "__metadata__" and not k.startswith("optim.")}


def convt(x, w, b, s):
    """Transposed convolution, padding 0 (Keras "valid"), as zero insertion and a full conv2d with
    the flipped kernel: the same function as conv_transpose2d, several times faster on torch 1.13's CPU."""
    n, c, h, wd = x.shape
    if s > 1:
        z = x.new_zeros(n, c, (h - 1) * s + 1, (wd - 1) * s + 1)
        z[:, :, ::s, ::s] = x
        x = z
    return torch.nn.functional.conv2d(x, w.flip(2, 3).transpose(0, 1), b, padding=w.shape[2] - 1)


def decode(p, codes, acts=None):
    h = codes.reshape(len(codes), codes.shape[1], 1, 1)
    for i, (_, _, s) in enumerate(STAGES):
        h = convt(h, p[f"decoder.convt{i + 1}.weight"], p[f"decoder.convt{i + 1}.bias"], s)
        h = torch.sigmoid(h) if i + 1 == len(STAGES) else torch.relu(h)
        if acts is not None:
            acts.append(h)
    return h


def diagnostics(p, acts, out):
    dead = " ".join("%d/%d" % ((a.amax(dim=(0, 2, 3)) <= 0).sum().item(), a.shape[1]) for a in acts[:-1])
    return ("dead ReLU channels per layer %s; code sd %.4f; decoding sd in space %.5f, across codes %.5f"
            % (dead, p["codes.weight"].std(0).mean().item(), out.std(dim=(2, 3)).mean().item(), out.std(0).mean().item()))


def load_images(path):
    from PIL import Image
    d = os.path.dirname(os.path.abspath(path))
    files = [line.split()[0] for line in open(path) if line.strip() and not line.startswith("#")]
    return torch.stack([torch.from_numpy(np.asarray(Image.open(os.path.join(d, f)).convert("RGB"), dtype=np.float32) / 255)
                        .permute(2, 0, 1) for f in files])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("list", nargs="?")
    ap.add_argument("steps", nargs="?", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eps", type=float, default=1e-7)  # Keras' K.epsilon()
    ap.add_argument("--diagnose", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(2)
    p = load_weights(a.ckpt)
    if a.diagnose:
        with torch.no_grad():
            acts = []
            out = decode(p, p["codes.weight"], acts)
            print(diagnostics(p, acts, out))
        return
    x = load_images(a.list)
    assert len(x) == p["codes.weight"].shape[0], "one code per listed image"
    for t in p.values():
        t.requires_grad_(True)
    state = {k: (torch.zeros_like(t), torch.zeros_like(t)) for k, t in p.items()}
    b1, b2 = 0.9, 0.999
    for t in range(1, a.steps + 1):
        acts = []
        out = decode(p, p["codes.weight"], acts)
        loss = ((out - x) ** 2).mean()
        for q in p.values():
            q.grad = None
        loss.backward()
        extra = "  " + diagnostics(p, acts, out.detach()) if t in (1, 2, 5) or t % 10 == 0 else ""
        print("step %d loss %.8f%s" % (t, loss.item(), extra), flush=True)
        with torch.no_grad():  # Keras 2.3 Adam: eps on the uncorrected sqrt(v)
            lr_t = a.lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            for k, q in p.items():
                m, v = state[k]
                m.mul_(b1).add_((1 - b1) * q.grad)
                v.mul_(b2).add_((1 - b2) * q.grad * q.grad)
                q.sub_(lr_t * m / (v.sqrt() + a.eps))


if __name__ == "__main__":
    main()
