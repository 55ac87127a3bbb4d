#!/usr/bin/env python3
"""Load test of a running `fas serve`: C concurrent clients post images from a list for S
seconds (each client cycles through the list from its own offset), then the figures that
bench/RESULTS.md keeps: requests/s, client-side latency p50/p90/p99/max, the server's own "ms"
p50/p99, and every failed request (a non-200 answer or a broken connection).

    tools/serve_load.py URL LIST [--clients 8] [--seconds 30] [--limit 200]

LIST is a fas list (path label per line, relative to the list's folder). Exit 1 if any request
failed.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request


def load_images(list_path, limit):
    root = os.path.dirname(os.path.abspath(list_path))
    out = []
    with open(list_path) as f:
        for line in f:
            parts = line.split()
            if parts:
                with open(os.path.join(root, parts[0]), "rb") as g:
                    out.append(g.read())
            if len(out) >= limit:
                break
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("list")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--limit", type=int, default=200, help="images taken from the list")
    a = ap.parse_args()
    images = load_images(a.list, a.limit)
    # Wait (up to a minute) until the server answers: it loads its models before it listens.
    health = a.url.rstrip("/") + "/health"
    for _ in range(600):
        try:
            urllib.request.urlopen(health, timeout=5).read()
            break
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    else:
        sys.exit(f"serve_load: {health} does not answer")
    url = a.url.rstrip("/") + "/v1/liveness"
    lat, server_ms, failures = [], [], []
    lock = threading.Lock()
    stop = time.time() + a.seconds

    def client(k):
        i = k * len(images) // a.clients
        while time.time() < stop:
            req = urllib.request.Request(url, data=images[i % len(images)], method="POST",
                                         headers={"Content-Type": "image/jpeg"})
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    body = json.loads(r.read())
                dt = (time.perf_counter() - t0) * 1e3
                with lock:
                    lat.append(dt)
                    server_ms.append(body["ms"])
            except (urllib.error.URLError, OSError, ValueError, KeyError) as e:
                with lock:
                    failures.append(repr(e))
            i += 1

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    n = len(lat)
    print(f"clients {a.clients}, {wall:.1f} s, {n} ok, {len(failures)} failed, {n / wall:.1f} requests/s")
    if n:
        print(f"latency ms: p50 {pct(lat, .5):.1f}  p90 {pct(lat, .9):.1f}  p99 {pct(lat, .99):.1f}  "
              f"max {max(lat):.1f}; server ms: p50 {pct(server_ms, .5):.1f}  p99 {pct(server_ms, .99):.1f}  "
              f"mean {statistics.mean(server_ms):.1f}")
    for f in failures[:5]:
        print("failed:", f)
    sys.exit(1 if failures or not n else 0)


if __name__ == "__main__":
    main()
