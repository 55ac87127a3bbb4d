// The model registry (registration rules, config overrides, loss/score kinds) and the training
// history bookkeeping behind `fas train`.
#include <algorithm>
#include <cmath>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/report.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "layers/conv.h"
#include "layers/layers.h"
#include "models/registry.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// x [N, 1, 1, 2] -> flatten -> Dense(2, k): a model whose output width we choose.
ModelInfo small_model(const std::string& name, const std::string& loss, int64_t outputs) {
  ModelInfo m;
  m.name = name;
  m.description = "test";
  m.defaults = {{"channels", 1}, {"height", 1}, {"width", 2}, {"k", outputs}, {"rate", 0.5}};
  m.recipe.loss = loss;
  m.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    auto s = std::make_shared<Sequential>();
    s->add(std::make_shared<Flatten>());
    s->add(std::make_shared<Linear>(2, cfg["k"].get<int64_t>(), rng));
    return s;
  };
  return m;
}

// Reconstruction stand-in: returns x scaled by 0.5 (no parameters needed).
class Half : public Module {
 public:
  Tensor forward(const Tensor& x) override { return mul_scalar(x, 0.5f); }
  std::string type_name() const override { return "Half"; }
};

}  // namespace

TEST(Registry, BuiltinsAndUnknownNames) {
  auto names = model_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "tiny-mlp"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "tiny-cnn"), names.end());
  auto e = error_of([] { find_model("resnet-9000"); });
  EXPECT_TRUE(has(e, "unknown model 'resnet-9000'") && has(e, "tiny-mlp")) << e;
}

// A model built to load a checkpoint into draws no random weights (zeros; constants such as
// batch-norm gamma kept) and, with the state loaded, computes what the original computes.
TEST(Registry, BuildUninitialisedThenLoadEqualsTheOriginal) {
  for (const char* name : {"tiny-cnn", "mobilenetv2-lite"}) {
    SCOPED_TRACE(name);
    const ModelInfo& info = find_model(name);
    const Json cfg = make_config(info, {"height=32", "width=32"});
    Rng rng(3);
    auto a = info.build(cfg, rng);
    auto b = build_uninitialised(info, cfg);
    int zero = 0, ones = 0;
    for (auto& [k, t] : b->named_parameters()) {
      const std::vector<float> v = t.to_vector();
      const bool all0 = std::all_of(v.begin(), v.end(), [](float f) { return f == 0.f; });
      const bool all1 = std::all_of(v.begin(), v.end(), [](float f) { return f == 1.f; });
      EXPECT_TRUE(all0 || all1) << k;
      zero += all0, ones += all1;
    }
    EXPECT_GT(zero, 0);
    b->load_state_dict(a->state_dict());
    a->eval(), b->eval();
    Shape s = forward_input_shape(info, cfg);
    s.insert(s.begin(), 2);
    Tensor x = randu(s, rng, 0.f, 1.f);
    EXPECT_EQ(model_scores(info, *a, x), model_scores(info, *b, x));
  }
}

TEST(Registry, RegistrationIsValidated) {
  EXPECT_TRUE(has(error_of([] { register_model(small_model("", "bce_logits", 1)); }), "empty model name"));
  ModelInfo nob = small_model("reg-nobuild", "bce_logits", 1);
  nob.build = nullptr;
  EXPECT_TRUE(has(error_of([&] { register_model(nob); }), "no build"));
  ModelInfo noshape = small_model("reg-noshape", "bce_logits", 1);
  noshape.defaults.erase("height");
  EXPECT_TRUE(has(error_of([&] { register_model(noshape); }), "'height'"));
  EXPECT_TRUE(has(error_of([] { register_model(small_model("reg-badloss", "hinge", 1)); }), "'hinge'"));
  register_model(small_model("reg-once", "bce_logits", 1));
  EXPECT_TRUE(has(error_of([] { register_model(small_model("reg-once", "bce_logits", 1)); }), "twice"));
}

