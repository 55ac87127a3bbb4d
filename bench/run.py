#!/usr/bin/python3
"""The benchmark harness: fas against PyTorch (and ncnn when given), per-kernel rows against a
measured FMA peak, in interleaved rounds; writes this machine type's table in bench/RESULTS.md.

usage: bench/run.py [--build DIR] [--rounds N] [--reps N] [--max-load L] [--quick] [--force]
                    [--rows REGEX] [--kernels REGEX|none] [--ncnn BENCHNCNN --ncnn-params DIR]
                    [--out FILE] [--pin CPU]

Build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFAS_BUILD_BENCH=ON &&
  cmake --build build -j2 --target bench_models bench_kernels

Measurements. A measurement is one side of one row: fas (build/bench_models, Google Benchmark),
PyTorch (tools/torch_ref.py under Debian's /usr/bin/python3), ncnn (--ncnn), one kernel of
build/bench_kernels, or one FMA-throughput probe (BM_FmaPeak/<isa>, bench/fma_probe.h). Each runs
in its own process, every round; a process times --reps repetitions and gives its median (the
round median) and its minimum. Rounds (--rounds, >= 5 for a table) run every measurement once,
in an order rotated by n/rounds places each round and reversed every other round, so no
measurement always runs first, last or right after the same neighbour.

Reported per measurement: the median of its round medians and the minimum over all repetitions
of all rounds; its CPU share per round, CPU time (user + system of the process from wait4, start-up
included) / wall time of the process / the row's threads, median and lowest over rounds (a share
well below 1 means the process waited for a core). Before each round: the 1-minute load average
and the number of other runnable tasks, sampled from /proc/loadavg for a second while no
measurement runs (the load average alone would count this harness's own previous round).

Kernel rows: GFLOP/s from wall time (the FLOP count of the benchmark / median wall time), whose
code ran (the benchmark's label: "fas <kernel>/<isa>" or "OpenBLAS sgemm (<core>)") and the
share of the measured peak of that ISA (the probe's GFLOP/s in the same run); rows that mix
ISAs take the widest ISA's peak, rows without an FMA-bound ISA (scalar, memory-bound ops) none.

Refusal: the table is printed always, but RESULTS.md is written only after a full run (not
--quick, >= 5 rounds) whose load stayed at or below --max-load: the 1-minute load average
before the first round and the other-runnable count before every round. --force runs even when
the machine is busy at the start (the table is then printed, not written).

ncnn (optional, never needed by CI): --ncnn PATH is a built ncnn's benchmark/benchncnn that takes
param=FILE shape=[w,h,c] arguments; --ncnn-params DIR holds the ncnn .param files of the
MobileNetV2-lite models of tools/torch_ref.py (mnv2nir.param for 2x250x200, mnv2.param for
3x128x128), converted by the user (e.g. with ncnn's pnnx). benchncnn needs no weights file.
Its average over --ncnn-loops runs is the round value, its min the minimum.
"""
import argparse, datetime, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "bench", "RESULTS.md")
MIN_ROUNDS = 5

