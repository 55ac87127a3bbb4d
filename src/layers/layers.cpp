#include "layers/layers.h"

#include <cmath>
#include <map>
#include <string>

namespace fas {

Linear::Linear(int64_t in, int64_t out, Rng& rng, bool has_bias, Init init) {
  if (in < 1 || out < 1) fail("Linear: sizes must be positive, got " + std::to_string(in) + " -> " + std::to_string(out));
  Tensor w = Tensor::zeros({out, in});
  if (init == Init::Keras)
    init_glorot_uniform(w, rng);
  else
    init_torch_default(w, in, rng);
  weight = register_parameter("weight", w);
  if (has_bias) {
    Tensor b = Tensor::zeros({out});
    if (init == Init::Torch) init_torch_default(b, in, rng);
    bias = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

BatchNorm::BatchNorm(int64_t channels, BatchNormArgs a, bool affine) : args(a) {
  if (channels < 1) fail("BatchNorm: channels must be positive, got " + std::to_string(channels));
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({channels}));
    bias = register_parameter("bias", Tensor::zeros({channels}));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({channels}));
  running_var = register_buffer("running_var", Tensor::ones({channels}));
}

Tensor BatchNorm::forward(const Tensor& x) {
  BatchNormArgs a = args;
  a.training = is_training();
  return batch_norm(x, weight, bias, running_mean, running_var, a);
}

Activation::Activation(Act a, float s) : act(a), slope(s) {}

Tensor Activation::forward(const Tensor& x) {
  switch (act) {
    case Act::ReLU: return relu(x);
    case Act::ReLU6: return relu6(x);
    case Act::LeakyReLU: return leaky_relu(x, slope);
    case Act::Tanh: return tanh(x);
    case Act::Sigmoid: return sigmoid(x);
    case Act::Softmax: return softmax(x, 1);
  }
  fail("Activation: unknown activation");
}

std::string Activation::type_name() const {
  switch (act) {
    case Act::ReLU:
    case Act::ReLU6: return "ReLU";
    case Act::LeakyReLU: return "LeakyReLU";
    case Act::Softmax: return "Softmax";
    default: return "Activation";
  }
}

namespace {
void check_window(const Pool2dArgs& a) {
  if (a.kh < 1 || a.kw < 1 || a.stride_h < 1 || a.stride_w < 1 || a.pad_top < 0 || a.pad_bottom < 0 ||
      a.pad_left < 0 || a.pad_right < 0)
    fail("pooling layer: bad window " + std::to_string(a.kh) + "x" + std::to_string(a.kw) + ", stride " +
         std::to_string(a.stride_h) + "x" + std::to_string(a.stride_w) + ", pads " + std::to_string(a.pad_top) + "/" +
         std::to_string(a.pad_bottom) + "/" + std::to_string(a.pad_left) + "/" + std::to_string(a.pad_right) +
         " (window and stride >= 1, pads >= 0)");
}
}  // namespace

PoolWindow::PoolWindow(int kh, int kw, int stride_h, int stride_w, Padding p) : padding(p) {
  args.kh = kh, args.kw = kw;
  args.stride_h = stride_h < 0 ? kh : stride_h, args.stride_w = stride_w < 0 ? kw : stride_w;
  args.pad_top = args.pad_bottom = args.pad_left = args.pad_right = 0;
  check_window(args);
}

PoolWindow::PoolWindow(int k, int stride, Padding p, int pad) : PoolWindow(k, k, stride, stride, p) {
  if (pad < 0) fail("pooling layer: bad pad " + std::to_string(pad));
  if (p == Padding::Explicit) args.pad_top = args.pad_bottom = args.pad_left = args.pad_right = pad;
}

PoolWindow::PoolWindow(const Pool2dArgs& a) : args(a), padding(Padding::Explicit) { check_window(args); }

Pool2dArgs PoolWindow::args_for(const Shape& x) const {
  if (padding == Padding::Same) {
    if (x.size() != 4) fail("pooling layer: expected input [N, C, H, W], got " + shape_str(x));
    return pool_args_same(x[2], x[3], args.kh, args.kw, args.stride_h, args.stride_w);
  }
  Pool2dArgs a = args;
  if (padding == Padding::Valid) a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = 0;
  return a;
}

UpsampleNearest2d::UpsampleNearest2d(int sh, int sw) : scale_h(sh), scale_w(sw) {
  if (sh < 1 || sw < 1)
    fail("UpsampleNearest2d: scale must be >= 1, got " + std::to_string(sh) + "x" + std::to_string(sw));
}

Tensor Flatten::forward(const Tensor& x) {
  if (x.dim() < 2) fail("Flatten: expected input [N, ...], got " + shape_str(x.shape()));
  return flatten(x, 1);
}

Dropout::Dropout(float p_, uint64_t seed) : p(p_), rng(seed) {
  if (p < 0.f || p >= 1.f) fail("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

MixStyle::MixStyle(float p_, float alpha_, uint64_t seed) : p(p_), alpha(alpha_), rng(seed) {
  if (!(p >= 0.f && p <= 1.f)) fail("MixStyle: p must be in [0, 1], got " + std::to_string(p));
  if (!(alpha > 0.f)) fail("MixStyle: alpha must be positive, got " + std::to_string(alpha));
}

Tensor MixStyle::forward(const Tensor& x, const std::vector<float>* groups) {
  if (!is_training() || p == 0.f || !(rng.uniform() < p)) return x;
  const int64_t N = x.size(0);
  if (groups && (int64_t)groups->size() != N)
    fail("MixStyle: " + std::to_string(groups->size()) + " group labels for a batch of " + std::to_string(N));
  // A random permutation within each group: members[i] takes the style of members[perm[i]].
  std::map<float, std::vector<int64_t>> members;
  for (int64_t n = 0; n < N; ++n) members[groups ? (*groups)[n] : 0.f].push_back(n);
  std::vector<int64_t> partner(N);
  std::vector<float> lambda(N);
  for (auto& [g, m] : members) {
    std::vector<int64_t> perm = m;
    for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    for (size_t i = 0; i < m.size(); ++i) partner[m[i]] = perm[i];
  }
  for (int64_t n = 0; n < N; ++n) lambda[n] = rng.beta(alpha, alpha);
  return mix_style(x, partner, lambda);
}

Embedding::Embedding(int64_t num, int64_t dim, Rng& rng) {
  if (num < 1 || dim < 1) fail("Embedding: sizes must be positive, got " + std::to_string(num) + " x " + std::to_string(dim));
  Tensor w = Tensor::zeros({num, dim});
  init_normal(w, 0.f, 1.f, rng);
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& ids) {
  std::vector<int64_t> v(ids.numel());
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const float f = ids.data()[i];
    if (f != std::floor(f)) fail("Embedding: id " + std::to_string(f) + " at index " + std::to_string(i) + " is not an integer");
    v[i] = (int64_t)f;
  }
  Shape s = ids.shape();
  s.push_back(weight.size(1));
  return embedding(v, weight).reshape(s);
}

}  // namespace fas
