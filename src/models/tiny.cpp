// Small models that exercise the whole train/eval/predict path quickly: "tiny-mlp" (used by
// the CLI tests, well under a second per run) and "tiny-cnn" (the bundled sample's default model).
#include "layers/layers.h"
#include "models/registry.h"

namespace fas {

namespace {

int64_t positive(const Json& cfg, const char* key, const char* model) {
  const int64_t v = cfg.at(key).get<int64_t>();
  if (v <= 0) fail(std::string(model) + ": config '" + key + "' must be positive, got " + std::to_string(v));
  return v;
}

// flatten -> Dense(hidden) -> ReLU -> Dense(1): one logit, P(live) = sigmoid(logit).
std::shared_ptr<Module> build_tiny_mlp(const Json& cfg, Rng& rng) {
  const Shape in = input_shape(cfg);
  const int64_t hidden = positive(cfg, "hidden", "tiny-mlp");
  auto m = std::make_shared<Sequential>();
  m->add("flatten", std::make_shared<Flatten>());
  m->add("fc1", std::make_shared<Linear>(in[0] * in[1] * in[2], hidden, rng));
  m->add("relu", std::make_shared<Activation>(Act::ReLU));
  m->add("fc2", std::make_shared<Linear>(hidden, 1, rng));
  return m;
}

}  // namespace

void register_tiny_models() {
  ModelInfo mlp;
  mlp.name = "tiny-mlp";
  mlp.description = "flatten, Dense(hidden), ReLU, Dense(1) on a 16x16 grey image: a fast baseline for tests";
  mlp.defaults = {{"channels", 1}, {"height", 16}, {"width", 16}, {"hidden", 16}, {"normalize", "symmetric"}};
  mlp.recipe = {5, 32, 1e-3f, "bce_logits", "flip=0.5", false, "adam"};
  mlp.build = build_tiny_mlp;
  register_model(std::move(mlp));
}

}  // namespace fas
