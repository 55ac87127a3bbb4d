"""PyTorch golden fixtures for the pooling, batch-norm, softmax and loss ops (tests/test_layers_golden.cpp).
Each case saves its inputs, an upstream gradient R, the output y and the gradients of sum(y * R).
Run: /usr/bin/python3 tools/make_golden_layers.py   (Debian python3-torch 1.13)."""
import math
import torch
import torch.nn.functional as F
from golden_io import save

torch.manual_seed(0)


def tf_same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def case(name, fn, inputs, **extra):
    """inputs: dict name -> tensor (grad taken for all). Saves inputs, R, y and g_<input>."""
    ins = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**ins)
    R = torch.randn(y.shape)
    (y * R).sum().backward()
    for k, v in inputs.items():
        save(name, k, v)
        save(name, "g_" + k, ins[k].grad)
    save(name, "R", R)
    save(name, "y", y)
    for k, v in extra.items():
        save(name, k, v)


def keras_same_pool(x, k, s, is_max):
    t, b = tf_same_pads(x.shape[2], k, s)
    l, r = tf_same_pads(x.shape[3], k, s)
    if is_max:  # -inf padding never wins
        return F.max_pool2d(F.pad(x, (l, r, t, b), value=-math.inf), k, s)
    # TF averages over the valid pixels only
    num = F.avg_pool2d(F.pad(x, (l, r, t, b)), k, s)
    den = F.avg_pool2d(F.pad(torch.ones_like(x), (l, r, t, b)), k, s)
    return num / den


case("maxpool_same", lambda x: keras_same_pool(x, 2, 2, True), {"x": torch.randn(2, 3, 7, 5)})
case("maxpool_k3s2p1", lambda x: F.max_pool2d(x, 3, 2, 1), {"x": torch.randn(2, 2, 11, 13)})
case("avgpool_same_k3s2", lambda x: keras_same_pool(x, 3, 2, False), {"x": torch.randn(2, 2, 11, 13)})
case("avgpool_k3s2p1", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True), {"x": torch.randn(2, 2, 11, 13)})
case("upsample_2x3", lambda x: F.interpolate(x, scale_factor=(2, 3), mode="nearest"), {"x": torch.randn(2, 3, 5, 7)})
case("global_avg", lambda x: x.mean(dim=(2, 3)), {"x": torch.randn(2, 3, 5, 7)})

for name, shape in (("bn_train4d", (4, 3, 5, 7)), ("bn_train2d", (6, 5))):
    C = shape[1]
    rm, rv = torch.randn(C), torch.rand(C) + 0.5
    rm1, rv1 = rm.clone(), rv.clone()
    case(name, lambda x, g, b: F.batch_norm(x, rm1, rv1, g, b, True, 0.1, 1e-5),
         {"x": torch.randn(*shape) * 2 + 1, "g": torch.rand(C) + 0.5, "b": torch.randn(C)},
         rm_in=rm, rv_in=rv, rm_out=rm1, rv_out=rv1)
rm, rv = torch.randn(3), torch.rand(3) + 0.5
case("bn_eval4d", lambda x, g, b: F.batch_norm(x, rm, rv, g, b, False, 0.1, 1e-3),
     {"x": torch.randn(2, 3, 5, 7), "g": torch.rand(3) + 0.5, "b": torch.randn(3)}, rm_in=rm, rv_in=rv)

case("softmax_dim1", lambda x: F.softmax(x, 1), {"x": torch.randn(3, 4, 5) * 3})
case("log_softmax_dim1", lambda x: F.log_softmax(x, 1), {"x": torch.randn(3, 4, 5) * 3})

for red in ("mean", "sum"):
    case("mse_" + red, lambda p, t: F.mse_loss(p, t, reduction=red), {"p": torch.randn(3, 5), "t": torch.randn(3, 5)})
    case("l1_" + red, lambda p, t: F.l1_loss(p, t, reduction=red), {"p": torch.randn(3, 5), "t": torch.randn(3, 5)})
    # torch 1.13 has no target gradient for binary_cross_entropy: only the input's is compared.
    p, t = torch.rand(3, 5) * 0.9 + 0.05, torch.rand(3, 5)
    pp = p.clone().requires_grad_(True)
    y = F.binary_cross_entropy(pp, t, reduction=red)
    y.backward()
    for k, v in (("p", p), ("t", t), ("y", y), ("g_p", pp.grad), ("R", torch.ones(()))):
        save("bce_" + red, k, v)
    case("bce_logits_" + red, lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction=red),
         {"z": torch.randn(3, 5) * 3, "t": torch.rand(3, 5)})
    labels = torch.tensor([2, 0, 4, 4, 1])
    case("ce_" + red, lambda z: F.cross_entropy(z, labels, reduction=red), {"z": torch.randn(5, 5) * 2},
         labels=labels.float())
    kl = lambda mu, lv: -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp()) / (mu.shape[0] if red == "mean" else 1)
    case("kl_" + red, kl, {"mu": torch.randn(4, 6), "lv": torch.randn(4, 6) * 0.5})
