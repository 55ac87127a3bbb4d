// Pointwise (1x1, stride 1) convolution with the bias and activation fused into the epilogue,
// for one image in NCHW: y[OC, P] = clamp(bias + w[OC, C] x[C, P], lo, hi). MobileNet's expand
// and project layers have C, OC of 8..96: OpenBLAS spends more on packing and on zeroing C
// (beta = 0) than on the arithmetic there, and the bias/ReLU6 would cost another pass.
// Register tile: 4 output channels x 2 vectors of pixels; pixel tails in scalar code.
#pragma once
#include <cstdint>

#include "kernels/cpu.h"

namespace fas {

// bias may be null. No allocation; x, w, y must not alias.
using Conv1x1Fn = void (*)(const float* x, const float* w, const float* bias, float* y, int64_t C, int64_t OC,
                           int64_t P, float lo, float hi);
Conv1x1Fn conv1x1_kernel(Isa isa);  // must be available
Conv1x1Fn conv1x1_kernel();         // active_isa()

#define FAS_DECLARE_CONV1X1(isa)                                                                        \
  void f32_conv1x1_bias_clamp__##isa(const float* x, const float* w, const float* bias, float* y, int64_t C, \
                                     int64_t OC, int64_t P, float lo, float hi);
FAS_DECLARE_CONV1X1(ref)
FAS_DECLARE_CONV1X1(scalar)
FAS_DECLARE_CONV1X1(avx2)
FAS_DECLARE_CONV1X1(avx512)
FAS_DECLARE_CONV1X1(neon)

}  // namespace fas
