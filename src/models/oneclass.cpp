#include "models/oneclass.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "io/dataset.h"
#include "iqa/filters.h"
#include "layers/summary.h"

namespace fas {

namespace {

// LeakyReLU slope: the spec gives none; 0.2 as DCGAN and the original GANomaly (also used for
// ResVAE's last block, where Keras' default 0.3 would be the other candidate).
constexpr float kLeakySlope = 0.2f;

// Convolutions of the VAEs: 3x3 (or 1x1) stride 1 "same", with bias; Keras glorot init (the
// spec's vocabulary points at Keras; the init is not stated).
std::shared_ptr<Conv2d> vae_conv(int64_t in, int64_t out, int k, Rng& rng) {
  Conv2dOptions o;
  o.kh = o.kw = k;
  o.padding = Padding::Same;
  o.bias = true;
  o.init = Init::Keras;
  return std::make_shared<Conv2d>(in, out, o, rng);
}

std::shared_ptr<Activation> act(Act a) { return std::make_shared<Activation>(a, kLeakySlope); }

void check_input(const OneClassConfig& c, const std::string& model) {
  if (c.channels <= 0 || c.height <= 0 || c.width <= 0)
    fail(model + ": input must be positive, got " + std::to_string(c.channels) + "x" + std::to_string(c.height) +
         "x" + std::to_string(c.width));
  if (c.latent <= 0) fail(model + ": latent must be positive, got " + std::to_string(c.latent));
}

}  // namespace

int64_t scaled_channels(int64_t c, double mult, const std::string& model) {
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  if (!(mult > 0) || !std::isfinite(mult)) fail(model + ": width_mult must be a positive number, got " + num(mult));
  const double v = (double)c * mult, r = std::round(v);
  if (r < 1 || std::fabs(v - r) > 1e-9 * std::max(1.0, v))
    fail(model + ": width_mult " + num(mult) + " does not divide the " + std::to_string(c) + " channels of a layer (" +
         std::to_string(c) + " x " + num(mult) + " = " + num(v) +
         " is not a positive integer); use e.g. 1, 0.5, 0.25, 0.125 or 0.0625");
  return (int64_t)r;
}

// ------------------------------------------------------------------------------------- VAEs

void Vae::init_common(const OneClassConfig& cfg, int pools, const char* model) {
  check_input(cfg, model);
  const int64_t f = int64_t(1) << pools;
  if (cfg.height % f || cfg.width % f)
    fail(std::string(model) + ": input " + std::to_string(cfg.height) + "x" + std::to_string(cfg.width) +
         " must be divisible by " + std::to_string(f) + " (" + std::to_string(pools) + " poolings)");
  // The decoder has no dense layer (table 3.2/3.3): z is reshaped to [latent / (h w), h, w] with h,
  // w the encoder's final size (8x8x8 resp. 32x4x4 at spec size). Reshape order CHW (PyTorch view).
  latent = cfg.latent;
  seed_h = cfg.height / f;
  seed_w = cfg.width / f;
  if (latent % (seed_h * seed_w))
    fail(std::string(model) + ": latent " + std::to_string(latent) + " must be divisible by " +
         std::to_string(seed_h * seed_w) + " (the decoder reshapes z to C x " + std::to_string(seed_h) + " x " +
         std::to_string(seed_w) + ")");
  seed_c = latent / (seed_h * seed_w);
  this->cfg = cfg;
  noise_seed = mix_seed(cfg.seed, 0xE95u);
  encoder = register_module("encoder", std::make_shared<Sequential>());
  decoder = register_module("decoder", std::make_shared<Sequential>());
}

std::pair<Tensor, Tensor> Vae::encode(const Tensor& x) {
  // One FC of 2 * latent split in two = the spec's two heads (mu, log sigma^2).
  auto parts = chunk((*encoder)(x), 2, 1);
  return {parts[0], parts[1]};
}

Tensor Vae::decode(const Tensor& z) { return (*decoder)(reshape(z, {z.size(0), seed_c, seed_h, seed_w})); }

VaeOutput Vae::run(const Tensor& x, const Tensor& eps) {
  VaeOutput o;
  std::tie(o.mu, o.logvar) = encode(x);
  if (eps.shape() != o.mu.shape())
    fail(type_name() + ": noise " + shape_str(eps.shape()) + " does not match the latent " + shape_str(o.mu.shape()));
  o.z = add(o.mu, mul(exp(mul_scalar(o.logvar, 0.5f)), eps));
  o.recon = decode(o.z);
  return o;
}

Tensor Vae::forward(const Tensor& x) { return decode(encode(x).first); }

DCVAE::DCVAE(const OneClassConfig& cfg) {
  init_common(cfg, 4, "dcvae");
  Rng rng(cfg.seed);
  auto ch = [&](int64_t c) { return scaled_channels(c, cfg.width_mult, "dcvae"); };
  // Encoder: conv 32, conv 64, pool, then conv 128/256/512 each followed by a 2x2 max-pool.
  int64_t in = cfg.channels;
  const int64_t enc[5] = {32, 64, 128, 256, 512};
  for (int i = 0; i < 5; ++i) {
    encoder->add(vae_conv(in, ch(enc[i]), 3, rng));
    encoder->add(act(Act::ReLU));
    if (i > 0) encoder->add(std::make_shared<MaxPool2d>(2, 2, Padding::Valid));
    in = ch(enc[i]);
  }
  encoder->add(std::make_shared<Flatten>());
  encoder->add(std::make_shared<Linear>(in * seed_h * seed_w, 2 * latent, rng, true, Init::Keras));
  // Decoder: 4 x [upsample (nearest, Keras' default), conv ReLU], conv 32 ReLU, conv1x1 sigmoid.
  in = seed_c;
  for (int64_t c : {512, 256, 128, 64}) {
    decoder->add(std::make_shared<UpsampleNearest2d>(2));
    decoder->add(vae_conv(in, ch(c), 3, rng));
    decoder->add(act(Act::ReLU));
    in = ch(c);
  }
  decoder->add(vae_conv(in, ch(32), 3, rng));
  decoder->add(act(Act::ReLU));
  decoder->add(vae_conv(ch(32), cfg.channels, 1, rng));
  decoder->add(act(Act::Sigmoid));
}

ResBlock::ResBlock(int64_t in, int64_t out, bool leaky, Rng& rng) : leaky_out(leaky) {
  conv1 = register_module("conv1", vae_conv(in, out, 3, rng));
  conv2 = register_module("conv2", vae_conv(out, out, 3, rng));
  skip = register_module("skip", vae_conv(in, out, 1, rng));  // 1x1: the spec's ~24.2 M reading
}

Tensor ResBlock::forward(const Tensor& x) {
  Tensor y = add((*conv2)(relu((*conv1)(x))), (*skip)(x));
  return leaky_out ? leaky_relu(y, kLeakySlope) : y;
}

ResVAE::ResVAE(const OneClassConfig& cfg) {
  init_common(cfg, 5, "resvae");
  Rng rng(cfg.seed);
  auto ch = [&](int64_t c) { return scaled_channels(c, cfg.width_mult, "resvae"); };
  // The first conv has no activation in the table (ambiguity (c)): none is applied.
  encoder->add(vae_conv(cfg.channels, ch(32), 3, rng));
  int64_t in = ch(32);
  for (int64_t c : {64, 128, 256, 512, 512}) {
    encoder->add(std::make_shared<ResBlock>(in, ch(c), false, rng));
    encoder->add(std::make_shared<AvgPool2d>(2, 2, Padding::Valid));
    in = ch(c);
  }
  encoder->add(std::make_shared<Flatten>());
  encoder->add(std::make_shared<Linear>(in * seed_h * seed_w, 2 * latent, rng, true, Init::Keras));
  in = seed_c;
  const int64_t dec[5] = {512, 256, 128, 64, 32};  // 128: the spec's fix (d) of the table's 256
  for (int i = 0; i < 5; ++i) {
    decoder->add(std::make_shared<UpsampleNearest2d>(2));
    decoder->add(std::make_shared<ResBlock>(in, ch(dec[i]), i == 4, rng));
    in = ch(dec[i]);
  }
  decoder->add(vae_conv(in, cfg.channels, 1, rng));
  decoder->add(act(Act::Sigmoid));
}

VaeLoss vae_loss(const VaeOutput& o, const Tensor& x, float w_rec, float w_kl, bool rec_sum) {
  VaeLoss l;
  // Mean over every pixel of the batch = per-image pixel mean (eq. 3.3) averaged over the batch;
  // BatchMean = per-image pixel sum averaged over the batch.
  l.rec = bce_loss(o.recon, x, rec_sum ? Reduction::BatchMean : Reduction::Mean);
  l.kl = gaussian_kl(o.mu, o.logvar, Reduction::BatchMean);  // sum over latent dims, mean over batch
  l.total = add(mul_scalar(l.rec, w_rec), mul_scalar(l.kl, w_kl));
  return l;
}

Tensor vae_noise(int64_t n, int64_t latent, uint64_t seed, int64_t step) {
  Rng rng(mix_seed(seed ^ 0x5EEDE95u, (uint64_t)step));
  Tensor e = Tensor::zeros({n, latent});
  init_normal(e, 0.f, 1.f, rng);
  return e;
}

// ----------------------------------------------------------------------------------- GANomaly

namespace {

int halvings_to_4(int64_t size, const char* who) {
  int k = 0;
  int64_t s = size;
  while (s > 4 && s % 2 == 0) s /= 2, ++k;
  if (s != 4 || k < 1)
    fail(std::string(who) + ": input size " + std::to_string(size) +
         " must be 4 * 2^k with k >= 1 (the encoder halves it down to 4x4; 128 at spec size)");
  return k;
}

int ganomaly_stages(const OneClassConfig& c) {
  if (c.height != c.width)
    fail("ganomaly: input must be square, got " + std::to_string(c.height) + "x" + std::to_string(c.width));
  return halvings_to_4(c.height, "ganomaly");
}

// Channels of stage i (0-based) at resolution size / 2^(i+1): 128 * 2^i at spec size.
int64_t stage_channels(const OneClassConfig& c, int i) { return scaled_channels(int64_t(128) << i, c.width_mult, "ganomaly"); }

// Batch norm as PyTorch's default (momentum 0.1, eps 1e-5); the spec gives neither.
std::shared_ptr<BatchNorm> bn(int64_t c) { return std::make_shared<BatchNorm>(c); }

}  // namespace

GanEncoder::GanEncoder(const OneClassConfig& cfg, int64_t out, Rng& rng) {
  const int stages = ganomaly_stages(cfg);
  body = register_module("body", std::make_shared<Sequential>());
  int64_t in = cfg.channels;
  // Order as the table lists it: conv -> LReLU -> BN, BN on the first stage too (ambiguity:
  // DCGAN's conv -> BN -> LReLU without a first BN is the other reading). No conv bias (DCGAN).
  for (int i = 0; i < stages; ++i) {
    Conv2dOptions o;
    o.kh = o.kw = 4;
    o.stride = 2;
    o.padding = Padding::Explicit;
    o.pad = 1;
    o.bias = false;
    body->add(std::make_shared<Conv2d>(in, stage_channels(cfg, i), o, rng));
    body->add(act(Act::LeakyReLU));
    body->add(bn(stage_channels(cfg, i)));
    in = stage_channels(cfg, i);
  }
  Conv2dOptions o;  // row 11, reading (A): 4x4 valid -> C x 1 x 1, mirroring the decoder's first deconv
  o.kh = o.kw = 4;
  o.padding = Padding::Valid;
  o.bias = false;
  body->add(std::make_shared<Conv2d>(in, in, o, rng));
  body->add(act(Act::LeakyReLU));
  body->add(std::make_shared<Flatten>());
  fc = register_module("fc", std::make_shared<Linear>(in, out, rng, true, Init::Keras));
}

Tensor GanEncoder::features(const Tensor& x) { return (*body)(x); }
Tensor GanEncoder::forward(const Tensor& x) { return (*fc)(features(x)); }

GanDecoder::GanDecoder(const OneClassConfig& cfg, Rng& rng) {
  const int stages = ganomaly_stages(cfg);
  int64_t in = cfg.latent;
  for (int i = stages - 1; i >= 0; --i) {
    // i = stages-1: 1x1 -> 4x4 (4x4 valid); then each deconv doubles (4x4 s2 pad 1).
    ConvT2dOptions o;
    o.kh = o.kw = 4;
    o.stride = i == stages - 1 ? 1 : 2;
    o.padding = Padding::Explicit;
    o.pad = i == stages - 1 ? 0 : 1;
    o.bias = false;
    add(std::make_shared<ConvTranspose2d>(in, stage_channels(cfg, i), o, rng));
    add(act(Act::ReLU));
    add(bn(stage_channels(cfg, i)));
    in = stage_channels(cfg, i);
  }
  // Last row: deconv 3x3 s2 -> full size: PyTorch pad 1 + output_padding 1 (= TF "same"). Bias
  // kept: no BN follows it.
  ConvT2dOptions o;
  o.kh = o.kw = 3;
  o.stride = 2;
  o.padding = Padding::Explicit;
  o.pad = 1;
  o.output_padding = 1;
  add(std::make_shared<ConvTranspose2d>(in, cfg.channels, o, rng));
  add(act(Act::Tanh));
}

Generator::Generator(const OneClassConfig& cfg, Rng& rng) {
  // E1 and E2 have separate weights (Akcay et al.; "a second encoder is added").
  e1 = register_module("e1", std::make_shared<GanEncoder>(cfg, cfg.latent, rng));
  dec = register_module("dec", std::make_shared<GanDecoder>(cfg, rng));
  e2 = register_module("e2", std::make_shared<GanEncoder>(cfg, cfg.latent, rng));
}

GANomaly::GANomaly(const OneClassConfig& c) : cfg(c) {
  check_input(cfg, "ganomaly");
  Rng rng(cfg.seed);
  gen = register_module("gen", std::make_shared<Generator>(cfg, rng));
  // "Same configuration as the encoders with the exception of output dimension, which is 1": one
  // logit; Disc(x) = sigmoid(logit).
  disc = register_module("disc", std::make_shared<GanEncoder>(cfg, 1, rng));
  dcgan_init(*this, rng);
}

void GANomaly::dcgan_init(Module& m, Rng& rng) {
  if (auto* c = dynamic_cast<Conv2d*>(&m)) init_normal(c->weight, 0.f, 0.02f, rng);
  if (auto* c = dynamic_cast<ConvTranspose2d*>(&m)) init_normal(c->weight, 0.f, 0.02f, rng);
  if (auto* b = dynamic_cast<BatchNorm*>(&m)) {
    init_normal(b->weight, 1.f, 0.02f, rng);
    init_constant(b->bias, 0.f);
  }
  for (auto& [name, child] : m.named_children()) dcgan_init(*child, rng);
}

GanOutput GANomaly::run(const Tensor& x) {
  GanOutput o;
  // The decoder ends in tanh ([-1, 1]) while inputs are standardised into [0, 1]: the networks
  // work on u = 2x - 1 (ambiguity "output range"), the losses compare in that range.
  o.u = add_scalar(mul_scalar(x, 2.f), -1.f);
  o.z = (*gen->e1)(o.u);
  Tensor z4 = reshape(o.z, {o.z.size(0), o.z.size(1), 1, 1});
  o.xhat = (*gen->dec)(z4);
  o.zhat = (*gen->e2)(o.xhat);
  return o;
}

Tensor GANomaly::forward(const Tensor& x) {
  GanOutput o = run(x);
  if (SummaryTrace::active()) (*disc)(o.xhat);
  return mul_scalar(add_scalar(o.xhat, 1.f), 0.5f);
}

GanGenLoss ganomaly_gen_loss(GANomaly& m, const GanOutput& o, float w_rec, float w_enc, float w_adv) {
  GanGenLoss l;
  l.rec = l1_loss(o.xhat, o.u);
  l.enc = mse_loss(o.zhat, o.z);
  // Sequenced: each call updates the discriminator's BN running statistics (fake first, as the
  // golden reference).
  Tensor f_fake = m.disc->features(o.xhat);
  Tensor f_real = m.disc->features(o.u);
  l.adv = mse_loss(f_fake, f_real);
  l.total = add(add(mul_scalar(l.rec, w_rec), mul_scalar(l.enc, w_enc)), mul_scalar(l.adv, w_adv));
  return l;
}

Tensor ganomaly_disc_loss(GANomaly& m, const GanOutput& o) {
  const int64_t n = o.u.size(0);
  Tensor real = (*m.disc)(o.u).reshape({n}), fake = (*m.disc)(o.xhat.detach()).reshape({n});
  return mul_scalar(add(bce_with_logits(real, Tensor::ones({n})), bce_with_logits(fake, Tensor::zeros({n}))), 0.5f);
}

// ----------------------------------------------------------------------------- anomaly scores

namespace {
// Per-row mean of an [N, ...] tensor.
std::vector<float> row_mean(const Tensor& t) { return mean_dim(t.reshape({t.size(0), -1}), 1).to_vector(); }

// Per image of an [N, C, H, W] tensor: the mean squared difference between each plane and its
// spec-002 blurred copy (iqa::blur_reference: 5x5 Gaussian, sigma 1.1, reflect-101), i.e. the
// fine detail that a generic smoother, knowing nothing of faces, cannot predict.
std::vector<double> blur_residual(const Tensor& x) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3), planes = x.numel() / (n * h * w);
  std::vector<double> out(n, 0.0);
  iqa::Plane p((int)h, (int)w, iqa::Uninit{});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < planes; ++c) {
      const float* src = x.data() + (i * planes + c) * h * w;
      std::copy(src, src + h * w, p.v.begin());
      const iqa::Plane b = iqa::blur_reference(p);
      for (size_t j = 0; j < p.size(); ++j) out[i] += (p.v[j] - b.v[j]) * (p.v[j] - b.v[j]);
    }
    out[i] /= (double)(planes * h * w);
  }
  return out;
}

