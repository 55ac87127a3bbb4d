#!/usr/bin/env python3
"""Markdown table rows from fas eval outputs (metrics.json), for the docs' result tables.

    tools/metrics_table.py NAME=DIR [NAME=DIR ...]      DIR: an `fas eval --out` directory

Prints one row per run: accuracy, APCER, BPCER, ACER, EER, AUC and the threshold used (with its
source), in percent where the docs use percent. Standard library only.
"""
import json
import os
import sys


def row(name, d):
    path = os.path.join(d, "metrics.json")
    try:
        with open(path) as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"metrics_table.py: cannot read {path}: {e}")
    pct = lambda k: f"{100 * m[k]:.2f} %"
    return (f"| {name} | {pct('accuracy')} | {pct('apcer')} | {pct('bpcer')} | **{pct('acer')}** | "
            f"{pct('eer')} | {m['auc']:.3f} | {m['threshold']:.4g} ({m.get('threshold_source', '?')}) |")


def main(argv):
    if not argv or any("=" not in a for a in argv):
        sys.exit(__doc__.strip())
    print("| run | accuracy | APCER | BPCER | ACER | EER | AUC | threshold |")
    print("|---|---|---|---|---|---|---|---|")
    for a in argv:
        name, d = a.split("=", 1)
        print(row(name, d))


if __name__ == "__main__":
    main(sys.argv[1:])
