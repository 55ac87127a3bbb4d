#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/): a few small valid inputs of
every kind each target reads, so libFuzzer starts from deep inside the parsers. Images are
encoded here by hand (no imaging library needed), the JPEG is the bundled sample's smallest
face. Run from anywhere: python3 tools/make_fuzz_seeds.py"""
import json
import os
import shutil
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def pixels(w, h, c):
    return bytes((x * 37 + y * 11 + k * 80) % 256 for y in range(h) for x in range(w) for k in range(c))


def png(w, h, c, depth=8):
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b""
    px = pixels(w, h, c * depth // 8)
    row = w * c * depth // 8
    for y in range(h):
        raw += bytes([y % 5]) + px[y * row:(y + 1) * row]  # every PNG filter type appears

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bmp(w, h, bpp):
    stride = (w * bpp // 8 + 3) & ~3
    palette = b"".join(bytes([i, i, i, 0]) for i in range(256)) if bpp == 8 else b""
    body = b""
    px = pixels(w, h, bpp // 8)
    for y in range(h):
        r = px[y * w * bpp // 8:(y + 1) * w * bpp // 8]
        body += r + b"\0" * (stride - len(r))
    off = 14 + 40 + len(palette)
    return (b"BM" + struct.pack("<IHHI", off + len(body), 0, 0, off) +
            struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, 0, len(body), 2835, 2835, 0, 0) + palette + body)


def tga(w, h, c, rle):
    kind = (10 if rle else 2) if c >= 3 else (11 if rle else 3)
    head = struct.pack("<BBBHHBHHHHBB", 0, 0, kind, 0, 0, 0, 0, 0, w, h, c * 8, 0)
    px = pixels(w, h, c)
    if not rle:
        return head + px
    body = b""
    for i in range(0, w * h, 2):  # alternate run and raw packets
        p = px[i * c:(i + 1) * c]
        body += bytes([0x81]) + p if (i // 2) % 2 == 0 else bytes([0x01]) + px[i * c:(i + 2) * c]
    return head + body


def safetensors(tensors, meta):
    header, data = {"__metadata__": meta}, b""
    for name, (shape, values) in tensors.items():
        b = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    # fuzz_image: every format decode_image accepts.
    for c in (1, 2, 3, 4):
        put("fuzz_image", "png_c%d.png" % c, png(5, 4, c))
    put("fuzz_image", "png_16bit.png", png(3, 3, 1, 16))
    put("fuzz_image", "bmp24.bmp", bmp(5, 3, 24))
    put("fuzz_image", "bmp8.bmp", bmp(4, 2, 8))
    put("fuzz_image", "bmp32.bmp", bmp(3, 3, 32))
    put("fuzz_image", "tga_rgb.tga", tga(4, 3, 3, False))
    put("fuzz_image", "tga_rle.tga", tga(4, 2, 3, True))
    put("fuzz_image", "tga_grey.tga", tga(3, 3, 1, False))
    put("fuzz_image", "grey.pgm", b"P5\n# c\n4 3\n255\n" + pixels(4, 3, 1))
    put("fuzz_image", "rgb.ppm", b"P6 3 2 255\n" + pixels(3, 2, 3))
    put("fuzz_image", "wide.pgm", b"P5 2 2 65535\n" + pixels(2, 2, 2))
    shutil.copy(os.path.join(ROOT, "data/sample/faces/ClientFace/0015/0015_01_05_03_15.jpg"),
                os.path.join(OUT, "fuzz_image", "face.jpg"))
    # fuzz_list: list files as the NUAA lists and users write them.
    put("fuzz_list", "nuaa.txt", "faces/ClientFace/0001/a.jpg 1\nfaces/ImposterFace/0001/b.jpg 0\n")
    put("fuzz_list", "mixed.txt", "# comment\n\n  dir with space/x.png\t0\r\n/abs/y.bmp 1\n")
    put("fuzz_list", "bad.txt", "img.jpg 2\n")
    # fuzz_checkpoint: the model the target restores into is tiny-mlp at height=width=4, hidden=2.
    cfg = '{"channels":1,"dropout":0.0,"height":4,"hidden":2,"normalize":"symmetric","width":4}'
    meta = {"format": "fas-checkpoint-1", "fas_model": "tiny-mlp", "fas_config": cfg, "epoch": "1", "step": "3"}
    params = {"fc1.weight": ([2, 16], [0.01 * i for i in range(32)]), "fc1.bias": ([2], [0.1, -0.1]),
              "fc2.weight": ([1, 2], [0.5, -0.5]), "fc2.bias": ([1], [0.0])}
    put("fuzz_checkpoint", "model.safetensors", safetensors(params, meta))
    optim = dict(params)
    for n, (shape, v) in params.items():
        optim["optim." + n + ".exp_avg"] = (shape, [0.001] * len(v))
        optim["optim." + n + ".exp_avg_sq"] = (shape, [1e-6] * len(v))
    optim["optim.step"] = ([], [3.0])
    put("fuzz_checkpoint", "model_adam.safetensors", safetensors(optim, meta))
    put("fuzz_checkpoint", "plain.safetensors", safetensors({"x": ([0, 3], []), "y": ([1, 1, 1], [2.0])}, {"k": "v"}))
    # fuzz_config: first byte picks the model (index into the sorted model names), then --set lines.
    put("fuzz_config", "sizes", b"\x00height=32\nwidth=24\nchannels=1\n")
    put("fuzz_config", "strings", b"\x01normalize=meanstd:0.5:0.25\nresize=bilinear\n")
    put("fuzz_config", "json", b"\x02normalize=dog:0:2\nheight=1e3\nwidth=[1,2]\n")
    # fuzz_serve: flags byte, detector box (x, y, w-1, h-1), then method, path, content type,
    # authorization lines and the body (fuzz/fuzz_serve.cpp).
    def req(flags, method, path, ctype, auth, body, box=b"\0\0\x07\x07"):
        return bytes([flags]) + box + ("%s\n%s\n%s\n%s\n" % (method, path, ctype, auth)).encode() + body
    put("fuzz_serve", "liveness_png", req(0, "POST", "/v1/liveness", "image/png", "", png(5, 4, 3)))
    put("fuzz_serve", "liveness_bmp_token", req(4, "POST", "/v1/liveness", "application/octet-stream",
                                                "Bearer secret", bmp(5, 3, 24)))
    put("fuzz_serve", "liveness_multipart", req(3, "POST", "/v1/liveness", "multipart/form-data; boundary=x", "",
                                                tga(4, 3, 3, False)))
    put("fuzz_serve", "detector_crop", req(16, "POST", "/v1/liveness", "image/x-portable-pixmap", "",
                                           b"P6 24 20 255\n" + pixels(24, 20, 3), box=b"\x03\x02\x09\x0c"))
    put("fuzz_serve", "health_cors", req(8, "GET", "/health", "", "", b""))
    put("fuzz_serve", "preflight", req(8, "OPTIONS", "/v1/liveness", "", "", b""))
    put("fuzz_serve", "generator_info", req(0, "GET", "/v1/generator", "", "", b""))
    put("fuzz_serve", "generator_preset", req(0, "POST", "/v1/generator/preset", "application/json", "",
                                              b'{"name": "random", "seed": 7}'))
    put("fuzz_serve", "generate", req(4, "POST", "/v1/generate", "application/json", "Bearer secret",
                                      b'{"sd": [0.5, -1, 3]}'))


if __name__ == "__main__":
    main()
