// Spec 001's one-class models: sizes, bad configurations, PyTorch parity (tools/golden_oneclass.py,
// PyTorch 1.13), gradient checks of the reparameterisation and the feature-matching loss, the
// "scaled" normalisation and the anomaly scores. Tolerances: forward 2e-5 abs / 1e-4 rel; gradients
// 1e-6 abs / 2e-3 rel; weights after Adam steps 1e-5 abs / 1e-3 rel (float32 sums, as
// test_stacked_ae.cpp).
#include <cmath>

#include "autograd/graph.h"
#include "io/image.h"
#include "models/oneclass.h"
#include "models/registry.h"
#include "models/train_step.h"
#include "optim/optim.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using fas::test::allclose;
using fas::test::error_of;
using fas::test::gradcheck;
using fas::test::load_golden;

namespace {

OneClassConfig small(double mult, int64_t latent, int64_t size = 32) {
  OneClassConfig c;
  c.height = c.width = size;
  c.width_mult = mult;
  c.latent = latent;
  return c;
}

// Parameters (and BN buffers when `buffers`) from a golden case, names as in the module.
void load_from(Module& m, const std::string& c, const std::string& suffix = "", bool buffers = false) {
  std::map<std::string, Tensor> sd = m.state_dict();
  for (auto& [n, t] : m.named_parameters()) sd[n] = load_golden(c, n + suffix);
  if (buffers)
    for (auto& [n, t] : m.named_buffers()) sd[n] = load_golden(c, n + suffix);
  m.load_state_dict(sd);
}

}  // namespace

// ------------------------------------------------------------------------ architecture

TEST(OneClass, SpecSizeParameterCountsEqualPyTorch) {
  // Counts of the mirrored PyTorch modules (tools/golden_oneclass.py --counts).
  EXPECT_EQ(DCVAE(OneClassConfig{}).count_params(true), 36728065);
  EXPECT_EQ(ResVAE(OneClassConfig{}).count_params(true), 23299649);
  OneClassConfig g;
  g.width_mult = 0.125;  // spec size (398,500,994 + 31,744 buffers) is checked by fas summary in docs
  GANomaly gan(g);
  EXPECT_EQ(gan.count_params(true), 8296466);
  EXPECT_EQ(gan.count_params(false), 3968);
  OneClassConfig d;
  d.width_mult = 0.25;
  d.latent = 128;
  EXPECT_EQ(DCVAE(d).count_params(true), 2296129);
}

TEST(OneClass, ShapesThroughTheNetworks) {
  NoGradGuard ng;
  DCVAE dc(small(1.0 / 16, 16));
  dc.eval();
  Tensor x = Tensor::full({2, 1, 32, 32}, 0.5f);
  auto [mu, lv] = dc.encode(x);
  EXPECT_EQ(mu.shape(), (Shape{2, 16}));
  EXPECT_EQ(lv.shape(), (Shape{2, 16}));
  EXPECT_EQ(dc(x).shape(), x.shape());
  EXPECT_EQ(dc.seed_c, 4);  // 16 = 4 x 2 x 2 (8 x 8 x 8 at 128x128, latent 512)
  ResVAE rv(small(1.0 / 32, 16));
  rv.eval();
  EXPECT_EQ(rv(x).shape(), x.shape());
  GANomaly gan(small(1.0 / 64, 8));
  gan.eval();
  GanOutput o = gan.run(Tensor::full({2, 1, 32, 32}, 0.5f));
  EXPECT_EQ(o.z.shape(), (Shape{2, 8}));
  EXPECT_EQ(o.xhat.shape(), (Shape{2, 1, 32, 32}));
  EXPECT_EQ(o.zhat.shape(), (Shape{2, 8}));
  EXPECT_EQ(gan.disc->features(o.u).shape(), (Shape{2, 8}));
  EXPECT_EQ((*gan.disc)(o.u).shape(), (Shape{2, 1}));
}

