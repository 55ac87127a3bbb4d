#!/usr/bin/python3
"""Builds fas's NUAA lists and 128x128 face crops from the original NUAA Photograph Imposter
Database distribution (docs/data.md).

Input (NUAA_ROOT): the distribution's folders ClientFace/, ImposterFace/ (detected faces),
ClientRaw/, ImposterRaw/ (640x480 frames), each with one folder per subject, and its index files
client_train_face.txt, imposter_train_face.txt, client_test_face.txt, imposter_test_face.txt and
the *_raw.txt counterparts: one image per line, relative to its folder (e.g. 0001\\0001_00_00_01_0.jpg;
backslashes, CRLF line ends and a trailing label column are accepted).

Output (OUT): faces/ClientFace/<subject>/*.jpg and faces/ImposterFace/... (128x128 RGB crops,
JPEG quality 95), raw/ClientRaw/... and raw/ImposterRaw/... (links to, or copies of, the frames)
and the lists faces_train.txt, faces_test.txt, raw_train.txt, raw_test.txt: one
`relative/path label` per line, label 1 = live (client), 0 = spoof (imposter), sorted by path --
the format `fas train|eval --data` reads.

Every listed file is checked before anything is written, so a missing or misnamed file is one
error and leaves OUT untouched. Crops need Pillow (Debian python3-pil); without it, or with
--lists-only, only the lists are written (pointing at the distribution's own faces and frames).
Usage: /usr/bin/python3 tools/prepare_nuaa.py NUAA_ROOT OUT [--size 128] [--test-sessions 3] ...
"""
import argparse
import os
import re
import shutil
import sys

try:
    from PIL import Image
except ImportError:  # stdlib only: lists without crops
    Image = None

LISTS = {  # (split, kind) -> [(index file, image folder, label)]
    (split, kind): [(f"client_{split}_{kind}.txt", f"Client{kind.capitalize()}", 1),
                    (f"imposter_{split}_{kind}.txt", f"Imposter{kind.capitalize()}", 0)]
    for split in ("train", "test") for kind in ("face", "raw")}
# NUAA file names: <subject>_<glasses>_<position>_<session>_<frame>.jpg; field 4 is the capture
# session (01, 02 in the training lists, 03 in the test lists' default selection below).
NAME = re.compile(r"^(\d{4})_\d+_\d+_(\d+)_\d+\.\w+$")


def fail(msg):
    sys.exit(f"prepare_nuaa: error: {msg}")


def read_index(root, index, folder, label):
    """(relative path inside `folder`, label) per line of one distribution index file."""
    path = os.path.join(root, index)
    if not os.path.isfile(path):
        fail(f"'{path}' not found: NUAA_ROOT must hold the distribution's index files ({index}, ...)")
    items = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            fields = line.strip().split()
            if not fields or fields[0].startswith("#"):
                continue
            rel = fields[0].replace("\\", "/").lstrip("./")
            if rel.startswith(folder + "/"):  # some copies list the folder too
                rel = rel[len(folder) + 1:]
            if not NAME.match(os.path.basename(rel)):
                fail(f"{path}:{n}: '{fields[0]}' is not a NUAA image name (SSSS_G_P_SS_N.jpg)")
            if not os.path.isfile(os.path.join(root, folder, rel)):
                fail(f"{path}:{n}: image '{os.path.join(root, folder, rel)}' not found")
            items.append((folder, rel, label))
    if not items:
        fail(f"'{path}' lists no images")
    return items


def session(rel):
    return int(NAME.match(os.path.basename(rel)).group(2))


def every_nth(items, per_class):
    """per_class items of each label at even steps along the list (deterministic; 0 = all)."""
    if per_class <= 0:
        return items
    out = []
    for label in (1, 0):
        pool = [it for it in items if it[2] == label]
        step = len(pool) / per_class
        out += pool if step <= 1 else [pool[int(step * i)] for i in range(per_class)]
    return out


def crop(src, dst, size):
    with Image.open(src) as im:
        im = im.convert("RGB")
        # Area averaging when shrinking, bilinear when growing: what fas's own resize does.
        shrink = im.width >= size and im.height >= size
        im = im.resize((size, size), Image.BOX if shrink else Image.BILINEAR)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        im.save(dst, quality=95)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Details and the meaning of each list: docs/data.md.")
    ap.add_argument("nuaa_root", help="the unpacked NUAA distribution (ClientFace/, ..., client_train_face.txt, ...)")
    ap.add_argument("out", help="output directory (created; existing lists and crops are replaced)")
    ap.add_argument("--size", type=int, default=128, help="side of the square face crops (default 128)")
    ap.add_argument("--test-sessions", default="",
                    help="comma-separated capture sessions kept in the test lists, e.g. 3 (default: all listed)")
    ap.add_argument("--raw-per-class", type=int, default=0,
                    help="keep N frames per class and split in the raw lists, at even steps (default 0: all)")
    ap.add_argument("--copy-raw", action="store_true", help="copy the raw frames instead of symlinking them")
    ap.add_argument("--lists-only", action="store_true",
                    help="write only the lists, pointing at the distribution's faces and frames (no crops)")
    a = ap.parse_args()
    if a.size < 8:
        fail(f"--size {a.size}: crops must be at least 8 pixels")
    if not os.path.isdir(a.nuaa_root):
        fail(f"NUAA_ROOT '{a.nuaa_root}' is not a directory")
    try:
        keep = {int(s) for s in a.test_sessions.split(",") if s.strip()}
    except ValueError:
        fail(f"--test-sessions '{a.test_sessions}': expected numbers such as 3 or 1,2")
    lists_only = a.lists_only or Image is None
    if Image is None and not a.lists_only:
        print("prepare_nuaa: Pillow is not installed (Debian python3-pil): writing the lists only", file=sys.stderr)

    # Read and check everything first: an error leaves OUT untouched.
    sel = {}
    for (split, kind), sources in LISTS.items():
        items = [it for src in sources for it in read_index(a.nuaa_root, *src)]
        if split == "test" and keep:
            items = [it for it in items if session(it[1]) in keep]
            if not items:
                fail(f"--test-sessions {a.test_sessions}: no {kind} test image is from those sessions")
        if kind == "raw":
            items = every_nth(items, a.raw_per_class)
        sel[(split, kind)] = items

    root = os.path.abspath(a.nuaa_root)
    os.makedirs(a.out, exist_ok=True)
    out = os.path.abspath(a.out)
    for (split, kind), items in sel.items():
        lines = []
        for folder, rel, label in items:
            src = os.path.join(root, folder, rel)
            if lists_only:
                path = os.path.relpath(src, out)
            elif kind == "face":
                path = f"faces/{folder}/{rel}"
                crop(src, os.path.join(out, path), a.size)
            else:
                path = f"raw/{folder}/{rel}"
                dst = os.path.join(out, path)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if os.path.lexists(dst):
                    os.remove(dst)
                if a.copy_raw:
                    shutil.copyfile(src, dst)
                else:
                    os.symlink(src, dst)
            lines.append(f"{path} {label}\n")
        name = f"{'faces' if kind == 'face' else 'raw'}_{split}.txt"
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            f.writelines(sorted(lines))
        os.replace(tmp, os.path.join(out, name))
        live = sum(1 for it in items if it[2] == 1)
        print(f"{name}: {len(items)} images ({live} live, {len(items) - live} spoof)")


if __name__ == "__main__":
    main()
