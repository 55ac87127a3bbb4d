#!/usr/bin/python3
"""Tests of the benchmark harness bench/run.py without timing anything: its pure functions, and
whole runs against fake benchmark programs (printing known times, FLOP counts and labels), which
check the interleaved rounds, the table's figures, the write and the refusal. Run by ctest
(BenchHarness) or directly: python3 bench/test_run.py."""
import json, os, subprocess, sys, tempfile, textwrap, unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402

# Fakes: every call appends its name to $FAKE_LOG (the order the harness ran them in).
FAKE_MODELS = r'''
import json, os, re, sys
a = dict(x.lstrip("-").split("=", 1) for x in sys.argv[1:] if "=" in x)
open(os.environ["FAKE_LOG"], "a").write("fas " + a["benchmark_filter"] + "\n")
times = [2.0, 1.0, 3.0]  # ms: median 2, min 1
n = int(a["benchmark_repetitions"])
print(json.dumps({"benchmarks": [{"name": "x", "run_type": "iteration", "real_time": times[i % 3],
                                  "time_unit": "ms"} for i in range(n)]}))
'''
FAKE_KERNELS = r'''
import json, os, re, sys
KERNELS = {"BM_FmaPeak/avx2/real_time": (1e6, "probe/avx2"),          # 100 GFLOP/s at 10 us
           "BM_DotPeak/avx512vnni-vpdpbusd/real_time": (4e6, "probe/avx512vnni-vpdpbusd"),  # a peak, not a share
           "BM_ConvA/real_time": (5e5, "fas direct/avx2"),             # 50 GFLOP/s: 50 %
           "BM_ConvB/real_time": (2.5e5, "OpenBLAS sgemm (Haswell)"),  # 25 %
           "BM_Pool/real_time": (1e4, "fas"),                          # no ISA: no %
           "BM_Dw/real_time": (1e4, "fas dwconv3x3/scalar")}           # no probe for scalar
if "--benchmark_list_tests" in sys.argv:
    print("\n".join(KERNELS)); sys.exit(0)
a = dict(x.lstrip("-").split("=", 1) for x in sys.argv[1:] if "=" in x)
name = [k for k in KERNELS if re.fullmatch(a["benchmark_filter"].strip("^$"), k)][0]
open(os.environ["FAKE_LOG"], "a").write("kernel " + name + "\n")
flop, label = KERNELS[name]
print(json.dumps({"benchmarks": [{"name": name, "run_type": "iteration", "real_time": 10.0, "time_unit": "us",
                                  "label": label, "FLOP": flop} for _ in range(int(a["benchmark_repetitions"]))]}))
'''
FAKE_TORCH = r'''
import json, os, sys
open(os.environ["FAKE_LOG"], "a").write("torch " + " ".join(sys.argv[1:3]) + "\n")
print(json.dumps({"rep_ms": [4.0, 5.0, 4.0][: int(sys.argv[6])], "torch": "9.9-fake"}))
'''
FAKE_NCNN = r'''
import os, sys
open(os.environ["FAKE_LOG"], "a").write("ncnn " + sys.argv[6] + "\n")
print("loop_count = 4\n     mnv2.param  min =    0.40  max =    0.60  avg =    0.50")
'''


def read(path):
    with open(path) as f:
        return f.read()


