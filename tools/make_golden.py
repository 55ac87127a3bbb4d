#!/usr/bin/python3
"""PyTorch golden fixtures for tests/test_golden.cpp (run with Debian's /usr/bin/python3, torch 1.13).

For every op in src/autograd/ops.h it writes tests/golden/pytorch/<case>/ with the inputs (x, w, b, ...),
the output y (or y0, y1, ... for several outputs), a random upstream gradient gy (gy0, gy1, ...)
and the gradient g<name> of every input that takes one (x -> gx, w -> gw). Integer inputs (ids,
labels) are stored as float32. Plus a small conv net through three Adam steps and tiny linear
models through SGD-momentum / Nesterov / AdamW / Adam-L2 steps and the Keras form of Adam
(written out below, as PyTorch has none).

Inputs are drawn in float32 (so the saved values are exact) and all PyTorch computation runs in
float64: the fixtures are the float32 inputs' exact-as-possible answers, so any difference the
C++ test sees is fas' own float32 rounding. Deterministic: fixed seed, fixed case order.
Usage: /usr/bin/python3 tools/make_golden.py   (rewrites tests/golden/pytorch/ from scratch; other
generators' fixtures elsewhere under tests/golden/ are left alone)
"""
import os
import shutil
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

import golden_io

SET = "pytorch"  # this generator's own subdirectory of tests/golden/
ROOT = os.path.join(golden_io.ROOT, SET)


def save(case, name, t):
    golden_io.save(SET + "/" + case, name, t)


torch.manual_seed(20261123)
torch.set_default_dtype(torch.float64)
D = torch.float64


def rn(*shape, scale=1.0):
    return (torch.randn(tuple(shape), dtype=torch.float32) * scale).to(D)


def ru(*shape, lo=0.0, hi=1.0):
    return (torch.rand(tuple(shape), dtype=torch.float32) * (hi - lo) + lo).to(D)


def away(t, points, gap=0.05):
    """Moves values closer than gap to any kink in points out to gap (kinks handled deliberately)."""
    t = t.clone()
    for p in points:
        close = (t - p).abs() < gap
        t[close] = p + gap * torch.where(t[close] >= p, 1.0, -1.0)
    return t.to(torch.float32).to(D)


def ids(*shape, high):
    return torch.randint(0, high, shape).to(D)


def case(name, fn, grad=(), **inputs):
    """Saves inputs, outputs, a random upstream gradient and the gradients of inputs in grad."""
    grad = list(dict.fromkeys(grad))  # "xwb" -> x, w, b; a tuple of names stays as is
    ts = OrderedDict()
    for k, v in inputs.items():
        ts[k] = v.clone().requires_grad_(k in grad)
        save(name, k, v)
    out = fn(*ts.values())
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    gys = [rn(*o.shape) for o in outs]
    for i, (o, g) in enumerate(zip(outs, gys)):
        sfx = "" if len(outs) == 1 else str(i)
        save(name, "y" + sfx, o)
        save(name, "gy" + sfx, g)
    torch.autograd.backward(outs, gys)
    for k in grad:
        save(name, "g" + k, ts[k].grad)
    return ts


