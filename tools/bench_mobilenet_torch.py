#!/usr/bin/python3
"""PyTorch side of the MobileNetV2-lite inference benchmark (docs/experiments/EXP-001, EXP-008).

usage: /usr/bin/python3 tools/bench_mobilenet_torch.py [REPS] [ITERS]
Times batch-1 inference with one thread for the face model (2x250x200) and 3x128x128, eager
and TorchScript (jit.trace -> jit.freeze -> optimize_for_inference), and prints one JSON line
per case with the median and fastest wall time and the median process CPU time of REPS
repetitions of ITERS calls each (ms per call). CPU time is the fairer figure when other jobs
share the cores (it excludes time spent preempted).
The model comes from tools/torch_ref.py (a copy of ../shared/tools/torch_ref.py) (symmetric padding there; the cost is
the same as Keras' asymmetric stride-2 padding).
"""
import json, statistics, sys, time
import torch
import torch.nn as nn


sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from torch_ref import mnv2_net  # noqa: E402  (the repo's copy of ../shared/tools/torch_ref.py)


def time_ms(fn, x, reps, iters):
    """(median wall, fastest wall, median process CPU) ms per call over reps repetitions."""
    with torch.no_grad():
        for _ in range(max(3, iters // 5)):
            fn(x)
        wall, cpu = [], []
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time()
            for _ in range(iters):
                fn(x)
            wall.append((time.perf_counter() - t) / iters * 1e3)
            cpu.append((time.process_time() - c) / iters * 1e3)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for name, shape in (("face_2x250x200", (2, 250, 200)), ("rgb_3x128x128", (3, 128, 128))):
        net = mnv2_net(shape[0]).eval()
        x = torch.rand(1, *shape)
        with torch.no_grad():
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(net, x)))
        for mode, fn in (("eager", net), ("jit_freeze_optimize", frozen)):
            med, best, cpu = time_ms(fn, x, reps, iters if mode != "eager" else max(20, iters // 4))
            print(json.dumps({"case": name, "mode": mode, "threads": 1, "batch": 1, "median_ms": round(med, 3),
                              "fastest_ms": round(best, 3), "median_cpu_ms": round(cpu, 3),
                              "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
