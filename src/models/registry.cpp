#include "models/registry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "autograd/graph.h"
#include "autograd/ops.h"

namespace fas {

void register_tiny_models();        // models/tiny.cpp
void register_mobilenetv2_lite();  // models/mobilenetv2_lite_register.cpp
void register_stacked_ae_models();  // models/stacked_ae_register.cpp
void register_lbp_lr();            // models/lbp_lr.cpp
void register_autodecoder();       // models/autodecoder_register.cpp
void register_wiqa_lda();          // models/wiqa_lda.cpp
void register_oneclass_models();   // models/oneclass_register.cpp

namespace {
std::map<std::string, ModelInfo>& table() {
  static std::map<std::string, ModelInfo> t;
  return t;
}
}  // namespace

void register_builtin_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_tiny_models();
    register_mobilenetv2_lite();
    register_stacked_ae_models();
    register_lbp_lr();
    register_autodecoder();
    register_wiqa_lda();
    register_oneclass_models();
    // Model helpers: add your register_<model>() call here.
  });
}

void register_model(ModelInfo info) {
  if (info.name.empty()) fail("register_model: empty model name");
  if (!info.build) fail("register_model: model '" + info.name + "' has no build function");
  for (const char* k : {"channels", "height", "width"})
    if (!info.defaults.contains(k) || !info.defaults[k].is_number_integer())
      fail("register_model: model '" + info.name + "' config lacks integer '" + k + "'");
  const auto& l = info.recipe.loss;
  if (!info.loss && l != "bce_logits" && l != "ce2" && l != "recon_mse")
    fail("register_model: model '" + info.name + "' has unknown loss kind '" + l + "'");
  if (table().count(info.name)) fail("register_model: model '" + info.name + "' registered twice");
  table().emplace(info.name, std::move(info));
}

std::vector<std::string> model_names() {
  register_builtin_models();
  std::vector<std::string> n;
  for (auto& [k, v] : table()) n.push_back(k);
  return n;
}

const ModelInfo& find_model(const std::string& name) {
  register_builtin_models();
  auto it = table().find(name);
  if (it == table().end()) {
    std::string known;
    for (auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    fail("unknown model '" + name + "' (known: " + known + ")");
  }
  return it->second;
}

std::shared_ptr<Module> build_uninitialised(const ModelInfo& m, const Json& cfg) {
  SkipInit skip;
  Rng unused(0);  // the build's signature wants one; SkipInit keeps the initialisers from drawing
  std::shared_ptr<Module> mod = m.build(cfg, unused);
  if (!mod) fail("model '" + m.name + "': build returned nothing");
  return mod;
}

Json make_config(const ModelInfo& m, const std::vector<std::string>& overrides) {
  Json cfg = m.defaults;
  for (auto& kv : overrides) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) fail("--set: expected key=value, got '" + kv + "'");
    std::string key = kv.substr(0, eq), val = kv.substr(eq + 1);
    if (!cfg.contains(key)) {
      std::string known;
      for (auto it = cfg.begin(); it != cfg.end(); ++it) known += (known.empty() ? "" : ", ") + it.key();
      fail("--set: model '" + m.name + "' has no config key '" + key + "' (keys: " + known + ")");
    }
    Json v = Json::parse(val, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) v = val;  // not JSON: a plain string
    if (cfg[key].is_number() && !v.is_number())
      fail("--set: config key '" + key + "' of model '" + m.name + "' needs a number, got '" + val + "'");
    if (cfg[key].is_number_integer() && !v.is_number_integer())
      fail("--set: config key '" + key + "' of model '" + m.name + "' needs an integer, got '" + val + "'");
    cfg[key] = v;
  }
  for (const char* k : {"channels", "height", "width"})
    if (cfg[k].get<int64_t>() <= 0) fail(std::string("config: '") + k + "' must be positive");
  return cfg;
}

Shape input_shape(const Json& cfg) {
  return {cfg.at("channels").get<int64_t>(), cfg.at("height").get<int64_t>(), cfg.at("width").get<int64_t>()};
}

ImageSpec image_spec(const Json& cfg) {
  ImageSpec s;
  Shape in = input_shape(cfg);
  if (in[0] != 1 && in[0] != 3)
    fail("model input has " + std::to_string(in[0]) + " channels; images load as 1 (grey) or 3 (RGB) channels");
  s.channels = (int)in[0];
  s.height = in[1];
  s.width = in[2];
  for (const char* key : {"normalize", "resize"})  // `--set normalize=1` parses as a JSON number
    if (cfg.contains(key) && !cfg[key].is_string())
      fail(std::string("config '") + key + "' must be a string, got " + cfg[key].dump());
  if (cfg.contains("normalize")) s.norm = parse_normalize(cfg["normalize"].get<std::string>());
  if (cfg.contains("resize")) s.resize = parse_resize_mode(cfg["resize"].get<std::string>());
  return s;
}

