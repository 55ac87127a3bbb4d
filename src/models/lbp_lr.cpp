// "lbp-lr": the classical colour-texture baseline of face anti-spoofing -- uniform LBP(8, r)
// histograms for r = 1, 2, 3 per YCbCr channel over a 3x3 grid of cells (layers/lbp.h;
// Boulkenafet et al. 2015 use the same colour idea with whole-image histograms and an SVM, Maatta
// et al. 2011 grey cells), then a logistic regression: Dense(features -> 1) on the raw
// histograms, zero-initialised. The loss is scikit-learn's LogisticRegression objective: mean
// BCE + ||w||^2 / (2 C n) on the weights, not the intercept (config keys `C`, and `l2_n` for n:
// NUAA's 3,488 training images by default), minimised by Adam with a cosine lr decay to 0.
// tools/nuaa_texture_baseline.py is the scikit-learn reference. No augmentation: the reference
// has none, and a flip mirrors the LBP codes.
#include <algorithm>

#include "autograd/ops.h"
#include "kernels/lbp.h"
#include "layers/lbp.h"
#include "layers/layers.h"
#include "models/registry.h"

namespace fas {

namespace {
class LbpLr : public Module {
 public:
  LbpLr(const LbpConfig& c, float l2, Rng& rng) : l2_(l2) {
    lbp_ = register_module("lbp", std::make_shared<LbpHistogram>(c));
    fc_ = register_module("logits", std::make_shared<Linear>(lbp_->features(), 1, rng));
    std::fill_n(fc_->weight.data(), fc_->weight.numel(), 0.f);  // convex: start where scikit-learn starts
  }
  // Logits [N, 1]. Each cell's histogram sums to a constant (its scale), so the raw features are
  // collinear with the intercept and Adam would take thousands of steps to move the offset from
  // the weights into the unpenalised intercept. Subtracting the average bin (scale / 59) removes
  // that without changing the optimum's predictions (it only shifts the intercept).
  Tensor forward(const Tensor& x) override {
    return (*fc_)(add_scalar((*lbp_)(x), -lbp_->config().scale / (float)kLbpBins));
  }
  std::string type_name() const override { return "LbpLr"; }
  // (l2 / 2) ||w||^2 with l2 = 1 / (C n).
  Tensor penalty() const { return mul_scalar(sum(square(fc_->weight)), 0.5f * l2_); }

 private:
  float l2_;
  std::shared_ptr<LbpHistogram> lbp_;
  std::shared_ptr<Linear> fc_;
};

std::shared_ptr<Module> build_lbp_lr(const Json& cfg, Rng& rng) {
  LbpConfig c;
  c.space = parse_lbp_space(cfg.at("space").get<std::string>());
  const Json& radii = cfg.at("radii");
  if (!radii.is_array()) fail("lbp-lr: config 'radii' must be a list such as [1,2,3]");
  c.radii.clear();
  for (const auto& r : radii) {
    if (!r.is_number_integer()) fail("lbp-lr: config 'radii' must hold integers, got " + radii.dump());
    c.radii.push_back(r.get<int>());
  }
  c.grid = cfg.at("grid").get<int>();
  c.scale = cfg.at("scale").get<float>();
  const double C = cfg.at("C").get<double>(), n = cfg.at("l2_n").get<double>();
  if (!(C > 0) || !(n >= 1)) fail("lbp-lr: config needs C > 0 and l2_n >= 1");
  const Shape in = input_shape(cfg);
  if (c.space == LbpSpace::YCbCr && in[0] != 3)
    fail("lbp-lr: space 'ycc' needs 3 input channels, got " + std::to_string(in[0]));
  LbpHistogram(c).check_input({1, in[0], in[1], in[2]});  // the configured size, at build time
  return std::make_shared<LbpLr>(c, (float)(1.0 / (C * n)), rng);
}
}  // namespace

void register_lbp_lr() {
  ModelInfo m;
  m.name = "lbp-lr";
  m.description = "uniform LBP(8,1..3) histograms per YCbCr channel on a 3x3 grid + logistic regression (classical baseline)";
  m.defaults = {{"channels", 3},     {"height", 128}, {"width", 128}, {"space", "ycc"},     {"radii", Json::array({1, 2, 3})},
                {"grid", 3},         {"scale", 59.0}, {"C", 1.0},     {"l2_n", 3488},      {"normalize", "unit"}};
  m.recipe = {/*epochs*/ 40, /*batch*/ 32, /*lr*/ 1e-2f, "bce_logits", /*augment*/ "none", false, "adam", "cosine:0"};
  m.loss = [](Module& mod, const Tensor& x, const Tensor& y) {
    auto* net = dynamic_cast<LbpLr*>(&mod);
    if (!net) fail("lbp-lr: the module is a " + mod.type_name() + ", not an LbpLr");
    return add(bce_with_logits(net->forward(x).reshape({x.size(0)}), y), net->penalty());
  };
  m.build = build_lbp_lr;
  register_model(std::move(m));
}

}  // namespace fas