def same_pad(n, k, s, d=1):
    """TF/Keras 'same' padding (before, after): out = ceil(n / s), the odd pixel goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


# ------------------------------------------------------------------ elementwise
def elementwise():
    away0 = lambda t: away(t, [0.0], 0.2)
    case("add", lambda a, b: a + b, "ab", a=rn(3, 5), b=rn(3, 5))
    case("sub", lambda a, b: a - b, "ab", a=rn(3, 5), b=rn(3, 5))
    case("mul", lambda a, b: a * b, "ab", a=rn(3, 5), b=rn(3, 5))
    case("div", lambda a, b: a / b, "ab", a=rn(3, 5), b=away0(rn(3, 5)))
    # b with one element broadcasts (the only broadcast ops.h allows).
    case("add_bcast", lambda a, b: a + b, "ab", a=rn(2, 3, 4), b=rn(1))
    case("sub_bcast", lambda a, b: a - b, "ab", a=rn(2, 3, 4), b=rn(1))
    case("mul_bcast", lambda a, b: a * b, "ab", a=rn(2, 3, 4), b=rn(1))
    case("div_bcast", lambda a, b: a / b, "ab", a=rn(2, 3, 4), b=away0(rn(1)))
    case("add_scalar", lambda a: a + 0.7, "a", a=rn(4, 5))
    case("mul_scalar", lambda a: a * -1.3, "a", a=rn(4, 5))
    case("neg", lambda a: -a, "a", a=rn(4, 5))
    case("exp", torch.exp, "a", a=rn(4, 5))
    case("log", torch.log, "a", a=ru(4, 5, lo=0.1, hi=3.0))
    case("square", torch.square, "a", a=rn(4, 5))
    case("sqrt", torch.sqrt, "a", a=ru(4, 5, lo=0.1, hi=3.0))
    case("abs", torch.abs, "a", a=away0(rn(4, 5)))
    case("add_channel_bias_4d", lambda x, b: x + b.view(1, -1, 1, 1), "xb", x=rn(2, 3, 4, 5), b=rn(3))
    case("add_channel_bias_2d", lambda x, b: x + b.view(1, -1), "xb", x=rn(4, 3), b=rn(3))


def reductions():
    case("sum", torch.sum, "a", a=rn(3, 4, 5))
    case("mean", torch.mean, "a", a=rn(3, 4, 5))
    case("sum_dim1", lambda a: a.sum(1), "a", a=rn(3, 4, 5))
    case("sum_dim0_keep", lambda a: a.sum(0, keepdim=True), "a", a=rn(3, 4, 5))
    case("mean_dimlast_keep", lambda a: a.mean(-1, keepdim=True), "a", a=rn(3, 4, 5))
    case("mean_dim1", lambda a: a.mean(1), "a", a=rn(3, 4, 5))


def activations():
    x = lambda: away(rn(4, 6, scale=4.0), [0.0, 6.0])  # spans both ReLU6 kinks, none hit
    case("relu", F.relu, "a", a=x())
    case("relu6", F.relu6, "a", a=x())
    case("leaky_relu", lambda a: F.leaky_relu(a, 0.2), "a", a=x())
    case("tanh", torch.tanh, "a", a=rn(4, 6, scale=2.0))
    case("sigmoid", torch.sigmoid, "a", a=rn(4, 6, scale=3.0))
    case("softmax_last", lambda a: F.softmax(a, -1), "a", a=rn(4, 7, scale=2.0))
    case("softmax_dim1", lambda a: F.softmax(a, 1), "a", a=rn(2, 3, 4, scale=2.0))
    case("log_softmax_last", lambda a: F.log_softmax(a, -1), "a", a=rn(4, 7, scale=2.0))
    case("log_softmax_dim1", lambda a: F.log_softmax(a, 1), "a", a=rn(2, 3, 4, scale=2.0))


def shape_ops():
    case("reshape", lambda a: a.reshape(6, 4), "a", a=rn(2, 3, 4))
    case("flatten", lambda a: torch.flatten(a, 1), "a", a=rn(2, 3, 4, 5))
    case("flatten_from2", lambda a: torch.flatten(a, 2), "a", a=rn(2, 3, 4, 5))
    case("concat_dim1", lambda a, b, c: torch.cat([a, b, c], 1), "abc", a=rn(2, 3, 4), b=rn(2, 1, 4), c=rn(2, 2, 4))
    case("concat_dim0", lambda a, b: torch.cat([a, b], 0), "ab", a=rn(1, 3), b=rn(3, 3))
    case("split_dim1", lambda a: torch.split(a, [1, 2, 3], 1), "a", a=rn(2, 6, 3))
    case("chunk_ragged", lambda a: torch.chunk(a, 3, 1), "a", a=rn(4, 7))


def dense():
    case("matmul", torch.matmul, "ab", a=rn(3, 5), b=rn(5, 4))
    case("linear", F.linear, "xwb", x=rn(4, 5), w=rn(3, 5), b=rn(3))
    case("linear_nobias", F.linear, "xw", x=rn(4, 7), w=rn(3, 7))
    # Repeated ids: the backward must scatter-ADD.
    idx = torch.tensor([2, 0, 5, 2, 6, 2]).to(D)
    case("embedding", lambda ids, w: F.embedding(ids.long(), w), "w", ids=idx, w=rn(7, 4))
    # Dropout masks come from each library's own RNG: inference here, training in regularisers()
    # with PyTorch's mask fed to fas (dropout_masked).
    case("dropout_eval", lambda x: F.dropout(x, 0.3, training=False), "x", x=rn(4, 5))


# ------------------------------------------------------------------ convolution
def conv():
    case("conv2d_pad1", lambda x, w, b: F.conv2d(x, w, b, padding=1), "xwb",
         x=rn(2, 3, 7, 6), w=rn(4, 3, 3, 3), b=rn(4))
    # Keras "same", stride 2: H 8 -> pads (0, 1) asymmetric; W 7 -> (1, 1).
    ph, pw = same_pad(8, 3, 2), same_pad(7, 3, 2)
    case("conv2d_s2_same", lambda x, w, b: F.conv2d(F.pad(x, (*pw, *ph)), w, b, stride=2), "xwb",
         x=rn(2, 2, 8, 7), w=rn(3, 2, 3, 3), b=rn(3))
    case("conv2d_dilation2", lambda x, w, b: F.conv2d(x, w, b, padding=2, dilation=2), "xwb",
         x=rn(1, 2, 9, 8), w=rn(3, 2, 3, 3), b=rn(3))
    case("conv2d_groups2", lambda x, w: F.conv2d(x, w, None, padding=1, groups=2), "xw",
         x=rn(2, 4, 6, 5), w=rn(6, 2, 3, 3))
    # Depthwise 3x3 stride 2, Keras same on 8x8: pads (0, 1) on both axes.
    p = same_pad(8, 3, 2)
    case("conv2d_depthwise_s2_same", lambda x, w, b: F.conv2d(F.pad(x, (*p, *p)), w, b, stride=2, groups=3), "xwb",
         x=rn(2, 3, 8, 8), w=rn(3, 1, 3, 3), b=rn(3))
    # 5x5 kernel, stride 2, Keras same on 9x10: pads (2, 2) rows, (1, 2) cols.
    ph, pw = same_pad(9, 5, 2), same_pad(10, 5, 2)
    case("conv2d_k5s2_same", lambda x, w, b: F.conv2d(F.pad(x, (*pw, *ph)), w, b, stride=2), "xwb",
         x=rn(2, 3, 9, 10), w=rn(2, 3, 5, 5), b=rn(2))
    case("conv2d_1x1", lambda x, w, b: F.conv2d(x, w, b), "xwb", x=rn(2, 5, 4, 3), w=rn(3, 5, 1, 1), b=rn(3))
    # Rectangular kernel, stride (1, 2), explicit pads (top 1, bottom 0, left 2, right 1).
    case("conv2d_rect_pads", lambda x, w, b: F.conv2d(F.pad(x, (2, 1, 1, 0)), w, b, stride=(1, 2)), "xwb",
         x=rn(2, 2, 5, 7), w=rn(3, 2, 2, 3), b=rn(3))
    # Transposed: PyTorch padding p crops p rows/cols on each side; output_padding adds at the end.
    case("convt_s2_pad1_outpad1", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         "xwb", x=rn(2, 3, 4, 5), w=rn(3, 2, 3, 3), b=rn(2))
    case("convt_groups2_s2", lambda x, w: F.conv_transpose2d(x, w, None, stride=2, groups=2), "xw",
         x=rn(1, 4, 3, 3), w=rn(4, 3, 3, 3))
    case("convt_s1_pad1", lambda x, w, b: F.conv_transpose2d(x, w, b, padding=1), "xwb",
         x=rn(2, 2, 5, 4), w=rn(2, 3, 3, 3), b=rn(3))
    # Keras Conv2DTranspose "same", k3 s2 on 4x5 -> 8x10: the full (in-1)*s+k output is cropped
    # by the Keras same-conv pads (top/left 0, bottom/right 1).
    case("convt_keras_same_k3s2", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2)[:, :, :8, :10], "xwb",
         x=rn(2, 3, 4, 5), w=rn(3, 2, 3, 3), b=rn(2))
    # Keras same k4 s2: pads (1, 1), i.e. PyTorch padding 1, out = 2 * in.
    case("convt_keras_same_k4s2", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), "xwb",
         x=rn(2, 2, 3, 4), w=rn(2, 3, 4, 4), b=rn(3))
    case("convt_dilation2", lambda x, w, b: F.conv_transpose2d(x, w, b, dilation=2), "xwb",
         x=rn(1, 2, 4, 3), w=rn(2, 2, 3, 3), b=rn(2))
    # Keras "valid": out = (in-1)*s + k, no crop.
    case("convt_keras_valid_k3s2", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2), "xwb",
         x=rn(1, 2, 3, 4), w=rn(2, 2, 3, 3), b=rn(2))


# ------------------------------------------------------------------ pooling / resampling
def pooling():
    ninf = float("-inf")
    case("maxpool_k2", lambda x: F.max_pool2d(x, 2), "x", x=rn(2, 3, 6, 7))
    # Padded max pools on all-negative inputs: a zero pad would win the max if it were allowed to.
    neg = lambda *s: -rn(*s).abs() - 0.1
    case("maxpool_k3s2_pad1", lambda x: F.max_pool2d(x, 3, 2, padding=1), "x", x=neg(1, 2, 7, 7))
    # Keras same k2 s2 on 5x7: pads (0, 1) both axes; padding never wins the max.
    ph, pw = same_pad(5, 2, 2), same_pad(7, 2, 2)
    case("maxpool_same_k2", lambda x: F.max_pool2d(F.pad(x, (*pw, *ph), value=ninf), 2), "x", x=neg(2, 2, 5, 7))
    case("avgpool_k2", lambda x: F.avg_pool2d(x, 2), "x", x=rn(2, 3, 6, 6))
    case("avgpool_k3s2_pad1_incl", lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=True), "x",
         x=rn(1, 2, 7, 6))
    case("avgpool_k3s2_pad1_excl", lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False), "x",
         x=rn(1, 2, 7, 6))

    # Keras same average pooling excludes the (asymmetric) padding from the count.
    def avg_same(x):
        pad = (*pw, *ph)
        s = F.avg_pool2d(F.pad(x, pad), 2, divisor_override=1)
        n = F.avg_pool2d(F.pad(torch.ones_like(x), pad), 2, divisor_override=1)
        return s / n
    case("avgpool_same_k2", avg_same, "x", x=rn(2, 2, 5, 7))
    case("global_avg_pool", lambda x: x.mean((2, 3)), "x", x=rn(2, 3, 5, 4))
    case("upsample_nearest_2", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), "x", x=rn(1, 2, 3, 4))
    case("upsample_nearest_2x3", lambda x: F.interpolate(x, scale_factor=(2, 3), mode="nearest"), "x",
         x=rn(2, 1, 2, 3))


# ------------------------------------------------------------------ batch norm
def batchnorm():
    def bn(name, shape, training, affine=True, momentum=0.1, eps=1e-5):
        C = shape[1]
        rm, rv = rn(C, scale=0.5), ru(C, lo=0.5, hi=2.0)
        inputs = dict(x=rn(*shape, scale=2.0) + 0.5)
        if affine:
            inputs.update(gamma=ru(C, lo=0.5, hi=1.5), beta=rn(C, scale=0.5))
        save(name, "running_mean", rm)
        save(name, "running_var", rv)
        rm2, rv2 = rm.clone(), rv.clone()
        fn = lambda x, gamma=None, beta=None: F.batch_norm(x, rm2, rv2, gamma, beta, training, momentum, eps)
        case(name, fn, tuple(inputs), **inputs)
        # Updated running stats (PyTorch: unbiased batch variance, running = (1-m)*running + m*batch).
        save(name, "running_mean_out", rm2)
        save(name, "running_var_out", rv2)
    bn("bn2d_train", (6, 4), True)
    bn("bn4d_train", (3, 4, 5, 3), True)
    bn("bn4d_eval", (3, 4, 5, 3), False)
    bn("bn2d_eval", (5, 3), False)
    bn("bn4d_train_noaffine", (2, 3, 4, 4), True, affine=False)
    # Keras convention momentum 0.99 == PyTorch momentum 0.01; Keras eps 1e-3.
    bn("bn4d_train_keras", (2, 3, 3, 5), True, momentum=0.01, eps=1e-3)


# ------------------------------------------------------------------ losses
def gaussian_kl(red):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the elements, then reduced (ops.h Reduction)."""
    def kl(mu, logvar):
        k = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar))
        return {"mean": k / mu.numel(), "batchmean": k / mu.shape[0], "sum": k}[red]
    return kl


