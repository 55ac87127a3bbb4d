#!/usr/bin/python3
"""Golden fixtures for spec 001's one-class models (tests/test_oneclass.cpp), PyTorch 1.13.
The modules below mirror src/models/oneclass.cpp layer for layer, with the same parameter names.
  oneclass_dcvae/   DCVAE, width_mult 1/16, latent 16, input 2x1x32x32: forward with a fixed eps
                    (mu, logvar, recon), the losses, every parameter and input gradient, then three
                    Adam steps (lr 1e-3, betas 0.5/0.999, eps per step stored): losses, final weights.
  oneclass_resvae/  ResVAE, width_mult 1/32, latent 16, input 2x1x32x32: forward and gradients.
  oneclass_gan/     GANomaly, width_mult 1/64, latent 8, input 4x1x32x32: one generator step
                    (Adam lr 2e-3, betas 0.5/0.99) then one discriminator step on the detached
                    reconstruction of the same forward (its own Adam): losses, generator weights
                    after the first, discriminator weights and every BN buffer after the second.
  oneclass_latent/  scikit-learn 1.2 on a fixed 240 x 5 dataset (three blobs): PCA(2) (components
                    signed so each one's largest-magnitude entry is positive, explained variance,
                    mean); GaussianMixture(k=3, full and diag, init_params="k-means++",
                    random_state=0) with the k-means++ centre rows it starts from: weights, means,
                    covariances, n_iter, lower bound and score_samples.
Run: /usr/bin/python3 tools/golden_oneclass.py   (--counts: print the spec-size parameter counts)
"""
import os
import shutil
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import ROOT, save  # noqa: E402

SLOPE = 0.2


def ch(c, mult):
    return int(round(c * mult))


class DCVAE(nn.Module):
    def __init__(self, mult, latent, size=128):
        super().__init__()
        enc, c = [], 1
        for i, co in enumerate((32, 64, 128, 256, 512)):
            enc += [nn.Conv2d(c, ch(co, mult), 3, padding=1), nn.ReLU()]
            if i > 0:
                enc.append(nn.MaxPool2d(2))
            c = ch(co, mult)
        self.sh = size // 16
        enc += [nn.Flatten(), nn.Linear(c * self.sh * self.sh, 2 * latent)]
        self.encoder = nn.Sequential(*enc)
        dec, c = [], latent // (self.sh * self.sh)
        for co in (512, 256, 128, 64):
            dec += [nn.Upsample(scale_factor=2), nn.Conv2d(c, ch(co, mult), 3, padding=1), nn.ReLU()]
            c = ch(co, mult)
        dec += [nn.Conv2d(c, ch(32, mult), 3, padding=1), nn.ReLU(), nn.Conv2d(ch(32, mult), 1, 1), nn.Sigmoid()]
        self.decoder = nn.Sequential(*dec)

    def run(self, x, eps):
        mu, logvar = self.encoder(x).chunk(2, 1)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z.view(z.shape[0], -1, self.sh, self.sh)), mu, logvar


class ResBlock(nn.Module):
    def __init__(self, ci, co, leaky):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(ci, co, 3, padding=1), nn.Conv2d(co, co, 3, padding=1)
        self.skip, self.leaky = nn.Conv2d(ci, co, 1), leaky

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x))) + self.skip(x)
        return F.leaky_relu(y, SLOPE) if self.leaky else y


class ResVAE(DCVAE):
    def __init__(self, mult, latent, size=128):
        nn.Module.__init__(self)
        enc, c = [nn.Conv2d(1, ch(32, mult), 3, padding=1)], ch(32, mult)
        for co in (64, 128, 256, 512, 512):
            enc += [ResBlock(c, ch(co, mult), False), nn.AvgPool2d(2)]
            c = ch(co, mult)
        self.sh = size // 32
        enc += [nn.Flatten(), nn.Linear(c * self.sh * self.sh, 2 * latent)]
        self.encoder = nn.Sequential(*enc)
        dec, c = [], latent // (self.sh * self.sh)
        for i, co in enumerate((512, 256, 128, 64, 32)):
            dec += [nn.Upsample(scale_factor=2), ResBlock(c, ch(co, mult), i == 4)]
            c = ch(co, mult)
        dec += [nn.Conv2d(c, 1, 1), nn.Sigmoid()]
        self.decoder = nn.Sequential(*dec)


