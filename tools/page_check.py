#!/usr/bin/env python3
"""Checks fas serve's page in headless Chromium, as a person would use it.

    tools/page_check.py liveness FAS IMAGE OUT_PNG [fas serve flags...]
        starts `FAS serve --port 0 ...`, opens the page, uploads IMAGE with the file input, waits
        for the decision and the per-test table, checks them against the API's answer for the
        same bytes, and keeps a screenshot in OUT_PNG.

    tools/page_check.py generator FAS CKPT OUT_PNG [fas serve flags...]
        starts `FAS serve --port 0 --generator CKPT ...`, opens /generator, waits for the first
        decoded face, moves the first slider and checks that the face changes; screenshot.

Exit 0 when every check holds; one line `page check: ...` and exit 1 otherwise.
"""
import json
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cdp import Browser  # noqa: E402


class Server:
    """`fas serve --port 0` in the background; its first stdout line names the URL."""

    def __init__(self, fas, args):
        self.proc = subprocess.Popen([fas, "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"(http://[\d.]+:\d+/)", line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"page check: fas serve did not start: {line}{self.proc.stderr.read()}")
        self.url = m.group(1)

    def post(self, path, body, ctype):
        req = urllib.request.Request(self.url + path.lstrip("/"), data=body, method="POST",
                                     headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def fail(msg):
    print(f"page check: {msg}")
    sys.exit(1)


def check_liveness(fas, image, out_png, args):
    srv = Server(fas, args)
    try:
        with open(image, "rb") as f:
            api = srv.post("/v1/liveness", f.read(), "image/jpeg" if image.lower().endswith((".jpg", ".jpeg")) else "image/png")
        with Browser() as b:
            b.navigate(srv.url)
            if b.eval("document.title") != "fas liveness":
                fail("the page did not load")
            b.set_files("#file", [image])
            b.wait_for("document.getElementById('tests') !== null || document.getElementById('error') !== null",
                       "the scores")
            err = b.eval("document.getElementById('error') && document.getElementById('error').textContent")
            if err:
                fail(f"the page shows an error: {err}")
            decision = b.eval("document.getElementById('decision').textContent")
            rows = b.eval("Array.from(document.querySelectorAll('#tests tr')).slice(1)"
                          ".map(r => Array.from(r.cells).map(c => c.textContent))")
            box_drawn = b.eval("(() => { const c = document.getElementById('view');"
                               " return c.width > 0 && c.height > 0; })()")
            b.screenshot(out_png)
        expected = api["fused"]["decision"] if api.get("fused") else api.get("message")
        if decision != expected:
            fail(f"the page says '{decision}', the API '{expected}'")
        names = [r[0] for r in rows]
        for t in api["tests"]:
            if t["name"] not in names:
                fail(f"test {t['name']} missing from the page's table {names}")
            shown = float(rows[names.index(t["name"])][1])
            if abs(shown - t["p_live"]) > 5e-4:
                fail(f"{t['name']}: page {shown}, API {t['p_live']:.4f}")
        if not box_drawn:
            fail("the image was not drawn")
        print(f"page check: ok — uploaded {image}, page shows '{decision}' and {len(rows)} rows "
              f"({', '.join(names)}); screenshot {out_png}")
    finally:
        srv.close()


# The face's pixels as the page shows them, summed (the <img> drawn into a canvas).
FACE_SUM = ("(() => { const i = document.getElementById('face'); const c = document.createElement('canvas');"
            " c.width = i.naturalWidth; c.height = i.naturalHeight; const x = c.getContext('2d'); x.drawImage(i, 0, 0);"
            " const d = x.getImageData(0, 0, c.width, c.height).data; let s = 0; for (const v of d) s += v; return s; })()")


def check_generator(fas, ckpt, out_png, args):
    srv = Server(fas, ["--generator", ckpt, *args])
    try:
        with Browser() as b:
            b.navigate(srv.url + "generator")
            b.wait_for("Number(document.getElementById('face').dataset.decodes || 0) >= 1 && "
                       "document.getElementById('face').complete", "the first decoded face")
            n_sliders = b.eval("document.querySelectorAll('#sliders input').length")
            info = json.loads(urllib.request.urlopen(srv.url + "v1/generator", timeout=30).read())
            if n_sliders != info["dims"]:
                fail(f"{n_sliders} sliders for a latent of {info['dims']}")
            before = b.eval(FACE_SUM)
            b.eval("(() => { const s = document.getElementById('s0'); s.value = 2.5;"
                   " s.dispatchEvent(new Event('input')); })()")
            b.wait_for("Number(document.getElementById('face').dataset.decodes) >= 2 && "
                       "document.getElementById('face').complete", "the face after the slider moved")
            time.sleep(0.2)
            after = b.eval(FACE_SUM)
            status = b.eval("document.getElementById('status').textContent")
            b.screenshot(out_png)
        if not before or before == after:
            fail(f"the face did not change when the slider moved (pixel sums {before} -> {after})")
        print(f"page check: ok — {n_sliders} sliders; moving z0 to 2.5 changed the face "
              f"(pixel sum {before} -> {after}); {status}; screenshot {out_png}")
    finally:
        srv.close()


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("liveness", "generator"):
        print(__doc__)
        sys.exit(2)
    t0 = time.time()
    check = check_liveness if sys.argv[1] == "liveness" else check_generator
    check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    print(f"page check: {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