def losses_more():
    """Reductions added later; run last so the earlier cases' random inputs stay as they were."""
    case("gaussian_kl_mean", gaussian_kl("mean"), ("mu", "logvar"), mu=rn(4, 3), logvar=rn(4, 3, scale=0.5))
    case("mse_batchmean", lambda p, t: F.mse_loss(p, t, reduction="sum") / p.shape[0], "pt", p=rn(4, 3), t=rn(4, 3))


def losses():
    for red in ("mean", "sum"):
        case("mse_" + red, lambda p, t: F.mse_loss(p, t, reduction=red), "pt", p=rn(4, 3), t=rn(4, 3))
        p = rn(4, 3)
        case("l1_" + red, lambda p, t: F.l1_loss(p, t, reduction=red), "pt", p=p, t=p + away(rn(4, 3), [0.0], 0.2))
        # Probabilities inside (0, 1), soft targets; targets take gradients too.
        case("bce_" + red, lambda p, t: F.binary_cross_entropy(p, t, reduction=red), "pt",
             p=torch.sigmoid(rn(5, 2, scale=2.0)).float().to(D), t=ru(5, 2))
        case("bce_logits_" + red, lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction=red), "zt",
             z=rn(5, 2, scale=3.0), t=ru(5, 2))
        case("cross_entropy_" + red, lambda z, labels: F.cross_entropy(z, labels.long(), reduction=red), "z",
             z=rn(5, 4, scale=2.0), labels=ids(5, high=4))

        # Gaussian KL to N(0, I), written out: 'batchmean' divides by the batch size (kl_div's
        # batchmean), drawn here so every later case keeps its inputs; its 'mean' (over all
        # elements) is in losses_more().
        kl_red = "batchmean" if red == "mean" else red
        case("gaussian_kl_" + kl_red, gaussian_kl(kl_red), ("mu", "logvar"), mu=rn(4, 3), logvar=rn(4, 3, scale=0.5))


    # Numerically hard inputs. BCE at p = 0 and 1: each log clamped at -100, and the p-gradient
    # divides by max(p(1-p), 1e-12). (PyTorch's target gradient there is +-inf: not compared.)
    case("bce_clamped_sum", lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"), "p",
         p=torch.tensor([0.0, 1.0, 0.0, 1.0, 0.25, 1e-30]), t=torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 1.0]))
    # Large logits: stable log-sum-exp and log(1 + exp(-|z|)) forms are needed.
    case("bce_logits_large_mean", lambda z, t: F.binary_cross_entropy_with_logits(z, t), "zt",
         z=torch.tensor([[-60.0, -25.0, 30.0], [45.0, -0.5, 80.0]]), t=ru(2, 3))
    case("cross_entropy_large_logits", lambda z, labels: F.cross_entropy(z, labels.long()), "z",
         z=rn(3, 5, scale=60.0), labels=torch.tensor([4.0, 0.0, 2.0]))
    case("softmax_large", lambda a: F.softmax(a, -1), "a", a=rn(3, 5, scale=60.0))


