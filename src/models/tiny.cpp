// Small models that exercise the whole train/eval/predict path quickly: "tiny-mlp" (used by
// the CLI tests, seconds per run) and "tiny-cnn" (the bundled sample's default model).
#include <cmath>

#include "autograd/ops.h"
#include "models/registry.h"

namespace fas {

namespace {

// flatten -> dense(hidden) -> ReLU -> dense(1): P(live) through a sigmoid on the logit.
class TinyMlp : public Module {
 public:
  TinyMlp(int64_t in, int64_t hidden, Rng& rng) {
    w1 = register_parameter("fc1.weight", Tensor::empty({hidden, in}));
    b1 = register_parameter("fc1.bias", Tensor::zeros({hidden}));
    w2 = register_parameter("fc2.weight", Tensor::empty({1, hidden}));
    b2 = register_parameter("fc2.bias", Tensor::zeros({1}));
    init_glorot_uniform(w1, rng);
    init_glorot_uniform(w2, rng);
  }
  Tensor forward(const Tensor& x) override { return linear(relu(linear(flatten(x, 1), w1, b1)), w2, b2); }
  std::string type_name() const override { return "TinyMlp"; }
  Tensor w1, b1, w2, b2;
};

}  // namespace

void register_tiny_models() {
  ModelInfo mlp;
  mlp.name = "tiny-mlp";
  mlp.description = "two dense layers on a 16x16 grey image: a fast baseline for tests";
  mlp.defaults = {{"channels", 1}, {"height", 16}, {"width", 16}, {"hidden", 16}, {"normalize", "symmetric"}};
  mlp.recipe = {5, 32, 1e-3f, "bce_logits", "flip=0.5", false, "adam"};
  mlp.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    const Shape s = input_shape(cfg);
    const int64_t hidden = cfg.at("hidden").get<int64_t>();
    if (hidden <= 0) fail("tiny-mlp: 'hidden' must be positive");
    return std::make_shared<TinyMlp>(s[0] * s[1] * s[2], hidden, rng);
  };
  register_model(std::move(mlp));
}

}  // namespace fas
