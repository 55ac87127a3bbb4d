// Spec 001 (Molander & Nilsson 2022): the one-class anti-spoofing models, trained on live faces
// only — DCVAE (table 3.2), ResVAE (table 3.3) and GANomaly (table 3.4) — their losses (§3.2,
// §3.3) and per-image anomaly scores (§3.4). Registration and training steps:
// oneclass_register.cpp.
//
// Every model takes a width multiplier (channel counts times `width_mult`; each must stay an
// integer, else one error) and the latent size; width_mult = 1, latent = 512 is the spec's size.
// Choices where the spec is silent or wrong (its §9 list) are commented where they are coded.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/conv.h"
#include "layers/layers.h"
#include "layers/module.h"

namespace fas {

struct OneClassConfig {
  int64_t channels = 1, height = 128, width = 128;
  double width_mult = 1.0;
  int64_t latent = 512;
  uint64_t seed = 0;  // weight initialisation
  // Training (the model's TrainStep): Adam betas of the §4 tables and the loss weights (VAE:
  // w_rec, w_kl; GANomaly: w_rec, w_enc, w_adv).
  float beta1 = 0.9f, beta2 = 0.999f;
  float w_rec = 1.f, w_kl = 1.f, w_enc = 1.f, w_adv = 1.f;
  // VAE L_rec summed over an image's pixels (true) or averaged (false, eq. 3.3 literally); see vae_loss.
  bool rec_sum = true;
  // A discriminator loss below this re-initialises the discriminator (original GANomaly: 1e-5).
  float d_collapse = 1e-5f;
};

// round(c * mult) when that is an exact positive integer; otherwise a fas::Error naming the model,
// the multiplier and the channel count it does not divide.
int64_t scaled_channels(int64_t c, double mult, const std::string& model);

// ------------------------------------------------------------------------------------- VAEs

struct VaeOutput {
  Tensor recon, mu, logvar, z;
};

// Encoder (image -> FC of 2 * latent = (mu, log sigma^2)) and decoder (z reshaped to
// [latent / (h * w), h, w] -> image through a sigmoid). Subclasses fill the two Sequentials.
class Vae : public Module {
 public:
  std::pair<Tensor, Tensor> encode(const Tensor& x);  // (mu, logvar), each [N, latent]
  Tensor decode(const Tensor& z);                     // [N, latent] -> [N, C, H, W] in (0, 1)
  // z = mu + exp(logvar / 2) * eps (eq. 2.20), eps [N, latent] supplied by the caller (seeded).
  VaeOutput run(const Tensor& x, const Tensor& eps);
  // Deterministic reconstruction decode(mu): what eval's reconstruction grid and summary show.
  Tensor forward(const Tensor& x) override;
  int64_t latent = 0, seed_c = 0, seed_h = 0, seed_w = 0;  // decoder input [seed_c, seed_h, seed_w]
  uint64_t noise_seed = 0;  // model_loss' fixed eps (vae_noise(.., noise_seed, 0))
  OneClassConfig cfg;
  std::shared_ptr<Sequential> encoder, decoder;