# ------------------------------------------------------------------ training runs
def save_params(c, prefix, named):
    for n, t in named:
        if not n.endswith("num_batches_tracked"):  # PyTorch bookkeeping fas does not keep
            save(c, prefix + n, t)


def convnet_adam():
    """conv(3->4, 3x3, Keras same, no bias) -> BN -> ReLU -> maxpool 2 -> flatten -> linear -> CE.
    The conv has no bias: in front of a training-mode BN its gradient is exactly zero in theory,
    i.e. rounding noise, and Adam's first step (~lr * sign(g)) would amplify that noise to +-lr."""
    c = "convnet_adam"
    net = nn.Sequential(OrderedDict(
        conv=nn.Conv2d(3, 4, 3, padding=1, bias=False), bn=nn.BatchNorm2d(4), relu=nn.ReLU(),
        pool=nn.MaxPool2d(2), flatten=nn.Flatten(), fc=nn.Linear(4 * 4 * 4, 3)))
    with torch.no_grad():  # float32-exact initial values; non-trivial BN affine
        for n, p in net.named_parameters():
            p.copy_(p.float().to(D))
        net.bn.weight.copy_(ru(4, lo=0.5, hi=1.5))
        net.bn.bias.copy_(rn(4, scale=0.2))
    save_params(c, "init.", net.state_dict().items())
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for step in range(1, 4):
        x, labels = rn(4, 3, 8, 8), ids(4, high=3)
        save(c, "step%d.x" % step, x)
        save(c, "step%d.labels" % step, labels)
        opt.zero_grad()
        loss = F.cross_entropy(net(x), labels.long())
        loss.backward()
        save(c, "step%d.loss" % step, loss.reshape(1))
        for n, p in net.named_parameters():
            save(c, "step%d.grad.%s" % (step, n), p.grad)
            # Adam's first steps move each weight by ~lr * sign(g): a gradient at rounding-noise
            # level would make the comparison meaningless, so refuse to write such a fixture.
            assert p.grad.abs().min() > 1e-6, (step, n, p.grad.abs().min())
        opt.step()
        save_params(c, "step%d.param." % step, net.state_dict().items())
    # Inference after training: BN uses the running statistics the three steps accumulated.
    net.eval()
    x = rn(2, 3, 8, 8)
    save(c, "eval.x", x)
    save(c, "eval.logits", net(x))


