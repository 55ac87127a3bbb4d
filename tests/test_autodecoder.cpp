// Spec 004's auto-decoder: parameter counts, PyTorch parity (forward, every gradient including
// the embedding's scatter-add over a repeated row, three Keras-Adam steps), one code per image
// through `fas train`, projection, the slider convention, and its errors.
#include <cmath>

#include "autograd/graph.h"
#include "cli/autodecoder_cli.h"
#include "cli/commands.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "models/autodecoder.h"
#include "models/registry.h"
#include "optim/optim.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// tools/golden_autodecoder.py det_weight(): scale * sin(0.37 i + 1.3 layer), layer = position in
// the state-dict order codes, convt1.weight, convt1.bias, ...
void set_golden_weights(AutoDecoder& m) {
  int layer = 0;
  auto fill = [&](Tensor& t, double scale) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = (float)(scale * std::sin(0.37 * (double)i + 1.3 * layer));
    ++layer;
  };
  fill(m.codes->weight, 0.5);
  for (int k = 1; k <= 8; ++k) {
    auto& c = dynamic_cast<ConvTranspose2d&>(*m.decoder->named_children()[2 * (k - 1)].second);
    fill(c.weight, std::sqrt(6.0 / (double)((c.weight.size(0) + c.weight.size(1)) * c.weight.size(2) * c.weight.size(3))));
    fill(c.bias, 0.01);
  }
}

Tensor golden_target(int64_t n) {
  Tensor x = Tensor::zeros({n, 3, 256, 256});
  float* p = x.data();
  for (int64_t k = 0; k < n; ++k)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 256; ++y)
        for (int w = 0; w < 256; ++w) *p++ = (float)(0.5 + 0.4 * std::sin(1.1 * c + 0.05 * y + 0.07 * w + k));
  return x;
}

Tensor crop16(const Tensor& y) {  // [:, :, 120:136, 120:136]
  const int64_t n = y.size(0);
  Tensor c = Tensor::zeros({n, 3, 16, 16});
  for (int64_t k = 0; k < n; ++k)
    for (int ch = 0; ch < 3; ++ch)
      for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j)
          c.data()[((k * 3 + ch) * 16 + i) * 16 + j] = y.data()[((k * 3 + ch) * 256 + 120 + i) * 256 + 120 + j];
  return c;
}

}  // namespace

TEST(AutoDecoder, ParameterCountsOfTheSpec) {
  Rng rng(1);
  EXPECT_EQ(AutoDecoder(200, 25, rng).count_params(true), 92595);
  EXPECT_EQ(AutoDecoder(500, 100, rng).count_params(true), 180795);
  EXPECT_EQ(AutoDecoder(200, 25, rng).count_params(false), 0);  // nothing but the spec's weights
}

TEST(AutoDecoder, ForwardGradientsAndKerasAdamMatchPyTorch) {
  const std::string c = "autodecoder";
  Rng rng(1);
  AutoDecoder m(4, 3, rng);
  set_golden_weights(m);
  const std::vector<int64_t> ids = {2, 0, 2};  // row 2 twice: its gradient is a scatter-add
  Tensor x = golden_target(3);
  Tensor out = m.decode(embedding(ids, m.codes->weight));
  EXPECT_TRUE(allclose(crop16(out), load_golden(c, "out_crop"), 1e-5f, 1e-4f));
  Tensor loss = mse_loss(out, x);
  EXPECT_NEAR(loss.item(), load_golden(c, "loss").item(), 1e-6);
  loss.backward();
  for (auto& [name, p] : m.named_parameters())
    EXPECT_TRUE(allclose(p.grad(), load_golden(c, "grad." + name), 1e-7f, 2e-3f)) << name;

  Rng rng2(1);
  AutoDecoder m2(4, 3, rng2);
  set_golden_weights(m2);
  // The recipe's optimizer as `fas train` builds it (not a hand-made config): Keras' eps 1e-7.
  StepContext sc;
  sc.lr = 1e-2f;
  auto opt = make_optimizer(find_model("autodecoder").recipe.optimizer, m2.named_parameters(), sc);
  auto* adam = dynamic_cast<Adam*>(opt.get());
  ASSERT_NE(adam, nullptr);
  EXPECT_TRUE(adam->config().keras);
  EXPECT_EQ(adam->config().eps, 1e-7f);  // was PyTorch's 1e-8 (EXP-055)
  Tensor losses = load_golden(c, "adam_losses");
  for (int t = 0; t < 3; ++t) {
    opt->zero_grad();
    Tensor l = mse_loss(m2.decode(embedding(ids, m2.codes->weight)), x);
    EXPECT_NEAR(l.item(), losses.data()[t], 2e-6) << "step " << t;
    l.backward();
    opt->step();
  }
  // Row 1 and 3 are in no batch: dense Adam leaves them (zero gradient, zero moments); row 0 and 2 move.
  // atol is 1e-3 of one step (lr): Adam moves each element by about lr a step whatever its
  // gradient's size, so an element whose gradient changes sign between steps (convt7.bias[6]: grad
  // 1e-5, value -1.4e-3 after steps of 1e-2) ends as a difference of steps, and OpenBLAS's kernel
  // for the CPU (another summation order) moves it by 3.5e-4 of a step. A wrong eps or bias
  // correction moves such elements by a tenth of a step or more.
  for (auto& [name, p] : m2.named_parameters())
    EXPECT_TRUE(allclose(p, load_golden(c, "adam." + name), 1e-5f, 1e-4f)) << name;
}

