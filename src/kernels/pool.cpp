#include "kernels/pool.h"

#include <algorithm>
#include <string>

#include "base/error.h"

namespace fas {

namespace {
// Valid input range [lo, hi) of the window starting at `start` (may be negative) of size k.
inline void clip(int64_t start, int k, int64_t n, int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(start, 0);
  *hi = std::min<int64_t>(start + k, n);
}
}  // namespace

// Window walk shared by every pool: f(output index, clipped rows [h0, h1), cols [w0, w1)).
// Clipping to the real pixels is why padding never wins a max nor counts in a "same" average.
template <class F>
static void pool_windows(const PoolGeom& g, F f) {
  for (int64_t i = 0; i < g.oh; ++i) {
    int64_t h0, h1;
    clip(i * g.sh - g.pad_top, g.kh, g.h, &h0, &h1);
    for (int64_t j = 0; j < g.ow; ++j) {
      int64_t w0, w1;
      clip(j * g.sw - g.pad_left, g.kw, g.w, &w0, &w1);
      f(i * g.ow + j, h0, h1, w0, w1);
    }
  }
}

// Avg pool's walk: also hands over 1/divisor.
template <class F>
static void avg_windows(const PoolGeom& g, bool include_pad, F f) {
  pool_windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    const int64_t cnt = include_pad ? (int64_t)g.kh * g.kw : (h1 - h0) * (w1 - w0);
    f(o, h0, h1, w0, w1, 1.f / (float)cnt);
  });
}

void f32_maxpool2d(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in;
    pool_windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
      int64_t best = h0 * g.w + w0;
      float m = xp[best];
      for (int64_t r = h0; r < h1; ++r)
        for (int64_t c = w0; c < w1; ++c)
          if (xp[r * g.w + c] > m) m = xp[r * g.w + c], best = r * g.w + c;  // strict: first max wins
      y[p * out + o] = m;
      if (argmax) argmax[p * out + o] = (int32_t)best;
    });
  }
}

void f32_maxpool2d_backward(const float* gy, const int32_t* argmax, const PoolGeom& g, float* gx) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t o = 0; o < out; ++o) gx[p * in + argmax[p * out + o]] += gy[p * out + o];
}

void f32_avgpool2d(const float* x, const PoolGeom& g, bool include_pad, float* y) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in;
    float* yp = y + p * out;
    avg_windows(g, include_pad, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, float inv) {
      float s = 0.f;
      for (int64_t r = h0; r < h1; ++r)
        for (int64_t c = w0; c < w1; ++c) s += xp[r * g.w + c];
      yp[o] = s * inv;
    });
  }
}

void f32_avgpool2d_backward(const float* gy, const PoolGeom& g, bool include_pad, float* gx) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* gp = gy + p * out;
    float* xp = gx + p * in;
    avg_windows(g, include_pad, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, float inv) {
      const float v = gp[o] * inv;
      for (int64_t r = h0; r < h1; ++r)
        for (int64_t c = w0; c < w1; ++c) xp[r * g.w + c] += v;
    });
  }
}

void f32_global_avgpool(const float* x, int64_t planes, int64_t size, float* y) {
  for (int64_t p = 0; p < planes; ++p) {
    double s = 0;  // planes can be large (250x200): accumulate in double
    for (int64_t i = 0; i < size; ++i) s += x[p * size + i];
    y[p] = (float)(s / (double)size);
  }
}

void f32_global_avgpool_backward(const float* gy, int64_t planes, int64_t size, float* gx) {
  for (int64_t p = 0; p < planes; ++p) {
    const float v = gy[p] / (float)size;
    for (int64_t i = 0; i < size; ++i) gx[p * size + i] += v;
  }
}

void f32_upsample_nearest2d(const float* x, int64_t planes, int64_t h, int64_t w, int sh, int sw, float* y) {
  const int64_t ow = w * sw;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < h * sh; ++i) {
      const float* xr = x + (p * h + i / sh) * w;
      float* yr = y + (p * h * sh + i) * ow;
      for (int64_t j = 0; j < ow; ++j) yr[j] = xr[j / sw];
    }
}

void f32_upsample_nearest2d_backward(const float* gy, int64_t planes, int64_t h, int64_t w, int sh, int sw,
                                     float* gx) {
  const int64_t ow = w * sw;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < h * sh; ++i) {
      float* xr = gx + (p * h + i / sh) * w;
      const float* yr = gy + (p * h * sh + i) * ow;
      for (int64_t j = 0; j < ow; ++j) xr[j / sw] += yr[j];
    }
}

// ---- 2x2 fast paths: the "scalar" variants are the references on the 2x2 geometry.

namespace {
PoolGeom geom2x2(int64_t planes, int64_t h, int64_t w) {
  return PoolGeom{planes, h, w, h / 2, w / 2, 2, 2, 2, 2, 0, 0};
}
bool is_2x2(const PoolGeom& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pad_top == 0 && g.pad_left == 0 && g.oh == g.h / 2 &&
         g.ow == g.w / 2;
}
}  // namespace

