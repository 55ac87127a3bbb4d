#!/usr/bin/env python3
"""Compares P(live) of the same images from two outputs (used by tools/minimal_check.sh and
tools/arm_check.sh):
  compare_scores.py FULL MINIMAL TOL LABEL
FULL: `fas predict` JSON lines ({"image": ..., "score": ...}); MINIMAL: fas_example lines
"IMAGE P(live) = P logit = L". Both are read as float32; TOL 0 means bit-identical, otherwise
|a - b| <= TOL. Prints the largest difference; exit code 1 when over TOL or images differ."""
import json
import struct
import sys


def f32(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


full_path, min_path, tol, label = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
full = {}
for line in open(full_path):
    if line.startswith("{"):
        j = json.loads(line)
        full[j["image"]] = f32(j["score"])
mini = {}
for line in open(min_path):
    if " P(live) = " in line:
        image, rest = line.split(" P(live) = ")
        mini[image] = f32(rest.split()[0])
if not full or sorted(full) != sorted(mini):
    sys.exit(f"{label}: images differ: {sorted(full)} vs {sorted(mini)}")
diff = max(abs(full[k] - mini[k]) for k in full)
ok = diff == 0 if tol == 0 else diff <= tol
print(f"{label}: {len(full)} images, max |P(live) difference| {diff:.3g} "
      f"({'identical' if diff == 0 else 'tolerance %g' % tol}) {'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
