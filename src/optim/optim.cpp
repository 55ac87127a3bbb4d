#include "optim/optim.h"

#include <cmath>

namespace fas {

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
      t_ = (int64_t)v.item();
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

void Adam::step() {
  ++t_;
  const float b1 = cfg_.beta1, b2 = cfg_.beta2;
  const float bc1 = 1.f - std::pow(b1, (float)t_), bc2 = 1.f - std::pow(b2, (float)t_);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    if (!p.requires_grad() || !p.grad().defined()) continue;
    float* w = p.data();
    const float* g = p.grad().data();
    float* m = slot(i, "exp_avg").data();
    float* v = slot(i, "exp_avg_sq").data();
    const int64_t n = p.numel();
    const float wd = cfg_.weight_decay, lr = lr_;
    const float keras_lr = lr * std::sqrt(bc2) / bc1;
    // Elementwise, so splitting over threads changes nothing in the result.
#pragma omp parallel for if (n >= (int64_t(1) << 16)) schedule(static)
    for (int64_t k = 0; k < n; ++k) {
      float gk = g[k];
      if (wd != 0.f && !cfg_.decoupled) gk += wd * w[k];
      if (wd != 0.f && cfg_.decoupled) w[k] -= lr * wd * w[k];
      m[k] = b1 * m[k] + (1.f - b1) * gk;
      v[k] = b2 * v[k] + (1.f - b2) * gk * gk;
      if (cfg_.keras)
        w[k] -= keras_lr * m[k] / (std::sqrt(v[k]) + cfg_.eps);
      else
        w[k] -= lr * (m[k] / bc1) / (std::sqrt(v[k] / bc2) + cfg_.eps);
    }
  }
}

Sgd::Sgd(NamedTensors params, SgdConfig cfg) : Optimizer(std::move(params)), cfg_(cfg) { lr_ = cfg.lr; }

void Sgd::step() {
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
  }
  return base;
}

}  // namespace fas
