// Spec 001's one-class models through `fas train` and their TrainSteps: live images only (the
// count is printed and stored), the loss terms in the history, both GANomaly optimizers in the
// checkpoint, exact resume (the VAE's noise is a function of (seed, step)), the discriminator
// re-initialisation, and one clear error for a list without live images and a corrupt checkpoint.
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "models/oneclass.h"
#include "models/registry.h"
#include "models/train_step.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

cli::TrainOptions options(const std::string& model, const std::string& out, int epochs) {
  cli::TrainOptions o;
  o.common.threads = 1;
  o.common.out = out;
  o.model = model;
  o.data = std::string(FAS_SOURCE_DIR) + "/data/sample/train.txt";
  o.limit = 24;
  o.epochs = epochs;
  o.batch = 4;
  o.lr = 1e-3f;
  o.size = 32;
  o.set = model == "ganomaly" ? std::vector<std::string>{"width_mult=0.015625", "latent=8"}
                              : std::vector<std::string>{model == "resvae" ? "width_mult=0.03125" : "width_mult=0.0625",
                                                         "latent=16"};
  o.quiet = true;
  return o;
}

// Trains `epochs` at once and 1 + resume to `epochs`; returns (full, resumed) last checkpoints.
std::pair<Checkpoint, Checkpoint> full_and_resumed(const std::string& model, const std::string& dir, int epochs) {
  EXPECT_EQ(cli::run_train(options(model, dir + "/full", epochs)), 0);
  EXPECT_EQ(cli::run_train(options(model, dir + "/part", 1)), 0);
  cli::TrainOptions r = options(model, dir + "/part", epochs);
  r.model.clear();
  r.set.clear();
  r.size = 0;
  r.resume = dir + "/part/last.safetensors";
  EXPECT_EQ(cli::run_train(r), 0);
  return {load_checkpoint(dir + "/full/last.safetensors"), load_checkpoint(dir + "/part/last.safetensors")};
}

void expect_same(const Checkpoint& a, const Checkpoint& b) {
  ASSERT_EQ(a.model.size(), b.model.size());
  for (auto& [k, v] : a.model) EXPECT_EQ(v.to_vector(), b.model.at(k).to_vector()) << k;
  ASSERT_EQ(a.optim.size(), b.optim.size());
  for (auto& [k, v] : a.optim) EXPECT_EQ(v.to_vector(), b.optim.at(k).to_vector()) << k;
}

}  // namespace

TEST(OneClassTrain, DcvaeTrainsOnLiveImagesWithLossTermsAndResumesExactly) {
  const std::string dir = scratch_dir("dcvae");
  auto [full, resumed] = full_and_resumed("dcvae", dir, 2);
  expect_same(full, resumed);
  Json h = Json::parse(read_bytes(dir + "/full/history.json"));
  ASSERT_EQ(h["epochs"].size(), 2u);
  const Json& e = h["epochs"][1];
  ASSERT_TRUE(e.contains("parts")) << e.dump();
  // loss = rec + kl (weights 1), both logged.
  EXPECT_NEAR(e["parts"]["rec"].get<double>() + e["parts"]["kl"].get<double>(), e["train_loss"].get<double>(), 1e-5);
  // Only live images were used: every one of the list's live images among the 24, no spoof.
  size_t live = 0;
  {
    std::vector<Sample> s = limit_samples(read_samples(options("dcvae", "", 1).data), 24, 42);
    for (auto& x : s) live += x.label == 1;
  }
  ASSERT_GT(live, 0u);
  ASSERT_LT(live, 24u);  // the subset has spoofs, which must be left out
  // Steps per epoch = batches of the live images (batch 4) only.
  EXPECT_EQ(e["step"].get<int64_t>(), 2 * (int64_t)((live + 3) / 4)) << live << " live of 24";
  // The training-image count is in the history (and survives the resume).
  EXPECT_EQ(h["train_images"].get<int64_t>(), (int64_t)live);
  EXPECT_EQ(h["train_live"].get<int64_t>(), (int64_t)live);
  EXPECT_EQ(Json::parse(read_bytes(dir + "/part/history.json"))["train_images"].get<int64_t>(), (int64_t)live);
}

TEST(OneClassTrain, ResvaeTrainsAndResumesExactly) {
  const std::string dir = scratch_dir("resvae");
  auto [full, resumed] = full_and_resumed("resvae", dir, 2);
  expect_same(full, resumed);
  Json e = Json::parse(read_bytes(dir + "/full/history.json"))["epochs"][1];
  EXPECT_TRUE(std::isfinite(e["train_loss"].get<double>()));
  EXPECT_GT(e["parts"]["kl"].get<double>(), 0.0);
}