def tiny_linear(c, make_opt):
    """Linear(5 -> 3) with MSE, three optimizer steps on different batches."""
    lin = nn.Linear(5, 3)
    with torch.no_grad():
        for p in lin.parameters():
            p.copy_(p.float().to(D))
    save_params(c, "init.", lin.state_dict().items())
    opt = make_opt(lin.parameters())
    for step in range(1, 4):
        x, t = rn(6, 5), rn(6, 3)
        save(c, "step%d.x" % step, x)
        save(c, "step%d.t" % step, t)
        opt.zero_grad()
        loss = F.mse_loss(lin(x), t)
        loss.backward()
        save(c, "step%d.loss" % step, loss.reshape(1))
        save_params(c, "step%d.grad." % step, [(n, p.grad) for n, p in lin.named_parameters()])
        opt.step()
        save_params(c, "step%d.param." % step, lin.state_dict().items())


class KerasAdam(torch.optim.Optimizer):
    """TF/Keras Adam (spec 004 §1.4): lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t),
    w -= lr_t * m / (sqrt(v) + eps), eps added to the uncorrected sqrt(v). Not in PyTorch."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-7):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for grp in self.param_groups:
            b1, b2 = grp["betas"]
            for p in grp["params"]:
                st = self.state[p]
                if not st:
                    st["t"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["t"] += 1
                t = st["t"]
                st["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                lr_t = grp["lr"] * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t)
                p.sub_(lr_t * st["m"] / (st["v"].sqrt() + grp["eps"]))


def regularisers():
    """MixStyle, zero padding and dropout in training mode (appended last: earlier cases keep their draws)."""
    # MixStyle as the authors' code (Zhou et al., ICLR 2021): per-instance statistics over H x W,
    # unbiased variance + eps, detached; partner (their perm) and lam (their Beta draws) are inputs.
    def mixstyle(x, partner, lam, eps=1e-6):
        mu = x.mean(dim=[2, 3], keepdim=True)
        sig = (x.var(dim=[2, 3], keepdim=True) + eps).sqrt()
        mu, sig = mu.detach(), sig.detach()
        p, l = partner.long(), lam.view(-1, 1, 1, 1)
        return (x - mu) / sig * (l * sig + (1 - l) * sig[p]) + (l * mu + (1 - l) * mu[p])
    case("mix_style", mixstyle, "x", x=rn(4, 3, 5, 6, scale=2.0) + 0.5, partner=torch.tensor([2, 0, 0, 3]).to(D),
         lam=ru(4))
    # Keras ZeroPadding2D ((top 1, bottom 2), (left 0, right 1)) = F.pad's (left, right, top, bottom).
    case("zero_pad2d", lambda x: F.pad(x, (0, 1, 1, 2)), "x", x=rn(2, 3, 4, 5))
    # PyTorch's own dropout in training; its mask (read off a run on ones from the same RNG state)
    # is saved as keep, and the C++ test applies it with fas' dropout_masked.
    x, p = away(rn(6, 7), [0.0]), 0.3
    state = torch.get_rng_state()
    keep = (F.dropout(torch.ones(6, 7), p, training=True) != 0).to(D)
    torch.set_rng_state(state)
    case("dropout_train", lambda x: F.dropout(x, p, training=True), "x", x=x)
    save("dropout_train", "keep", keep)
    assert 0 < keep.sum() < keep.numel()


def optimizers():
    tiny_linear("sgd_momentum", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2))
    tiny_linear("sgd_nesterov", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
    tiny_linear("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1))
    tiny_linear("adam_l2", lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1))
    tiny_linear("adam_keras", lambda ps: KerasAdam(ps, lr=1e-2))


if __name__ == "__main__":
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    for section in (elementwise, reductions, activations, shape_ops, dense, conv, pooling, batchnorm, losses,
                    convnet_adam, optimizers, losses_more, regularisers):
        section()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print("wrote %d cases, %d bytes under %s" % (len(os.listdir(ROOT)), total, ROOT))
