// Small models that exercise the whole train/eval/predict path quickly: "tiny-mlp" (used by
// the CLI tests, well under a second per run) and "tiny-cnn" (the bundled sample's default model).
#include "layers/conv.h"
#include "layers/layers.h"
#include "models/registry.h"

namespace fas {

namespace {

int64_t positive(const Json& cfg, const char* key, const char* model) {
  const int64_t v = cfg.at(key).get<int64_t>();
  if (v <= 0) fail(std::string(model) + ": config '" + key + "' must be positive, got " + std::to_string(v));
  return v;
}

// flatten -> Dense(hidden) -> ReLU [-> Dropout] -> Dense(1): one logit, P(live) = sigmoid(logit).
std::shared_ptr<Module> build_tiny_mlp(const Json& cfg, Rng& rng) {
  const Shape in = input_shape(cfg);
  const int64_t hidden = positive(cfg, "hidden", "tiny-mlp");
  auto m = std::make_shared<Sequential>();
  m->add("flatten", std::make_shared<Flatten>());
  m->add("fc1", std::make_shared<Linear>(in[0] * in[1] * in[2], hidden, rng));
  m->add("relu", std::make_shared<Activation>(Act::ReLU));
  const double p = cfg.at("dropout").get<double>();
  if (p < 0 || p >= 1) fail("tiny-mlp: config 'dropout' must be in [0, 1), got " + std::to_string(p));
  if (p > 0) m->add("dropout", std::make_shared<Dropout>((float)p, rng.next_u64()));
  m->add("fc2", std::make_shared<Linear>(hidden, 1, rng));
  return m;
}

// Three blocks of conv 3x3 (no bias: BN follows) -> BN -> ReLU -> max-pool 2x2, widths w, 2w, 4w,
// then global average pooling and Dense(1): one logit. Any input size >= 8.
std::shared_ptr<Module> build_tiny_cnn(const Json& cfg, Rng& rng) {
  const Shape in = input_shape(cfg);
  const int64_t w = positive(cfg, "width_mult", "tiny-cnn");
  if (in[1] < 8 || in[2] < 8) fail("tiny-cnn: input must be at least 8x8, got " + shape_str(in));
  auto m = std::make_shared<Sequential>();
  int64_t ch = in[0];
  for (int b = 0; b < 3; ++b) {
    const int64_t out = w << b;
    Conv2dOptions co;
    co.bias = false;
    const std::string p = "block" + std::to_string(b + 1) + ".";
    m->add(p + "conv", std::make_shared<Conv2d>(ch, out, co, rng));
    m->add(p + "bn", std::make_shared<BatchNorm>(out));
    m->add(p + "relu", std::make_shared<Activation>(Act::ReLU));
    m->add(p + "pool", std::make_shared<MaxPool2d>(2));
    ch = out;
  }
  m->add("gap", std::make_shared<GlobalAvgPool2d>());
  m->add("fc", std::make_shared<Linear>(ch, 1, rng));
  return m;
}

}  // namespace

void register_tiny_models() {
  ModelInfo mlp;
  mlp.name = "tiny-mlp";
  mlp.description = "flatten, Dense(hidden), ReLU, Dense(1) on a 16x16 grey image: a fast baseline for tests";
  mlp.defaults = {{"channels", 1}, {"height", 16}, {"width", 16}, {"hidden", 16}, {"dropout", 0.0}, {"normalize", "symmetric"}};
  mlp.recipe = {5, 32, 1e-3f, "bce_logits", "flip=0.5", false, "adam"};
  mlp.build = build_tiny_mlp;
  register_model(std::move(mlp));

  ModelInfo cnn;
  cnn.name = "tiny-cnn";
  cnn.description = "3x (conv3x3-BN-ReLU-maxpool), global average pool, Dense(1); 64x64 RGB, ~24k parameters";
  cnn.defaults = {{"channels", 3}, {"height", 64}, {"width", 64}, {"width_mult", 16}, {"normalize", "symmetric"}};
  cnn.recipe = {12, 32, 3e-3f, "bce_logits", "flip=0.5,shift=0.05,brightness=0.1,contrast=0.1", false, "adam"};
  cnn.build = build_tiny_cnn;
  register_model(std::move(cnn));
}

}  // namespace fas
