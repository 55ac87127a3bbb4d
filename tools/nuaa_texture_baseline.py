#!/usr/bin/python3
"""Hand-crafted texture baselines for NUAA (docs/experiments/EXP-010, EXP-012).

Features per face crop, then a logistic regression fitted on the training list scores the test
list (threshold 0.5 on its probability: nothing is chosen on the test list):
  energy   grey, per-image standardised (what fas's normalize=band does first), a Laplacian
           pyramid of 4 bands (sigma 0.5, 1, 2, 4); per band the log variance and the log mean
           absolute value: 8 numbers.
  lbp      uniform LBP(8, R) codes for R = 1, 2, 3 (Ojala et al.; 59 bins each, neighbours at
           integer offsets) per channel, histograms over a GxG grid of cells (Maatta et al.
           2011 use grey; Boulkenafet et al. 2015 colour spaces): grey or YCbCr channels.
They show how far orderless local texture carries across NUAA's session shift.
Needs Debian's python3-numpy, python3-scipy, python3-sklearn, python3-pil.
  tools/nuaa_texture_baseline.py [--features energy|lbp] [--space grey|ycc] [--grid G] [--raw]
                                 [--data DIR] [--step-train N] [--step-test N]   (every Nth image)
                                 [--loso] [--C C]
--loso leaves the test list alone: it fits on one training session (the 4th `_` field of the file
name, 01 or 02) and scores the other, both ways -- what a train-only model or threshold selection
would see of a session shift (docs/experiments/EXP-023).
"""
import argparse

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.preprocessing import StandardScaler


def energy_features(rgb):
    im = grey(rgb) / 255.0
    im = (im - im.mean()) / max(im.std(), 1.0 / np.sqrt(im.size))
    f, prev = [], im
    for s in (0.5, 1, 2, 4):
        g = gaussian_filter(im, s, mode="nearest")
        band = prev - g
        f += [np.log(band.var() + 1e-8), np.log(np.abs(band).mean() + 1e-8)]
        prev = g
    return f


def grey(rgb):
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


# BT.601 / JPEG luma and chroma x 256 in integers, without the chroma offsets (LBP compares values
# within a channel): exact on 8-bit levels, so near-ties cannot break differently in fas's
# layers/lbp.cpp (the chroma rows sum to 0: float coefficients would make R+1, G+1, B+1 a
# rounding-dependent tie).
YCC_INT = np.array([[77, 150, 29], [-43, -85, 128], [128, -107, -21]], np.float32)


def ycbcr(rgb):
    return [c for c in np.moveaxis(rgb @ YCC_INT.T, -1, 0)]


def uniform_lut():  # 58 uniform patterns (<= 2 bit transitions) get their own bin, the rest bin 58
    lut, k = np.full(256, 58, np.int64), 0
    for v in range(256):
        if sum(((v >> i) & 1) != ((v >> ((i + 1) % 8)) & 1) for i in range(8)) <= 2:
            lut[v], k = k, k + 1
    return lut


LUT = uniform_lut()