# (label, torch model, torch mode, batch, threads, fas benchmark name, torch iterations per repetition)
ROWS = [
    ("MobileNetV2-lite face 2x250x200 inference", "mnv2nir", "infer", 1, 1, "mnv2_infer/mnv2nir_infer", 100),
    ("same, fas inference engine vs PyTorch jit.freeze+optimize", "mnv2nir", "infer_opt", 1, 1, "mnv2_infer/mnv2nir_infer_lean", 200),
    ("MobileNetV2-lite 3x128x128 inference", "mnv2", "infer", 1, 1, "mnv2_infer/mnv2_infer", 100),
    ("same, fas inference engine vs PyTorch jit.freeze+optimize", "mnv2", "infer_opt", 1, 1, "mnv2_infer/mnv2_infer_lean", 300),
    ("MobileNetV2-lite training 3x128x128, batch 32", "mnv2", "train", 32, 2, "mnv2_train/mnv2_train", 5),
    ("stacked-AE layer 1 training 256x256x3, batch 16", "ae1", "train", 16, 2, "ae1_train", 3),
    ("DCVAE training 128x128x1, batch 16", "dcvae", "train", 16, 2, "dcvae_train", 1),
    ("CNN8 inference 256x256x3, batch 1", "cnn8", "infer", 1, 1, "cnn8_infer", 20),
]
# ncnn rows: the MobileNetV2-lite inference rows (ncnn runs the optimised graph: compared with
# the fas engine rows), benchncnn's shape=[w,h,c].
NCNN_SHAPES = {"mnv2nir": "[200,250,2]", "mnv2": "[128,128,3]"}
# OpenBLAS core names (openblas_get_corename) -> the ISA of its sgemm kernels. A CPU newer than
# the OpenBLAS build falls back to an old core (Debian's 0.3.21 runs Prescott's SSE3 kernels on an
# Emerald Rapids Xeon; OPENBLAS_CORETYPE=SkylakeX selects its AVX-512 ones).
OPENBLAS_CORE_ISA = {"skylakex": "avx512", "cooperlake": "avx512", "sapphirerapids": "avx512",
                     "haswell": "avx2", "zen": "avx2", "sandybridge": "avx", "prescott": "sse3",
                     "nehalem": "sse3", "core2": "sse3", "neoversen1": "neon", "neoversen2": "neon",
                     "neoversev1": "neon", "armv8": "neon", "cortexa57": "neon", "cortexa72": "neon"}
# "widest" order for rows that mix ISAs; only avx2, avx512 and neon have a probe (bench/fma_probe.h)
ISA_WIDTH = {"scalar": 0, "sse3": 1, "avx": 2, "neon": 3, "avx2": 4, "avx512": 5}
MACHINE_BEGIN, MACHINE_END = "<!-- BEGIN bench machine: {} -->", "<!-- END bench machine: {} -->"
MACHINES_ANCHOR = "<!-- bench machines -->"


def fail(msg):
    sys.exit(f"bench/run.py: error: {msg}")


# ---------------------------------------------------------------- pure logic (bench/test_run.py)

def median_of_medians(rounds):
    """rounds: [{"median", "min"}, ...] of one measurement -> (median of round medians, minimum)."""
    return statistics.median(r["median"] for r in rounds), min(r["min"] for r in rounds)


def cpu_share(cpu_s, wall_s, threads):
    """CPU time / wall time / threads: 1.0 when every thread had a core all the time."""
    return cpu_s / wall_s / threads if wall_s > 0 else 0.0


