// Spec 000 models and the greedy layer-wise procedure. Golden fixtures: tools/golden_stacked_ae.py
// (PyTorch 1.13). Tolerances: forward 2e-5 abs / 1e-4 rel (float32 sums of <= 144 terms per conv
// through <= 8 layers); gradients 1e-6 abs / 2e-3 rel; after three Adam steps 1e-5 abs / 1e-3 rel.
#include <cmath>
#include <cstring>
#include <set>

#include "autograd/graph.h"
#include "layers/summary.h"
#include "models/greedy_ae.h"
#include "models/stacked_ae.h"
#include "testutil.h"

using namespace fas;
using fas::test::allclose;
using fas::test::load_golden;

namespace {

StackedAEConfig input_cfg(int64_t h, int64_t w, uint64_t seed = 0) {
  StackedAEConfig c;
  c.height = h;
  c.width = w;
  c.seed = seed;
  return c;
}

// Output shapes of every leaf layer (Keras summary rows) for a batch-1 forward.
std::vector<TraceEntry> trace(Module& m, const Shape& in) {
  SummaryTrace tr;
  NoGradGuard ng;
  m.eval();
  m(Tensor::zeros(in));
  return tr.entries;
}

Shape last_shape(Module& m, const Shape& in) { return trace(m, in).back().out_shape; }

// Same stream as splitmix_u01() in tools/golden_stacked_ae.py.
void fill_splitmix(Tensor& t, uint64_t stream, double scale) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint64_t z = (uint64_t)i + stream * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = double(z >> 11) * 0x1.0p-53;
    t.data()[i] = float((2 * u - 1) * scale);
  }
}

void load_ae1(LayerAE& ae, const std::string& c) {
  std::map<std::string, Tensor> sd;
  for (auto& [n, t] : ae.named_parameters()) sd[n] = load_golden(c, n);
  ae.load_state_dict(sd);
}

}  // namespace

// ------------------------------------------------------------------------ architecture

TEST(StackedAE, ParameterCountsAt256MatchSpec) {
  const auto cfg = input_cfg(256, 256);
  CNN8 cnn(cfg);
  EXPECT_EQ(cnn.count_params(true), 6295378);
  EXPECT_EQ(cnn.count_params(false), 0);
  const int64_t want[4] = {4147, 69296, 1106624, 17697536};
  int64_t sum = 0;
  for (int k = 1; k <= 4; ++k) {
    LayerAE ae(k, cfg);
    EXPECT_EQ(ae.count_params(true), want[k - 1]) << "AE" << k;
    EXPECT_EQ(ae.count_params(false), 0);
    sum += ae.count_params(true);
  }
  DeepAE deep(cfg);
  EXPECT_EQ(deep.count_params(true), 18877603);
  EXPECT_EQ(sum, 18877603);  // the deep AE is the four AEs' layers (spec §1.3)
}

TEST(StackedAE, SummaryTableShowsSpecTotals) {
  const auto cfg = input_cfg(256, 256);
  CNN8 cnn(cfg);
  LayerAE ae1(1, cfg);
  const std::string s = summary_table(cnn, {1, 3, 256, 256});
  EXPECT_NE(s.find("6,295,378"), std::string::npos) << s;
  EXPECT_NE(s.find("conv2d_8"), std::string::npos) << s;
  EXPECT_NE(s.find("max_pooling2d_8"), std::string::npos) << s;
  EXPECT_NE(s.find("dense_1"), std::string::npos) << s;
  EXPECT_NE(summary_table(ae1, {1, 3, 256, 256}).find("4,147"), std::string::npos);
}

