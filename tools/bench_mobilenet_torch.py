#!/usr/bin/python3
"""PyTorch side of the MobileNetV2-lite inference benchmark (docs/mobilenetv2-inference.md).

usage: /usr/bin/python3 tools/bench_mobilenet_torch.py [REPS] [ITERS]
Times batch-1 inference with one thread for the face model (2x250x200) and 3x128x128, eager
and TorchScript (jit.trace -> jit.freeze -> optimize_for_inference), and prints one JSON line
per case with the median and fastest wall time and the median process CPU time of REPS
repetitions of ITERS calls each (ms per call). CPU time is the fairer figure when other jobs
share the cores (it excludes time spent preempted).
The model is copied from ../shared/tools/torch_ref.py (symmetric padding there; the cost is
the same as Keras' asymmetric stride-2 padding).
"""
import json, statistics, sys, time
import torch
import torch.nn as nn


class InvRes(nn.Module):
    def __init__(s, ci, co, stride, t):
        super().__init__()
        e = ci * t
        layers = [] if t == 1 else [nn.Conv2d(ci, e, 1, bias=False), nn.BatchNorm2d(e, eps=1e-3), nn.ReLU6()]
        layers += [nn.Conv2d(e, e, 3, stride, 1, groups=e, bias=False), nn.BatchNorm2d(e, eps=1e-3), nn.ReLU6(),
                   nn.Conv2d(e, co, 1, bias=False), nn.BatchNorm2d(co, eps=1e-3)]
        s.f, s.res = nn.Sequential(*layers), (ci == co and stride == 1)

    def forward(s, x):
        return x + s.f(x) if s.res else s.f(x)


def mnv2_net(cin):  # spec 003 MobileNetV2, width 0.1 (channels per the Keras rounding)
    cfg = [(8, 1, 1)] + [(8, 2, 6), (8, 1, 6), (8, 2, 6), (8, 1, 6), (8, 1, 6), (8, 2, 6), (8, 1, 6), (8, 1, 6),
                         (8, 1, 6), (16, 1, 6), (16, 1, 6), (16, 1, 6), (16, 2, 6), (16, 1, 6), (16, 1, 6), (32, 1, 6)]
    layers, c = [nn.Conv2d(cin, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8, eps=1e-3), nn.ReLU6()], 8
    for co, s, t in cfg:
        layers.append(InvRes(c, co, s, t))
        c = co
    layers += [nn.Conv2d(c, 1280, 1, bias=False), nn.BatchNorm2d(1280, eps=1e-3), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1)]
    return nn.Sequential(*layers)


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