TEST(OneClass, BadConfigurationsAreOneClearError) {
  OneClassConfig c;
  c.width_mult = 0.3;
  EXPECT_NE(error_of([&] { DCVAE m(c); }).find("width_mult 0.3 does not divide the 32 channels"), std::string::npos);
  EXPECT_NE(error_of([&] { ResVAE m(c); }).find("width_mult 0.3"), std::string::npos);
  EXPECT_NE(error_of([&] { GANomaly m(c); }).find("width_mult 0.3 does not divide the 128"), std::string::npos);
  c.width_mult = -1;
  EXPECT_NE(error_of([&] { DCVAE m(c); }).find("positive"), std::string::npos);
  OneClassConfig l;
  l.latent = 100;
  EXPECT_NE(error_of([&] { DCVAE m(l); }).find("latent 100 must be divisible by 64"), std::string::npos);
  EXPECT_NE(error_of([&] { ResVAE m(l); }).find("latent 100 must be divisible by 16"), std::string::npos);
  OneClassConfig s = small(1.0 / 64, 8, 100);
  EXPECT_NE(error_of([&] { GANomaly m(s); }).find("must be 4 * 2^k"), std::string::npos);
  EXPECT_NE(error_of([&] { DCVAE m(s); }).find("divisible by 16"), std::string::npos);
  s.width = 64;
  s.height = 32;
  EXPECT_NE(error_of([&] { GANomaly m(s); }).find("square"), std::string::npos);
  // Through the registry (what `fas summary|train --set` reaches).
  const ModelInfo& info = find_model("dcvae");
  EXPECT_NE(error_of([&] {
              Rng rng(0);
              info.build(make_config(info, {"width_mult=0.3"}), rng);
            }).find("does not divide"),
            std::string::npos);
}

// ------------------------------------------------------------------------ PyTorch parity

namespace {
void expect_vae_forward_and_grads(Vae& m, const std::string& c) {
  load_from(m, c);
  Tensor x = load_golden(c, "x");
  x.set_requires_grad(true);
  VaeOutput o = m.run(x, load_golden(c, "eps"));
  EXPECT_TRUE(allclose(o.mu, load_golden(c, "mu"), 2e-5f, 1e-4f));
  EXPECT_TRUE(allclose(o.logvar, load_golden(c, "logvar"), 2e-5f, 1e-4f));
  EXPECT_TRUE(allclose(o.recon, load_golden(c, "recon"), 2e-5f, 1e-4f));
  VaeLoss l = vae_loss(o, x.detach());
  Tensor want = load_golden(c, "losses");
  EXPECT_NEAR(l.total.item(), want.data()[0], 1e-5);
  EXPECT_NEAR(l.rec.item(), want.data()[1], 1e-6);
  EXPECT_NEAR(l.kl.item(), want.data()[2], 1e-5);
  // rec_sum (the models' default): L_rec summed over an image's pixels = pixel mean x H W.
  VaeLoss ls = vae_loss(o, x.detach(), 1.f, 1.f, true);
  EXPECT_NEAR(ls.rec.item(), want.data()[1] * 1024, 1e-6 * 1024);
  EXPECT_NEAR(ls.total.item(), want.data()[1] * 1024 + want.data()[2], 2e-3);
  // PyTorch's x.grad includes the BCE target's gradient; ours too (the target is x itself).
  l = vae_loss(o, x);
  l.total.backward();
  EXPECT_TRUE(allclose(x.grad(), load_golden(c, "x.grad"), 1e-6f, 2e-3f));
  for (auto& [n, p] : m.named_parameters()) EXPECT_TRUE(allclose(p.grad(), load_golden(c, n + ".grad"), 1e-6f, 2e-3f)) << n;
}
}  // namespace

TEST(OneClass, DCVAEMatchesPyTorchForwardGradientsAndAdam) {
  const std::string c = "oneclass_dcvae";
  DCVAE m(small(1.0 / 16, 16));
  expect_vae_forward_and_grads(m, c);
  AdamConfig ac;
  ac.lr = 1e-3f;
  ac.beta1 = 0.5f;
  ac.beta2 = 0.999f;
  Adam opt(m.named_parameters(), ac);
  Tensor x = load_golden(c, "x"), losses = load_golden(c, "adam_losses");
  for (int s = 0; s < 3; ++s) {
    opt.zero_grad();
    Tensor l = vae_loss(m.run(x, load_golden(c, "eps" + std::to_string(s))), x).total;
    l.backward();
    opt.step();
    EXPECT_NEAR(l.item(), losses.data()[s], 1e-4) << "step " << s;
  }
  for (auto& [n, p] : m.named_parameters()) EXPECT_TRUE(allclose(p, load_golden(c, n + ".adam3"), 1e-5f, 1e-3f)) << n;
}

