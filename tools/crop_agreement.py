#!/usr/bin/python3
"""How often fas's face crops (dlib HOG detector, largest face, the thesis' squaring rule: the
path of `fas predict --detect` and `fas serve`) agree with the prepared NUAA face crops.

The prepared crops (faces/...) were cut from the raw frames by OpenCV's Haar detector and resized
to 128x128; their boxes were not stored. So each crop is located in its raw frame (same subject,
same file name) by normalised cross-correlation over positions and square sizes: the crop resized
to s x s against every s x s window of the grey frame (every size at 1/8 scale, then refined
around the best at 1/4, 1/2 and full scale). A location counts when its correlation is >= --min-ncc (a crop that does not come from
its frame, or not as a square window, scores far lower).

Agreement: IoU(fas box, located box) >= --iou (default 0.5). Per frame, writes CSV; prints the
counts per list and class.

Usage: /usr/bin/python3 tools/crop_agreement.py --fas build/fas --nuaa ../shared/data/nuaa \
           --out runs/crop_agreement [--lists raw_train.txt,raw_test.txt]
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
from skimage.feature import match_template


def fail(msg):
    sys.exit(f"crop_agreement: error: {msg}")


def grey(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.float64) / 255.0


def resized(a, s):
    """a (float grey) resized to s x s, area averaging when shrinking (fas's and the crops' resize)."""
    im = Image.fromarray(a.astype(np.float32), mode="F")
    return np.asarray(im.resize((s, s), Image.BOX if s <= a.shape[0] else Image.BILINEAR), dtype=np.float64)


def locate(frame, crop):
    """(x, y, s, ncc) of the square window of frame that best matches crop: a pyramid search, all
    sizes at 1/8 scale, then around the best at 1/4, 1/2 and full scale."""
    H, W = frame.shape
    levels = {f: resized_rect(frame, H // f, W // f) for f in (8, 4, 2)}
    levels[1] = frame
    best = None
    # (scale factor, size step, size reach around the best, position reach in pixels)
    for f, step, reach, pos in ((8, 16, None, None), (4, 4, 12, 16), (2, 2, 4, 8), (1, 1, 1, 3)):
        img = levels[f]
        h, w = img.shape
        if best is None:
            sizes, win = range(48, min(H, W) + 1, step), None
        else:
            _, x0, y0, s0 = best
            sizes, win = range(max(16, s0 - reach), min(H, W, s0 + reach) + 1, step), (x0, y0)
        cand = (-2.0, 0, 0, 0)
        for s in sizes:
            t = resized(crop, max(4, round(s / f)))
            ts = t.shape[0]
            if win is None:
                x1 = y1 = 0
                region = img
            else:
                x1, y1 = max(0, (win[0] - pos) // f), max(0, (win[1] - pos) // f)
                x2, y2 = min(w, (win[0] + s + pos) // f + 1), min(h, (win[1] + s + pos) // f + 1)
                region = img[y1:y2, x1:x2]
            if region.shape[0] < ts or region.shape[1] < ts:
                continue
            r = match_template(region, t)
            i = np.unravel_index(np.argmax(r), r.shape)
            if r[i] > cand[0]:
                cand = (float(r[i]), (x1 + i[1]) * f, (y1 + i[0]) * f, s)
        if cand[0] > -2.0:
            best = cand
    ncc, x, y, s = best
    return x, y, s, ncc


def resized_rect(a, h, w):
    im = Image.fromarray(a.astype(np.float32), mode="F")
    return np.asarray(im.resize((w, h), Image.BOX), dtype=np.float64)


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter)


def fas_boxes(fas, ckpt, frames, threads):
    """{frame path: (x, y, w, h) or None} from `fas predict --detect` (one JSON line per image)."""
    out = {}
    for k in range(0, len(frames), 200):
        chunk = frames[k:k + 200]
        r = subprocess.run([fas, "predict", "--detect", "--threads", str(threads), "--ckpt", ckpt] + chunk,
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"fas predict --detect failed: {r.stderr.strip()}")
        for line in r.stdout.splitlines():
            j = json.loads(line)
            f = j["face"]
            out[j["image"]] = None if f is None else (f["x"], f["y"], f["w"], f["h"])
    missing = [f for f in frames if f not in out]
    if missing:
        fail(f"fas predict gave no answer for {len(missing)} frames, e.g. {missing[0]}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fas", default="build/fas")
    ap.add_argument("--ckpt", default="models/lbp-lr.safetensors", help="any face test (its score is unused)")
    ap.add_argument("--nuaa", required=True)
    ap.add_argument("--lists", default="raw_train.txt,raw_test.txt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iou", type=float, default=0.5)
    ap.add_argument("--min-ncc", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--every", type=int, default=1,
                    help="locate the prepared crop in every N-th frame of each list only (the search costs "
                         "~0.25 s of CPU a frame); dlib runs on every frame")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    summary = {}
    for lst in a.lists.split(","):
        path = os.path.join(a.nuaa, lst)
        if not os.path.isfile(path):
            fail(f"list '{path}' not found")
        rows = [l.split() for l in open(path) if l.strip()]
        frames = [os.path.join(a.nuaa, r[0]) for r in rows]
        boxes = fas_boxes(a.fas, a.ckpt, frames, a.threads)
        per = []
        for n, ((rel, label), frame) in enumerate(zip(rows, frames)):
            if n % 100 == 0:
                print(f"{lst}: locating the prepared crops, {n}/{len(rows)}", file=sys.stderr, flush=True)
            crop_rel = rel.replace("raw/ClientRaw/", "faces/ClientFace/").replace("raw/ImposterRaw/", "faces/ImposterFace/")
            crop_path = os.path.join(a.nuaa, crop_rel)
            rec = {"frame": rel, "label": int(label), "fas_box": boxes[frame], "crop": None, "ncc": None, "iou": None}
            if os.path.isfile(crop_path) and n % a.every == 0:
                x, y, s, ncc = locate(grey(frame), grey(crop_path))
                rec["ncc"] = ncc
                if ncc >= a.min_ncc:
                    rec["crop"] = (x, y, s, s)
                    if rec["fas_box"] is not None:
                        rec["iou"] = iou(rec["fas_box"], rec["crop"])
            per.append(rec)
        with open(os.path.join(a.out, lst.replace(".txt", ".csv")), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["frame", "label", "fas_x", "fas_y", "fas_w", "fas_h", "crop_x", "crop_y", "crop_s", "ncc", "iou"])
            for r in per:
                fb = r["fas_box"] or ("",) * 4
                cb = r["crop"] or ("",) * 4
                w.writerow([r["frame"], r["label"], *fb, *cb[:3], "" if r["ncc"] is None else f"{r['ncc']:.4f}",
                            "" if r["iou"] is None else f"{r['iou']:.4f}"])
        for cls, name in ((None, "all"), (1, "live"), (0, "spoof")):
            sel = [r for r in per if cls is None or r["label"] == cls]
            both = [r for r in sel if r["iou"] is not None]
            ious = np.array([r["iou"] for r in both]) if both else np.zeros(0)
            s = {"frames": len(sel),
                 "fas_face_found": sum(r["fas_box"] is not None for r in sel),
                 "searched": sum(1 for i, r in enumerate(per) if (cls is None or r["label"] == cls) and i % a.every == 0),
                 "bundled_crop": sum(os.path.isfile(os.path.join(a.nuaa, r["frame"].replace("raw/ClientRaw/", "faces/ClientFace/").replace("raw/ImposterRaw/", "faces/ImposterFace/"))) for r in sel),
                 "crop_located": sum(r["crop"] is not None for r in sel),
                 "both": len(both),
                 "agree": int((ious >= a.iou).sum()),
                 "median_iou": float(np.median(ious)) if len(ious) else None}
            summary[f"{lst}:{name}"] = s
            print(f"{lst:14s} {name:5s} frames {s['frames']:4d}  fas face {s['fas_face_found']:4d}  bundled crop "
                  f"{s['bundled_crop']:4d} searched {s['searched']:4d} located {s['crop_located']:4d}  both {s['both']:4d}  "
                  f"IoU>={a.iou:g} {s['agree']:4d}  median IoU {s['median_iou'] if s['median_iou'] is None else round(s['median_iou'], 3)}")
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
