#!/usr/bin/python3
"""Side-by-side timing of fas and PyTorch on the same models, batch and thread count.

usage: tools/bench_vs_torch.py [--build DIR] [--out bench/RESULTS.md] [--quick] [--no-kernels] [--pin CPU]

fas runs bench/bench_models.cpp (Google Benchmark; the models of tools/torch_ref.py: CNN8, AE1 and
DCVAE as the same layer stacks, MobileNetV2-lite as the model class, its "engine" rows through the
inference engine MobileNetV2Infer),
PyTorch runs tools/torch_ref.py with Debian's /usr/bin/python3 (torch 1.13). Each row runs both
one after the other with the same thread count (FAS_NUM_THREADS / torch.set_num_threads).
Prints the table and writes it, with the CPU name, into bench/RESULTS.md (the section between
the BEGIN/END markers is replaced; the rest of the file, e.g. the analysis, is kept).
Build first: cmake -S . -B build-bench -DFAS_BUILD_BENCH=ON && cmake --build build-bench
  --target bench_models bench_kernels
Timings need an idle machine: the script refuses to start when the 1-minute load is >= 1.5
(override with --force).
"""
import argparse, datetime, json, os, platform, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, torch model, torch mode, batch, threads, fas benchmark name, torch iterations)
ROWS = [
    ("MobileNetV2-lite face 2x250x200 inference", "mnv2nir", "infer", 1, 1, "mnv2_infer/mnv2nir_infer", 100),
    ("  same, fas inference engine vs PyTorch jit.freeze+optimize", "mnv2nir", "infer_opt", 1, 1, "mnv2_infer/mnv2nir_infer_lean", 200),
    ("MobileNetV2-lite 3x128x128 inference", "mnv2", "infer", 1, 1, "mnv2_infer/mnv2_infer", 100),
    ("  same, fas inference engine vs PyTorch jit.freeze+optimize", "mnv2", "infer_opt", 1, 1, "mnv2_infer/mnv2_infer_lean", 300),
    ("MobileNetV2-lite training 3x128x128, batch 32", "mnv2", "train", 32, 2, "mnv2_train/mnv2_train", 5),
    ("stacked-AE layer 1 training 256x256x3, batch 16", "ae1", "train", 16, 2, "ae1_train", 3),
    ("DCVAE training 128x128x1, batch 16", "dcvae", "train", 16, 2, "dcvae_train", 1),
    ("CNN8 inference 256x256x3, batch 1", "cnn8", "infer", 1, 1, "cnn8_infer", 20),
]
BEGIN, END = "<!-- BEGIN bench_vs_torch -->", "<!-- END bench_vs_torch -->"


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        flags = re.search(r"Flags:\s*(.+)", out)
        isa = [f for f in ("avx2", "fma", "avx512f", "asimd") if flags and f" {f}" in f" {flags.group(1)} "]
        cores = os.cpu_count()
        return f"{m.group(1).strip() if m else platform.processor()}, {cores} logical CPUs, {'+'.join(isa)}"
    except OSError:
        return platform.processor()


def pinned(threads, pin):
    """taskset prefix: one-thread rows of both frameworks on the same CPU when --pin is given."""
    return ["taskset", "-c", str(pin)] if pin is not None and threads == 1 else []


def run_fas(build, name, threads, min_time, pin=None):
    env = dict(os.environ, FAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")
    cmd = pinned(threads, pin) + [os.path.join(build, "bench_models"), f"--benchmark_filter=^{re.escape(name)}/real_time$",
           f"--benchmark_min_time={min_time}", "--benchmark_format=json"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    b = json.loads(out)["benchmarks"]
    if not b or b[0].get("error_occurred"):
        raise RuntimeError(f"fas benchmark {name} failed: {b}")
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b[0]["time_unit"]]
    return b[0]["real_time"] * scale


def run_torch(model, mode, batch, threads, iters, pin=None):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = pinned(threads, pin) + ["/usr/bin/python3", os.path.join(ROOT, "tools", "torch_ref.py"), model, mode, str(batch), str(iters), str(threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["ms_per_iter"]


def kernel_table(build):
    env = dict(os.environ, FAS_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [os.path.join(build, "bench_kernels"), "--benchmark_min_time=0.2", "--benchmark_format=json"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    lines = ["| kernel (1 thread) | time | GFLOP/s | % AVX2 peak (nominal clock) |", "|---|---|---|---|"]
    for b in json.loads(out)["benchmarks"]:
        peak = f"{b['%peak']:.0f} %" if "%peak" in b else ""
        lines.append(f"| {b['name']} | {b['real_time']:.1f} {b['time_unit']} | {b.get('GFLOP/s', 0):.2f} | {peak} |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run, not for RESULTS.md)")
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--force", action="store_true", help="run even if the machine is busy")
    ap.add_argument("--pin", type=int, default=None, metavar="CPU",
                    help="run the one-thread rows of both frameworks pinned to this CPU (taskset): less noise")
    a = ap.parse_args()
    load = os.getloadavg()[0]
    if load >= 1.5 and not a.force:
        sys.exit(f"bench_vs_torch: load average {load:.2f} >= 1.5; timings would be meaningless (--force to override)")
    rows = []
    print(f"{'measure':58} {'thr':>3} {'fas ms':>9} {'torch ms':>9} {'torch/fas':>9}")
    for label, model, mode, batch, threads, fas_name, iters in ROWS:
        it = max(1, iters // 10) if a.quick else iters
        f = run_fas(a.build, fas_name, threads, 0.1 if a.quick else 2.0, a.pin)
        t = run_torch(model, mode, batch, threads, it, a.pin)
        rows.append((label, threads, f, t))
        print(f"{label:58} {threads:3d} {f:9.2f} {t:9.2f} {t / f:9.2f}", flush=True)
    torch_ver = subprocess.run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"],
                               capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    md = [BEGIN, "",
          f"Measured {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on **{cpu_name()}**, fas commit {commit}, "
          f"PyTorch {torch_ver} (Debian python3-torch), load average before the run {load:.2f}. "
          "Times are per inference or per training step (forward + backward + Adam). "
          "torch/fas > 1 means fas is faster." +
          (f" One-thread rows of both ran pinned to CPU {a.pin} (taskset)." if a.pin is not None else ""), "",
          "| measure | threads | fas ms | PyTorch ms | torch/fas |", "|---|---|---|---|---|"]
    md += [f"| {l.strip()} | {th} | {f:.2f} | {t:.2f} | {t / f:.2f} |" for l, th, f, t in rows]
    if not a.no_kernels:
        md += ["", "Per-kernel numbers (bench/bench_kernels.cpp, one thread):", ""] + kernel_table(a.build)
    md += ["", END]
    text = open(a.out).read() if os.path.exists(a.out) else "# Benchmarks: fas vs PyTorch\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN not in text:
        text += "\n" + BEGIN + "\n" + END + "\n"
    text = text[:text.index(BEGIN)] + "\n".join(md) + text[text.index(END) + len(END):]
    with open(a.out, "w") as fh:
        fh.write(text)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
