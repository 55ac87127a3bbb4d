#include "kernels/softmax.h"

#include <cmath>

namespace fas {

void f32_softmax(const float* x, int64_t outer, int64_t n, int64_t inner, bool log_out, float* y) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* xr = x + o * n * inner + i;
      float* yr = y + o * n * inner + i;
      float m = xr[0];
      for (int64_t k = 1; k < n; ++k) m = std::fmax(m, xr[k * inner]);
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += std::exp((double)(xr[k * inner] - m));
      if (log_out) {
        const float lse = (float)std::log(s);
        for (int64_t k = 0; k < n; ++k) yr[k * inner] = xr[k * inner] - m - lse;
      } else {
        const double inv = 1.0 / s;
        for (int64_t k = 0; k < n; ++k) yr[k * inner] = (float)(std::exp((double)(xr[k * inner] - m)) * inv);
      }
    }
}

void f32_softmax_backward(const float* y, const float* gy, int64_t outer, int64_t n, int64_t inner, bool log_out,
                          float* gx) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += (double)gy[base + k * inner] * (log_out ? 1.f : y[base + k * inner]);
      for (int64_t k = 0; k < n; ++k) {
        const int64_t j = base + k * inner;
        gx[j] += log_out ? gy[j] - std::exp(y[j]) * (float)s : y[j] * (gy[j] - (float)s);
      }
    }
}

}  // namespace fas
