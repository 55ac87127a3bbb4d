"""Float64 NumPy/SciPy reference of the W-IQA metrics of src/iqa/ (spec 002 §2.3), written from the
definitions documented there, independently of the C++ code. Used by tools/golden_iqa.py (for the
metrics without a standard implementation) and tools/fit_iqa_pristine.py (the NIQE / BIQI
pristine models). Images are float64 grey levels in [0, 255], shape (h, w)."""
import numpy as np
from scipy import ndimage
from scipy.special import gammaln

NAMES = ["ad", "biqi", "gme", "gpe", "hlfi", "jqi", "lmse", "mams", "mas", "md", "mse", "nae",
         "niqe", "nxc", "psnr", "ramd", "sc", "sme", "snr", "spe", "ssim", "tcd", "ted", "vifd"]


def gauss1d(n, sigma):
    x = np.arange(n) - (n - 1) / 2.0
    k = np.exp(-x * x / (2 * sigma * sigma))
    return k / k.sum()


def sep(img, ky, kx, mode):
    """Separable correlation, same size (scipy modes: 'mirror' = reflect-101, 'nearest', 'constant')."""
    t = ndimage.correlate1d(img, kx, axis=1, mode=mode, cval=0.0)
    return ndimage.correlate1d(t, ky, axis=0, mode=mode, cval=0.0)


def sep_valid(img, k):
    from scipy.signal import correlate2d
    return correlate2d(img, np.outer(k, k), mode="valid")


def blur_reference(img):
    g = gauss1d(5, 1.1)
    return ndimage.correlate(img, np.outer(g, g), mode="mirror")


def ramd(I, J, R=10):
    d = np.sort(np.abs(I - J).ravel())[::-1]
    return d[:R].mean()


def mas(I, J):
    S = I * J
    M = np.abs(I) * np.abs(J)
    M[M == 0] = 1
    alpha = 1 - 2 / np.pi * np.arccos(np.clip(S / M, -1, 1))
    return 1 - alpha.mean(), alpha


def mams(I, J):
    _, alpha = mas(I, J)
    return np.mean(1 - alpha * (1 - np.abs(I - J) / 255.0))


def lmse(I, J):
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)
    LI = ndimage.correlate(I, lap, mode="mirror")
    LJ = ndimage.correlate(J, lap, mode="mirror")
    return np.sum((LI - LJ) ** 2) / np.sum(LI ** 2)


SOBEL_S = np.array([1, 4, 6, 4, 1], float)
SOBEL_D = np.array([-1, -2, 0, 2, 1], float)


def sobel5(img):
    return sep(img, SOBEL_S, SOBEL_D, "mirror"), sep(img, SOBEL_D, SOBEL_S, "mirror")


def phase_diff(a, b):
    z = a * np.conj(b)
    return np.where(z == 0, 0.0, np.angle(z))


def gradient_metrics(I, J):
    ix, iy = sobel5(I)
    jx, jy = sobel5(J)
    gme = np.mean((np.hypot(ix, iy) - np.hypot(jx, jy)) ** 2)
    gpe = np.mean(phase_diff(ix + 1j * iy, jx + 1j * jy) ** 2)

    def edges(gx, gy):
        m = gx * gx + gy * gy
        return m > 4 * m.mean()
    ted = np.mean(edges(ix, iy) != edges(jx, jy))
    return gme, gpe, ted


def harris_count(response):
    lo, hi = response.min(), response.max()
    if not hi > lo:
        return 0
    return int(np.sum((response - lo) / (hi - lo) * 255.0 >= 161.0))


def spectral(I, J):
    F, G = np.fft.fft2(I), np.fft.fft2(J)
    a, b = np.abs(F), np.abs(G)
    h, w = I.shape
    il, jl = int(np.ceil(0.15 * h)), int(np.ceil(0.15 * w))
    ih, jh = int(np.ceil(0.15 * h + 1)), int(np.ceil(0.15 * w + 1))
    hlfi = (a[:il, :jl].sum() - a[ih:, jh:].sum()) / a.sum()
    sme = np.mean((a - b) ** 2)
    spe = np.mean(phase_diff(F, G) ** 2)
    return hlfi, sme, spe


def vifp(ref, dist):
    sigma_nsq, eps = 2.0, 1e-10
    num = den = 0.0
    for s in range(1, 5):
        n = 2 ** (5 - s) + 1
        k = gauss1d(n, n / 5.0)
        if s > 1:
            ref = sep_valid(ref, k)[::2, ::2]
            dist = sep_valid(dist, k)[::2, ::2]
        mu1, mu2 = sep_valid(ref, k), sep_valid(dist, k)
        s1 = sep_valid(ref * ref, k) - mu1 * mu1
        s2 = sep_valid(dist * dist, k) - mu2 * mu2
        s12 = sep_valid(ref * dist, k) - mu1 * mu2
        s1[s1 < 0] = 0
        s2[s2 < 0] = 0
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        m = s1 < eps
        g[m] = 0; sv[m] = s2[m]; s1[m] = 0
        m = s2 < eps
        g[m] = 0; sv[m] = 0
        m = g < 0
        sv[m] = s2[m]; g[m] = 0
        sv[sv <= eps] = eps
        num += np.sum(np.log10(1 + g * g * s1 / (sv + sigma_nsq)))
        den += np.sum(np.log10(1 + s1 / sigma_nsq))
    return num / den


