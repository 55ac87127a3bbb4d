"""PyTorch golden fixtures for conv2d / conv_transpose2d (tests/test_conv.cpp, ConvGolden).
Asymmetric TF "same" padding is reproduced with F.pad; Keras "same" transposed conv with an
uncropped conv_transpose2d followed by TF's crop (smaller half at the top/left).
Each case saves x, w, b, r (the loss weights: L = sum(y * r)), y, gx, gw, gb.
Run: /usr/bin/python3 tools/golden_conv.py"""
import torch
import torch.nn.functional as F

from golden_io import save

torch.manual_seed(0)


def run(case, x_shape, w_shape, fn):
    x = torch.randn(*x_shape, requires_grad=True)
    w = (0.5 * torch.randn(*w_shape)).requires_grad_()
    y0 = fn(x, w, None)
    b = torch.randn(y0.shape[1], requires_grad=True)
    y = fn(x, w, b)
    r = torch.randn(*y.shape)
    (y * r).sum().backward()
    for name, t in [("x", x), ("w", w), ("b", b), ("r", r), ("y", y), ("gx", x.grad), ("gw", w.grad), ("gb", b.grad)]:
        save(case, name, t)


def conv(pads, stride=1, dil=1, groups=1):  # pads: top, bottom, left, right
    t, bt, l, r = pads
    return lambda x, w, b: F.conv2d(F.pad(x, (l, r, t, bt)), w, b, stride=stride, dilation=dil, groups=groups)


def convt(pad, out_pad, stride, dil=1, groups=1, crop=None):  # crop: top, bottom, left, right
    def f(x, w, b):
        y = F.conv_transpose2d(x, w, b, stride=stride, padding=pad, output_padding=out_pad, groups=groups,
                               dilation=dil)
        if crop:
            t, bt, l, r = crop
            y = y[:, :, t:y.shape[2] - bt, l:y.shape[3] - r]
        return y
    return f


# TF same, stride 2: H 8 -> pads (0, 1), W 7 -> pads (1, 1).
run("conv_s2_same", (2, 3, 8, 7), (4, 3, 3, 3), conv((0, 1, 1, 1), stride=2))
run("conv_groups_dil", (2, 4, 9, 8), (6, 2, 3, 3), conv((2, 1, 1, 2), dil=2, groups=2))
# Depthwise stride 2, TF same on 7x6: H (1, 1), W (0, 1).
run("conv_depthwise", (2, 5, 7, 6), (5, 1, 3, 3), conv((1, 1, 0, 1), stride=2, groups=5))
run("conv_pointwise", (2, 6, 5, 7), (4, 6, 1, 1), conv((0, 0, 0, 0)))
run("convt_explicit", (2, 3, 4, 5), (3, 4, 3, 3), convt(1, 1, 2))
# Keras Conv2DTranspose(k3, s2, "same") on 5x4 -> 10x8: full 11x9, crop bottom/right 1.
run("convt_keras_same", (2, 4, 5, 4), (4, 2, 3, 3), convt(0, 0, 2, crop=(0, 1, 0, 1)))
run("convt_groups_dil", (1, 4, 4, 3), (4, 3, 3, 3), convt(2, 1, 2, dil=2, groups=2))
run("convt_depthwise", (2, 3, 4, 5), (3, 1, 3, 3), convt(1, 0, 1, groups=3))
