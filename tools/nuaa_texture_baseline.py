#!/usr/bin/python3
"""Hand-crafted texture baseline for NUAA (docs/mobilenetv2-lite.md, session 4).

Each face crop -> grey, per-image standardised (what fas's normalize=band does first), then a
Laplacian pyramid of 4 bands (sigma 0.5, 1, 2, 4); per band the log variance and the log mean
absolute value: 8 numbers. A logistic regression fitted on the training list scores the test
list. It shows how far the fine-scale energy alone carries across NUAA's session shift.
Needs Debian's python3-numpy, python3-scipy, python3-sklearn, python3-pil.
  tools/nuaa_texture_baseline.py [DATA_DIR] [TRAIN_STEP] [TEST_STEP]   (every Nth image)
"""
import sys

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve


def features(path):
    im = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
    im = (im - im.mean()) / max(im.std(), 1.0 / np.sqrt(im.size))
    f, prev = [], im
    for s in (0.5, 1, 2, 4):
        g = gaussian_filter(im, s, mode="nearest")
        band = prev - g
        f += [np.log(band.var() + 1e-8), np.log(np.abs(band).mean() + 1e-8)]
        prev = g
    return f


def load(root, name, step):
    rows = [line.split() for line in open(f"{root}/{name}") if line.strip()][::step]
    return np.array([features(f"{root}/{p}") for p, _ in rows]), np.array([int(l) for _, l in rows])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/nuaa"
    tr_step, te_step = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (2, 4)
    xtr, ytr = load(root, "faces_train.txt", tr_step)
    xte, yte = load(root, "faces_test.txt", te_step)
    print(f"{len(ytr)} train, {len(yte)} test images; per-feature AUC as a liveness score (train / test):")
    for j in range(xtr.shape[1]):
        print(f"  band {j // 2} {'logvar' if j % 2 == 0 else 'logmad'}: "
              f"{roc_auc_score(ytr, xtr[:, j]):.3f} / {roc_auc_score(yte, xte[:, j]):.3f}")
    s = LogisticRegression(C=1.0, max_iter=2000).fit(xtr, ytr).predict_proba(xte)[:, 1]
    live = s > 0.5
    apcer, bpcer = np.mean(live[yte == 0]), np.mean(~live[yte == 1])
    fpr, tpr, _ = roc_curve(yte, s)
    i = np.argmin(np.abs(fpr - (1 - tpr)))
    print(f"logistic regression on the test list: AUC {roc_auc_score(yte, s):.4f}, at 0.5: APCER {100 * apcer:.2f} % "
          f"BPCER {100 * bpcer:.2f} % ACER {50 * (apcer + bpcer):.2f} %; EER {50 * (fpr[i] + 1 - tpr[i]):.2f} %")


if __name__ == "__main__":
    main()