def jqi(x):
    M, N = x.shape

    def feats(d, n):
        B = np.mean(np.abs(d[:, 7:8 * (n // 8 - 1):8]))
        A = (8 * np.mean(np.abs(d)) - B) / 7
        s = np.sign(d)
        Z = np.mean((s[:, :-1] * s[:, 1:]) < 0)
        return B, A, Z
    Bh, Ah, Zh = feats(x[:, 1:] - x[:, :-1], N)
    Bv, Av, Zv = feats((x[1:, :] - x[:-1, :]).T, M)
    B, A, Z = (max(1e-6, (Bh + Bv) / 2), max(1e-6, (Ah + Av) / 2), max(1e-6, (Zh + Zv) / 2))
    return -245.8909 + 261.9373 * B ** (-239.8886 / 1e4) * A ** (160.1664 / 1e4) * Z ** (64.2859 / 1e4)


# --- natural scene statistics (NIQE, BIQI) ---
GAM = 0.2 + 0.001 * np.arange(9801)
R_GAM = np.exp(2 * gammaln(2 / GAM) - gammaln(1 / GAM) - gammaln(3 / GAM))


def ggd_shape(v):
    s2 = np.mean(v * v)
    e = np.mean(np.abs(v))
    rho = s2 / (e * e) if e > 0 else np.nan
    return GAM[np.argmin(np.abs(rho - 1 / R_GAM))], s2


def aggd_fit(v):
    left, right = v[v < 0], v[v > 0]
    lstd = np.sqrt(np.mean(left ** 2)) if left.size else 0.0
    rstd = np.sqrt(np.mean(right ** 2)) if right.size else 0.0
    gh = lstd / rstd if rstd > 0 else 1.0
    s2 = np.mean(v * v)
    rhat = np.mean(np.abs(v)) ** 2 / s2 if s2 > 0 else np.nan
    rnorm = rhat * (gh ** 3 + 1) * (gh + 1) / (gh ** 2 + 1) ** 2
    a = GAM[np.argmin((R_GAM - rnorm) ** 2)]
    k = np.sqrt(np.exp(gammaln(1 / a) - gammaln(3 / a)))
    return a, lstd * k, rstd * k


def mscn(img):
    g = gauss1d(7, 7.0 / 6.0)
    mu = sep(img, g, g, "nearest")
    mu2 = sep(img * img, g, g, "nearest")
    return (img - mu) / (np.sqrt(np.abs(mu2 - mu * mu)) + 1.0)


def block_feats(b):
    a, bl, br = aggd_fit(b.ravel())
    f = [a, (bl + br) / 2]
    for dy, dx in ((0, 1), (1, 0), (1, 1), (-1, 1)):
        p = (b * np.roll(b, (dy, dx), axis=(0, 1))).ravel()
        a, bl, br = aggd_fit(p)
        f += [a, (br - bl) * np.exp(gammaln(2 / a) - gammaln(1 / a)), bl, br]
    return f


def niqe_blocks(img, block=96):
    by, bx = img.shape[0] // block, img.shape[1] // block
    im = img[:by * block, :bx * block]
    rows = [[] for _ in range(by * bx)]
    for scale in range(2):
        m = mscn(im)
        b = block >> scale
        for j in range(by):
            for i in range(bx):
                rows[j * bx + i] += block_feats(m[j * b:(j + 1) * b, i * b:(i + 1) * b])
        im = 0.25 * (im[0::2, 0::2] + im[0::2, 1::2] + im[1::2, 0::2] + im[1::2, 1::2])
    return np.array(rows)


def biqi_features(img):
    f = []
    ll = img
    for _ in range(3):
        h, w = ll.shape[0] // 2, ll.shape[1] // 2
        a, b = ll[0:2 * h:2, 0:2 * w:2], ll[0:2 * h:2, 1:2 * w:2]
        c, d = ll[1:2 * h:2, 0:2 * w:2], ll[1:2 * h:2, 1:2 * w:2]
        for band in ((a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2):
            g, s2 = ggd_shape(band.ravel())
            f += [g, np.log(s2 + 1e-12)]
        ll = (a + b + c + d) / 2
    return np.array(f)


def mvg_distance(mu_p, cov_p, mu, cov):
    d = mu_p - mu
    return float(np.sqrt(max(0.0, d @ np.linalg.pinv((cov_p + cov) / 2) @ d)))


def niqe(img, model, block=96):
    rows = niqe_blocks(img, block)
    cov = np.cov(rows, rowvar=False) if len(rows) >= 2 else np.zeros((36, 36))
    return mvg_distance(model["niqe_mean"], model["niqe_cov"], rows.mean(0), cov)


def biqi(img, model):
    return mvg_distance(model["biqi_mean"], model["biqi_cov"], biqi_features(img), np.zeros((18, 18)))


def grey_levels(path):
    """A frame as the C++ pipeline reads it: RGB / 255 in float32, BT.601 luma (io/image.cpp
    to_grey), back to rounded 8-bit levels (iqa::plane_from_unit)."""
    from PIL import Image
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / np.float32(255)
    g = np.float32(0.299) * rgb[..., 0] + np.float32(0.587) * rgb[..., 1] + np.float32(0.114) * rgb[..., 2]
    return np.rint(255.0 * np.clip(g.astype(np.float64), 0, 1))
