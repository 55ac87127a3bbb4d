#include "optim/optim.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "dist/grad_sync.h"
#include "kernels/elementwise.h"

namespace fas {

void Optimizer::step() {
  dist::average_gradients(params_);
  update();
}

void Optimizer::zero_grad() {
  for (auto& [n, p] : params_) p.zero_grad();
}

Tensor& Optimizer::slot(size_t i, const char* name) {
  std::string key = params_[i].first + "." + name;
  auto it = state_.find(key);
  if (it == state_.end()) it = state_.emplace(key, Tensor::zeros(params_[i].second.shape())).first;
  return it->second;
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  auto sd = state_;
  sd["step"] = Tensor::scalar((float)t_);
  return sd;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& sd) {
  for (auto& [k, v] : sd) {
    if (k == "step") {
      // From a file (a float32 scalar): a whole number in [0, 2^53] or an error, never a
      // float-to-int conversion of NaN or 1e30 (undefined behaviour).
      const float t = v.numel() == 1 ? v.data()[0] : -1.f;
      if (!(t >= 0.f && t <= 9007199254740992.f) || t != std::floor(t))
        fail("optimizer state 'step' must be one whole number >= 0, got " + shape_str(v.shape()) +
             (v.numel() == 1 ? " holding " + std::to_string(t) : std::string()));
      t_ = (int64_t)t;
      continue;
    }
    bool known = false;
    for (auto& [n, p] : params_)
      if (k.compare(0, n.size() + 1, n + ".") == 0) {
        if (v.shape() != p.shape())
          fail("optimizer state '" + k + "' has shape " + shape_str(v.shape()) + ", parameter has " + shape_str(p.shape()));
        known = true;
      }
    if (!known) fail("optimizer state '" + k + "' names no parameter of this model");
    state_[k] = v.clone();
  }
}

Adam::Adam(NamedTensors params, AdamConfig cfg) : Optimizer(std::move(params)), cfg_(cfg) { lr_ = cfg.lr; }

void Adam::update() {
  ++t_;
  const float b1 = cfg_.beta1, b2 = cfg_.beta2;
  const AdamStep st{lr_, b1, b2, cfg_.eps, cfg_.weight_decay, 1.f - std::pow(b1, (float)t_),
                    1.f - std::pow(b2, (float)t_), cfg_.decoupled, cfg_.keras};
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    if (!p.requires_grad() || !p.grad().defined()) continue;
    adam_step(p.data(), p.grad().data(), slot(i, "exp_avg").data(), slot(i, "exp_avg_sq").data(), p.numel(), st);
  }
}

Sgd::Sgd(NamedTensors params, SgdConfig cfg) : Optimizer(std::move(params)), cfg_(cfg) { lr_ = cfg.lr; }

void Sgd::update() {
  ++t_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    if (!p.requires_grad() || !p.grad().defined()) continue;
    float* w = p.data();
    const float* g = p.grad().data();
    const int64_t n = p.numel();
    float* buf = cfg_.momentum != 0.f ? slot(i, "momentum_buffer").data() : nullptr;
    for (int64_t k = 0; k < n; ++k) {
      float d = g[k] + cfg_.weight_decay * w[k];
      if (buf) {
        // PyTorch: the first step copies the gradient into the buffer.
        buf[k] = t_ == 1 ? d : cfg_.momentum * buf[k] + (1.f - cfg_.dampening) * d;
        d = cfg_.nesterov ? d + cfg_.momentum * buf[k] : buf[k];
      }
      w[k] -= lr_ * d;
    }
  }
}

float LrSchedule::at(int epoch) const {
  switch (kind) {
    case Constant:
    case Plateau:
      return base;
    case Step:
      return base * std::pow(gamma, (float)(epoch / std::max(1, step_size)));
    case HalfThenLinear: {
      int half = total / 2;
      if (epoch < half) return base;
      // Linear from base at `half` down to base / (total - half) at the last epoch (never 0).
      int span = std::max(1, total - half);
      return base * (float)(total - epoch) / (float)span;
    }
    case Cosine: {
      double t = total > 1 ? std::min(1.0, (double)epoch / (double)(total - 1)) : 1.0;
      double c = 0.5 * (1.0 + std::cos(3.14159265358979323846 * t));
      return (float)(base * (min_ratio + (1.0 - min_ratio) * c));
    }
  }
  return base;
}

float LrSchedule::at(int epoch, const std::vector<double>& monitored) const {
  if (kind != Plateau) return at(epoch);
  float lr = base;
  double best = INFINITY;
  int wait = 0;
  for (int i = 0; i < epoch && i < (int)monitored.size(); ++i) {
    if (monitored[i] < best - min_delta) {
      best = monitored[i];
      wait = 0;
    } else if (++wait >= patience) {
      lr *= gamma;
      wait = 0;
    }
  }
  return lr;
}

std::string LrSchedule::str() const {
  char b[64];
  switch (kind) {
    case Constant: return "constant";
    case HalfThenLinear: return "halflinear";
    case Step: std::snprintf(b, sizeof b, "step:%d:%g", step_size, gamma); return b;
    case Cosine: std::snprintf(b, sizeof b, "cosine:%g", min_ratio); return b;
    case Plateau: std::snprintf(b, sizeof b, "plateau:%d:%g", patience, gamma); return b;
  }
  return "constant";
}

LrSchedule parse_lr_schedule(const std::string& spec, float base, int total) {
  std::vector<std::string> f;
  size_t a = 0;
  for (size_t k; (k = spec.find(':', a)) != std::string::npos; a = k + 1) f.push_back(spec.substr(a, k - a));
  f.push_back(spec.substr(a));
  auto bad = [&](const std::string& why) -> LrSchedule {
    fail("--lr-schedule '" + spec + "': " + why +
         " (use constant, step:EVERY[:GAMMA], cosine[:MIN_RATIO], plateau[:PATIENCE[:FACTOR]] or halflinear)");
  };
  auto num = [&](size_t i, double lo, double hi) {
    char* end = nullptr;
    double v = std::strtod(f[i].c_str(), &end);
    if (f[i].empty() || *end || !(v >= lo && v <= hi)) bad("'" + f[i] + "' is not a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  };
  LrSchedule s;
  s.base = base;
  s.total = std::max(1, total);
  const std::string& k = f[0];
  size_t max_args = 0;
  if (k == "constant") {
    s.kind = LrSchedule::Constant;
  } else if (k == "halflinear") {
    s.kind = LrSchedule::HalfThenLinear;
  } else if (k == "step") {
    s.kind = LrSchedule::Step, max_args = 2;
    if (f.size() < 2) bad("step needs EVERY (epochs)");
    s.step_size = (int)num(1, 1, 1e6);
    if (f.size() > 2) s.gamma = (float)num(2, 0, 1);
  } else if (k == "cosine") {
    s.kind = LrSchedule::Cosine, max_args = 1;
    if (f.size() > 1) s.min_ratio = (float)num(1, 0, 1);
  } else if (k == "plateau") {
    s.kind = LrSchedule::Plateau, max_args = 2;
    if (f.size() > 1) s.patience = (int)num(1, 1, 1e6);
    if (f.size() > 2) s.gamma = (float)num(2, 0, 1);
  } else {
    bad("unknown schedule '" + k + "'");
  }
  if (f.size() > max_args + 1) bad("too many fields");
  return s;
}

}  // namespace fas