class PureFunctions(unittest.TestCase):
    def test_median_of_medians_and_min(self):
        rounds = [{"median": m, "min": n} for m, n in [(5, 4), (1, 0.5), (3, 3), (9, 2), (2, 1)]]
        self.assertEqual(run.median_of_medians(rounds), (3, 0.5))

    def test_cpu_share(self):
        self.assertAlmostEqual(run.cpu_share(3.0, 2.0, 2), 0.75)
        self.assertAlmostEqual(run.cpu_share(1.0, 1.0, 1), 1.0)
        self.assertEqual(run.cpu_share(1.0, 0.0, 1), 0.0)

    def test_round_order_rotates_and_reverses(self):
        items = list(range(10))
        orders = [run.round_order(items, r, 5) for r in range(5)]
        for o in orders:
            self.assertEqual(sorted(o), items)
        self.assertEqual(orders[0], items)
        self.assertEqual(orders[1], (items[2:] + items[:2])[::-1])
        self.assertEqual(len({o[0] for o in orders}), 5)  # a different first measurement each round
        # every neighbouring pair of round 0 runs in the other order in some round
        self.assertLess(orders[1].index(4), orders[1].index(3))

    def test_load_verdict(self):
        self.assertEqual(run.load_verdict([(0.1, 0.0), (1.8, 0.2)], 0.5), (True, ""))  # later averages: our own load
        ok, why = run.load_verdict([(0.9, 0.0)], 0.5)
        self.assertFalse(ok)
        self.assertIn("first round", why)
        ok, why = run.load_verdict([(0.1, 0.0), (0.1, 1.5)], 0.5)
        self.assertFalse(ok)
        self.assertIn("round 2", why)
        self.assertFalse(run.load_verdict([], 0.5)[0])

    def test_label_isa_and_whose(self):
        self.assertEqual(run.label_isa("fas direct/avx512"), "avx512")
        self.assertEqual(run.label_isa("OpenBLAS sgemm (SkylakeX)"), "avx512")
        self.assertEqual(run.label_isa("OpenBLAS sgemm (Haswell)"), "avx2")
        self.assertEqual(run.label_isa("fwd fas conv1x1/avx2, dx OpenBLAS sgemm (SkylakeX), dw OpenBLAS sgemm (SkylakeX)"),
                         "avx512")
        self.assertEqual(run.label_isa("fas dwconv3x3/scalar"), "scalar")
        self.assertEqual(run.label_isa("OpenBLAS sgemm (Prescott)"), "sse3")
        self.assertIsNone(run.label_isa("fas"))
        self.assertIsNone(run.label_isa("OpenBLAS sgemm (FutureCore)"))
        self.assertEqual(run.label_whose("fwd fas conv1x1/avx2, dx OpenBLAS sgemm (Zen)"), "fas + OpenBLAS")
        self.assertEqual(run.label_whose("OpenBLAS sgemm (Zen)"), "OpenBLAS")

    def test_update_results_one_section_per_machine(self):
        t = "# B\n\n" + run.MACHINES_ANCHOR + "\n\n## After\n"
        t = run.update_results(t, "CPU A", "table A1\n")
        t = run.update_results(t, "CPU B", "table B\n")
        t = run.update_results(t, "CPU A", "table A2\n")
        self.assertEqual(t.count("BEGIN bench machine: CPU A"), 1)
        self.assertIn("table A2", t)
        self.assertNotIn("table A1", t)
        self.assertLess(t.index("CPU A"), t.index("CPU B"))
        self.assertLess(t.index("table B"), t.index("## After"))

    def test_parsers(self):
        out = json.dumps({"benchmarks": [
            {"run_type": "iteration", "real_time": 3.0, "time_unit": "us", "label": "fas", "FLOP": 10.0},
            {"run_type": "iteration", "real_time": 1.0, "time_unit": "us", "label": "fas", "FLOP": 10.0},
            {"run_type": "iteration", "real_time": 2.0, "time_unit": "us", "label": "fas", "FLOP": 10.0},
            {"run_type": "aggregate", "real_time": 99.0, "time_unit": "us"}]})
        self.assertEqual(run.parse_gbench(out), {"median": 0.002, "min": 0.001, "label": "fas", "flop": 10.0})
        self.assertEqual(run.parse_torch('noise\n{"rep_ms": [3, 1, 2], "torch": "1.13"}'),
                         {"median": 2, "min": 1, "torch": "1.13"})
        self.assertEqual(run.parse_ncnn("  m.param  min =    0.40  max =    0.60  avg =    0.50"),
                         {"median": 0.5, "min": 0.4})
        with self.assertRaises(RuntimeError):
            run.parse_ncnn("nothing")


