#!/usr/bin/python3
"""Every test alone and fused, from the scores.csv of `fas eval --ckpt FUSION.safetensors`.

The columns logit_<member> (each member's live log-odds) and fused_logit of one pass over the
list: each is decided at P(live) >= 0.5 (log-odds >= 0), fixed, nothing chosen on the list; a
row without a face (empty log-odds) is a rejection (as `fas eval` counts it). Also the mean of
the members' log-odds (the unlearned fusion of `fas eval --ckpt A --ckpt B`). Prints a Markdown
table (APCER, BPCER, ACER, AUC) and, with --per-subject, each column's ACER per subject.

Usage: /usr/bin/python3 tools/fusion_report.py runs/fusion/eval/scores.csv [--per-subject]
"""
import csv
import math
import re
import sys

from sklearn.metrics import roc_auc_score


def rates(labels, z):
    """APCER, BPCER, ACER at log-odds >= 0 (None = rejected); AUC with rejections lowest."""
    spoof = [v for y, v in zip(labels, z) if y == 0]
    live = [v for y, v in zip(labels, z) if y == 1]
    apcer = sum(v is not None and v >= 0 for v in spoof) / max(1, len(spoof))
    bpcer = sum(v is None or v < 0 for v in live) / max(1, len(live))
    s = [-math.inf if v is None else v for v in z]
    lo = min([v for v in s if v != -math.inf] or [0]) - 1
    s = [lo if v == -math.inf else v for v in s]
    auc = roc_auc_score(labels, s) if len(set(labels)) == 2 else float("nan")
    return apcer, bpcer, (apcer + bpcer) / 2, auc


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: fusion_report.py SCORES_CSV [--per-subject]")
    rows = list(csv.DictReader(open(sys.argv[1])))
    if not rows or "fused_logit" not in rows[0]:
        sys.exit("fusion_report: error: not the scores.csv of a learned fusion (no fused_logit column)")
    members = [c for c in rows[0] if c.startswith("logit_")]
    val = lambda r, c: None if r[c] in ("", "nan", "-inf") else float(r[c])
    cols = {c[len("logit_"):]: [val(r, c) for r in rows] for c in members}
    if len(members) > 1:
        cols["mean log-odds"] = [None if any(v is None for v in vs) else sum(vs) / len(vs)
                                 for vs in zip(*[cols[c[len("logit_"):]] for c in members])]
    cols["learned fusion (LDA)"] = [val(r, "fused_logit") for r in rows]
    labels = [int(r["label"]) for r in rows]
    no_face = sum(v is None for v in cols["learned fusion (LDA)"])
    print(f"{sys.argv[1]}: {len(rows)} images ({sum(labels)} live), {no_face} without a face (rejected)\n")
    print("| test | APCER | BPCER | ACER | AUC |\n|---|---|---|---|---|")
    for name, z in cols.items():
        a, b, c, auc = rates(labels, z)
        print(f"| {name} | {100 * a:.2f} % | {100 * b:.2f} % | {100 * c:.2f} % | {auc:.4f} |")
    if "--per-subject" in sys.argv:
        subj = [re.search(r"/([0-9]{4})_", r["path"]).group(1) for r in rows]
        keys = sorted(set(subj))
        print("\nACER per subject (a subject with one class: that class's error rate)\n")
        print("| test | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        for name, z in cols.items():
            cells = []
            for k in keys:
                idx = [i for i, s in enumerate(subj) if s == k]
                ls, zs = [labels[i] for i in idx], [z[i] for i in idx]
                a, b, _, _ = rates(ls, zs)
                has_s, has_l = 0 in ls, 1 in ls
                v = (a + b) / 2 if has_s and has_l else (a if has_s else b)
                cells.append(f"{100 * v:.1f}")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