TEST(OneClass, ResVAEMatchesPyTorchForwardAndGradients) {
  ResVAE m(small(1.0 / 32, 16));
  expect_vae_forward_and_grads(m, "oneclass_resvae");
}

TEST(OneClass, GANomalyGeneratorAndDiscriminatorStepsMatchPyTorch) {
  const std::string c = "oneclass_gan";
  GANomaly m(small(1.0 / 64, 8));
  load_from(m, c);
  Tensor x = load_golden(c, "x");
  AdamConfig ac;
  ac.lr = 2e-3f;
  ac.beta1 = 0.5f;
  ac.beta2 = 0.99f;
  Adam gopt(m.gen->named_parameters(), ac), dopt(m.disc->named_parameters(), ac);
  GanOutput o = m.run(x);
  EXPECT_TRUE(allclose(o.xhat, load_golden(c, "xhat"), 2e-5f, 1e-4f));
  GanGenLoss g = ganomaly_gen_loss(m, o);
  Tensor want = load_golden(c, "gen_losses");
  EXPECT_NEAR(g.total.item(), want.data()[0], 1e-4);
  EXPECT_NEAR(g.rec.item(), want.data()[1], 1e-6);
  EXPECT_NEAR(g.enc.item(), want.data()[2], 1e-6);
  EXPECT_NEAR(g.adv.item(), want.data()[3], 1e-6);
  gopt.zero_grad();
  g.total.backward();
  for (auto& [n, p] : m.gen->named_parameters())
    EXPECT_TRUE(allclose(p.grad(), load_golden(c, "gen." + n + ".grad"), 1e-6f, 2e-3f)) << n;
  gopt.step();
  for (auto& [n, p] : m.gen->named_parameters())
    EXPECT_TRUE(allclose(p, load_golden(c, "gen." + n + ".g1"), 1e-5f, 1e-3f)) << n;
  dopt.zero_grad();  // drops what the generator's loss left on the discriminator
  Tensor d = ganomaly_disc_loss(m, o);
  EXPECT_NEAR(d.item(), load_golden(c, "disc_loss").item(), 1e-5);
  d.backward();
  dopt.step();
  for (auto& [n, p] : m.named_parameters()) EXPECT_TRUE(allclose(p, load_golden(c, n + ".d1"), 1e-5f, 1e-3f)) << n;
  for (auto& [n, b] : m.named_buffers()) EXPECT_TRUE(allclose(b, load_golden(c, n + ".d1"), 1e-5f, 1e-3f)) << n;
}

TEST(OneClass, GANomalyTrainStepEqualsTheGoldenGeneratorThenDiscriminatorStep) {
  // The registered step (models/oneclass_step.cpp) does exactly the two golden updates.
  const std::string c = "oneclass_gan";
  OneClassConfig cfg = small(1.0 / 64, 8);
  cfg.beta1 = 0.5f;
  cfg.beta2 = 0.99f;
  cfg.w_rec = 50.f;
  GANomaly m(cfg);
  load_from(m, c);
  StepContext sc;
  sc.lr = 2e-3f;
  auto step = make_ganomaly_step(m, sc);
  Batch b;
  b.x = load_golden(c, "x");
  b.y = Tensor::ones({4});
  b.index = {0, 1, 2, 3};
  StepResult r = step->step(b, 1);
  EXPECT_NEAR(r.loss, load_golden(c, "gen_losses").data()[0], 1e-4);
  for (auto& [n, p] : m.gen->named_parameters())
    EXPECT_TRUE(allclose(p, load_golden(c, "gen." + n + ".g1"), 1e-5f, 1e-3f)) << n;
  for (auto& [n, p] : m.disc->named_parameters())
    EXPECT_TRUE(allclose(p, load_golden(c, "disc." + n + ".d1"), 1e-5f, 1e-3f)) << n;
  for (auto& [n, t] : m.named_buffers()) EXPECT_TRUE(allclose(t, load_golden(c, n + ".d1"), 1e-5f, 1e-3f)) << n;
  TensorMap st = step->optimizer_state();
  EXPECT_TRUE(st.count("gen.e1.fc.weight.exp_avg") && st.count("disc.fc.weight.exp_avg"));
}