def lbp_hist(ch, r, grid):
    H, W = ch.shape
    c = ch[r:H - r, r:W - r]
    code = np.zeros(c.shape, np.int64)
    for i, (dy, dx) in enumerate([(-r, -r), (-r, 0), (-r, r), (0, r), (r, r), (r, 0), (r, -r), (0, -r)]):
        code |= (ch[r + dy:H - r + dy, r + dx:W - r + dx] >= c).astype(np.int64) << i
    u, (h, w) = LUT[code], code.shape
    cells = [u[gy * h // grid:(gy + 1) * h // grid, gx * w // grid:(gx + 1) * w // grid]
             for gy in range(grid) for gx in range(grid)]
    return np.concatenate([np.bincount(cl.ravel(), minlength=59) / cl.size for cl in cells])


def lbp_features(rgb, space, grid):
    chans = ycbcr(rgb)[:1] if space == "grey" else ycbcr(rgb)
    return np.concatenate([lbp_hist(ch, r, grid) for ch in chans for r in (1, 2, 3)])


def session_of(path):  # 0001_00_00_01_0.jpg -> 1
    return int(path.rsplit("/", 1)[-1].split("_")[3])


def load(a, name, step):
    """Features, labels and capture sessions of every step-th image of a list."""
    rows = [line.split() for line in open(f"{a.data}/{name}") if line.strip()][::step]
    feats = []
    for p, _ in rows:
        rgb = np.asarray(Image.open(f"{a.data}/{p}").convert("RGB"), dtype=np.float32)
        feats.append(energy_features(rgb) if a.features == "energy" else lbp_features(rgb, a.space, a.grid))
    return np.array(feats), np.array([int(lab) for _, lab in rows]), np.array([session_of(p) for p, _ in rows])


def fit_and_score(a, xtr, ytr, xte, yte, label):
    """Logistic regression fitted on (xtr, ytr), scored on xte at the fixed threshold 0.5."""
    if a.raw:
        xtr, xte = xtr * 59 - 1, xte * 59 - 1
    else:
        sc = StandardScaler().fit(xtr)
        xtr, xte = sc.transform(xtr), sc.transform(xte)
    lr = LogisticRegression(C=a.C, max_iter=5000).fit(xtr, ytr)
    p = lr.predict_proba(xtr)[:, 1]
    obj = -np.mean(ytr * np.log(p) + (1 - ytr) * np.log(1 - p)) + (lr.coef_ ** 2).sum() / (2 * a.C * len(ytr))
    print(f"training objective (mean log loss + ||w||^2 / 2Cn) {obj:.4g}, intercept {lr.intercept_[0]:.4g}")
    s = lr.predict_proba(xte)[:, 1]
    live = s >= 0.5
    apcer, bpcer = np.mean(live[yte == 0]), np.mean(~live[yte == 1])
    fpr, tpr, _ = roc_curve(yte, s)
    i = np.argmin(np.abs(fpr - (1 - tpr)))
    print(f"logistic regression on {label}: AUC {roc_auc_score(yte, s):.4f}, at 0.5: APCER {100 * apcer:.2f} % "
          f"BPCER {100 * bpcer:.2f} % ACER {50 * (apcer + bpcer):.2f} %; EER {50 * (fpr[i] + 1 - tpr[i]):.2f} %")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", choices=["energy", "lbp"], default="energy")
    ap.add_argument("--space", choices=["grey", "ycc"], default="grey")
    ap.add_argument("--grid", type=int, default=1)
    ap.add_argument("--data", default="../shared/data/nuaa")
    ap.add_argument("--step-train", type=int, default=1)
    ap.add_argument("--step-test", type=int, default=1)
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    ap.add_argument("--loso", action="store_true",
                    help="fit on one training session, score the other (both ways); the test list is not read")
    ap.add_argument("--raw", action="store_true",
                    help="lbp: no standardisation, histograms x 59 - 1 (what fas's lbp-lr model fits)")
    a = ap.parse_args()
    xtr, ytr, s = load(a, "faces_train.txt", a.step_train)
    if a.loso:
        if not {1, 2} <= set(s):
            raise SystemExit(f"--loso needs training sessions 1 and 2 in the list; it has {sorted(set(s))}")
        print(f"{len(ytr)} train images, {xtr.shape[1]} features ({a.features}), sessions {sorted(set(s))}")
        for fit, score in ((1, 2), (2, 1)):
            fit_and_score(a, xtr[s == fit], ytr[s == fit], xtr[s == score], ytr[s == score],
                          f"session {score} (fitted on session {fit})")
        return
    xte, yte, _ = load(a, "faces_test.txt", a.step_test)
    print(f"{len(ytr)} train, {len(yte)} test images, {xtr.shape[1]} features ({a.features})")
    if a.features == "energy":
        print("per-feature AUC as a liveness score (train / test):")
        for j in range(xtr.shape[1]):
            print(f"  band {j // 2} {'logvar' if j % 2 == 0 else 'logmad'}: "
                  f"{roc_auc_score(ytr, xtr[:, j]):.3f} / {roc_auc_score(yte, xte[:, j]):.3f}")
    fit_and_score(a, xtr, ytr, xte, yte, "the test list")


if __name__ == "__main__":
    main()
