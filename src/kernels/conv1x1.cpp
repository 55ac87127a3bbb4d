// Reference and dispatch for the pointwise conv kernel; also the portable one-lane variant.
#include "kernels/conv1x1.h"

#include <algorithm>
#include <string>

#include "kernels/conv1x1_impl.h"
#include "kernels/simd/vec_scalar.h"
#include "base/error.h"

FAS_DEFINE_CONV1X1(scalar, VecScalar)

namespace fas {

void f32_conv1x1_bias_clamp__ref(const float* x, const float* w, const float* bias, float* y, int64_t C, int64_t OC,
                                 int64_t P, float lo, float hi) {
  for (int64_t o = 0; o < OC; ++o)
    for (int64_t p = 0; p < P; ++p) {
      double s = bias ? bias[o] : 0.0;
      for (int64_t c = 0; c < C; ++c) s += (double)w[o * C + c] * x[c * P + p];
      y[o * P + p] = std::min(std::max((float)s, lo), hi);
    }
}

Conv1x1Fn conv1x1_kernel(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::Avx2 && isa_supported(isa)) return f32_conv1x1_bias_clamp__avx2;
  if (isa == Isa::Avx512 && isa_supported(isa)) return f32_conv1x1_bias_clamp__avx512;
#elif defined(__aarch64__)
  if (isa == Isa::Neon && isa_supported(isa)) return f32_conv1x1_bias_clamp__neon;
#endif
  if (isa == Isa::Scalar) return f32_conv1x1_bias_clamp__scalar;
  fail(std::string("conv1x1: ISA ") + isa_name(isa) + " is not available on this CPU or build");
}

Conv1x1Fn conv1x1_kernel() { return conv1x1_kernel(active_isa()); }

}  // namespace fas
