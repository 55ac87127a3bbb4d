#!/usr/bin/python3
"""Subject-split calibration inside one capture session (docs/experiments/EXP-023).

The protocols of Replay-Attack and OULU-NPU fix the decision threshold at the EER of a labelled
development set recorded like the test set, with other subjects. NUAA has none, so this splits a
scored list (a scores.csv of `fas eval`, one model or fused) into folds by subject ID (the first
`_` field of the file name) modulo --folds, decides each fold at the EER threshold of the mean
log-odds of the *other* folds, and pools APCER, BPCER and ACER over the whole list: no image is
decided by a threshold that saw it or its subject. Labels of the other folds are used, so this is
a different protocol from a threshold fixed on the training sessions; report it apart.

  tools/cross_calibration.py runs/m/fuse/scores.csv [more.csv ...] [--folds 2]
Needs Debian's python3-numpy and python3-sklearn.
"""
import argparse
import os

import numpy as np
from sklearn.metrics import roc_auc_score

from sklearn.metrics import roc_curve

from fusion_calibration import eer_threshold, read


def subject_of(path):  # .../0004_01_06_03_0.jpg -> 4
    return int(os.path.basename(path).split("_")[0])


def eer_threshold_mid(y, f):
    """The middle of the EER plateau: on a nearly separable development set every cut in the gap
    between the classes has the same EER, and eer_threshold takes its top end."""
    fpr, tpr, t = roc_curve(y, f, drop_intermediate=False)
    gap = np.abs(fpr - (1 - tpr))
    at = np.flatnonzero(gap <= gap.min() + 1e-12)
    hi, lo = t[at[0]], t[at[-1]]
    below = f[f < lo]  # the cut at lo accepts f >= lo; the plateau reaches down to the next score
    return 0.5 * (hi + (below.max() if below.size else lo))


def cross_calibrated(y, f, subjects, folds, rule=eer_threshold):
    """Per-image decisions (True = live) and the thresholds used, fold by fold."""
    fold = subjects % folds
    live, thresholds = np.zeros(len(y), bool), []
    for k in range(folds):
        dev, ev = fold != k, fold == k
        if len(set(y[dev])) < 2:
            raise SystemExit(f"fold {k}: the other folds lack a class; choose another --folds")
        t = rule(y[dev], f[dev])
        live[ev] = f[ev] >= t
        thresholds.append(t)
    return live, thresholds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scores", nargs="+", help="scores.csv files written by fas eval")
    ap.add_argument("--folds", type=int, default=2, help="folds by subject ID modulo this (default 2: odd/even)")
    ap.add_argument("--tie", choices=["top", "mid"], default="top",
                    help="where in an EER plateau to cut: its top end (fusion_calibration's rule) or its middle")
    a = ap.parse_args()
    if a.folds < 2:
        raise SystemExit("--folds must be at least 2")
    print(f"{'scores':<36} {'thresholds (log-odds)':<24} {'APCER':>8} {'BPCER':>8} {'ACER':>8} {'AUC':>7}")
    for path in a.scores:
        y, z, paths = read(path, single_ok=True, with_paths=True)
        f = z.mean(1)
        rule = eer_threshold if a.tie == "top" else eer_threshold_mid
        live, ts = cross_calibrated(y, f, np.array([subject_of(p) for p in paths]), a.folds, rule)
        apcer, bpcer = live[y == 0].mean(), (~live[y == 1]).mean()
        print(f"{path:<36} {' '.join(f'{t:7.2f}' for t in ts):<24} {100 * apcer:7.2f}% {100 * bpcer:7.2f}% "
              f"{50 * (apcer + bpcer):7.2f}% {roc_auc_score(y, f):7.4f}")


if __name__ == "__main__":
    main()