TEST(StackedAE, KerasLayerNamesAndTypes) {
  CNN8 cnn(input_cfg(32, 32));
  auto rows = trace(cnn, {1, 3, 32, 32});
  ASSERT_EQ(rows.size(), 37u);  // 8 x (conv, act, dropout, pool) + flatten, act, dropout, dense, act
  const char* block[4] = {"Conv2D", "Activation", "Dropout", "MaxPooling2D"};
  for (int i = 0; i < 32; ++i) EXPECT_EQ(rows[i].module->type_name(), block[i % 4]) << "row " << i;
  EXPECT_EQ(rows[32].module->type_name(), "Flatten");
  EXPECT_EQ(rows[35].module->type_name(), "Dense");
  auto names = cnn.named_parameters();
  ASSERT_EQ(names.size(), 18u);
  EXPECT_EQ(names.front().first, "conv2d_1.weight");
  EXPECT_EQ(names[15].first, "conv2d_8.bias");
  EXPECT_EQ(names.back().first, "dense_1.bias");
  std::set<std::string> children;
  for (auto& [n, m] : cnn.named_children()) children.insert(n);
  for (const char* n : {"activation_10", "dropout_9", "flatten_1", "max_pooling2d_8"}) EXPECT_TRUE(children.count(n)) << n;

  LayerAE ae1(1, input_cfg(32, 32));
  auto ae_rows = trace(ae1, {1, 3, 32, 32});  // activations inline: 8 rows as in the spec table
  const char* ae_types[8] = {"Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "UpSampling2D", "Conv2D",
                             "UpSampling2D", "Conv2D"};
  ASSERT_EQ(ae_rows.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(ae_rows[i].module->type_name(), ae_types[i]);
  EXPECT_EQ(ae1.named_parameters().back().first, "conv2d_4.bias");
}

TEST(StackedAE, OutputShapesAt256) {
  const auto cfg = input_cfg(256, 256);
  CNN8 cnn(cfg);
  auto rows = trace(cnn, {1, 3, 256, 256});
  for (int b = 0; b < 8; ++b) {
    const int64_t s = 256 >> b;
    EXPECT_EQ(rows[4 * b].out_shape, (Shape{1, kCnn8Filters[b], s, s})) << "conv2d_" << b + 1;
    EXPECT_EQ(rows[4 * b + 3].out_shape, (Shape{1, kCnn8Filters[b], s / 2, s / 2})) << "max_pooling2d_" << b + 1;
  }
  EXPECT_EQ(rows.back().out_shape, (Shape{1, 2}));
  const Shape in[4] = {{1, 3, 256, 256}, {1, 16, 64, 64}, {1, 64, 16, 16}, {1, 256, 4, 4}};
  const Shape code[4] = {{1, 16, 64, 64}, {1, 64, 16, 16}, {1, 256, 4, 4}, {1, 1024, 1, 1}};
  for (int k = 1; k <= 4; ++k) {
    LayerAE ae(k, cfg);
    EXPECT_EQ(ae.input_shape(1), in[k - 1]);
    auto r = trace(ae, in[k - 1]);
    EXPECT_EQ(r[3].out_shape, code[k - 1]) << "AE" << k << " code";
    EXPECT_EQ(r.back().out_shape, in[k - 1]) << "AE" << k << " reconstruction";
  }
  DeepAE deep(cfg);
  auto d = trace(deep, {1, 3, 256, 256});
  ASSERT_EQ(d.size(), 48u);
  EXPECT_EQ(d[23].out_shape, (Shape{1, 1024, 1, 1}));
  EXPECT_EQ(d[25].out_shape, (Shape{1, 1024, 2, 2}));  // conv2d_9, the spec's conv2d_73
  EXPECT_EQ(d.back().out_shape, (Shape{1, 3, 256, 256}));
}

TEST(StackedAE, OutputShapesAt128) {
  const auto cfg = input_cfg(128, 128);
  CNN8 cnn(cfg);
  EXPECT_EQ(cnn.count_params(true), 6295378);  // "same" pooling keeps 1x1x1024 before flatten
  auto rows = trace(cnn, {1, 3, 128, 128});
  EXPECT_EQ(rows[31].out_shape, (Shape{1, 1024, 1, 1}));
  EXPECT_EQ(rows.back().out_shape, (Shape{1, 2}));
  const Shape in[4] = {{1, 3, 128, 128}, {1, 16, 32, 32}, {1, 64, 8, 8}, {1, 256, 2, 2}};
  for (int k = 1; k <= 4; ++k) {
    LayerAE ae(k, cfg);
    EXPECT_EQ(ae.input_shape(1), in[k - 1]);
    // AE4: 2 -> 1 -> 1 -> up 2 (crop 1) -> up 2: reconstructs its own 2x2 input.
    EXPECT_EQ(last_shape(ae, in[k - 1]), in[k - 1]) << "AE" << k;
  }
  DeepAE deep(cfg);
  EXPECT_EQ(deep.count_params(true), 18877603);
  EXPECT_EQ(last_shape(deep, {1, 3, 128, 128}), (Shape{1, 3, 128, 128}));
  NoGradGuard ng;
  EXPECT_EQ(deep.encode(Tensor::zeros({1, 3, 128, 128})).shape(), (Shape{1, 1024, 1, 1}));
}

TEST(StackedAE, BadInputIsAClearError) {
  const auto cfg = input_cfg(32, 32);
  EXPECT_THROW(LayerAE(0, cfg), Error);
  EXPECT_THROW(LayerAE(5, cfg), Error);
  EXPECT_THROW(CNN8(input_cfg(0, 32)), Error);
  CNN8 cnn(cfg);
  NoGradGuard ng;
  EXPECT_THROW(cnn(Tensor::zeros({1, 1, 32, 32})), Error);  // one channel into a 3-channel conv
  EXPECT_THROW(cnn(Tensor::zeros({1, 3, 300, 4})), Error);  // 300 -> 2 after 8 pools: 2x1x1024 != 1024
}

// ------------------------------------------------------------------------ PyTorch parity

TEST(StackedAE, AE1MatchesPyTorchForwardGradientsAndAdam) {
  const std::string c = "stacked_ae/ae1";
  LayerAE ae(1, input_cfg(32, 32));
  load_ae1(ae, c);
  Tensor x = load_golden(c, "x");
  x.set_requires_grad(true);
  Tensor y = ae(x);
  EXPECT_TRUE(allclose(y, load_golden(c, "y"), 2e-5f, 1e-4f));
  Tensor loss = mse_loss(y, x);
  EXPECT_NEAR(loss.item(), load_golden(c, "loss").item(), 1e-6);
  loss.backward();
  EXPECT_TRUE(allclose(x.grad(), load_golden(c, "x.grad"), 1e-6f, 2e-3f));
  for (auto& [n, p] : ae.named_parameters()) EXPECT_TRUE(allclose(p.grad(), load_golden(c, n + ".grad"), 1e-6f, 2e-3f)) << n;

  AdamConfig ac;
  ac.lr = 1e-2f;
  Adam opt(ae.named_parameters(), ac);
  Tensor xs = x.detach();
  Tensor losses = load_golden(c, "adam_losses");
  for (int s = 0; s < 3; ++s) {
    opt.zero_grad();
    Tensor l = mse_loss(ae(xs), xs);
    l.backward();
    opt.step();
    EXPECT_NEAR(l.item(), losses.data()[s], 1e-5) << "step " << s;
  }
  for (auto& [n, p] : ae.named_parameters()) EXPECT_TRUE(allclose(p, load_golden(c, n + ".adam3"), 1e-5f, 1e-3f)) << n;
}

TEST(StackedAE, AE1MatchesPyTorchAtOddSizes) {  // "same" pooling pads, upsampling crops
  const std::string c = "stacked_ae/ae1odd";
  LayerAE ae(1, input_cfg(18, 18));
  load_ae1(ae, c);
  Tensor x = load_golden(c, "x");
  x.set_requires_grad(true);
  Tensor y = ae(x);
  EXPECT_TRUE(allclose(y, load_golden(c, "y"), 2e-5f, 1e-4f));
  mse_loss(y, x).backward();
  EXPECT_TRUE(allclose(x.grad(), load_golden(c, "x.grad"), 1e-6f, 2e-3f));
}

TEST(StackedAE, CNN8ForwardMatchesPyTorch) {
  for (int size : {32, 20}) {  // 20: pools 5 -> 3 -> 2 pad bottom/right; both end at 1x1 ("same")
    const std::string c = "stacked_ae/cnn8_" + std::to_string(size);
    CNN8 cnn(input_cfg(size, size));
    for (int l = 0; l < 8; ++l) {
      Conv2d& conv = *cnn.convs[l];
      const double fan_in = double(conv.weight.size(1) * 9);
      fill_splitmix(conv.weight, 2 * l, std::sqrt(12.0 / fan_in));
      fill_splitmix(conv.bias, 2 * l + 1, 0.1);
    }
    fill_splitmix(cnn.dense->weight, 16, std::sqrt(12.0 / 1024.0));
    fill_splitmix(cnn.dense->bias, 17, 0.1);
    cnn.eval();
    NoGradGuard ng;
    Tensor x = load_golden(c, "x");
    EXPECT_TRUE(allclose(cnn.logits(x), load_golden(c, "logits"), 2e-5f, 1e-4f)) << size;
    EXPECT_TRUE(allclose(cnn(x), load_golden(c, "probs"), 2e-5f, 1e-4f)) << size;
  }
}

// ------------------------------------------------------------------------ procedure

TEST(StackedAE, TransferCopiesTheEightEncoderConvs) {
  const auto cfg = input_cfg(32, 32, 3);
  std::array<std::shared_ptr<LayerAE>, 4> aes;
  for (int k = 1; k <= 4; ++k) aes[k - 1] = std::make_shared<LayerAE>(k, cfg);
  auto cfg2 = cfg;
  cfg2.seed = 99;  // a differently initialised CNN8, so equality cannot be by accident
  CNN8 cnn(cfg2);
  Tensor dense_before = cnn.dense->weight.clone();
  EXPECT_GT(test::max_abs_diff(cnn.convs[0]->weight, aes[0]->enc1->weight), 0.f);
  transfer_encoders(aes, cnn);
  for (int k = 0; k < 4; ++k) {
    const std::shared_ptr<ActConv2d> src[2] = {aes[k]->enc1, aes[k]->enc2};
    for (int j = 0; j < 2; ++j) {
      EXPECT_EQ(test::max_abs_diff(cnn.convs[2 * k + j]->weight, src[j]->weight), 0.f) << k << j;
      EXPECT_EQ(test::max_abs_diff(cnn.convs[2 * k + j]->bias, src[j]->bias), 0.f) << k << j;
      EXPECT_FALSE(cnn.convs[2 * k + j]->weight.same(src[j]->weight));  // copies, not shared
    }
  }
  EXPECT_EQ(test::max_abs_diff(cnn.dense->weight, dense_before), 0.f);
  // The AE encoders then compute CNN8's conv part: CNN8 (eval) conv block 8 = AE4's code of codes.
  Rng rng(5);
  Tensor x = test::randu({2, 3, 32, 32}, rng, 0.f, 1.f);
  NoGradGuard ng;
  cnn.eval();
  Tensor h = x;
  for (size_t i = 0; i < 32; ++i) h = (*cnn.at(i))(h);
  EXPECT_TRUE(allclose(h, aes[3]->encode(layerwise_input(aes, 4, x)), 1e-6f, 1e-5f));

  CNN8 gray(input_cfg(32, 32));
  auto cfg1 = cfg;
  cfg1.channels = 1;
  aes[0] = std::make_shared<LayerAE>(1, cfg1);
  EXPECT_THROW(transfer_encoders(aes, gray), Error);
}

namespace {
// Smooth random images (nearest-upsampled 4x4 noise, so they are learnable) and random labels.
TensorBatchSource smooth_data(int64_t n, int64_t size, int64_t batch, uint64_t seed) {
  Rng rng(seed);
  Tensor coarse = test::randu({n, 3, 4, 4}, rng, 0.f, 1.f);
  Tensor img;
  {
    NoGradGuard ng;
    img = upsample_nearest2d(coarse, int(size / 4), int(size / 4));
  }
  std::vector<int64_t> labels(n);
  for (auto& l : labels) l = (int64_t)rng.below(2);
  return TensorBatchSource(img, labels, batch, true, seed);
}
}  // namespace

TEST(StackedAE, GreedyRunMakesEveryAELossFall) {
  const auto mc = input_cfg(16, 16, 1);  // AE4 then sees 1x1x256 codes: small, all 17.7 M params
  auto train = smooth_data(8, 16, 4, 7);
  auto val = smooth_data(4, 16, 4, 8);
  GreedyConfig gc;
  gc.ae_epochs = 5;
  gc.finetune_epochs = 2;
  gc.ae_adam.lr = 1e-3f;
  std::vector<std::string> saved;
  int64_t batches = 0;
  GreedyHooks hooks;
  hooks.on_batch = [&](const GreedyProgress& p) {
    ++batches;
    EXPECT_EQ(p.batches, 2);
    EXPECT_TRUE(std::isfinite(p.running_loss));
  };
  Tensor ae1_after;
  hooks.save_stage = [&](const std::string& stage, Module& m, const Optimizer& opt, int epochs) {
    saved.push_back(stage);
    EXPECT_GT(opt.steps(), 0);
    if (stage == "ae1") ae1_after = m.named_parameters()[0].second.clone();
  };
  GreedyResult r = train_greedy(mc, gc, train, &val, hooks);
  EXPECT_EQ(saved, (std::vector<std::string>{"ae1", "ae2", "ae3", "ae4", "cnn8"}));
  EXPECT_EQ(batches, (4 * 5 + 2) * 2);
  ASSERT_EQ(r.history.size(), 4u * 5 + 2);
  for (int k = 0; k < 4; ++k) {
    const EpochRecord& first = r.history[k * 5];
    const EpochRecord& last = r.history[k * 5 + 4];
    EXPECT_EQ(first.stage, "ae" + std::to_string(k + 1));
    EXPECT_LT(last.train_loss, 0.9f * first.train_loss) << first.stage;
    EXPECT_TRUE(std::isfinite(last.val_loss)) << first.stage;
  }
  EXPECT_EQ(r.history.back().stage, "cnn8");
  EXPECT_TRUE(std::isfinite(r.history.back().val_acc));
  // AE1 stayed frozen while AE2..AE4 trained on its code.
  EXPECT_EQ(test::max_abs_diff(r.aes[0]->enc1->weight, ae1_after), 0.f);
  for (int k = 0; k < 4; ++k) EXPECT_TRUE(r.aes[k]->enc1->weight.requires_grad() == (k == 3)) << k;
}

TEST(StackedAE, GreedyResumesFromStageCheckpoints) {
  const auto mc = input_cfg(16, 16, 2);
  auto train = smooth_data(4, 16, 4, 9);
  GreedyConfig gc;
  gc.ae_epochs = 1;
  gc.finetune_epochs = 1;
  std::map<std::string, std::map<std::string, Tensor>> store;  // stands in for checkpoint files
  GreedyHooks save;
  save.save_stage = [&](const std::string& s, Module& m, const Optimizer&, int) {
    for (auto& [n, t] : m.state_dict()) store[s][n] = t.clone();
  };
  GreedyResult a = train_greedy(mc, gc, train, nullptr, save);
  ASSERT_EQ(store.size(), 5u);
  GreedyHooks load;
  int epochs = 0;
  load.on_epoch = [&](const EpochRecord&) { ++epochs; };
  load.load_stage = [&](const std::string& s, Module& m) {
    if (s == "cnn8") return false;  // resume: the AEs are done, fine-tuning is not
    m.load_state_dict(store.at(s));
    return true;
  };
  GreedyResult b = train_greedy(mc, gc, train, nullptr, load);
  EXPECT_EQ(epochs, 1);  // only the fine-tuning epoch ran
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(test::max_abs_diff(b.aes[k]->enc2->weight, a.aes[k]->enc2->weight), 0.f);
}

TEST(StackedAE, GreedyStageFreezesAndLoadsTheLowerAEs) {
  const auto cfg = input_cfg(32, 32, 4);
  GreedyStage s1(1, cfg);
  auto cfg2 = cfg;
  cfg2.seed = 5;
  GreedyStage s3(3, cfg2);
  EXPECT_EQ(s3.count_params(true), 1106624);  // only AE3 trains
  EXPECT_EQ(s3.count_params(false), 4147 + 69296);
  EXPECT_THROW(s3.load_lower(s1.state_dict()), Error);  // stage 1 has no AE2
  GreedyStage s2(2, cfg);
  s2.load_lower(s1.state_dict());
  EXPECT_EQ(test::max_abs_diff(s2.aes[0]->enc1->weight, s1.aes[0]->enc1->weight), 0.f);
  s3.load_lower(s2.state_dict());
  EXPECT_EQ(test::max_abs_diff(s3.aes[1]->dec2->weight, s2.aes[1]->dec2->weight), 0.f);
  Rng rng(3);
  Tensor x = test::randu({2, 3, 32, 32}, rng, 0.f, 1.f);
  Tensor code = s3.stage_input(x);
  EXPECT_EQ(code.shape(), (Shape{2, 64, 2, 2}));
  EXPECT_FALSE(code.requires_grad());
  Tensor l = s3.loss(x);
  {
    NoGradGuard ng;
    EXPECT_NEAR(l.item(), mse_loss((*s3.aes[2])(code), code).item(), 1e-7);
  }
  l.backward();
  EXPECT_FALSE(s3.aes[0]->enc1->weight.grad().defined());
  EXPECT_TRUE(s3.aes[2]->enc1->weight.grad().defined());
}

TEST(StackedAE, GreedyStageForwardDecodesBackToImages) {
  const auto cfg = input_cfg(18, 18, 6);  // odd sizes: the crops must undo the "same" pooling
  GreedyStage s3(3, cfg);
  Rng rng(8);
  Tensor x = test::randu({2, 3, 18, 18}, rng, 0.f, 1.f);
  NoGradGuard ng;
  EXPECT_EQ(s3.reconstruct_input(x).shape(), (Shape{2, 64, 2, 2}));
  Tensor img = s3(x);
  EXPECT_EQ(img.shape(), x.shape());
  Tensor want = s3.aes[0]->decode(s3.aes[1]->decode(s3.reconstruct_input(x)));
  EXPECT_EQ(test::max_abs_diff(img, want), 0.f);
  for (int k = 0; k < 3; ++k) {  // LayerAE: forward = decode(encode)
    Tensor in = layerwise_input(s3.aes, k + 1, x);
    EXPECT_EQ(test::max_abs_diff((*s3.aes[k])(in), s3.aes[k]->decode(s3.aes[k]->encode(in))), 0.f) << k;
  }
}