def stages(size):
    k = 0
    while size > 4:
        size //= 2
        k += 1
    return k


class GanEncoder(nn.Module):
    def __init__(self, mult, out, size):
        super().__init__()
        body, c = [], 1
        for i in range(stages(size)):
            co = ch(128 << i, mult)
            body += [nn.Conv2d(c, co, 4, 2, 1, bias=False), nn.LeakyReLU(SLOPE), nn.BatchNorm2d(co)]
            c = co
        body += [nn.Conv2d(c, c, 4, 1, 0, bias=False), nn.LeakyReLU(SLOPE), nn.Flatten()]
        self.body, self.fc = nn.Sequential(*body), nn.Linear(c, out)

    def forward(self, x):
        return self.fc(self.body(x))


def gan_decoder(mult, latent, size):
    layers, c, n = [], latent, stages(size)
    for i in range(n - 1, -1, -1):
        co = ch(128 << i, mult)
        s, p = (1, 0) if i == n - 1 else (2, 1)
        layers += [nn.ConvTranspose2d(c, co, 4, s, p, bias=False), nn.ReLU(), nn.BatchNorm2d(co)]
        c = co
    layers += [nn.ConvTranspose2d(c, 1, 3, 2, 1, output_padding=1), nn.Tanh()]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    def __init__(self, mult, latent, size):
        super().__init__()
        self.e1 = GanEncoder(mult, latent, size)
        self.dec = gan_decoder(mult, latent, size)
        self.e2 = GanEncoder(mult, latent, size)


class GANomaly(nn.Module):
    def __init__(self, mult, latent, size=128):
        super().__init__()
        self.gen, self.disc = Generator(mult, latent, size), GanEncoder(mult, 1, size)

    def run(self, x):
        u = 2 * x - 1
        z = self.gen.e1(u)
        xhat = self.gen.dec(z.view(z.shape[0], -1, 1, 1))
        return u, z, xhat, self.gen.e2(xhat)


def counts():
    for name, m in (("dcvae", DCVAE(1, 512)), ("resvae", ResVAE(1, 512)), ("ganomaly", GANomaly(1, 512))):
        p = sum(t.numel() for t in m.parameters())
        b = sum(t.numel() for n, t in m.named_buffers() if not n.endswith("num_batches_tracked"))
        print(name, "trainable", p, "buffers", b)
        if name == "ganomaly":
            for part in ("gen.e1", "gen.dec", "gen.e2", "disc"):
                mod = m.get_submodule(part)
                print("  ", part, sum(t.numel() for t in mod.parameters()))


def save_params(case, model, suffix=""):
    for n, t in model.named_parameters():
        save(case, n + suffix, t)


def save_buffers(case, model, suffix=""):
    for n, t in model.named_buffers():
        if not n.endswith("num_batches_tracked"):
            save(case, n + suffix, t)


def vae_loss(recon, mu, logvar, x):
    rec = F.binary_cross_entropy(recon, x)  # mean over all pixels of the batch
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
    return rec + kl, rec, kl


def vae_case(case, cls, adam, mult=1 / 16):
    torch.manual_seed(3)
    m = cls(mult, 16, 32)
    x = torch.rand(2, 1, 32, 32, requires_grad=True)
    eps = torch.randn(2, 16)
    save_params(case, m)
    save(case, "x", x)
    save(case, "eps", eps)
    recon, mu, logvar = m.run(x, eps)
    total, rec, kl = vae_loss(recon, mu, logvar, x)
    total.backward()
    for n, t in (("recon", recon), ("mu", mu), ("logvar", logvar), ("x.grad", x.grad)):
        save(case, n, t)
    save(case, "losses", torch.stack([total, rec, kl]))
    for n, t in m.named_parameters():
        save(case, n + ".grad", t.grad)
    if not adam:
        return
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999))
    xs, losses = x.detach(), []
    for s in range(3):
        e = torch.randn(2, 16)
        save(case, "eps%d" % s, e)
        opt.zero_grad()
        l = vae_loss(*m.run(xs, e), xs)[0]
        l.backward()
        opt.step()
        losses.append(l.detach())
    save(case, "adam_losses", torch.stack(losses))
    save_params(case, m, ".adam3")


