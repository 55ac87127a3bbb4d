#!/usr/bin/env python3
"""Compares the model tensors of two fas checkpoints (safetensors; optimizer state "optim.*" and
the weight average "ema.*" are left out), printing the largest absolute difference and the
largest weight magnitude.

  compare_weights.py A B TOL            exit 0 when max |A - B| <= TOL, else 1
  compare_weights.py A B TOL --differ   exit 0 when max |A - B| >  TOL (a control that must fail)
  compare_weights.py A B TOL --like C D  A vs B no further apart than the reference pair C vs D:
      max |A - B| <= max(TOL, 2 max |C - D|) and the values further apart than TOL number at most
      2 n(C, D) + 10. For models where Adam turns rounding-level gradients (of parameters whose
      true gradient is zero, e.g. a BN bias followed by another BN) into lr-sized steps: the
      reference is the same single-process run with other kernels (FAS_ISA=scalar).
  compare_weights.py A B TOL --like-count C D  as --like, judged on the count alone: after one
      Adam step every parameter has moved by lr * g / (|g| + eps), at most lr, so any gradient
      difference moves a value by up to 2 lr and the largest difference says nothing; how many
      values moved (rounding-level gradients vs every gradient) does.

Plain standard library, so any python3 runs it.
"""
import array
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or name.startswith(("optim.", "ema.")) or t["dtype"] != "F32":
            continue
        a = array.array("f")
        a.frombytes(blob[t["data_offsets"][0]:t["data_offsets"][1]])
        if sys.byteorder != "little":
            a.byteswap()
        out[name] = a
    return out


def diff(pa, pb, tol):
    """(max |a - b|, its tensor, number of values further apart than tol, max |a|)"""
    a, b = read(pa), read(pb)
    if a.keys() != b.keys():
        sys.exit("compare_weights: the checkpoints hold different tensors: %s" % sorted(a.keys() ^ b.keys()))
    worst, worst_name, over, scale = 0.0, "-", 0, 0.0
    for k in sorted(a):
        if len(a[k]) != len(b[k]):
            sys.exit("compare_weights: %s has %d vs %d values" % (k, len(a[k]), len(b[k])))
        for x, y in zip(a[k], b[k]):
            if x != x or y != y:
                sys.exit("compare_weights: NaN in %s" % k)
            d = abs(x - y)
            scale = max(scale, abs(x))
            over += d > tol
            if d > worst:
                worst, worst_name = d, k
    return worst, worst_name, over, scale, len(a)


def main():
    argv = sys.argv[1:]
    mode = argv[3] if len(argv) > 3 else ""
    if not ((len(argv) == 3) or (len(argv) == 4 and mode == "--differ") or
            (len(argv) == 6 and mode in ("--like", "--like-count"))):
        sys.exit("usage: compare_weights.py A B TOL [--differ | --like C D | --like-count C D]")
    tol = float(argv[2])
    worst, name, over, scale, n = diff(argv[0], argv[1], tol)
    note = ""
    if mode in ("--like", "--like-count"):
        rworst, rname, rover, _, _ = diff(argv[4], argv[5], tol)
        ok = over <= 2 * rover + 10 and (mode == "--like-count" or worst <= max(tol, 2 * rworst))
        note = "; reference pair: max |diff| %.3g (%s), %d beyond" % (rworst, rname, rover)
    elif mode == "--differ":
        ok = worst > tol
        note = " (expected to differ)"
    else:
        ok = worst <= tol
    print("%s: %d tensors, max |diff| %.3g (%s), %d values beyond tolerance %g, max |w| %.3g%s" %
          ("ok" if ok else "FAIL", n, worst, name, over, tol, scale, note))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