TEST(OneClassTrain, GanomalySavesBothOptimizersAndResumesExactly) {
  const std::string dir = scratch_dir("ganomaly");
  auto [full, resumed] = full_and_resumed("ganomaly", dir, 2);
  expect_same(full, resumed);
  size_t gen = 0, disc = 0;
  for (auto& [k, v] : full.optim) gen += k.rfind("gen.", 0) == 0, disc += k.rfind("disc.", 0) == 0;
  EXPECT_GT(gen, 0u);
  EXPECT_GT(disc, 0u);
  EXPECT_EQ(gen + disc, full.optim.size());
  Json e = Json::parse(read_bytes(dir + "/full/history.json"))["epochs"][1];
  for (const char* k : {"rec", "enc", "adv", "disc", "d_reinit"}) EXPECT_TRUE(e["parts"].contains(k)) << k;
  EXPECT_NEAR(50 * e["parts"]["rec"].get<double>() + e["parts"]["enc"].get<double>() + e["parts"]["adv"].get<double>(),
              e["train_loss"].get<double>(), 1e-3);
}

TEST(OneClassTrain, CollapsedDiscriminatorIsReinitialised) {
  OneClassConfig c;
  c.height = c.width = 32;
  c.width_mult = 1.0 / 64;
  c.latent = 8;
  c.d_collapse = 1e9f;  // every step counts as collapsed
  GANomaly m(c);
  StepContext sc;
  sc.lr = 1e-3f;
  sc.seed = 9;
  auto step = make_ganomaly_step(m, sc);
  Rng rng(1);
  Batch b;
  b.x = randu({4, 1, 32, 32}, rng, 0.f, 1.f);
  b.y = Tensor::ones({4});
  b.index = {0, 1, 2, 3};
  StepResult r = step->step(b, 7);
  bool flagged = false;
  for (auto& [k, v] : r.parts) flagged |= k == "d_reinit" && v == 1;
  EXPECT_TRUE(flagged);
  // The discriminator holds exactly a fresh DCGAN init drawn from (seed, step); the generator does not.
  GANomaly fresh(c);
  Rng want(mix_seed(sc.seed ^ 0xD15C, 7));
  GANomaly::dcgan_init(*fresh.disc, want);
  auto got = m.disc->state_dict(), exp = fresh.disc->state_dict();
  for (auto& [k, v] : got)
    if (k.find("running") == std::string::npos && k.find("fc.") == std::string::npos) {
      EXPECT_EQ(v.to_vector(), exp.at(k).to_vector()) << k;
    }
}

TEST(OneClassTrain, ListWithoutLiveImagesIsOneClearError) {
  const std::string dir = scratch_dir("nolive");
  std::string spoof;
  for (auto& s : read_samples(std::string(FAS_SOURCE_DIR) + "/data/sample/train.txt"))
    if (s.label == 0) spoof += s.path + " 0\n";
  write_bytes(dir + "/spoof.txt", spoof);
  cli::TrainOptions o = options("dcvae", dir + "/out", 1);
  o.data = dir + "/spoof.txt";
  const std::string err = error_of([&] { cli::run_train(o); });
  EXPECT_TRUE(has(err, "no live (label 1) images")) << err;
  EXPECT_FALSE(fs::exists(dir + "/out/last.safetensors"));
}

TEST(OneClassTrain, CorruptCheckpointIsOneClearError) {
  const std::string dir = scratch_dir("corrupt");
  ASSERT_EQ(cli::run_train(options("dcvae", dir, 1)), 0);
  std::string bytes = read_bytes(dir + "/last.safetensors");
  write_bytes(dir + "/cut.safetensors", bytes.substr(0, bytes.size() / 2));
  cli::TrainOptions r = options("dcvae", dir + "/r", 2);
  r.model.clear();
  r.set.clear();
  r.size = 0;
  r.resume = dir + "/cut.safetensors";
  const std::string err = error_of([&] { cli::run_train(r); });
  EXPECT_TRUE(has(err, "cut.safetensors")) << err;
  cli::EvalOptions e;
  e.ckpts = {dir + "/cut.safetensors"};
  e.data = options("dcvae", "", 1).data;
  e.common.out = dir + "/e";
  EXPECT_TRUE(has(error_of([&] { cli::run_eval(e); }), "cut.safetensors"));
}

