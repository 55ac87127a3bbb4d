#!/usr/bin/python3
"""EXP-060 (docs/experiments/EXP-060-wiqa-session-carry.md): W-IQA classifiers compared by
leave-one-capture-session-out on the training list's features (tools/iqa_dump_features.cpp CSV).
Prints, per candidate, each fold's ACER / accuracy / AUC at P(live) = 0.5 and the mean ACER.
  /usr/bin/python3 tools/iqa_session_study.py /tmp/raw_train_iqa.csv
Needs python3-numpy, python3-sklearn."""
import csv
import re
import sys

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(path):
    rows = list(csv.reader(open(path)))
    names = rows[0][2:]
    X = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    y = np.array([int(r[1]) for r in rows[1:]])
    sess = np.array([re.search(r"_([0-9]{2})_[0-9]+\.", r[0]).group(1) for r in rows[1:]])
    return names, X, y, sess


def slog(X):
    return np.sign(X) * np.log1p(np.abs(X))


def lda():
    return LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto")


def stable_columns(X, y, sess):
    keep = []
    for j in range(X.shape[1]):
        aucs = [roc_auc_score(y[sess == s], X[sess == s, j]) for s in np.unique(sess)]
        if all(a >= 0.65 for a in aucs) or all(a <= 0.35 for a in aucs):
            keep.append(j)
    return keep


def report(y, p):
    pred = p > 0.5
    apcer = np.mean(pred[y == 0])
    bpcer = np.mean(~pred[y == 1])
    return (apcer + bpcer) / 2, np.mean(pred == (y == 1)), roc_auc_score(y, p)


def main():
    names, X, y, sess = load(sys.argv[1])
    cands = {
        "C0 lda": (lambda X: X, lda, None),
        "C1 lda-log": (slog, lda, None),
        "C2 logreg-log": (slog, lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)), None),
        "C3 lda-log-stable": (slog, lda, "stable"),
    }
    for name, (tf, make, sel) in cands.items():
        acers = []
        line = []
        for s in np.unique(sess):
            tr, te = sess != s, sess == s
            Xt = tf(X)
            cols = list(range(X.shape[1]))
            if sel == "stable":
                cols = stable_columns(Xt[tr], y[tr], sess[tr]) if len(np.unique(sess[tr])) > 1 else \
                    [j for j in range(X.shape[1]) if abs(roc_auc_score(y[tr], Xt[tr, j]) - 0.5) >= 0.15]
            clf = make().fit(Xt[tr][:, cols], y[tr])
            acer, acc, auc = report(y[te], clf.predict_proba(Xt[te][:, cols])[:, 1])
            acers.append(acer)
            line.append(f"fit !{s} -> {s}: ACER {100 * acer:.1f} acc {100 * acc:.1f} AUC {auc:.3f}")
        print(f"{name:20s} mean ACER {100 * np.mean(acers):.1f} | " + " | ".join(line))
    cols = stable_columns(slog(X), y, sess)
    print("stable metrics on raw_train (both sessions):", [names[j] for j in cols])
    for j, n in enumerate(names):
        aucs = [roc_auc_score(y[sess == s], X[sess == s, j]) for s in np.unique(sess)]
        print(f"  {n:5s} AUC per session " + " ".join(f"{a:.3f}" for a in aucs))


if __name__ == "__main__":
    main()
