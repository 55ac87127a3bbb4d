// Standard layers as modules. Parameter/buffer names follow PyTorch ("weight", "bias",
// "running_mean", "running_var") so state dicts map one to one; type_name() follows Keras so
// summaries read like the theses' model.summary() tables.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/ops.h"
#include "layers/module.h"
#include "tensor/random.h"

namespace fas {

// x [N, in] -> [N, out]. Keras init: glorot_uniform weight, zero bias; Torch: U(+-1/sqrt(in)) both.
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, Rng& rng, bool bias = true, Init init = Init::Keras);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dense"; }
  Tensor weight /*[out, in]*/, bias /*[out] or undefined*/;
};

// Works on [N, C] and [N, C, H, W]. gamma = 1, beta = 0, running mean 0 / var 1 (both
// frameworks). The module's train/eval mode overrides args.training.
class BatchNorm : public Module {
 public:
  explicit BatchNorm(int64_t channels, BatchNormArgs args = {}, bool affine = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BatchNormalization"; }
  Tensor weight /*gamma*/, bias /*beta*/, running_mean, running_var;
  BatchNormArgs args;
};

enum class Act { ReLU, ReLU6, LeakyReLU, Tanh, Sigmoid, Softmax };
// Softmax acts on dim 1 (classes / channels). type_name: Keras' ReLU layer for ReLU and ReLU6
// (Keras writes ReLU(6.)), LeakyReLU, Softmax, and "Activation" for tanh and sigmoid (the
// theses use Activation('tanh') / activation='sigmoid').
class Activation : public Module {
 public:
  explicit Activation(Act a, float slope = 0.2f);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override;
  Act act;
  float slope;
};

// A pool window. Same: Keras "same" (out = ceil(in/stride), computed per input size, avg
// excludes padding like TF); Valid: no padding; Explicit: the given pads (avg includes them
// like PyTorch unless count_include_pad is off).
struct PoolWindow {
  // Square k x k window, stride (-1 = k) on both axes, symmetric `pad` when Explicit.
  PoolWindow(int k, int stride, Padding p, int pad);
  // Per-axis window and strides (-1 = the window's size on that axis), Same or Valid.
  PoolWindow(int kh, int kw, int stride_h, int stride_w, Padding p);
  // Everything the ops take, as given (Explicit): per-axis window and strides, the four pads,
  // count_include_pad for avg.
  explicit PoolWindow(const Pool2dArgs& explicit_args);
  Pool2dArgs args_for(const Shape& x) const;
  Pool2dArgs args;  // window and strides always; pads and count_include_pad used when Explicit
  Padding padding;
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int k = 2, int stride = -1, Padding p = Padding::Valid, int pad = 0) : window(k, stride, p, pad) {}
  explicit MaxPool2d(PoolWindow w) : window(w) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, window.args_for(x.shape())); }
  std::string type_name() const override { return "MaxPooling2D"; }
  PoolWindow window;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(int k = 2, int stride = -1, Padding p = Padding::Valid, int pad = 0) : window(k, stride, p, pad) {}
  explicit AvgPool2d(PoolWindow w) : window(w) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, window.args_for(x.shape())); }
  std::string type_name() const override { return "AveragePooling2D"; }
  PoolWindow window;
};

class GlobalAvgPool2d : public Module {  // [N, C, H, W] -> [N, C]
 public:
  Tensor forward(const Tensor& x) override { return global_avg_pool2d(x); }
  std::string type_name() const override { return "GlobalAveragePooling2D"; }
};

class UpsampleNearest2d : public Module {
 public:
  explicit UpsampleNearest2d(int scale = 2) : UpsampleNearest2d(scale, scale) {}
  UpsampleNearest2d(int scale_h, int scale_w);  // per axis, as the op (Keras size=(h, w))
  Tensor forward(const Tensor& x) override { return upsample_nearest2d(x, scale_h, scale_w); }
  std::string type_name() const override { return "UpSampling2D"; }
  int scale_h, scale_w;
};

class Flatten : public Module {  // [N, ...] -> [N, prod(...)]
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }
};

// Inverted dropout, active only in training mode; owns its seeded generator.
class Dropout : public Module {
 public:
  Dropout(float p, uint64_t seed);
  Tensor forward(const Tensor& x) override { return dropout(x, p, is_training(), rng); }
  std::string type_name() const override { return "Dropout"; }
  float p;
  Rng rng;
};

// MixStyle (autograd/ops.h mix_style) as a layer: in training, with probability p per call, each
// instance's channel statistics are mixed with a random partner's, lambda ~ Beta(alpha, alpha).
// forward(x, groups): partners are drawn within each group (e.g. the label, so a live face takes a
// live face's "style" only); forward(x) draws from the whole batch. The identity in evaluation.
class MixStyle : public Module {
 public:
  MixStyle(float p, float alpha, uint64_t seed);
  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }
  Tensor forward(const Tensor& x, const std::vector<float>* groups);
  std::string type_name() const override { return "MixStyle"; }
  float p, alpha;
  Rng rng;  // reseeded per epoch by fas train, like Dropout's
};

// weight [num, dim] ~ N(0, 1) (PyTorch's default). lookup is the index API: int64 ids ->
// [ids.size(), dim]. forward is the Module form for models whose input is a tensor (Keras'
// Embedding layer): integer ids stored as floats (exact up to 2^24), any shape S -> [S..., dim].
class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, Rng& rng);
  Tensor forward(const Tensor& ids) override;
  Tensor lookup(const std::vector<int64_t>& ids) { return embedding(ids, weight); }
  std::string type_name() const override { return "Embedding"; }
  Tensor weight;
};

}  // namespace fas