void f32_maxpool2x2_row_tail(const float* xp, int64_t w, int64_t i, int64_t j0, int64_t ow, float* yr, int32_t* ar) {
  for (int64_t j = j0; j < ow; ++j) {  // the window scan of f32_maxpool2d: strict >, row-major
    const int64_t base = 2 * i * w + 2 * j, cand[4] = {base, base + 1, base + w, base + w + 1};
    int64_t best = cand[0];
    for (int k = 1; k < 4; ++k)
      if (xp[cand[k]] > xp[best]) best = cand[k];
    yr[j] = xp[best];
    if (ar) ar[j] = (int32_t)best;
  }
}

void f32_maxpool2x2__scalar(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int32_t* argmax) {
  f32_maxpool2d(x, geom2x2(planes, h, w), y, argmax);
}
void f32_maxpool2x2_bwd__scalar(const float* gy, const int32_t* argmax, int64_t planes, int64_t h, int64_t w,
                                float* gx) {
  f32_maxpool2d_backward(gy, argmax, geom2x2(planes, h, w), gx);
}
void f32_upsample2x__scalar(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  f32_upsample_nearest2d(x, planes, h, w, 2, 2, y);
}
void f32_upsample2x_bwd__scalar(const float* gy, int64_t planes, int64_t h, int64_t w, float* gx) {
  f32_upsample_nearest2d_backward(gy, planes, h, w, 2, 2, gx);
}

#define FAS_POOL_TABLE(isa) \
  PoolKernels { f32_maxpool2x2__##isa, f32_maxpool2x2_bwd__##isa, f32_upsample2x__##isa, f32_upsample2x_bwd__##isa }

const PoolKernels& pool_kernels(Isa isa) {
  static const PoolKernels scalar = FAS_POOL_TABLE(scalar);
  if (!isa_supported(isa)) fail(std::string("pool: ISA ") + isa_name(isa) + " is not available on this CPU or build");
#if defined(__x86_64__)
  static const PoolKernels avx2 = FAS_POOL_TABLE(avx2);
  if (isa == Isa::Avx2 || isa == Isa::Avx512) return avx2;  // no AVX-512 variant: AVX2 runs there
#elif defined(__aarch64__)
  static const PoolKernels neon = FAS_POOL_TABLE(neon);
  if (isa == Isa::Neon) return neon;
#endif
  return scalar;
}

const PoolKernels& pool_kernels() { return pool_kernels(active_isa()); }

namespace {
// Runs f(p0, p1) on contiguous plane ranges, one per thread; small jobs stay on one thread.
template <class F>
void split_planes(int64_t planes, int64_t plane_size, int threads, F f) {
  const int T = planes * plane_size < (int64_t(1) << 16) ? 1 : (int)std::min<int64_t>(threads, planes);
  if (T <= 1) return f(int64_t(0), planes);
#pragma omp parallel for num_threads(T) schedule(static)
  for (int t = 0; t < T; ++t) f(planes * t / T, planes * (t + 1) / T);
}
}  // namespace

void maxpool2d(const float* x, const PoolGeom& g, float* y, int32_t* argmax, int threads) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  const bool fast = is_2x2(g);
  const MaxPool2x2Fn f = pool_kernels().maxpool2x2;
  split_planes(g.planes, in, threads, [&](int64_t p0, int64_t p1) {
    PoolGeom s = g;
    s.planes = p1 - p0;
    if (fast)
      f(x + p0 * in, s.planes, g.h, g.w, y + p0 * out, argmax ? argmax + p0 * out : nullptr);
    else
      f32_maxpool2d(x + p0 * in, s, y + p0 * out, argmax ? argmax + p0 * out : nullptr);
  });
}

void maxpool2d_backward(const float* gy, const int32_t* argmax, const PoolGeom& g, float* gx, int threads) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  const bool fast = is_2x2(g);
  const MaxPool2x2BwdFn f = pool_kernels().maxpool2x2_bwd;
  split_planes(g.planes, in, threads, [&](int64_t p0, int64_t p1) {
    PoolGeom s = g;
    s.planes = p1 - p0;
    if (fast)
      f(gy + p0 * out, argmax + p0 * out, s.planes, g.h, g.w, gx + p0 * in);
    else
      f32_maxpool2d_backward(gy + p0 * out, argmax + p0 * out, s, gx + p0 * in);
  });
}

void upsample_nearest2d(const float* x, int64_t planes, int64_t h, int64_t w, int sh, int sw, float* y, int threads) {
  const int64_t in = h * w, out = in * sh * sw;
  const Upsample2xFn f = pool_kernels().upsample2x;
  split_planes(planes, out, threads, [&](int64_t p0, int64_t p1) {
    if (sh == 2 && sw == 2)
      f(x + p0 * in, p1 - p0, h, w, y + p0 * out);
    else
      f32_upsample_nearest2d(x + p0 * in, p1 - p0, h, w, sh, sw, y + p0 * out);
  });
}

void upsample_nearest2d_backward(const float* gy, int64_t planes, int64_t h, int64_t w, int sh, int sw, float* gx,
                                 int threads) {
  const int64_t in = h * w, out = in * sh * sw;
  const Upsample2xBwdFn f = pool_kernels().upsample2x_bwd;
  split_planes(planes, out, threads, [&](int64_t p0, int64_t p1) {
    if (sh == 2 && sw == 2)
      f(gy + p0 * out, p1 - p0, h, w, gx + p0 * in);
    else
      f32_upsample_nearest2d_backward(gy + p0 * out, p1 - p0, h, w, sh, sw, gx + p0 * in);
  });
}

}  // namespace fas