// The model's reconstruction error relative to the generic smoother's (higher = more anomalous):
// "rel" = log(err / blur residual), a likelihood ratio against a background model (Ren et al. 2019)
// under a Gaussian residual of per-image variance, so that simple, smooth images (prints) are
// not called normal just for being easy to reconstruct (Serra et al. 2020). "smooth" =
// -log(blur residual) is the smoother alone, no model: the baseline "rel" has to beat.
void add_relative_scores(NamedScores& s, const std::vector<float>& err, const Tensor& x) {
  const std::vector<double> r = blur_residual(x);
  constexpr double kFloor = 1e-12;  // a constant image has no residual
  std::vector<float> rel(r.size()), smooth(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    rel[i] = (float)(std::log(std::max<double>(err[i], kFloor)) - std::log(std::max(r[i], kFloor)));
    smooth[i] = (float)-std::log(std::max(r[i], kFloor));
  }
  s.emplace_back("rel", std::move(rel));
  s.emplace_back("smooth", std::move(smooth));
}
}  // namespace

NamedScores vae_scores(Vae& m, const Tensor& x) {
  NoGradGuard ng;
  auto [mu, logvar] = m.encode(x);
  Tensor r = m.decode(mu);
  const int64_t n = x.size(0);
  // Per-element BCE with PyTorch's log clamp at -100, as bce_loss.
  std::vector<float> rec(n), kl(n), elbo(n);
  const int64_t per = x.numel() / n, d = mu.size(1);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < per; ++j) {
      const float p = r.data()[i * per + j], t = x.data()[i * per + j];
      s -= t * std::max(std::log(p), -100.f) + (1.f - t) * std::max(std::log(1.f - p), -100.f);
    }
    double k = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double a = mu.data()[i * d + j], lv = logvar.data()[i * d + j];
      k += 1.0 + lv - a * a - std::exp(lv);
    }
    rec[i] = (float)(s / (double)per);
    kl[i] = (float)(-0.5 * k);
    const double rec_term = m.cfg.rec_sum ? s : s / (double)per;
    elbo[i] = (float)(m.cfg.w_rec * rec_term + m.cfg.w_kl * kl[i]);
  }
  NamedScores s = {{"rec", rec}, {"kl", kl}, {"elbo", elbo}, {"mse", row_mean(square(sub(r, x)))}};
  add_relative_scores(s, s.back().second, x);
  return s;
}

NamedScores ganomaly_scores(GANomaly& m, const Tensor& x) {
  NoGradGuard ng;
  GanOutput o = m.run(x);
  std::vector<float> lat = sum_dim(square(sub(o.z, o.zhat)), 1).to_vector();
  for (float& v : lat) v = std::sqrt(v);
  NamedScores s = {{"rec", row_mean(square(sub(o.xhat, o.u)))}, {"latent", lat}};
  add_relative_scores(s, s.front().second, o.u);
  return s;
}

}  // namespace fas
