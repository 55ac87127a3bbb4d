// Seeded random numbers and initialisers. The generator and the transforms are our own, so
// the same seed gives the same numbers on every platform and standard library.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace fas {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next_u64();         // xoshiro256**
  float uniform();             // [0, 1)
  float uniform(float lo, float hi);
  float normal();              // N(0, 1), Box-Muller
  uint64_t below(uint64_t n);  // [0, n)
  float gamma(float shape);    // Gamma(shape, 1), shape > 0 (Marsaglia-Tsang)
  float beta(float a, float b);  // Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b)

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  float spare_ = 0.f;
};

// Fan computation for a weight: dense [out, in]; conv [OC, IC/g, KH, KW] -> fan_in =
// IC/g*KH*KW, fan_out = OC*KH*KW; transposed conv [IC, OC/g, KH, KW] -> PyTorch convention
// (fan_in = dim 1 * receptive field).
void fans(const Shape& w, int64_t* fan_in, int64_t* fan_out);

// While one is alive (on this thread), init_uniform and init_normal, and so every random
// initialiser below, leave the tensor as allocated (zeros) and draw nothing: a model whose
// weights a checkpoint will replace is built without a random first copy (models/registry.h
// build_uninitialised). Nests; init_constant still runs (e.g. batch-norm gamma = 1).
class SkipInit {
 public:
  SkipInit();
  ~SkipInit();
  SkipInit(const SkipInit&) = delete;
  SkipInit& operator=(const SkipInit&) = delete;
  static bool active();

 private:
  bool prev_;
};

void init_uniform(Tensor& t, float lo, float hi, Rng& rng);
void init_normal(Tensor& t, float mean, float std, Rng& rng);
void init_constant(Tensor& t, float v);
void init_glorot_uniform(Tensor& t, Rng& rng);  // Keras default: U(±sqrt(6/(fan_in+fan_out)))
void init_he_normal(Tensor& t, Rng& rng);       // N(0, sqrt(2/fan_in))
void init_he_uniform(Tensor& t, Rng& rng);      // U(±sqrt(6/fan_in))
// PyTorch default for Linear/Conv weights: kaiming_uniform(a=sqrt(5)) = U(±1/sqrt(fan_in)),
// and for their biases U(±1/sqrt(fan_in)) of the weight's fan_in.
void init_torch_default(Tensor& t, int64_t fan_in, Rng& rng);

}  // namespace fas
