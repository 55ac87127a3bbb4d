#!/usr/bin/python3
"""Train-only calibrations of a fused score, checked on the test list (docs/experiments/EXP-013).
Input: scores.csv files written by `fas eval --ckpt A --ckpt B ...` (columns path,
label, score, logit_1..logit_K); nothing here is fitted on the test list's labels.

  --test   fused eval of the test list (the models trained on the whole training list)
  --train  the same models' fused eval of the training list: z-score statistics per model
  --oof    fused evals of held-out training sessions by models trained on the other session
           (out-of-fold, repeatable): their EER threshold on the mean log-odds

Rules reported (threshold on the mean of the K log-odds unless said):
  0 on the mean log-odds (= 0.5 on the fused P(live), fas's default);
  z-score per model with the training list's mean/std, then 0;
  the out-of-fold fused scores' EER threshold;
  z-score per model with the out-of-fold mean/std, then 0.
Needs Debian's python3-numpy and python3-sklearn.
"""
import argparse
import csv

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def read(path, single_ok=False, with_paths=False):
    """Labels and the K models' log-odds (N x K) of a scores.csv; with single_ok, a one-model file
    (path, label, score) gives its log-odds from the probability (clipped: saturated scores tie)."""
    try:
        rows = list(csv.DictReader(open(path)))
    except OSError as e:
        raise SystemExit(f"{path}: cannot read ({e.strerror})")
    if not rows or not {"label", "path"} <= set(rows[0]):
        raise SystemExit(f"{path}: not a scores.csv of fas eval (no rows, or no path/label columns)")
    k = sorted(c for c in rows[0] if c.startswith("logit_"))
    y = np.array([int(r["label"]) for r in rows])
    if k:
        z = np.array([[float(r[c]) for c in k] for r in rows])
    elif single_ok:
        p = np.clip(np.array([float(r["score"]) for r in rows]), 1e-7, 1 - 1e-7)
        z = np.log(p / (1 - p))[:, None]
    else:
        raise SystemExit(f"{path}: no logit_K columns (write it with fas eval --ckpt A --ckpt B ...)")
    return (y, z, [r["path"] for r in rows]) if with_paths else (y, z)


def eer_threshold(y, f):
    fpr, tpr, t = roc_curve(y, f)
    return t[np.argmin(np.abs(fpr - (1 - tpr)))]


def report(name, y, f, t):
    live = f >= t
    apcer, bpcer = live[y == 0].mean(), (~live[y == 1]).mean()
    print(f"{name:<44} threshold {t:8.3f}  APCER {100 * apcer:6.2f} %  BPCER {100 * bpcer:6.2f} %  "
          f"ACER {50 * (apcer + bpcer):6.2f} %  AUC {roc_auc_score(y, f):.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--test", required=True)
    ap.add_argument("--train")
    ap.add_argument("--oof", action="append", default=[])
    a = ap.parse_args()
    y, z = read(a.test)
    for k in range(z.shape[1]):
        print(f"model {k + 1}: test log-odds live {z[y == 1, k].mean():7.2f}, spoof {z[y == 0, k].mean():7.2f}")
    report("mean log-odds, 0", y, z.mean(1), 0.0)
    if a.train:
        yt, zt = read(a.train)
        for k in range(z.shape[1]):
            print(f"model {k + 1}: train log-odds live {zt[yt == 1, k].mean():7.2f}, spoof {zt[yt == 0, k].mean():7.2f}")
        report("z-score (training list), 0", y, ((z - zt.mean(0)) / zt.std(0)).mean(1), 0.0)
    if a.oof:
        parts = [read(p) for p in a.oof]
        yo, zo = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        for k in range(z.shape[1]):
            print(f"model {k + 1}: out-of-fold log-odds live {zo[yo == 1, k].mean():7.2f}, spoof {zo[yo == 0, k].mean():7.2f}")
        report("mean log-odds, out-of-fold EER threshold", y, z.mean(1), eer_threshold(yo, zo.mean(1)))
        report("z-score (out-of-fold), 0", y, ((z - zo.mean(0)) / zo.std(0)).mean(1), 0.0)


if __name__ == "__main__":
    main()
