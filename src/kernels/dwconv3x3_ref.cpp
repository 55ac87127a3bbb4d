// Plain reference depthwise 3x3 kernels, written straight from the definition (double sums).
#include <algorithm>

#include "kernels/dwconv3x3.h"

namespace fas {

void f32_dwconv3x3__ref(const float* x, const float* w9, float bias, float* y, const DwConv3x3Geom& g, int stride,
                        float out_min, float out_max, bool accumulate) {
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      double s = (accumulate ? y[oy * g.ow + ox] : 0.0) + bias;
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t iy = oy * stride - g.pad_top + ky, ix = ox * stride - g.pad_left + kx;
          if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) s += (double)x[iy * g.w + ix] * w9[ky * 3 + kx];
        }
      y[oy * g.ow + ox] = std::min(std::max((float)s, out_min), out_max);
    }
}

void f32_dwconv3x3_dx__ref(const float* dy, const float* w9, float* dx, const DwConv3x3Geom& g, int stride) {
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox)
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t iy = oy * stride - g.pad_top + ky, ix = ox * stride - g.pad_left + kx;
          if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) dx[iy * g.w + ix] += dy[oy * g.ow + ox] * w9[ky * 3 + kx];
        }
}

void f32_dwconv3x3_dw__ref(const float* x, const float* dy, float* dw9, const DwConv3x3Geom& g, int stride) {
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx) {
      double s = 0;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const int64_t iy = oy * stride - g.pad_top + ky, ix = ox * stride - g.pad_left + kx;
          if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) s += (double)x[iy * g.w + ix] * dy[oy * g.ow + ox];
        }
      dw9[ky * 3 + kx] += (float)s;
    }
}

}  // namespace fas
