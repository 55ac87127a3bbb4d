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

// Square pool window k x k with stride (-1 = k). Same: Keras "same" (out = ceil(in/stride),
// computed per input size, avg excludes padding like TF); Valid: no padding; Explicit:
// symmetric `pad` (an extension of the guide's API; avg includes padding like PyTorch).
struct PoolWindow {
  PoolWindow(int k, int stride, Padding p, int pad);
  Pool2dArgs args_for(const Shape& x) const;
  int k, stride, pad;
  Padding padding;
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int k = 2, int stride = -1, Padding p = Padding::Valid, int pad = 0) : window(k, stride, p, pad) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, window.args_for(x.shape())); }
  std::string type_name() const override { return "MaxPooling2D"; }
  PoolWindow window;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(int k = 2, int stride = -1, Padding p = Padding::Valid, int pad = 0) : window(k, stride, p, pad) {}
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
  explicit UpsampleNearest2d(int scale = 2);
  Tensor forward(const Tensor& x) override { return upsample_nearest2d(x, scale, scale); }
  std::string type_name() const override { return "UpSampling2D"; }
  int scale;
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

// weight [num, dim] ~ N(0, 1) (PyTorch's default). forward takes a tensor of integer ids
// (stored as floats, any shape S) and returns [S..., dim].
class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, Rng& rng);
  Tensor forward(const Tensor& ids) override;
  Tensor lookup(const std::vector<int64_t>& ids) { return embedding(ids, weight); }
  std::string type_name() const override { return "Embedding"; }
  Tensor weight;
};

}  // namespace fas