// ------------------------------------------------------------------------ gradient checks

TEST(OneClass, ReparameterisationGradientCheck) {
  Rng rng(7);
  Tensor mu = test::randn({3, 5}, rng, 1.f, true), lv = test::randn({3, 5}, rng, 0.5f, true);
  Tensor eps = test::randn({3, 5}, rng);
  // z = mu + exp(logvar / 2) eps, and the full VAE latent loss through it.
  EXPECT_TRUE(gradcheck([eps](const std::vector<Tensor>& v) { return add(v[0], mul(exp(mul_scalar(v[1], 0.5f)), eps)); },
                        {mu, lv}, 1e-2f, 1e-3f, 1e-2f));
  EXPECT_TRUE(gradcheck(
      [eps](const std::vector<Tensor>& v) {
        Tensor z = add(v[0], mul(exp(mul_scalar(v[1], 0.5f)), eps));
        return add(sum(square(z)), gaussian_kl(v[0], v[1]));
      },
      {mu, lv}, 1e-2f, 2e-3f, 1e-2f));
}

TEST(OneClass, FeatureMatchingLossGradientCheck) {
  // L_adv = mse(f(a), f(b)) through a small discriminator (conv, LReLU, BN, conv, LReLU), with
  // respect to both images. Batch-norm in training mode couples the rows: all of it is checked.
  GANomaly m(small(1.0 / 64, 8, 16));
  Rng rng(11);
  Tensor a = test::randn({3, 1, 16, 16}, rng, 1.f, true), b = test::randn({3, 1, 16, 16}, rng, 1.f, true);
  auto f = [&m](const std::vector<Tensor>& v) { return mse_loss(m.disc->features(v[0]), m.disc->features(v[1])); };
  // A composite through LeakyReLU kinks needs the short step 1e-3, where L's float32 rounding is
  // several 1e-3 of the directional derivative (5.1e-3 in one direction with fas's AVX-512 GEMM,
  // under 5e-3 with OpenBLAS's): 1e-2 here. Each op inside passes the tight check on its own.
  EXPECT_TRUE(gradcheck(f, {a, b}, 1e-3f, 2e-4f, 2e-2f, 1e-2));
}

// ------------------------------------------------------------------------ input and scores

TEST(OneClass, ScaledNormalisationIsPerImageMeanHalfStdQuarterClipped) {
  Rng rng(3);
  Tensor img = test::randu({2, 1, 8, 8}, rng, 0.f, 1.f);
  img.data()[0] = 1.f;  // a bright outlier: clipped at 1
  for (int i = 1; i < 4; ++i) img.data()[i] = 0.f;
  Tensor ref = img.clone();
  normalize_inplace(img, parse_normalize("scaled"));
  EXPECT_EQ(normalize_str(parse_normalize("scaled")), "scaled");
  for (int k = 0; k < 2; ++k) {
    const float* p = ref.data() + 64 * k;
    double s = 0, s2 = 0;
    for (int i = 0; i < 64; ++i) s += p[i], s2 += (double)p[i] * p[i];
    const double mean = s / 64, sd = std::sqrt(s2 / 64 - mean * mean);
    for (int i = 0; i < 64; ++i) {
      const double want = std::min(1.0, std::max(0.0, 0.5 + 0.25 * (p[i] - mean) / sd));
      EXPECT_NEAR(img.data()[64 * k + i], want, 1e-5) << k << " " << i;
    }
  }
  Tensor flat = Tensor::full({1, 4, 4}, 0.3f);  // zero std: the floor keeps it finite (all 0.5)
  normalize_inplace(flat, parse_normalize("scaled"));
  for (float v : flat.to_vector()) EXPECT_FLOAT_EQ(v, 0.5f);
}