Shape forward_input_shape(const ModelInfo& m, const Json& cfg) {
  return m.forward_input ? m.forward_input(cfg) : input_shape(cfg);
}

namespace {
Tensor as_column_logits(const Tensor& z, int64_t n, const std::string& model) {
  if (z.numel() != n) fail("model '" + model + "': bce_logits expects one logit per image, got output " + shape_str(z.shape()));
  return z.reshape({n});
}

std::vector<int64_t> class_labels(const Tensor& y) {
  std::vector<int64_t> l;
  for (float v : y.to_vector()) l.push_back(v > 0.5f ? 1 : 0);
  return l;
}

void check_two_logits(const Tensor& z, int64_t n, const std::string& model) {
  if (z.dim() != 2 || z.size(0) != n || z.size(1) != 2)
    fail("model '" + model + "': ce2 expects logits [N, 2], got " + shape_str(z.shape()));
}

Tensor per_image_mse(const Tensor& r, const Tensor& x) {
  NoGradGuard ng;
  const int64_t n = x.size(0);
  return mean_dim(square(sub(r, x)).reshape({n, -1}), 1);
}
}  // namespace

Tensor model_loss(const ModelInfo& m, Module& model, const Tensor& x, const Tensor& y) {
  if (m.loss) return m.loss(model, x, y);
  Tensor out = model(x);
  const int64_t n = x.size(0);
  const auto& l = m.recipe.loss;
  if (l == "bce_logits") return bce_with_logits(as_column_logits(out, n, m.name), y);
  if (l == "ce2") {
    check_two_logits(out, n, m.name);
    return cross_entropy(out, class_labels(y));
  }
  if (l == "recon_mse") {
    if (out.shape() != x.shape())
      fail("model '" + m.name + "': reconstruction " + shape_str(out.shape()) + " differs from input " + shape_str(x.shape()));
    return mse_loss(out, x);
  }
  fail("model '" + m.name + "': unknown loss kind '" + l + "'");
}

std::vector<float> model_scores(const ModelInfo& m, Module& model, const Tensor& x) {
  NoGradGuard ng;
  if (m.scores) return m.scores(model, x);
  Tensor out = model(x);
  const int64_t n = x.size(0);
  const auto& l = m.recipe.loss;
  if (l == "bce_logits") return sigmoid(as_column_logits(out, n, m.name)).to_vector();
  if (l == "ce2") {
    check_two_logits(out, n, m.name);
    std::vector<float> p = softmax(out, 1).to_vector(), live(n);
    for (int64_t i = 0; i < n; ++i) live[i] = p[2 * i + 1];
    return live;
  }
  if (l == "recon_mse") return per_image_mse(out, x).to_vector();
  fail("model '" + m.name + "': loss kind '" + l + "' has no scoring rule");
}

double live_log_odds(double p) {
  const double q = std::min(std::max(p, 1e-12), 1.0 - 1e-12);
  return std::log(q / (1.0 - q));
}

double live_probability(double z) { return 1.0 / (1.0 + std::exp(-z)); }

std::vector<float> model_logits(const ModelInfo& m, Module& model, const Tensor& x) {
  if (m.score != ScoreKind::LiveProbability)
    fail("model '" + m.name + "' gives an anomaly score, not P(live): it has no live log-odds");
  if (m.logits) {
    NoGradGuard ng;
    return m.logits(model, x);
  }
  const auto& l = m.recipe.loss;
  if (m.scores || (l != "bce_logits" && l != "ce2")) {  // custom scoring: invert the probability
    std::vector<float> p = model_scores(m, model, x);
    for (float& v : p) v = (float)live_log_odds(v);
    return p;
  }
  NoGradGuard ng;
  Tensor out = model(x);
  const int64_t n = x.size(0);
  if (l == "bce_logits") return as_column_logits(out, n, m.name).to_vector();
  check_two_logits(out, n, m.name);
  std::vector<float> z = out.to_vector(), d(n);
  for (int64_t i = 0; i < n; ++i) d[i] = z[2 * i + 1] - z[2 * i];  // log softmax[1] - log softmax[0]
  return d;
}

}  // namespace fas