TEST(AutoDecoder, EveryImageKeepsItsOwnCode) {
  // The thesis re-mapped every data pull onto rows 0..499 (spec §0.4); here a batch's codes are
  // the rows of its items' positions in the training list: one step on items 1 and 3 moves rows
  // 1 and 3 and no other.
  Rng rng(1);
  AutoDecoder m(4, 3, rng);
  const Tensor before = m.codes->weight.clone();
  StepContext sc;
  sc.optimizer = "adam_keras";
  sc.train_items = 4;
  auto step = make_train_step(m, find_model("autodecoder"), sc);
  Batch b;
  b.x = golden_target(2);
  b.y = Tensor::from({2}, {1.f, 0.f});
  b.index = {1, 3};
  step->step(b, 1);
  for (int64_t r = 0; r < 4; ++r) {
    bool moved = false;
    for (int64_t j = 0; j < 3; ++j) moved |= m.codes->weight.data()[r * 3 + j] != before.data()[r * 3 + j];
    EXPECT_EQ(moved, r == 1 || r == 3) << "row " << r;
  }
  EXPECT_EQ(step->checkpoint_metadata().at(kGroupsKey), "[-1,1,-1,0]");
}

TEST(AutoDecoder, TrainsThroughTheCli) {
  const std::string dir = scratch_dir("ad_train");
  std::string list;
  for (int i = 0; i < 4; ++i) {
    write_png(dir + "/img" + std::to_string(i) + ".png", 20, 24, 3, std::vector<uint8_t>(20 * 24 * 3, (uint8_t)(30 + 35 * i)));
    list += "img" + std::to_string(i) + ".png " + std::to_string(i % 2) + "\n";
  }
  write_bytes(dir + "/list.txt", list);
  cli::TrainOptions o;
  o.common.threads = 2;
  o.common.out = dir + "/run";
  o.model = "autodecoder";
  o.data = dir + "/list.txt";
  o.set = {"images=4"};
  o.epochs = 40;
  o.batch = 4;
  o.lr = 0.003f;
  o.quiet = true;
  ASSERT_EQ(cli::run_train(o), 0);
  cli::AutoDecoderCkpt a = cli::load_autodecoder(dir + "/run/last.safetensors");
  EXPECT_EQ(a.groups, (std::vector<int>{0, 1, 0, 1}));
  // The loss falls (from the mean-image plateau the spec describes, slowly at first).
  Json h = Json::parse(read_bytes(dir + "/run/history.json"));
  EXPECT_LT(h["epochs"][39]["train_loss"].get<double>(), 0.85 * h["epochs"][0]["train_loss"].get<double>());
  // A list that does not fill the code table is one clear error, before anything is written.
  o.common.out = dir + "/run2";
  o.set = {"images=7"};
  auto e = error_of([&] { cli::run_train(o); });
  EXPECT_TRUE(has(e, "4 images and the model 7 codes") && has(e, "--set images=4")) << e;
  EXPECT_FALSE(fs::exists(dir + "/run2"));
  // generate: presets and group averages from the recorded groups; a wrong-length code is an error.
  cli::GenerateOptions g;
  g.ckpt = dir + "/run/last.safetensors";
  g.common.out = dir + "/g.png";
  g.preset = "group:1";
  ASSERT_EQ(cli::run_generate(g), 0);
  EXPECT_EQ(load_image(dir + "/g.png").shape(), (Shape{3, 256, 256}));
  g.preset = "mean";
  g.sd = "1,2";
  e = error_of([&] { cli::run_generate(g); });
  EXPECT_TRUE(has(e, "have 25 dimensions, got 2 values")) << e;
  g.sd.clear();
  g.preset = "group:x";
  EXPECT_TRUE(has(error_of([&] { cli::run_generate(g); }), "'x' is not an integer"));
  g.preset = "image:99";
  EXPECT_TRUE(has(error_of([&] { cli::run_generate(g); }), "outside the model's codes [0, 4)"));
  g.preset = "mean";
  g.interpolate = "0";
  EXPECT_TRUE(has(error_of([&] { cli::run_generate(g); }), "takes two image numbers"));
  g.interpolate.clear();
  g.hybrid = "0,1";
  EXPECT_TRUE(has(error_of([&] { cli::run_generate(g); }), "needs --dims"));
  g.dims = "0,30";
  EXPECT_TRUE(has(error_of([&] { cli::run_generate(g); }), "--dims: 30 is outside [0, 25)"));
  // project: a list of images the checkpoint cannot read is one error and writes nothing.
  cli::ProjectCliOptions pj;
  pj.ckpt = g.ckpt;
  pj.data = dir + "/missing.txt";
  pj.common.out = dir + "/proj";
  EXPECT_FALSE(error_of([&] { cli::run_project(pj); }).empty());
  EXPECT_FALSE(fs::exists(dir + "/proj"));
}