// The mean squared difference between a [h, w] plane and its 5x5 Gaussian (sigma 1.1) blur
// with reflect-101 borders, by the direct 2-D sum (the reference for the "rel"/"smooth" scores).
double blur_residual_ref(const float* p, int h, int w) {
  double g[5], gs = 0;
  for (int k = 0; k < 5; ++k) gs += g[k] = std::exp(-(k - 2) * (k - 2) / (2 * 1.1 * 1.1));
  auto refl = [](int i, int n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; };
  double e = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double b = 0;
      for (int dy = 0; dy < 5; ++dy)
        for (int dx = 0; dx < 5; ++dx) b += g[dy] * g[dx] / (gs * gs) * p[refl(y + dy - 2, h) * w + refl(x + dx - 2, w)];
      e += (p[y * w + x] - b) * (p[y * w + x] - b);
    }
  return e / (h * w);
}

// "rel" = log(err / blur residual) and "smooth" = -log(blur residual), after the model's scores.
void expect_relative_scores(const NamedScores& s, size_t err_index, const float* images, int64_t n, int h, int w) {
  ASSERT_EQ(s[s.size() - 2].first, "rel");
  ASSERT_EQ(s.back().first, "smooth");
  for (int64_t i = 0; i < n; ++i) {
    const double r = blur_residual_ref(images + i * h * w, h, w);
    EXPECT_NEAR(s.back().second[i], -std::log(r), 1e-5) << i;
    EXPECT_NEAR(s[s.size() - 2].second[i], std::log(s[err_index].second[i] / r), 1e-5) << i;
  }
}

TEST(OneClass, VaeScoresArePerImageLossTerms) {
  DCVAE m(small(1.0 / 16, 16));
  m.eval();
  Rng rng(5);
  Tensor x = test::randu({3, 1, 32, 32}, rng, 0.f, 1.f);
  NamedScores s = vae_scores(m, x);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0].first, "rec");
  NoGradGuard ng;
  for (int64_t i = 0; i < 3; ++i) {
    Tensor xi = split(x, {i, 1, 2 - i}, 0)[1];
    auto [mu, lv] = m.encode(xi);
    Tensor r = m.decode(mu);
    EXPECT_NEAR(s[0].second[i], bce_loss(r, xi).item(), 1e-5);
    EXPECT_NEAR(s[1].second[i], gaussian_kl(mu, lv).item(), 1e-4);
    // elbo as trained: the default sums L_rec over the 32 x 32 pixels.
    EXPECT_NEAR(s[2].second[i], 1024 * s[0].second[i] + s[1].second[i], 1e-5 * s[2].second[i]);
    EXPECT_NEAR(s[3].second[i], mse_loss(r, xi).item(), 1e-6);
  }
  expect_relative_scores(s, 3, x.data(), 3, 32, 32);
  // A smoother image has less fine detail: a higher "smooth" score (more print-like).
  Tensor soft = mul_scalar(add(x, Tensor::full({3, 1, 32, 32}, 1.f)), 0.5f);
  EXPECT_GT(vae_scores(m, soft).back().second[0], s.back().second[0]);
}

TEST(OneClass, GanomalyScoresAreReconstructionAndLatentDistance) {
  GANomaly m(small(1.0 / 64, 8));
  m.eval();
  Rng rng(6);
  Tensor x = test::randu({2, 1, 32, 32}, rng, 0.f, 1.f);
  NamedScores s = ganomaly_scores(m, x);
  ASSERT_EQ(s.size(), 4u);
  NoGradGuard ng;
  GanOutput o = m.run(x);
  for (int64_t i = 0; i < 2; ++i) {
    double rec = 0, lat = 0;
    for (int64_t j = 0; j < 1024; ++j) rec += std::pow(o.xhat.data()[i * 1024 + j] - o.u.data()[i * 1024 + j], 2);
    for (int64_t j = 0; j < 8; ++j) lat += std::pow(o.z.data()[i * 8 + j] - o.zhat.data()[i * 8 + j], 2);
    EXPECT_NEAR(s[0].second[i], rec / 1024, 1e-6);
    EXPECT_NEAR(s[1].second[i], std::sqrt(lat), 1e-5);
  }
  expect_relative_scores(s, 0, o.u.data(), 2, 32, 32);
  // The registered primary score is "rec", an anomaly score.
  const ModelInfo& info = find_model("ganomaly");
  EXPECT_EQ(info.score, ScoreKind::Anomaly);
  std::vector<float> p = model_scores(info, m, x);
  EXPECT_FLOAT_EQ(p[0], s[0].second[0]);
}