class WholeRuns(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        for name, body in [("bench_models", FAKE_MODELS), ("bench_kernels", FAKE_KERNELS),
                           ("torch_ref.py", FAKE_TORCH), ("benchncnn", FAKE_NCNN)]:
            with open(os.path.join(d, name), "w") as f:
                f.write(f"#!{sys.executable}\n" + textwrap.dedent(body))
            os.chmod(os.path.join(d, name), 0o755)
        self.log, self.out = os.path.join(d, "log"), os.path.join(d, "RESULTS.md")
        with open(self.out, "w") as f:
            f.write("# Benchmarks\n\n" + run.MACHINES_ANCHOR + "\n")

    def tearDown(self):
        self.tmp.cleanup()

    def harness(self, *extra):
        d = self.tmp.name
        cmd = [sys.executable, os.path.join(HERE, "run.py"), "--build", d, "--python", sys.executable,
               "--torch-ref", os.path.join(d, "torch_ref.py"), "--ncnn", os.path.join(d, "benchncnn"),
               "--ncnn-params", d, "--rows", "mnv2nir_infer_lean", "--out", self.out, "--load-sample", "0.02", "--force", *extra]
        open(self.log, "w").close()
        return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, FAKE_LOG=self.log))

    def test_written_when_quiet(self):
        p = self.harness("--max-load", "1e9")
        self.assertEqual(p.returncode, 0, p.stderr)
        calls = read(self.log).splitlines()
        # the face engine row's fas, torch and ncnn + 6 kernels, in 5 rounds, each its own process
        self.assertEqual(len(calls), 5 * 9)
        rounds = [calls[i * 9:(i + 1) * 9] for i in range(5)]
        self.assertTrue(all(sorted(r) == sorted(rounds[0]) for r in rounds))
        self.assertGreaterEqual(len({r[0] for r in rounds}), 4)  # rotated
        text = read(self.out)
        key = run.machine_key()
        self.assertIn(run.MACHINE_BEGIN.format(key), text)
        self.assertIn("| same, fas inference engine vs PyTorch jit.freeze+optimize | 1 | 2.00 (1.00) | 4.00 (4.00) | 2.00 "
                      "| 0.500 (0.400) |", text)
        self.assertIn("| BM_FmaPeak/avx2 | probe/avx2 | 10.0 us (10.0) | 100.00 | the avx2 peak |", text)
        self.assertIn("| BM_DotPeak/avx512vnni-vpdpbusd | probe/avx512vnni-vpdpbusd | 10.0 us (10.0) | 400.00 | "
                      "the avx512vnni-vpdpbusd peak |", text)
        self.assertIn("| BM_ConvA | fas direct/avx2 | 10.0 us (10.0) | 50.00 | 50 % of avx2 |", text)
        self.assertIn("| BM_ConvB | OpenBLAS sgemm (Haswell) | 10.0 us (10.0) | 25.00 | 25 % of avx2 |", text)
        self.assertIn("| BM_Pool | fas | 10.0 us (10.0) | 1.00 |  |", text)
        self.assertIn("| BM_Dw | fas dwconv3x3/scalar | 10.0 us (10.0) | 1.00 | no scalar probe |", text)
        self.assertEqual(text.count("Load before each round"), 1)
        self.assertIn("PyTorch 9.9-fake", text)
        # a second run replaces this machine's section instead of adding one
        self.assertEqual(self.harness("--max-load", "1e9").returncode, 0)
        self.assertEqual(read(self.out).count(run.MACHINE_BEGIN.format(key)), 1)

    def test_refused_under_load_and_quick(self):
        before = read(self.out)
        p = self.harness("--max-load", "-1")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("NOT written", p.stdout)
        self.assertIn("| BM_ConvA |", p.stdout)  # the table is printed anyway
        p = self.harness("--max-load", "1e9", "--quick", "--kernels", "none")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("NOT written", p.stdout)
        p = self.harness("--max-load", "1e9", "--rounds", "3", "--kernels", "none")
        self.assertEqual(p.returncode, 2)
        self.assertIn("3 rounds < 5", p.stdout)
        self.assertEqual(read(self.out), before)

    def test_bad_input_one_error(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "--build", "/nonexistent", "--force"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("bench/run.py: error: /nonexistent/bench_models not found", p.stderr)


if __name__ == "__main__":
    unittest.main()
