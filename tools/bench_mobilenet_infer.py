#!/usr/bin/python3
"""Side-by-side MobileNetV2-lite inference benchmark: fas (float and int8) vs PyTorch, one run.

usage: /usr/bin/python3 tools/bench_mobilenet_infer.py BUILD_DIR [REPS]
Runs BUILD_DIR/bench_mobilenet_infer (Google Benchmark, REPS repetitions) and
tools/bench_mobilenet_torch.py one after the other, all single-threaded, and prints a
markdown table (median wall ms, fastest wall ms, median CPU ms) with the CPU name, the load
average before the run, and the targets (face <= 1.0 ms, 128x128 <= 0.4 ms; ncnn 1.57 / 0.55).
"""
import json, os, statistics, subprocess, sys

def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"

def main():
    build, reps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", FAS_NUM_THREADS="1")
    load = open("/proc/loadavg").read().split()[:3]
    out = subprocess.run([os.path.join(build, "bench_mobilenet_infer"), f"--benchmark_repetitions={reps}",
                          "--benchmark_format=json"], env=env, check=True, capture_output=True, text=True).stdout
    rows = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"].split("/min_time")[0]  # BM_Float/face_2x250x200
        kind, case = name.split("/")
        r = rows.setdefault((case, "fas " + ("float32" if kind == "BM_Float" else "int8")), {"wall": [], "cpu": []})
        r["wall"].append(b["real_time"]), r["cpu"].append(b["cpu_time"])
        r["label"] = b.get("label", "")
    here = os.path.dirname(os.path.abspath(__file__))
    tout = subprocess.run(["/usr/bin/python3", os.path.join(here, "bench_mobilenet_torch.py"), str(reps)], env=env,
                          check=True, capture_output=True, text=True).stdout
    for line in tout.splitlines():
        t = json.loads(line)
        rows[(t["case"], "PyTorch " + t["torch"] + " " + t["mode"])] = {
            "wall": [t["median_ms"]], "best": t["fastest_ms"], "cpu": [t["median_cpu_ms"]], "label": ""}
    print(f"CPU: {cpu_name()}; load average before the run: {' '.join(load)}; 1 thread, batch 1\n")
    print("| input | engine | median ms | fastest ms | median CPU ms | vs fas float32 (CPU) |")
    print("|---|---|---|---|---|---|")
    for case in ("face_2x250x200", "rgb_3x128x128"):
        base = statistics.median(rows[(case, "fas float32")]["cpu"])
        for (c, eng), r in sorted(rows.items(), key=lambda kv: (kv[0][0], statistics.median(kv[1]["cpu"]))):
            if c != case:
                continue
            cpu = statistics.median(r["cpu"])
            best = r.get("best", min(r["wall"]))
            isa = f" ({r['label']})" if r["label"] else ""
            print(f"| {case} | {eng}{isa} | {statistics.median(r['wall']):.3f} | {best:.3f} | {cpu:.3f} | "
                  f"{cpu / base:.2f}x |")
    print("\nTargets: face <= 1.0 ms, 3x128x128 <= 0.4 ms (ncnn measured here: 1.57 ms / 0.55 ms median).")

if __name__ == "__main__":
    main()
