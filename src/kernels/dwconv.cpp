#include "kernels/dwconv.h"

namespace fas {

// For output row oh of one plane, calls f(tap, x_row_index_base, lo, hi): outputs ow in [lo, hi)
// of that row meet input element base + ow*sw through weight tap kh*KW+kw.
template <class F>
static inline void row_taps(const ConvDims& d, int64_t oh, F&& f) {
  for (int kh = 0; kh < d.KH; ++kh) {
    const int64_t ih = oh * d.sh - d.pt + (int64_t)kh * d.dh;
    if (ih < 0 || ih >= d.H) continue;
    for (int kw = 0; kw < d.KW; ++kw) {
      const int64_t off = (int64_t)kw * d.dw - d.pl;
      int64_t lo, hi;
      conv_valid_range(off, d.sw, d.W, d.OW, &lo, &hi);
      f(kh * d.KW + kw, ih * d.W + off, lo, hi);
    }
  }
}

void f32_dwconv2d_fwd__scalar(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                              bool accumulate, int threads) {
  const int64_t planes = d.N * d.C, T = (int64_t)d.KH * d.KW;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t c = p % d.C;
    const float* xp = x + p * d.HW();
    const float* wp = w + c * T;
    float* yp = y + p * d.OHW();
    const float bv = b ? b[c] : 0.f;
    for (int64_t oh = 0; oh < d.OH; ++oh) {
      float* yr = yp + oh * d.OW;
      for (int64_t ow = 0; ow < d.OW; ++ow) yr[ow] = (accumulate ? yr[ow] : 0.f) + bv;
      row_taps(d, oh, [&](int64_t tap, int64_t base, int64_t lo, int64_t hi) {
        const float wv = wp[tap];
        for (int64_t ow = lo; ow < hi; ++ow) yr[ow] += wv * xp[base + ow * d.sw];
      });
    }
  }
}

void f32_dwconv2d_bwd_input__scalar(const ConvDims& d, const float* gy, const float* w, float* gx,
                                    int threads) {
  const int64_t planes = d.N * d.C, T = (int64_t)d.KH * d.KW;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* wp = w + (p % d.C) * T;
    const float* gp = gy + p * d.OHW();
    float* xp = gx + p * d.HW();
    for (int64_t oh = 0; oh < d.OH; ++oh) {
      const float* gr = gp + oh * d.OW;
      row_taps(d, oh, [&](int64_t tap, int64_t base, int64_t lo, int64_t hi) {
        const float wv = wp[tap];
        for (int64_t ow = lo; ow < hi; ++ow) xp[base + ow * d.sw] += wv * gr[ow];
      });
    }
  }
}

void f32_dwconv2d_bwd_weight__scalar(const ConvDims& d, const float* x, const float* gy, float* gw,
                                     int threads) {
  const int64_t T = (int64_t)d.KH * d.KW;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < d.C; ++c) {
    float* wp = gw + c * T;
    for (int64_t n = 0; n < d.N; ++n) {
      const int64_t p = n * d.C + c;
      const float* xp = x + p * d.HW();
      const float* gp = gy + p * d.OHW();
      for (int64_t oh = 0; oh < d.OH; ++oh) {
        const float* gr = gp + oh * d.OW;
        row_taps(d, oh, [&](int64_t tap, int64_t base, int64_t lo, int64_t hi) {
          float s = 0.f;
          for (int64_t ow = lo; ow < hi; ++ow) s += gr[ow] * xp[base + ow * d.sw];
          wp[tap] += s;
        });
      }
    }
  }
}

}  // namespace fas
