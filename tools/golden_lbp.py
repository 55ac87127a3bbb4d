#!/usr/bin/python3
"""Golden LBP histograms for tests/test_lbp.cpp: the features of tools/nuaa_texture_baseline.py
(uniform LBP(8, 1..3), 3x3 grid; YCbCr and grey) of two bundled sample crops (one live, one
spoof), as fractions of each cell (scale 1), and the pixels they come from (PIL's JPEG decoder
and stb_image's differ by a grey level here and there, which flips LBP bits, so the test feeds
these pixels rather than decoding the file itself). Also lbp-lr's training on those two crops
(live, spoof) in PyTorch: three Adam steps (lr 0.01, PyTorch defaults otherwise) on the loss of
src/models/lbp_lr.cpp -- mean BCE on Dense(59 * f - 1) + ||w||^2 / (2 C n), C = 1, n = 3488 --
from zero weights and bias 0.1, in float64. Needs python3-numpy, python3-pil, python3-torch.
Run with /usr/bin/python3."""
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from golden_io import save  # noqa: E402
from nuaa_texture_baseline import lbp_features  # noqa: E402

IMAGES = ["faces/ClientFace/0001/0001_00_00_01_0.jpg", "faces/ImposterFace/0001/0001_00_01_03_103.jpg"]


def main():
    root = os.path.join(HERE, "..", "data", "sample")
    for i, rel in enumerate(IMAGES):
        rgb = np.asarray(Image.open(os.path.join(root, rel)).convert("RGB"), dtype=np.float32)
        save("lbp", f"img{i}_rgb", np.moveaxis(rgb, -1, 0) / 255.0)  # [3, H, W] in [0, 1]
        for space in ("ycc", "grey"):
            save("lbp", f"img{i}_{space}", lbp_features(rgb, space, 3))
    adam_steps(root)


def adam_steps(root):
    import torch
    feats = [lbp_features(np.asarray(Image.open(os.path.join(root, rel)).convert("RGB"), dtype=np.float32), "ycc", 3)
             for rel in IMAGES]
    x = torch.tensor(np.stack(feats), dtype=torch.float64) * 59.0 - 1.0  # scale 59, centred
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.full((1,), 0.1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=0.01)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y) + (w * w).sum() / (2 * 1.0 * 3488)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    save("lbp", "adam_loss", np.array(losses))
    save("lbp", "adam_weight3", w.detach().numpy().reshape(1, -1))
    save("lbp", "adam_bias3", b.detach().numpy())


if __name__ == "__main__":
    main()