def gan_case():
    case = "oneclass_gan"
    torch.manual_seed(5)
    m = GANomaly(1 / 64, 8, 32)
    for mod in m.modules():  # DCGAN init, as GANomaly::dcgan_init
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(mod.weight, 0, 0.02)
        if isinstance(mod, nn.BatchNorm2d):
            nn.init.normal_(mod.weight, 1, 0.02)
            nn.init.zeros_(mod.bias)
    x = torch.rand(4, 1, 32, 32)
    save(case, "x", x)
    save_params(case, m)
    gopt = torch.optim.Adam(m.gen.parameters(), lr=2e-3, betas=(0.5, 0.99))
    dopt = torch.optim.Adam(m.disc.parameters(), lr=2e-3, betas=(0.5, 0.99))
    # generator step
    u, z, xhat, zhat = m.run(x)
    rec = F.l1_loss(xhat, u)
    enc = F.mse_loss(zhat, z)
    adv = F.mse_loss(m.disc.body(xhat), m.disc.body(u))
    g = 50 * rec + enc + adv
    gopt.zero_grad()
    g.backward()
    for n, t in m.gen.named_parameters():
        save(case, "gen." + n + ".grad", t.grad)
    gopt.step()
    save(case, "gen_losses", torch.stack([g, rec, enc, adv]).detach())
    save(case, "xhat", xhat)
    save_params(case, m.gen, ".g1")
    for n, t in m.gen.named_parameters():  # rename to the full module path
        os.replace(os.path.join(ROOT, case, n + ".g1.bin"), os.path.join(ROOT, case, "gen." + n + ".g1.bin"))
        os.replace(os.path.join(ROOT, case, n + ".g1.shape"), os.path.join(ROOT, case, "gen." + n + ".g1.shape"))
    # discriminator step on the same forward's reconstruction
    real = m.disc(u).view(-1)
    fake = m.disc(xhat.detach()).view(-1)
    d = 0.5 * (F.binary_cross_entropy_with_logits(real, torch.ones(4)) +
               F.binary_cross_entropy_with_logits(fake, torch.zeros(4)))
    dopt.zero_grad()
    d.backward()
    dopt.step()
    save(case, "disc_loss", d.detach().reshape(1))
    save_params(case, m, ".d1")
    save_buffers(case, m, ".d1")


def latent_case():
    import numpy as np
    from sklearn.cluster import kmeans_plusplus
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture
    case = "oneclass_latent"
    rng = np.random.RandomState(0)
    centres = np.array([[0, 0, 0, 0, 0], [3, 1, -2, 0, 1], [-2, 3, 1, 2, -1]], dtype=np.float64)
    X = np.concatenate([c + rng.randn(80, 5) * (0.5 + 0.3 * i) @ np.diag([1, 0.5, 2, 1, 0.7])
                        for i, c in enumerate(centres)])
    X = X.astype(np.float32).astype(np.float64)  # exactly representable in the float32 fixture
    save(case, "X", X)
    p = PCA(n_components=2).fit(X)
    comp = p.components_.copy()
    for r in comp:
        if r[np.argmax(np.abs(r))] < 0:
            r *= -1
    save(case, "pca_components", comp)
    save(case, "pca_variance", p.explained_variance_)
    save(case, "pca_mean", p.mean_)
    _, idx = kmeans_plusplus(X, 3, random_state=0)
    save(case, "init", idx.astype(np.float64))
    for cov in ("full", "diag"):
        g = GaussianMixture(3, covariance_type=cov, init_params="k-means++", random_state=0).fit(X)
        save(case, cov + "_weights", g.weights_)
        save(case, cov + "_means", g.means_)
        save(case, cov + "_covariances", g.covariances_)
        save(case, cov + "_n_iter", np.array([g.n_iter_], dtype=np.float64))
        save(case, cov + "_lower_bound", np.array([g.lower_bound_]))
        save(case, cov + "_score_samples", g.score_samples(X))


if __name__ == "__main__":
    torch.set_num_threads(1)
    if "--counts" in sys.argv:
        counts()
        sys.exit(0)
    for c in ("oneclass_dcvae", "oneclass_resvae", "oneclass_gan", "oneclass_latent"):
        shutil.rmtree(os.path.join(ROOT, c), ignore_errors=True)
    vae_case("oneclass_dcvae", DCVAE, True)
    vae_case("oneclass_resvae", ResVAE, False, 1 / 32)
    gan_case()
    latent_case()