 protected:
  void init_common(const OneClassConfig& cfg, int pools, const char* model);
};

// Table 3.2: 5 x conv3x3 (32, 64 | 128 | 256 | 512, ReLU) with 4 max-pools, FC 32768 -> 1024;
// decoder from 8x8x8: 4 x [upsample, conv3x3 ReLU] (512, 256, 128, 64), conv3x3 32 ReLU, conv1x1
// sigmoid. 36,728,065 parameters at spec size.
class DCVAE : public Vae {
 public:
  explicit DCVAE(const OneClassConfig& cfg);
  std::string type_name() const override { return "DCVAE"; }
};

// ResBlock of table 3.3 / Fig 3.7: main path conv3x3 -> ReLU -> conv3x3, skip path one conv1x1
// (the "three extra convolutional layers" of §4.2.1, the skip always a conv, even when the channel
// counts already match), summed; no activation after the sum except where `out_act` is given.
class ResBlock : public Module {
 public:
  ResBlock(int64_t in, int64_t out, bool leaky_out, Rng& rng);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ResBlock"; }
  std::shared_ptr<Conv2d> conv1, conv2, skip;
  bool leaky_out;
};

// Table 3.3 with the spec's suggested fix (d): encoder conv3x3 32 (no activation), 5 x [ResBlock,
// AvgPool] (64, 128, 256, 512, 512), FC 8192 -> 1024; decoder from 32x4x4: 5 x [upsample,
// ResBlock] (512, 256, 128, 64, 32 with LeakyReLU), conv1x1 sigmoid. The third decoder block
// outputs 128 (not 256) so the following upsampling can give the table's 128x64x64.
class ResVAE : public Vae {
 public:
  explicit ResVAE(const OneClassConfig& cfg);
  std::string type_name() const override { return "ResVAE"; }
};

// VAE loss (§3.2, eq. 3.1-3.4 with the KL sign corrected): w_rec * L_rec + w_kl * L_KL, where
// L_KL is summed over the latent dimensions (eq. 3.4) and L_rec is the BCE summed over an image's
// pixels (rec_sum, the default) or averaged over them (eq. 3.3 as printed); both averaged over
// the batch. The sum is the pick for the spec's loss-magnitude ambiguity: the thesis reports
// losses "of order 10 - 10 000" (a pixel sum of 128x128 BCEs is ~10^4; a pixel mean is < 1) and
// reconstructions that follow the input, while with the pixel mean the KL of 512 dimensions
// outweighs the reconstruction and the posterior collapses to the prior (measured: KL ~1e-6 after
// two epochs on NUAA, every reconstruction the mean face; docs/experiments/EXP-050).
struct VaeLoss {
  Tensor total, rec, kl;
};
VaeLoss vae_loss(const VaeOutput& o, const Tensor& x, float w_rec = 1.f, float w_kl = 1.f, bool rec_sum = false);

// eps ~ N(0, I) of shape [n, latent], a pure function of (seed, step): a resumed run draws the
// same noise at the same global step.
Tensor vae_noise(int64_t n, int64_t latent, uint64_t seed, int64_t step);

// ----------------------------------------------------------------------------------- GANomaly

// Encoder of table 3.4 (E1, E2, and the discriminator with out = 1): conv4x4 s2 pad 1 -> LReLU ->
// BN per stage (128, 256, 512, 1024, 2048 at 128x128; one stage per halving down to 4x4), then
// conv4x4 valid -> LReLU (the garbled row 11, reading (A): 2048x1x1), then FC -> out.
class GanEncoder : public Module {
 public:
  GanEncoder(const OneClassConfig& cfg, int64_t out, Rng& rng);
  Tensor features(const Tensor& x);  // [N, C_last]: the input of the final FC
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GanEncoder"; }
  std::shared_ptr<Sequential> body;
  std::shared_ptr<Linear> fc;
};

// Decoder of table 3.4: z as [latent, 1, 1] -> deconv4x4 valid -> ReLU -> BN (4x4), deconv4x4 s2
// pad 1 -> ReLU -> BN per doubling, deconv3x3 s2 (pad 1, output_padding 1) -> tanh.
class GanDecoder : public Sequential {
 public:
  GanDecoder(const OneClassConfig& cfg, Rng& rng);
  std::string type_name() const override { return "GanDecoder"; }
};

struct GanOutput {
  Tensor u, z, xhat, zhat;  // u = 2x - 1, the network's own range (tanh output)
};

// Generator E1 -> D -> E2 ("gen.e1", "gen.dec", "gen.e2") and discriminator ("disc"); the
// prefixes keep the two optimizers' parameters apart.
class Generator : public Module {
 public:
  Generator(const OneClassConfig& cfg, Rng& rng);
  Tensor forward(const Tensor& u) override { return dec->forward(e1->forward(u)); }
  std::string type_name() const override { return "Generator"; }
  std::shared_ptr<GanEncoder> e1, e2;
  std::shared_ptr<GanDecoder> dec;
};

class GANomaly : public Module {
 public:
  explicit GANomaly(const OneClassConfig& cfg);
  GanOutput run(const Tensor& x);  // x in [0, 1]
  // The reconstruction mapped back to [0, 1] (eval's grid). Under a summary trace it also runs
  // the discriminator on it, so `fas summary` lists every network.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GANomaly"; }
  // DCGAN initialisation (as the original GANomaly): conv weights N(0, 0.02), BN gamma N(1, 0.02),
  // beta 0; FC layers keep glorot. Also used to re-initialise a collapsed discriminator.
  static void dcgan_init(Module& m, Rng& rng);
  std::shared_ptr<Generator> gen;
  std::shared_ptr<GanEncoder> disc;
  OneClassConfig cfg;
};

// §3.3: generator loss w_rec * L1(x, xhat) + w_enc * L2(z, zhat) + w_adv * L2(f(x), f(xhat)), f the
// discriminator's features before its FC (original GANomaly's feature matching); L2 = mean squared
// error as in the original GANomaly. Discriminator loss: mean of BCE(D(x), 1) and BCE(D(xhat), 0)
// on the detached reconstruction (original GANomaly; the thesis never states it).
struct GanGenLoss {
  Tensor total, rec, enc, adv;
};
GanGenLoss ganomaly_gen_loss(GANomaly& m, const GanOutput& o, float w_rec = 50.f, float w_enc = 1.f,
                             float w_adv = 1.f);
Tensor ganomaly_disc_loss(GANomaly& m, const GanOutput& o);

// The model behind a Module& from the registry, or one error naming what it is instead.
template <class M>
M& oneclass_as(Module& m, const char* model) {
  auto* p = dynamic_cast<M*>(&m);
  if (!p) fail(std::string(model) + ": the module is a " + m.type_name() + ", not the model's own");
  return *p;
}

// ------------------------------------------------------------------------------ training steps

// The models' TrainSteps (models/train_step.h), in oneclass_step.cpp. VAE: one Adam (the config's
// betas), eps = vae_noise(.., run seed, global step), loss terms "rec" and "kl". GANomaly: per
// batch one generator step (its Adam on "gen.*") then one discriminator step (its Adam on
// "disc.*") on the same forward's detached reconstruction; a discriminator loss below 1e-5
// re-initialises the discriminator (original GANomaly), counted in the loss term "d_reinit".
struct StepContext;
class TrainStep;
std::unique_ptr<TrainStep> make_vae_step(Module& m, const StepContext& c);
std::unique_ptr<TrainStep> make_ganomaly_step(Module& m, const StepContext& c);

// ----------------------------------------------------------------------------- anomaly scores

// Per-image scores (higher = more anomalous), computed without gradient in the module's current
// mode. VAE (z = mu, deterministic): "rec" per-image mean BCE (L_rec up to the constant pixel
// count), "kl" per-image L_KL, "elbo" = w_rec L_rec + w_kl L_KL exactly as trained (the negative
// ELBO with the training loss' reductions and weights), "mse" mean squared error. GANomaly: "rec" mean squared reconstruction error in [-1, 1] (§3.4, the thesis' score),
// "latent" ||E1(x) - E2(xhat)||_2 (the original GANomaly's score). Both models then add "rel",
// log(mse / blur residual): the reconstruction error relative to a generic smoother's on the same
// image (a likelihood ratio, so that smooth images do not score as normal for being easy), and
// "smooth", -log(blur residual), the smoother alone as its baseline. The first is the primary.
using NamedScores = std::vector<std::pair<std::string, std::vector<float>>>;
NamedScores vae_scores(Vae& m, const Tensor& x);
NamedScores ganomaly_scores(GANomaly& m, const Tensor& x);

}  // namespace fas