TEST(AutoDecoder, ProjectionRecoversACodesImage) {
  Rng rng(3);
  AutoDecoder m(4, 3, rng);
  set_golden_weights(m);
  const std::vector<float> truth = {0.4f, -0.3f, 0.2f};
  Tensor target;
  {
    NoGradGuard ng;
    target = m.decode(Tensor::from({1, 3}, truth));
  }
  ProjectOptions po;
  po.steps = 200;
  po.lr = 0.05f;
  Projection p = project_codes(m, target, {0.f, 0.f, 0.f}, po);
  EXPECT_LT(p.mse[0], 1e-5f);  // stated bound: the decoding of the found code is within 1e-5 MSE
  EXPECT_LT(p.mse[0], 0.01f * p.curve.front());
  // The decoder is untouched by projection and still trainable afterwards.
  for (auto& [n, t] : m.decoder->named_parameters()) EXPECT_TRUE(t.requires_grad()) << n;
  // Wrong code length: one clear error.
  auto e = error_of([&] { m.decode(Tensor::from({1, 2}, {0.f, 1.f})); });
  EXPECT_TRUE(has(e, "a code must have 3 values")) << e;
}

TEST(AutoDecoder, SliderConventionAndStats) {
  Rng rng(1);
  AutoDecoder m(4, 2, rng);
  const float w[] = {1, 10, 3, 10, 5, 20, 7, 20};  // dim 0: 1,3,5,7; dim 1: 10,10,20,20
  std::copy(w, w + 8, m.codes->weight.data());
  LatentStats all = latent_stats(m);
  EXPECT_FLOAT_EQ(all.mean[0], 4.f);
  EXPECT_FLOAT_EQ(all.sd[0], std::sqrt(5.f));  // ddof 0, as np.std
  EXPECT_FLOAT_EQ(all.sd[1], 5.f);
  LatentStats g1 = latent_stats(m, {0, 1, 0, 1}, 1);  // rows 1 and 3
  EXPECT_FLOAT_EQ(g1.mean[0], 5.f);
  EXPECT_FLOAT_EQ(g1.mean[1], 15.f);
  auto s = code_to_sd(all, {6.f, 20.f});
  auto z = code_from_sd(all, s);
  EXPECT_NEAR(z[0], 6.f, 1e-5);
  EXPECT_NEAR(z[1], 20.f, 1e-5);
  EXPECT_TRUE(has(error_of([&] { latent_stats(m, {0, 0, 0, 0}, 1); }), "no trained code belongs to group 1"));
  EXPECT_TRUE(has(error_of([&] { code_from_sd(all, {1.f}); }), "needs 2 values"));
}

TEST(AutoDecoder, CliErrors) {
  const std::string dir = scratch_dir("ad_cli");
  Rng rng(1);
  auto net = find_model("tiny-mlp").build(find_model("tiny-mlp").defaults, rng);
  save_checkpoint(dir + "/mlp.safetensors", {"tiny-mlp", find_model("tiny-mlp").defaults.dump(), 1, 1, {}}, *net,
                  nullptr);
  auto e = error_of([&] { cli::load_autodecoder(dir + "/mlp.safetensors"); });
  EXPECT_TRUE(has(e, "holds model 'tiny-mlp', not an autodecoder")) << e;
  const ModelInfo& ad = find_model("autodecoder");
  e = error_of([&] { ad.build(make_config(ad, {"height=128"}), rng); });
  EXPECT_TRUE(has(e, "channels/height/width cannot change")) << e;
}
