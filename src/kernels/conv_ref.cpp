// Direct-loop reference convolution: obviously correct, slow. Every fast conv kernel is tested
// against these (tests/test_conv.cpp).
#include "kernels/conv.h"

namespace fas {

namespace {
// Calls f(n, oc, oh, ow, c, kh, kw, x_index, w_index, y_index) for every tap that reads a real
// (non-padding) input pixel: the one loop nest all three passes share.
template <class F>
void for_each_tap(const ConvDims& d, F&& f) {
  const int64_t Cg = d.Cg(), OCg = d.OCg();
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t oc = 0; oc < d.OC; ++oc) {
      const int64_t g = oc / OCg;
      for (int64_t oh = 0; oh < d.OH; ++oh)
        for (int64_t ow = 0; ow < d.OW; ++ow) {
          const int64_t yi = ((n * d.OC + oc) * d.OH + oh) * d.OW + ow;
          for (int64_t c = 0; c < Cg; ++c)
            for (int kh = 0; kh < d.KH; ++kh) {
              const int64_t ih = oh * d.sh - d.pt + (int64_t)kh * d.dh;
              if (ih < 0 || ih >= d.H) continue;
              for (int kw = 0; kw < d.KW; ++kw) {
                const int64_t iw = ow * d.sw - d.pl + (int64_t)kw * d.dw;
                if (iw < 0 || iw >= d.W) continue;
                const int64_t xi = ((n * d.C + g * Cg + c) * d.H + ih) * d.W + iw;
                const int64_t wi = ((oc * Cg + c) * d.KH + kh) * d.KW + kw;
                f(xi, wi, yi);
              }
            }
        }
    }
}
}  // namespace

void f32_conv2d_fwd__ref(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                         bool accumulate) {
  const int64_t ysize = d.N * d.OC * d.OHW();
  for (int64_t i = 0; i < ysize; ++i) {
    const float bias = b ? b[(i / d.OHW()) % d.OC] : 0.f;
    y[i] = (accumulate ? y[i] : 0.f) + bias;
  }
  for_each_tap(d, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
}

void f32_conv2d_bwd_input__ref(const ConvDims& d, const float* gy, const float* w, float* gx) {
  for_each_tap(d, [&](int64_t xi, int64_t wi, int64_t yi) { gx[xi] += gy[yi] * w[wi]; });
}

void f32_conv2d_bwd_weight__ref(const ConvDims& d, const float* x, const float* gy, float* gw) {
  for_each_tap(d, [&](int64_t xi, int64_t wi, int64_t yi) { gw[wi] += x[xi] * gy[yi]; });
}

void f32_conv2d_bwd_bias(int64_t N, int64_t C, int64_t P, const float* g, float* gb, int threads) {
  // One channel per iteration (one writer per gb[oc]: the result does not depend on threads).
  // Eight running sums break the add latency chain; they are combined in a fixed order.
#pragma omp parallel for num_threads(N * C * P >= (int64_t(1) << 16) ? threads : 1) schedule(static)
  for (int64_t oc = 0; oc < C; ++oc) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t n = 0; n < N; ++n) {
      const float* p = g + (n * C + oc) * P;
      int64_t i = 0;
      for (; i + 8 <= P; i += 8)
        for (int k = 0; k < 8; ++k) s[k] += p[i + k];
      for (; i < P; ++i) s[i % 8] += p[i];
    }
    gb[oc] += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  }
}

}  // namespace fas
