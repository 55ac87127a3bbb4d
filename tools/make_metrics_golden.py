"""Golden values for tests/test_metrics.cpp from scikit-learn (Debian python3-sklearn 1.2).

Run: /usr/bin/python3 tools/make_metrics_golden.py
Writes tests/golden/metrics_<case>/ with fixed seeded scores/labels (float32) and sklearn's
roc_curve (default drop_intermediate=True, and False), roc_auc_score, accuracy_score and
confusion_matrix at a few thresholds. For anomaly scores (higher = spoof) fas's ROC uses the
liveness -score, so sklearn is given -score and its thresholds are negated back.
The EER is checked against an independent formulation (scipy brentq on the interpolated ROC,
the usual recipe), which must give the same value as fas's crossing interpolation.
"""
import numpy as np
from scipy.interpolate import interp1d
from scipy.optimize import brentq
from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, roc_curve

from golden_io import save


def write_case(case, scores, labels, thresholds):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    s = scores.astype(np.float64)  # exactly the float32 values fas sees
    save(case, "scores", scores)
    save(case, "labels", labels.astype(np.float32))
    for tag, live in (("live", s), ("anom", -s)):
        # ROC with positive = live on the liveness score; thresholds back in the caller's units.
        sign = 1.0 if tag == "live" else -1.0
        for drop in (True, False):
            fpr, tpr, thr = roc_curve(labels, live, drop_intermediate=drop)
            suffix = tag + ("" if drop else "_all")
            save(case, "fpr_" + suffix, fpr)
            save(case, "tpr_" + suffix, tpr)
            # sklearn 1.2 puts max + 1 at index 0 (fas: +-inf); compare from index 1 on.
            save(case, "thr_" + suffix, sign * thr[1:])
        save(case, "auc_" + tag, [roc_auc_score(labels, live)])
        fpr, tpr, _ = roc_curve(labels, live, drop_intermediate=False)
        eer = brentq(lambda x: 1.0 - x - interp1d(fpr, tpr)(x), 0.0, 1.0, xtol=1e-14)
        save(case, "eer_" + tag, [eer])
    save(case, "thresholds", np.asarray(thresholds, dtype=np.float32))
    for k, t in enumerate(np.asarray(thresholds, dtype=np.float32).astype(np.float64)):
        for tag, pred in (("live", s >= t), ("anom", s <= t)):
            pred = pred.astype(np.int64)
            save(case, "acc_%s_%d" % (tag, k), [accuracy_score(labels, pred)])
            save(case, "cm_%s_%d" % (tag, k), confusion_matrix(labels, pred, labels=[0, 1]))


def main():
    rng = np.random.default_rng(20261123)
    # Heavy ties: scores on a 0.05 grid, live shifted up; 120 samples, imbalanced.
    labels = (rng.random(120) < 0.6).astype(np.int64)
    raw = rng.normal(0.5 + 0.15 * (2 * labels - 1), 0.2)
    ties = np.clip(np.round(raw * 20) / 20, 0, 1)
    write_case("metrics_ties", ties, labels, [0.5, float(np.float32(ties[7])), 0.0, 1.0])
    # Continuous scores (almost surely no ties), strong overlap.
    labels = (rng.random(75) < 0.4).astype(np.int64)
    cont = rng.normal(labels * 0.8, 1.0)
    write_case("metrics_cont", cont, labels, [0.0, 0.4, float(np.float32(cont[3]))])


if __name__ == "__main__":
    main()
