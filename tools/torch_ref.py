#!/usr/bin/python3
"""PyTorch reference versions of the thesis models, for side-by-side timing.

usage: torch_ref.py MODEL MODE BATCH [ITERS] [THREADS] [REPS]
  MODEL: cnn8 | ae1 | mnv2 | mnv2nir | dcvae | ganomaly_lite
  MODE:  infer | infer_opt | train   (infer_opt: torch.jit trace + freeze + optimize_for_inference,
         the best PyTorch 1.13 inference configuration measured on this machine)
Copied from ../shared/tools/torch_ref.py for the benchmark harness bench/run.py; infer_opt added.
Prints one JSON line: {"model","mode","batch","ms_per_iter","images_per_s","peak_rss_mb","rep_ms","torch"}:
REPS repetitions (default 1) of ITERS timed iterations each, rep_ms the mean ms per iteration of
each repetition and ms_per_iter their median (bench/run.py takes the repetitions as samples).
"""
import json, resource, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

def cnn8():  # seed 000 CNN: 8 x [conv3x3 same, tanh, dropout, maxpool2], dense 2
    layers, c = [], 3
    for co in (8, 16, 32, 64, 128, 256, 512, 1024):
        layers += [nn.Conv2d(c, co, 3, padding=1), nn.Tanh(), nn.Dropout(0.25), nn.MaxPool2d(2)]
        c = co
    layers += [nn.Flatten(), nn.Tanh(), nn.Dropout(0.25), nn.Linear(1024, 2)]
    return nn.Sequential(*layers), (3, 256, 256), "ce"

def ae1():  # seed 000 first layer-wise autoencoder
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
        nn.Upsample(scale_factor=2), nn.Conv2d(16, 16, 3, padding=1), nn.Tanh(),
        nn.Upsample(scale_factor=2), nn.Conv2d(16, 3, 3, padding=1), nn.Sigmoid()), (3, 256, 256), "mse"

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

def mnv2_net(cin):  # seed 003 MobileNetV2, width 0.1 (channels per the Keras rounding)
    cfg = [(8, 1, 1)] + [(8, 2, 6), (8, 1, 6), (8, 2, 6), (8, 1, 6), (8, 1, 6), (8, 2, 6), (8, 1, 6), (8, 1, 6),
                         (8, 1, 6), (16, 1, 6), (16, 1, 6), (16, 1, 6), (16, 2, 6), (16, 1, 6), (16, 1, 6), (32, 1, 6)]
    layers, c = [nn.Conv2d(cin, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8, eps=1e-3), nn.ReLU6()], 8
    for co, s, t in cfg:
        layers.append(InvRes(c, co, s, t)); c = co
    layers += [nn.Conv2d(c, 1280, 1, bias=False), nn.BatchNorm2d(1280, eps=1e-3), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1)]
    return nn.Sequential(*layers)

def mnv2():
    return mnv2_net(3), (3, 128, 128), "bce"

def mnv2nir():
    return mnv2_net(2), (2, 250, 200), "bce"

class DCVAE(nn.Module):  # seed 001 DCVAE, 1x128x128, latent 512
    def __init__(s):
        super().__init__()
        s.enc = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(256, 512, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32768, 1024))
        up = lambda ci, co: [nn.Upsample(scale_factor=2), nn.Conv2d(ci, co, 3, padding=1), nn.ReLU()]
        s.dec = nn.Sequential(*up(8, 512), *up(512, 256), *up(256, 128), *up(128, 64),
                              nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 1, 1), nn.Sigmoid())
    def forward(s, x):
        mu, logvar = s.enc(x).chunk(2, 1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return s.dec(z.view(-1, 8, 8, 8)), mu, logvar

def dcvae():
    return DCVAE(), (1, 128, 128), "vae"

def main():
    name, mode, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    iters = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 2)
    torch.manual_seed(0)
    net, shape, loss_kind = globals()[name]()
    x = torch.rand(batch, *shape)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    if mode == "infer_opt":
        net.eval()
        with torch.no_grad():
            net = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(net, x)))
    def step():
        if mode in ("infer", "infer_opt"):
            with torch.no_grad():
                net(x)
            return
        out = net(x)
        if loss_kind == "ce":
            loss = F.cross_entropy(out, torch.zeros(batch, dtype=torch.long))
        elif loss_kind == "bce":
            loss = F.binary_cross_entropy_with_logits(out.squeeze(1), torch.ones(batch))
        elif loss_kind == "mse":
            loss = F.mse_loss(out, x)
        else:
            rec, mu, logvar = out
            loss = F.binary_cross_entropy(rec, x) - 0.5 * torch.mean(torch.sum(1 + logvar - mu**2 - logvar.exp(), 1))
        opt.zero_grad(); loss.backward(); opt.step()
    net.train(mode == "train")
    for _ in range(2):
        step()
    reps = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    rep_ms = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(iters):
            step()
        rep_ms.append((time.perf_counter() - t) / iters * 1e3)
    ms = statistics.median(rep_ms)
    print(json.dumps({"model": name, "mode": mode, "batch": batch, "ms_per_iter": round(ms, 3),
                      "images_per_s": round(batch * 1e3 / ms, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "rep_ms": [round(m, 4) for m in rep_ms], "torch": torch.__version__}))

if __name__ == "__main__":
    main()
