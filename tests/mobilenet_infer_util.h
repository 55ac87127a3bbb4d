// Shared by the MobileNetV2-lite inference tests: a model with random weights and random,
// non-trivial batch-norm parameters and running statistics (so folding is really exercised).
#pragma once
#include <memory>

#include "autograd/graph.h"
#include "models/mobilenetv2_lite.h"
#include "testutil.h"

namespace fas::test {

// Random glorot weights, gamma U(0.5, 1.5), beta U(-0.3, 0.3); the running statistics are
// taken from one training-mode pass over random U(-1, 1) images (Keras momentum 0: running =
// batch) and then perturbed (mean +- 0.2, var x U(0.7, 1.4)). Pure random statistics would
// push the activations to 0 or 6 after a few ReLU6 layers and make the output constant.
inline std::unique_ptr<MobileNetV2Lite> random_mobilenet(int64_t c, int64_t h, int64_t w, uint64_t seed,
                                                         double alpha = 0.1) {
  MobileNetV2LiteConfig cfg;
  cfg.in_channels = c, cfg.height = h, cfg.width = w, cfg.alpha = alpha;
  cfg.bn_momentum = 0.f;
  Rng rng(seed);
  auto m = std::make_unique<MobileNetV2Lite>(cfg, rng);
  auto ends = [](const std::string& name, const std::string& s) {
    return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  auto is_bn = [](const std::string& name) {
    return name.find("BN") != std::string::npos || name.find("bn") != std::string::npos;
  };
  for (auto& [name, t] : m->state_dict()) {
    Tensor tt = t;
    if (is_bn(name) && ends(name, ".weight")) init_uniform(tt, 0.5f, 1.5f, rng);
    else if (is_bn(name) && ends(name, ".bias")) init_uniform(tt, -0.3f, 0.3f, rng);
    else if (name == "Logits.bias") init_uniform(tt, -0.2f, 0.2f, rng);
  }
  {
    NoGradGuard ng;
    m->train();
    (*m)(randu({4, c, h, w}, rng, -1.f, 1.f));
  }
  for (auto& [name, t] : m->state_dict()) {
    float* p = t.data();
    if (ends(name, ".running_mean"))
      for (int64_t i = 0; i < t.numel(); ++i) p[i] += rng.uniform(-0.2f, 0.2f);
    if (ends(name, ".running_var"))
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::max(p[i], 1e-2f) * rng.uniform(0.7f, 1.4f);
  }
  m->eval();
  return m;
}

}  // namespace fas::test