TEST(Registry, ConfigOverrides) {
  const ModelInfo m = small_model("cfg", "bce_logits", 1);
  Json c = make_config(m, {"k=3", "rate=0.25", "height=4"});
  EXPECT_EQ(c["k"], 3);
  EXPECT_EQ(c["rate"], 0.25);
  EXPECT_EQ(input_shape(c), (Shape{1, 4, 2}));
  EXPECT_EQ(make_config(m, {"rate=1"})["rate"], 1);  // an int is a number
  EXPECT_TRUE(has(error_of([&] { make_config(m, {"k=0.5"}); }), "integer"));
  EXPECT_TRUE(has(error_of([&] { make_config(m, {"rate=fast"}); }), "number"));
  EXPECT_TRUE(has(error_of([&] { make_config(m, {"depth=3"}); }), "'depth'"));
  EXPECT_TRUE(has(error_of([&] { make_config(m, {"k"}); }), "key=value"));
  EXPECT_TRUE(has(error_of([&] { make_config(m, {"channels=0"}); }), "positive"));
  // Any channel count builds (summary, bench); the image pipeline needs 1 or 3.
  Json two = make_config(m, {"channels=2"});
  EXPECT_EQ(input_shape(two)[0], 2);
  EXPECT_TRUE(has(error_of([&] { image_spec(two); }), "1 (grey) or 3 (RGB)"));
  EXPECT_EQ(image_spec(make_config(m, {})).channels, 1);
  EXPECT_TRUE(has(error_of([&] { make_config(m, {"width=0"}); }), "positive"));
}

TEST(Registry, LossAndScoreKinds) {
  Rng rng(3);
  Tensor x = randn({4, 1, 1, 2}, rng);
  Tensor y = Tensor::from({4}, {1, 0, 1, 0});
  {  // bce_logits: sigmoid of the single logit; loss = BCE with logits
    ModelInfo m = small_model("k-bce", "bce_logits", 1);
    auto net = m.build(m.defaults, rng);
    Tensor z = (*net)(x).reshape({4});
    EXPECT_NEAR(model_loss(m, *net, x, y).item(), bce_with_logits(z, y).item(), 1e-6f);
    auto s = model_scores(m, *net, x);
    auto p = sigmoid(z).to_vector();
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(s[i], p[i]);
    auto l = model_logits(m, *net, x);  // the logit itself, not the inverted probability
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(l[i], z.to_vector()[i]);
    // Custom scoring without a logits override: the probability inverted, clamped at 1e-12.
    ModelInfo custom = m;
    custom.scores = [](Module&, const Tensor& xx) { return std::vector<float>((size_t)xx.size(0), 1.f); };
    EXPECT_NEAR(model_logits(custom, *net, x)[0], std::log(1e12), 1e-3);
    custom.logits = [](Module&, const Tensor& xx) { return std::vector<float>((size_t)xx.size(0), 40.f); };
    EXPECT_EQ(model_logits(custom, *net, x)[0], 40.f);
    ModelInfo wrong = small_model("k-bce2", "bce_logits", 3);
    auto net3 = wrong.build(wrong.defaults, rng);
    EXPECT_TRUE(has(error_of([&] { model_loss(wrong, *net3, x, y); }), "one logit per image"));
  }
  {  // ce2: softmax column 1 is P(live)
    ModelInfo m = small_model("k-ce2", "ce2", 2);
    auto net = m.build(m.defaults, rng);
    Tensor z = (*net)(x);
    EXPECT_NEAR(model_loss(m, *net, x, y).item(), cross_entropy(z, {1, 0, 1, 0}).item(), 1e-6f);
    auto s = model_scores(m, *net, x);
    auto p = softmax(z, 1).to_vector();
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(s[i], p[2 * i + 1]);
    auto l = model_logits(m, *net, x);  // log-odds of softmax column 1 = z1 - z0
    auto zv = z.to_vector();
    for (int i = 0; i < 4; ++i) {
      EXPECT_NEAR(l[i], zv[2 * i + 1] - zv[2 * i], 1e-6);
      EXPECT_NEAR(l[i], std::log(p[2 * i + 1] / p[2 * i]), 1e-4);
    }
  }
  {  // recon_mse: per-image mean squared reconstruction error, higher = spoof
    ModelInfo m = small_model("k-rec", "recon_mse", 1);
    m.score = ScoreKind::Anomaly;
    Half net;
    auto s = model_scores(m, net, x);
    auto xv = x.to_vector();
    double total = 0;
    for (int i = 0; i < 4; ++i) {
      double e = (0.25 * xv[2 * i] * xv[2 * i] + 0.25 * xv[2 * i + 1] * xv[2 * i + 1]) / 2;
      EXPECT_NEAR(s[i], e, 1e-6);
      total += e / 4;
    }
    EXPECT_NEAR(model_loss(m, net, x, y).item(), total, 1e-6);
    EXPECT_TRUE(has(error_of([&] { model_logits(m, net, x); }), "anomaly score"));
  }
}

