#include "optim/ema.h"

#include <algorithm>
#include <utility>

namespace fas {

WeightEma::WeightEma(const Module& m, float decay) : decay_(decay) {
  if (!(decay > 0.f && decay < 1.f)) fail("weight averaging: decay must be in (0, 1), got " + std::to_string(decay));
  for (auto& [k, t] : m.state_dict()) {
    Tensor a = avg_[k] = t.clone();
    bound_.emplace_back(t, a);
  }
}

float WeightEma::current_decay() const { return std::min(decay_, (1.f + (float)n_) / (10.f + (float)n_)); }

void WeightEma::update() {
  const float d = current_decay(), e = 1.f - d;
  for (auto& [t, avg] : bound_) {
    float* a = avg.data();
    const float* w = t.data();
    const int64_t n = t.numel();
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
    for (int64_t i = 0; i < n; ++i) a[i] = d * a[i] + e * w[i];
  }
  ++n_;
}

void WeightEma::swap() {
  for (auto& [t, avg] : bound_) std::swap_ranges(t.data(), t.data() + t.numel(), avg.data());
}

std::map<std::string, Tensor> WeightEma::state_dict() const { return avg_; }

void WeightEma::load_state_dict(const std::map<std::string, Tensor>& sd) {
  for (auto& [k, a] : avg_) {
    auto it = sd.find(k);
    if (it == sd.end()) fail("weight average: missing '" + k + "'");
    if (it->second.shape() != a.shape())
      fail("weight average '" + k + "': shape " + shape_str(it->second.shape()) + ", expected " + shape_str(a.shape()));
    copy_into(a, it->second);
  }
  if (sd.size() != avg_.size()) fail("weight average: " + std::to_string(sd.size()) + " tensors, expected " + std::to_string(avg_.size()));
}

}  // namespace fas
