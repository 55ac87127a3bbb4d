#!/usr/bin/python3
"""Golden LBP histograms for tests/test_lbp.cpp: the features of tools/nuaa_texture_baseline.py
(uniform LBP(8, 1..3), 3x3 grid; YCbCr and grey) of two bundled sample crops (one live, one
spoof), as fractions of each cell (scale 1), and the pixels they come from (PIL's JPEG decoder
and stb_image's differ by a grey level here and there, which flips LBP bits, so the test feeds
these pixels rather than decoding the file itself). Needs python3-numpy, python3-pil."""
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


if __name__ == "__main__":
    main()
