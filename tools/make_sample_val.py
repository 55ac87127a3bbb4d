"""Adds data/sample/val.txt: 50 live + 50 spoof NUAA training-session crops that are not in
data/sample/train.txt, taken at even steps (offset by half a step) along faces_train.txt, so the
bundled demo picks its best epoch and threshold on images other than the ones it reports on.
Usage: python3 tools/make_sample_val.py [path/to/shared/data/nuaa]"""
import os
import shutil
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
nuaa = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data", "nuaa")
sample = os.path.join(root, "data", "sample")
taken = {l.split()[0] for l in open(os.path.join(sample, "train.txt"))}
lines = [l.split() for l in open(os.path.join(nuaa, "faces_train.txt")) if l.strip()]
out = []
for label in ("1", "0"):
    pool = [p for p, y in lines if y == label and p not in taken]
    step = len(pool) / 50
    out += [(pool[int(step * i + step / 2)], label) for i in range(50)]
with open(os.path.join(sample, "val.txt"), "w") as f:
    for p, y in out:
        os.makedirs(os.path.dirname(os.path.join(sample, p)), exist_ok=True)
        shutil.copyfile(os.path.join(nuaa, p), os.path.join(sample, p))
        f.write(f"{p} {y}\n")
