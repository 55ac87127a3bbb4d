// Registers spec 001's one-class models with the CLI registry (models/registry.h); wired in by
// one line in register_builtin_models(): register_oneclass_models().
//
//   dcvae     DCVAE (table 3.2), 36,728,065 parameters at spec size
//   resvae    ResVAE (table 3.3, 1x1 skip convs, fix (d)), 23,299,649 parameters
//   ganomaly  GANomaly (table 3.4, reading (A)): E1, D, E2 and the discriminator
// Config keys (all three): channels/height/width (1x128x128 greyscale), width_mult (channel
// multiplier; every channel count times it must be an integer), latent (512), normalize ("scaled":
// §1.4's per-image standard scaling into [0, 1]), beta1/beta2 (Adam, §4 tables) and the loss
// weights (VAEs: w_rec, w_kl; GANomaly: w_rec, w_enc, w_adv). They train on live images only
// (recipe live_only) and score anomalies (higher = spoof); the primary score is "rec".
#include "autograd/ops.h"
#include "models/oneclass.h"
#include "models/registry.h"
#include "models/train_step.h"

namespace fas {

namespace {

OneClassConfig oneclass_config(const Json& cfg, Rng& rng) {
  OneClassConfig c;
  c.channels = cfg.at("channels").get<int64_t>();
  c.height = cfg.at("height").get<int64_t>();
  c.width = cfg.at("width").get<int64_t>();
  c.width_mult = cfg.at("width_mult").get<double>();
  c.latent = cfg.at("latent").get<int64_t>();
  c.seed = rng.next_u64();
  c.beta1 = cfg.at("beta1").get<float>();
  c.beta2 = cfg.at("beta2").get<float>();
  c.w_rec = cfg.at("w_rec").get<float>();
  auto weight = [&](const char* k, float& dst) {  // the keys of this model's loss
    if (cfg.contains(k)) dst = cfg.at(k).get<float>();
  };
  weight("w_kl", c.w_kl);
  weight("w_enc", c.w_enc);
  weight("w_adv", c.w_adv);
  if (cfg.contains("rec_reduction")) {
    const Json r = cfg.at("rec_reduction");
    if (r != Json("sum") && r != Json("mean"))
      fail("config: rec_reduction must be \"sum\" (over an image's pixels) or \"mean\", got " + r.dump());
    c.rec_sum = r == Json("sum");
  }
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1))
    fail("config: beta1 and beta2 must lie in [0, 1), got " + std::to_string(c.beta1) + ", " + std::to_string(c.beta2));
  return c;
}

std::vector<float> primary(const NamedScores& s) { return s.front().second; }

Json common_defaults() {
  return {{"channels", 1},   {"height", 128}, {"width", 128},     {"width_mult", 1.0},
          {"latent", 512},   {"normalize", "scaled"}};
}

ModelInfo vae_info(const char* name, const char* description) {
  ModelInfo m;
  m.name = name;
  m.description = description;
  m.defaults = common_defaults();
  m.defaults["w_rec"] = 1.0;
  m.defaults["w_kl"] = 1.0;
  m.defaults["rec_reduction"] = "sum";  // see vae_loss in oneclass.h
  m.score = ScoreKind::Anomaly;
  m.scores = [](Module& mod, const Tensor& x) { return primary(vae_scores(oneclass_as<Vae>(mod, "vae"), x)); };
  // model_loss (validation loss, bench): one fixed eps stream, so it is a pure function of the
  // weights and the batch; training draws eps from (run seed, global step) in the TrainStep.
  m.loss = [](Module& mod, const Tensor& x, const Tensor&) {
    Vae& v = oneclass_as<Vae>(mod, "vae");
    return vae_loss(v.run(x, vae_noise(x.size(0), v.latent, v.noise_seed, 0)), x, v.cfg.w_rec, v.cfg.w_kl, v.cfg.rec_sum).total;
  };
  m.named_scores = [](Module& mod, const Tensor& x) { return vae_scores(oneclass_as<Vae>(mod, "vae"), x); };
  m.make_step = [](Module& mod, const ModelInfo&, const StepContext& c) { return make_vae_step(mod, c); };
  return m;
}

}  // namespace

void register_oneclass_models() {
  // Recipes: §4 tables. The thesis' epoch is a fixed number of batches (3000 x 32 of 557 k
  // images); fas' epoch is one pass over the list, and the epoch counts are kept. Augmentation
  // "none": the thesis gives no magnitudes and found the full set did not help (§4.1.3).
  ModelInfo dc = vae_info("dcvae", "DCVAE (spec 001 table 3.2): conv VAE, latent 512, 36,728,065 params at width_mult 1");
  dc.defaults["beta1"] = 0.5;  // table 4.6 (filtered data, the final DCVAE run): lr 1e-4 decaying,
  dc.defaults["beta2"] = 0.999;  // batch 32, 20 epochs (the garbled "20 / 22": 20)
  dc.recipe = {20, 32, 1e-4f, "recon_vae", "none", true, "adam", "halflinear"};
  dc.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    return std::make_shared<DCVAE>(oneclass_config(cfg, rng));
  };
  register_model(std::move(dc));

  ModelInfo rv = vae_info("resvae", "ResVAE (spec 001 table 3.3, 1x1 skip convs): latent 512, 23,299,649 params");
  rv.defaults["beta1"] = 0.5;  // table 4.8: lr 5e-5 decaying, batch 12, 40 epochs
  rv.defaults["beta2"] = 0.999;
  rv.recipe = {40, 12, 5e-5f, "recon_vae", "none", true, "adam", "halflinear"};
  rv.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    return std::make_shared<ResVAE>(oneclass_config(cfg, rng));
  };
  register_model(std::move(rv));

  ModelInfo gn;
  gn.name = "ganomaly";
  gn.description = "GANomaly (spec 001 table 3.4, reading A): generator E1 -> D -> E2 and a discriminator";
  gn.defaults = common_defaults();
  gn.defaults["beta1"] = 0.5;  // table 4.9: lr 2e-5, batch 16, 50 epochs; schedule not stated: constant
  gn.defaults["beta2"] = 0.99;
  gn.defaults["w_rec"] = 50.0;
  gn.defaults["w_enc"] = 1.0;
  gn.defaults["w_adv"] = 1.0;
  gn.recipe = {50, 16, 2e-5f, "ganomaly", "none", true, "adam", "constant"};
  gn.score = ScoreKind::Anomaly;
  gn.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    return std::make_shared<GANomaly>(oneclass_config(cfg, rng));
  };
  gn.loss = [](Module& mod, const Tensor& x, const Tensor&) {  // the generator's loss (bench)
    GANomaly& g = oneclass_as<GANomaly>(mod, "ganomaly");
    return ganomaly_gen_loss(g, g.run(x), g.cfg.w_rec, g.cfg.w_enc, g.cfg.w_adv).total;
  };
  gn.make_step = [](Module& mod, const ModelInfo&, const StepContext& c) { return make_ganomaly_step(mod, c); };
  gn.named_scores = [](Module& mod, const Tensor& x) { return ganomaly_scores(oneclass_as<GANomaly>(mod, "ganomaly"), x); };
  gn.scores = [](Module& mod, const Tensor& x) { return primary(ganomaly_scores(oneclass_as<GANomaly>(mod, "ganomaly"), x)); };
  register_model(std::move(gn));
}

}  // namespace fas