def round_order(items, r, rounds):
    """Round r's order: rotated by r * ceil(n / rounds) places, reversed in odd rounds."""
    n = len(items)
    if n == 0:
        return []
    k = (r * -(-n // rounds)) % n
    order = items[k:] + items[:k]
    return order[::-1] if r % 2 else order


def load_verdict(loads, max_load):
    """loads: [(1-min load average, other runnable tasks)] before each round. -> (ok, reason)."""
    if not loads:
        return False, "no round ran"
    if loads[0][0] > max_load:
        return False, f"1-minute load average {loads[0][0]:.2f} > {max_load} before the first round"
    for i, (_, others) in enumerate(loads):
        if others > max_load:
            return False, f"{others:.2f} other runnable tasks > {max_load} before round {i + 1}"
    return True, ""


def label_isa(label):
    """The ISA whose peak a kernel row is a share of (the widest among its passes), or None."""
    isas = []
    for seg in re.split(r",\s*", label or ""):
        seg = re.sub(r"^(fwd|dx|dw)\s+", "", seg.strip())
        m = re.match(r"OpenBLAS .*\((\w+)\)", seg)
        if m:
            isas.append(OPENBLAS_CORE_ISA.get(m.group(1).lower()))
        elif seg.startswith("fas ") and "/" in seg:
            isas.append(seg.rsplit("/", 1)[1])
        else:
            return None
    isas = [i for i in isas if i in ISA_WIDTH]
    return max(isas, key=ISA_WIDTH.get) if isas else None


def label_whose(label):
    who = [w for w in ("fas", "OpenBLAS") if re.search(rf"(^|[ ,]){w} ", " " + (label or "") + " ")]
    return " + ".join(who) if who else ""


def update_results(text, key, section):
    """text with this machine type's section (between its markers) replaced or added."""
    begin, end = MACHINE_BEGIN.format(key), MACHINE_END.format(key)
    block = begin + "\n" + section.rstrip("\n") + "\n" + end
    if begin in text and end in text:
        return text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    last = text.rfind("<!-- END bench machine: ")
    if last >= 0:
        pos = text.index("-->", last) + 3
    elif MACHINES_ANCHOR in text:
        pos = text.index(MACHINES_ANCHOR) + len(MACHINES_ANCHOR)
    else:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    return text[:pos] + "\n\n" + block + text[pos:]


# ---------------------------------------------------------------- output parsers

def parse_gbench(out):
    """Google Benchmark JSON of one benchmark with repetitions -> {"median","min" (ms),"label","flop"}."""
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not runs or any(b.get("error_occurred") for b in runs):
        raise RuntimeError(f"benchmark failed or matched nothing: {runs}")
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    t = [b["real_time"] * scale[b["time_unit"]] for b in runs]
    return {"median": statistics.median(t), "min": min(t), "label": runs[0].get("label", ""),
            "flop": runs[0].get("FLOP")}


def parse_torch(out):
    r = json.loads(out.strip().splitlines()[-1])
    return {"median": statistics.median(r["rep_ms"]), "min": min(r["rep_ms"]), "torch": r.get("torch", "unknown")}


def parse_ncnn(out):
    m = re.search(r"min =\s*([\d.]+)\s+max =\s*([\d.]+)\s+avg =\s*([\d.]+)", out)
    if not m:
        raise RuntimeError("no 'min = ... max = ... avg = ...' line in benchncnn's output")
    return {"median": float(m.group(3)), "min": float(m.group(1))}


# ---------------------------------------------------------------- machine

def machine_key():
    """CPU model, logical CPUs and the vector ISAs: one RESULTS.md section per machine type."""
    model, flags = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() in ("model name", "Model") and not model:
                    model = v.strip()
                elif k.strip() in ("flags", "Features") and not flags:
                    flags = f" {v.strip()} "
    except OSError:
        pass
    isa = [f for f in ("avx2", "fma", "avx512f", "asimd") if f" {f} " in flags]
    model = model or os.uname().machine
    return f"{re.sub(r'[<>]', '', model)}, {os.cpu_count()} logical CPUs, {'+'.join(isa) or 'no SIMD flags'}"


def runnable_others(seconds=1.0, samples=10):
    """Mean number of runnable tasks other than this one (/proc/loadavg's running count, which
    includes the reader), sampled while no measurement runs. None where /proc is missing."""
    vals = []
    for _ in range(samples):
        try:
            with open("/proc/loadavg") as f:
                vals.append(max(int(f.read().split()[3].split("/")[0]) - 1, 0))
        except (OSError, IndexError, ValueError):
            return None
        time.sleep(seconds / samples)
    return statistics.mean(vals)


def commit_id():
    git = ["git", "-C", ROOT]
    c = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    # "-dirty": the code that ran differs from the commit (the results file itself does not count)
    dirty = subprocess.run(git + ["diff", "--quiet", "HEAD", "--", "src", "bench", "tools", "CMakeLists.txt",
                                  ":(exclude)bench/RESULTS.md"]).returncode
    return (c or "unknown") + ("-dirty" if dirty else "")


# ---------------------------------------------------------------- running one measurement

class Measurement:
    def __init__(self, key, argv, env, threads, parse):
        self.key, self.argv, self.env, self.threads, self.parse = key, argv, env, threads, parse


def run_one(m):
    """Runs m in its own process: its parsed result plus wall time and CPU share (wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(m.argv, env=m.env, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if p.returncode != 0:
        fail(f"{m.key}: {' '.join(m.argv)} exited with {p.returncode}: {stderr.strip()[-400:]}")
    try:
        r = m.parse(stdout)
    except (RuntimeError, ValueError, KeyError, IndexError) as e:
        fail(f"{m.key}: cannot read the output of {' '.join(m.argv)}: {e}")
    r["share"] = cpu_share(ru.ru_utime + ru.ru_stime, wall, m.threads)
    return r


def pinned(a, threads):
    """taskset prefix: one-thread measurements on the same CPU when --pin is given."""
    return ["taskset", "-c", str(a.pin)] if a.pin is not None and threads == 1 else []


def build_measurements(a):
    rows = [r for r in ROWS if re.search(a.rows, r[0] + " " + r[5])] if a.rows != "none" else []
    reps, min_time = a.reps, (0.01 if a.quick else 0.5)
    ms = []
    base = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # fas's OpenMP owns the threads (docs/kernels.md)
    for i, (label, model, mode, batch, threads, fas_name, iters) in enumerate(rows):
        pin = pinned(a, threads)
        env = dict(base, FAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        ms.append(Measurement(("row", i, "fas"), pin + [
            os.path.join(a.build, "bench_models"), f"--benchmark_filter=^{re.escape(fas_name)}/real_time$",
            f"--benchmark_min_time={min_time}", f"--benchmark_repetitions={reps}", "--benchmark_format=json"],
            env, threads, parse_gbench))
        it = max(1, iters // 20) if a.quick else iters
        ms.append(Measurement(("row", i, "torch"), pin + [
            a.python, a.torch_ref, model, mode, str(batch), str(it), str(threads), str(reps)], env, threads, parse_torch))
        if a.ncnn and mode == "infer_opt" and model in NCNN_SHAPES:
            param = os.path.join(a.ncnn_params, model + ".param")
            ms.append(Measurement(("row", i, "ncnn"), pin + [
                a.ncnn, str(a.ncnn_loops), str(threads), "0", "-1", "0", f"param={param}",
                f"shape={NCNN_SHAPES[model]}"], env, threads, parse_ncnn))
    if a.kernels != "none":
        kb = os.path.join(a.build, "bench_kernels")
        names = subprocess.run([kb, "--benchmark_list_tests"], capture_output=True, text=True)
        if names.returncode != 0:
            fail(f"{kb} --benchmark_list_tests failed: {names.stderr.strip()[-400:]}")
        env = dict(base, FAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        kmin = 0.01 if a.quick else 0.2
        for n in names.stdout.split():
            if n.startswith("BM_FmaPeak/") or re.search(a.kernels, n):
                ms.append(Measurement(("kernel", n), pinned(a, 1) + [
                    kb, f"--benchmark_filter=^{re.escape(n)}$", f"--benchmark_min_time={kmin}",
                    f"--benchmark_repetitions={reps}", "--benchmark_format=json"], env, 1, parse_gbench))
    return rows, ms


# ---------------------------------------------------------------- tables

def summarize(results):
    """key -> {"median","min","share","share_min", "label","flop"} over the rounds."""
    s = {}
    for key, rs in results.items():
        med, mn = median_of_medians(rs)
        shares = [r["share"] for r in rs]
        s[key] = dict(rs[0], median=med, min=mn, share=statistics.median(shares), share_min=min(shares))
    return s


def fmt_share(x):
    return f"{x['share']:.2f} ({x['share_min']:.2f})"


def fmt_ms(ms):
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}"


def model_table(rows, s, ncnn):
    head = "| measure | threads | fas ms median (min) | PyTorch ms median (min) | torch/fas |"
    sep = "|---|---|---|---|---|"
    if ncnn:
        head, sep = head + " ncnn ms median (min) |", sep + "---|"
    head, sep = head + " CPU share fas / PyTorch |", sep + "---|"
    lines = [head, sep]
    for i, (label, model, mode, batch, threads, fas_name, iters) in enumerate(rows):
        f, t = s[("row", i, "fas")], s[("row", i, "torch")]
        line = (f"| {label} | {threads} | {fmt_ms(f['median'])} ({fmt_ms(f['min'])}) | "
                f"{fmt_ms(t['median'])} ({fmt_ms(t['min'])}) | {t['median'] / f['median']:.2f} |")
        if ncnn:
            n = s.get(("row", i, "ncnn"))
            line += f" {fmt_ms(n['median'])} ({fmt_ms(n['min'])}) |" if n else " |"
        lines.append(line + f" {fmt_share(f)} / {fmt_share(t)} |")
    return lines


def kernel_table(s):
    probes = {k[1].split("/")[1]: v for k, v in s.items() if k[0] == "kernel" and k[1].startswith("BM_FmaPeak/")}
    peak = {isa: p["flop"] / (p["median"] * 1e-3) * 1e-9 for isa, p in probes.items()}
    lines = ["| kernel (1 thread) | code that ran | time median (min) | GFLOP/s (wall) | % of measured peak | CPU share |",
             "|---|---|---|---|---|---|"]
    probe_rows = ("BM_FmaPeak/", "BM_DotPeak/")  # the FMA peaks, then the int8 dot-product ones
    keys = sorted((k for k in s if k[0] == "kernel"), key=lambda k: (not k[1].startswith(probe_rows),))
    for k in keys:
        v = s[k]
        name = k[1].removesuffix("/real_time")
        t = v["median"]
        tm = f"{t * 1e3:.1f} us ({v['min'] * 1e3:.1f})" if t < 1 else f"{t:.2f} ms ({v['min']:.2f})"
        gf = v["flop"] / (t * 1e-3) * 1e-9 if v.get("flop") else None
        isa = label_isa(v["label"])
        if name.startswith(probe_rows):
            pct = f"the {name.split('/')[1]} peak"
        elif gf is not None and isa in peak:
            pct = f"{100 * gf / peak[isa]:.0f} % of {isa}"
        elif gf is not None and isa:
            pct = f"no {isa} probe"
        else:
            pct = ""
        lines.append(f"| {name} | {v['label']} | {tm} | {'' if gf is None else f'{gf:.2f}'} | {pct} | {fmt_share(v)} |")
    return lines


def section(key, a, rows, s, loads, torch_ver, when):
    rounds = len(loads)
    md = [f"### {key}", "",
          f"Measured {when} UTC by `bench/run.py` on **{key}**, fas commit {commit_id()}, PyTorch {torch_ver} "
          f"(Debian python3-torch); {rounds} rounds of {a.reps} repetitions per process. Times are per "
          "inference or per training step (forward + backward + Adam): the median of the round medians, "
          "the minimum in parentheses. torch/fas > 1 means fas is faster. CPU share: CPU time / wall "
          "time / threads of each process (start-up included), median over rounds (lowest)." +
          (f" One-thread rows and the kernels ran pinned to CPU {a.pin} (taskset)." if a.pin is not None else ""), "",
          "Load before each round (1-minute average / other runnable tasks): " +
          ", ".join(f"{l:.2f} / {o:.1f}" for l, o in loads) + ".", ""]
    if rows:
        md += model_table(rows, s, a.ncnn)
    if any(k[0] == "kernel" for k in s):
        md += ["", "Per-kernel rows (bench/bench_kernels.cpp, one thread, each its own process): GFLOP/s from "
               "wall time, the share of the FMA peak measured in the same run (BM_FmaPeak) for the ISA "
               "that ran.", ""] + kernel_table(s)
    return "\n".join(md) + "\n"


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build with bench_models and bench_kernels")
    ap.add_argument("--out", default=DEFAULT_OUT, help="the results file whose machine section is written")
    ap.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"rounds (>= {MIN_ROUNDS} for a written table)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions timed inside each process")
    ap.add_argument("--max-load", type=float, default=0.5, help="the highest load for a written table")
    ap.add_argument("--quick", action="store_true", help="tiny timings: a smoke run, never written")
    ap.add_argument("--force", action="store_true", help="run even if the machine is busy (not written then)")
    ap.add_argument("--rows", default="", help="regex selecting model rows (label or fas name), 'none'")
    ap.add_argument("--kernels", default="", help="regex selecting bench_kernels rows, 'none'; probes always run")
    ap.add_argument("--pin", type=int, default=None, metavar="CPU", help="one-thread rows and kernels pinned to this CPU")
    ap.add_argument("--python", default="/usr/bin/python3", help="the interpreter with Debian's torch")
    ap.add_argument("--torch-ref", default=os.path.join(ROOT, "tools", "torch_ref.py"))
    ap.add_argument("--ncnn", default=None, metavar="BENCHNCNN", help="a built ncnn's benchncnn (optional)")
    ap.add_argument("--ncnn-params", default=None, metavar="DIR", help="mnv2nir.param and mnv2.param")
    ap.add_argument("--ncnn-loops", type=int, default=100)
    ap.add_argument("--load-sample", type=float, default=1.0, metavar="SECONDS",
                    help="how long the other runnable tasks are sampled before each round")
    a = ap.parse_args()
    if a.rounds < 1 or a.reps < 1:
        fail("--rounds and --reps must be >= 1")
    for b in ([] if a.rows == "none" else ["bench_models"]) + ([] if a.kernels == "none" else ["bench_kernels"]):
        if not os.access(os.path.join(a.build, b), os.X_OK):
            fail(f"{os.path.join(a.build, b)} not found: build it (cmake --build {a.build} --target bench_models bench_kernels)")
    if a.ncnn and not (os.access(a.ncnn, os.X_OK) and a.ncnn_params and os.path.isdir(a.ncnn_params)):
        fail("--ncnn needs an executable benchncnn and --ncnn-params DIR with mnv2nir.param / mnv2.param")
    load0 = os.getloadavg()[0]
    if load0 > a.max_load and not a.force:
        fail(f"1-minute load average {load0:.2f} > {a.max_load}: timings would be meaningless (--force runs anyway, "
             "without writing the table)")
    if a.quick:
        a.reps = 2
    rows, ms = build_measurements(a)
    results, loads = {m.key: [] for m in ms}, []
    for r in range(a.rounds):
        loads.append((os.getloadavg()[0], runnable_others(a.load_sample) or 0.0))
        print(f"round {r + 1}/{a.rounds}: load {loads[-1][0]:.2f}, other runnable {loads[-1][1]:.1f}", flush=True)
        for m in round_order(ms, r, a.rounds):
            results[m.key].append(run_one(m))
    s = summarize(results)
    torch_ver = next((v["torch"] for k, v in s.items() if k[2:] == ("torch",)), "not run")
    key = machine_key()
    sec = section(key, a, rows, s, loads, torch_ver, f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M}")
    print("\n" + sec)
    if a.quick:
        print(f"NOT written to {a.out}: --quick run.")
        return 0
    ok, why = load_verdict(loads, a.max_load)
    if ok and a.rounds < MIN_ROUNDS:
        ok, why = False, f"{a.rounds} rounds < {MIN_ROUNDS}"
    if not ok:
        print(f"NOT written to {a.out}: {why}.")
        return 2
    text = open(a.out).read() if os.path.exists(a.out) else "# Benchmarks\n\n" + MACHINES_ANCHOR + "\n"
    with open(a.out, "w") as fh:
        fh.write(update_results(text, key, sec))
    print(f"wrote the section of {key} in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