TEST(History, BestEpochAndJsonRoundTrip) {
  using namespace fas::cli;
  History h;
  EpochRecord a;
  a.epoch = 1;
  a.train_loss = 0.7;
  a.val.present = true;
  a.val.eer = 0.3;
  a.val.loss = 0.6;
  a.val.has_threshold = true;
  a.val.threshold = 0.41;
  EXPECT_TRUE(h.add(a));
  EpochRecord b = a;
  b.epoch = 2;
  b.train_loss = 0.5;
  b.val.eer = 0.35;  // worse EER: not best, although the training loss fell
  EXPECT_FALSE(h.add(b));
  EpochRecord c = a;
  c.epoch = 3;
  c.val.loss = 0.5;  // same EER, lower validation loss: best
  EXPECT_TRUE(h.add(c));
  EXPECT_EQ(h.best_epoch(), 3);
  History r = History::from_json(h.to_json());
  ASSERT_EQ(r.epochs().size(), 3u);
  EXPECT_EQ(r.best_epoch(), 3);
  EXPECT_EQ(r.epochs()[1].train_loss, 0.5);
  EXPECT_EQ(r.epochs()[0].val.threshold, 0.41);
  EXPECT_TRUE(std::isnan(r.epochs()[0].val.auc) || r.epochs()[0].val.auc == 0);
  EXPECT_THROW(History::from_json("{oops"), Error);
  EXPECT_TRUE(has(c.line(10), "epoch 3/10") && has(c.line(10), "EER 30.00%")) << c.line(10);
  c.val.acer = 0.125, c.val.accuracy = 0.875;  // at the EER threshold: the line says so
  EXPECT_TRUE(has(c.line(10), "ACER@EER 12.50%") && has(c.line(10), "acc@EER 87.50%")) << c.line(10);
}

TEST(History, ValidationMetricsOnAHandCase) {
  using namespace fas::cli;
  ScoredSet s;
  s.scores = {0.9f, 0.8f, 0.3f, 0.2f, 0.6f};
  s.labels = {1, 1, 0, 0, 0};
  s.mean_loss = 0.25;
  ValMetrics v = validation_metrics(s, true);
  EXPECT_TRUE(v.present);
  EXPECT_EQ(v.loss, 0.25);
  EXPECT_DOUBLE_EQ(v.auc, 1.0);  // every live score above every spoof score
  EXPECT_DOUBLE_EQ(v.eer, 0.0);
  EXPECT_TRUE(v.has_threshold);
  EXPECT_DOUBLE_EQ(v.accuracy, 1.0);  // at the EER threshold
  // One class only: no rates, but accuracy at 0.5.
  ScoredSet one;
  one.scores = {0.9f, 0.4f};
  one.labels = {1, 1};
  ValMetrics o = validation_metrics(one, true);
  EXPECT_FALSE(o.has_threshold);
  EXPECT_DOUBLE_EQ(o.accuracy, 0.5);
}

TEST(Registry, AnomalyModelEvaluatesThroughTheCliCode) {
  // A registered reconstruction model (1x1 conv + sigmoid) goes through fas eval's code path:
  // anomaly-oriented metrics plus the inputs-above-reconstructions grid.
  ModelInfo m;
  m.name = "test-recon";
  m.description = "1x1 conv autoencoder stand-in";
  m.defaults = {{"channels", 3}, {"height", 16}, {"width", 16}, {"normalize", "symmetric"}};
  m.recipe.loss = "recon_mse";
  m.recipe.live_only = true;
  m.score = ScoreKind::Anomaly;
  m.build = [](const Json&, Rng& rng) -> std::shared_ptr<Module> {
    auto s = std::make_shared<Sequential>();
    Conv2dOptions o;
    o.kh = o.kw = 1;
    s->add(std::make_shared<Conv2d>(3, 3, o, rng));
    s->add(std::make_shared<Activation>(Act::Tanh));
    return s;
  };
  register_model(m);
  const std::string dir = scratch_dir("recon");
  Rng rng(1);
  auto net = m.build(m.defaults, rng);
  save_checkpoint(dir + "/ae.safetensors", {"test-recon", m.defaults.dump(), 1, 1, {}}, *net, nullptr);

  cli::EvalOptions eo;
  eo.common.threads = 1;
  eo.common.out = dir + "/eval";
  eo.ckpts = {dir + "/ae.safetensors"};
  eo.data = std::string(FAS_SOURCE_DIR) + "/data/sample/test.txt";
  eo.limit = 12;
  ASSERT_EQ(cli::run_eval(eo), 0);
  Json rep = Json::parse(read_bytes(dir + "/eval/metrics.json"));
  EXPECT_EQ(rep["higher_is_live"], false);
  EXPECT_EQ(rep["n"], 12);
  Tensor grid = load_image(dir + "/eval/reconstructions.png");
  EXPECT_EQ(grid.size(0), 3);
  EXPECT_GT(grid.size(1), 32);  // two rows of 16x16 cells plus padding
  EXPECT_GT(grid.size(2), 8 * 16);
}