TEST(OneClassTrain, EvalReportsEveryScoreAtTheLiveQuantileThreshold) {
  const std::string dir = scratch_dir("eval");
  cli::TrainOptions t = options("dcvae", dir, 1);
  t.limit = 0;  // all 100 live images of the sample list
  ASSERT_EQ(cli::run_train(t), 0);
  cli::EvalOptions e;
  e.ckpts = {dir + "/last.safetensors"};
  e.data = e.val = t.data;  // scored on its own live images: 5 % of them lie above the q95 threshold
  e.live_quantile = 0.95;
  e.common.out = dir + "/eval";
  e.common.threads = 1;
  ASSERT_EQ(cli::run_eval(e), 0);
  Json j = Json::parse(read_bytes(dir + "/eval/named_scores.json"));
  for (const char* k : {"rec", "kl", "elbo", "mse"}) {
    ASSERT_TRUE(j.contains(k)) << j.dump();
    EXPECT_GE(j[k]["bpcer"].get<double>(), 0.03) << k;
    EXPECT_LE(j[k]["bpcer"].get<double>(), 0.05) << k;
    EXPECT_TRUE(has(j[k]["threshold_source"].get<std::string>(), "q95")) << k;
  }
  Json m = Json::parse(read_bytes(dir + "/eval/metrics.json"));
  EXPECT_NEAR(m["threshold"].get<double>(), j["rec"]["threshold"].get<double>(), 1e-8);  // primary = rec
  const std::string csv = read_bytes(dir + "/eval/scores.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "path,label,score,rec,kl,elbo,mse,rel,smooth");
  EXPECT_TRUE(fs::exists(dir + "/eval/reconstructions.png"));

  cli::EvalOptions bad = e;
  bad.val.clear();
  EXPECT_TRUE(has(error_of([&] { cli::run_eval(bad); }), "--live-quantile takes the threshold from the live images of --val"));
}

TEST(OneClassTrain, PredictPrintsEveryScore) {
  const std::string dir = scratch_dir("predict");
  ASSERT_EQ(cli::run_train(options("ganomaly", dir, 1)), 0);
  cli::PredictOptions p;
  p.ckpts = {dir + "/last.safetensors"};
  p.images = {read_samples(options("ganomaly", "", 1).data).front().path};
  p.resize = true;
  p.common.threads = 1;
  EXPECT_TRUE(has(error_of([&] { cli::run_predict(p); }), "stores no decision threshold; pass --threshold"));
  p.threshold = 0.1;
  p.has_threshold = true;
  testing::internal::CaptureStdout();
  ASSERT_EQ(cli::run_predict(p), 0);
  Json j = Json::parse(testing::internal::GetCapturedStdout());
  EXPECT_EQ(j["score_kind"], "anomaly");
  ASSERT_TRUE(j["scores"].contains("rec") && j["scores"].contains("latent")) << j.dump();
  EXPECT_FLOAT_EQ(j["scores"]["rec"].get<float>(), j["score"].get<float>());
  EXPECT_EQ(j["decision"], j["score"].get<double>() <= 0.1 ? "live" : "spoof");
}

TEST(OneClassTrain, LatentFitsMixturesOnLiveTrainingLatents) {
  const std::string dir = scratch_dir("latent");
  ASSERT_EQ(cli::run_train(options("dcvae", dir, 1)), 0);
  cli::LatentOptions l;
  l.ckpt = dir + "/last.safetensors";
  l.data = options("dcvae", "", 1).data;
  l.test = std::string(FAS_SOURCE_DIR) + "/data/sample/test.txt";
  l.components = {1, 2};
  l.common.out = dir + "/latent";
  l.common.threads = 1;
  ASSERT_EQ(cli::run_latent(l), 0);
  Json j = Json::parse(read_bytes(dir + "/latent/latent.json"));
  EXPECT_EQ(j["train_live_latents"].get<int64_t>(), 100);  // the sample list's live images only
  EXPECT_EQ(j["latent_dim"].get<int64_t>(), 16);
  ASSERT_EQ(j["mixtures"].size(), 2u);
  for (auto& r : j["mixtures"]) {
    EXPECT_GE(r["auc"].get<double>(), 0.0);
    EXPECT_LE(r["bpcer"].get<double>(), 1.0);
  }
  EXPECT_TRUE(fs::exists(dir + "/latent/pca.svg"));
  EXPECT_TRUE(j["mixtures"][0]["converged"].get<bool>());

  l.components = {500};  // more components than latents
  EXPECT_TRUE(has(error_of([&] { cli::run_latent(l); }), "500 components for 100 training latents"));
  l.components = {1};
  l.data = l.test = dir + "/spoof.txt";
  std::string spoof;
  for (auto& s : read_samples(options("dcvae", "", 1).data))
    if (s.label == 0) spoof += s.path + " 0\n";
  write_bytes(l.data, spoof);
  EXPECT_TRUE(has(error_of([&] { cli::run_latent(l); }), "no live (label 1) images to fit on"));
}
