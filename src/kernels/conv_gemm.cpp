// Convolution lowered to sgemm (kernels/gemm.h: single-threaded; the batch loop owns the cores).
// Per image n and group g, with K = Cg*KH*KW and P = OH*OW:
//   fwd:        y_ng [OCg, P]  = w_g [OCg, K] * col [K, P]           (col = im2col(x_ng))
//   bwd_input:  col [K, P]     = w_g^T * gy_ng [OCg, P];  x_ng += col2im(col)
//   bwd_weight: gw_g [OCg, K] += gy_ng * col^T
// col is built for a band of output rows at a time (band_rows), so it stays in cache.
#include <omp.h>

#include <algorithm>
#include <string>
#include <cstring>

#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace fas {

// Shared walk of im2col / col2im over output rows [oh0, oh1): col is [K][(oh1 - oh0) * OW]. For
// each (c, kh, kw) row of col and each output row oh, calls the copy for outputs ow in [lo, hi)
// that read x_g[base + ow*sw]; the rest of that col row segment is padding.
template <bool kToCol>
static void im2col_walk(const ConvDims& d, float* col, float* x_g, int64_t oh0, int64_t oh1) {
  const int64_t P = (oh1 - oh0) * d.OW;
  const VAddFn vadd = elementwise_kernels().vadd;
  for (int64_t c = 0; c < d.Cg(); ++c)
    for (int kh = 0; kh < d.KH; ++kh) {
      int64_t ohlo, ohhi;
      conv_valid_range((int64_t)kh * d.dh - d.pt, d.sh, d.H, d.OH, &ohlo, &ohhi);
      ohlo = std::min(std::max(ohlo, oh0), oh1), ohhi = std::min(std::max(ohhi, ohlo), oh1);
      for (int kw = 0; kw < d.KW; ++kw) {
        const int64_t off = (int64_t)kw * d.dw - d.pl;
        int64_t lo, hi;
        conv_valid_range(off, d.sw, d.W, d.OW, &lo, &hi);
        float* row = col + ((c * d.KH + kh) * d.KW + kw) * P;
        float* xc = x_g + c * d.HW();
        if (kToCol) {  // padding rows and columns read as zero
          std::memset(row, 0, sizeof(float) * (ohlo - oh0) * d.OW);
          std::memset(row + (ohhi - oh0) * d.OW, 0, sizeof(float) * (oh1 - ohhi) * d.OW);
        }
        for (int64_t oh = ohlo; oh < ohhi; ++oh) {
          float* r = row + (oh - oh0) * d.OW;
          float* xr = xc + (oh * d.sh - d.pt + (int64_t)kh * d.dh) * d.W;
          if (kToCol) {
            for (int64_t ow = 0; ow < lo; ++ow) r[ow] = 0.f;
            if (d.sw == 1)
              std::memcpy(r + lo, xr + lo + off, sizeof(float) * (hi - lo));
            else
              for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * d.sw + off];
            for (int64_t ow = hi; ow < d.OW; ++ow) r[ow] = 0.f;
          } else if (d.sw == 1) {
            vadd(xr + lo + off, r + lo, xr + lo + off, hi - lo);
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow * d.sw + off] += r[ow];
          }
        }
      }
    }
}

void f32_im2col(const ConvDims& d, const float* x_g, float* col) {
  im2col_walk<true>(d, col, const_cast<float*>(x_g), 0, d.OH);  // reads x_g only
}

void f32_col2im(const ConvDims& d, const float* col, float* x_g) {
  im2col_walk<false>(d, const_cast<float*>(col), x_g, 0, d.OH);  // reads col only
}

bool conv2d_is_pointwise(const ConvDims& d) {
  return d.KH == 1 && d.KW == 1 && d.sh == 1 && d.sw == 1 && d.pt == 0 && d.pl == 0 && d.OH == d.H &&
         d.OW == d.W;
}

// The column matrix is built for a band of output rows at a time, sized to stay in L2 with the
// GEMM's packed panels (a whole image's K x OH*OW matrix can be tens of MB: written once and read
// back from memory). At least 256 columns per band, so each GEMM keeps a reasonable width.
constexpr int64_t kColBandFloats = 96 * 1024;
static int64_t band_rows(const ConvDims& d) {
  const int64_t by_cache = kColBandFloats / std::max<int64_t>(1, d.K() * d.OW);
  const int64_t min_rows = (256 + d.OW - 1) / d.OW;
  return std::min<int64_t>(d.OH, std::max<int64_t>({by_cache, min_rows, 1}));
}

static size_t col_floats(const ConvDims& d) {
  return conv2d_is_pointwise(d) ? 0 : (size_t)(d.K() * band_rows(d) * d.OW);
}

static int batch_threads(const ConvDims& d, int threads) {
  return (int)std::max<int64_t>(1, std::min<int64_t>(threads, d.N));
}

// The sgemm (M, N, K) of each pass over a band of ld output pixels: the passes below call sgemm
// with these, and f32_conv2d_gemm_name names the GEMM that runs for them.
struct PassGemm {
  int64_t M, N, K;
};
static PassGemm pass_gemm(const ConvDims& d, ConvPass pass, int64_t ld) {
  switch (pass) {
    case ConvPass::Fwd: return {d.OCg(), ld, d.K()};        // y[OCg, ld] = w[OCg, K] col[K, ld]
    case ConvPass::BwdInput: return {d.K(), ld, d.OCg()};   // col[K, ld] = w^T gy[OCg, ld]
    default: return {d.OCg(), d.K(), ld};                   // gw[OCg, K] += gy[OCg, ld] col^T
  }
}

// Fwd and BwdInput multiply by the weights (w_g, w_g^T) in every band of every image: they are
// packed for the GEMM once per call, at the front of the workspace (0 floats when a full band's
// GEMM goes to OpenBLAS, e.g. the few-pixel planes of deep layers, and for BwdWeight, whose A is
// the output gradient).
static size_t packed_w_floats(const ConvDims& d, ConvPass pass) {
  if (pass == ConvPass::BwdWeight) return 0;
  const int64_t full_band = conv2d_is_pointwise(d) ? d.OHW() : band_rows(d) * d.OW;
  const PassGemm s = pass_gemm(d, pass, full_band);
  return (size_t)d.groups * sgemm_packed_a_floats(s.M, s.N, s.K);
}

// The packed weights at the front of ws: group g's at of(g) (null when not packed); the
// pass's own buffers start at ws + floats.
struct PackedW {
  const float* data = nullptr;
  size_t group = 0, floats = 0;
  const float* of(int64_t g) const { return data ? data + (size_t)g * group : nullptr; }
};

static PackedW pack_w(const ConvDims& d, ConvPass pass, const float* w, float* ws) {
  PackedW p;
  p.floats = packed_w_floats(d, pass);
  p.group = p.floats / (size_t)d.groups;
  if (p.floats == 0) return p;
  const PassGemm s = pass_gemm(d, pass, 0);
  for (int64_t g = 0; g < d.groups; ++g)
    sgemm_pack_a(pass == ConvPass::BwdInput, s.M, s.K, w + g * d.OCg() * d.K(), d.K(), ws + g * p.group);
  p.data = ws;
  return p;
}

size_t f32_conv2d_gemm_workspace(const ConvDims& d, ConvPass pass, int threads) {
  const int T = batch_threads(d, threads);
  size_t per_thread = col_floats(d);
  if (pass == ConvPass::BwdWeight && T > 1) per_thread += (size_t)(d.OC * d.K());  // private gw partial
  return packed_w_floats(d, pass) + per_thread * (size_t)T;
}

// Calls f(oh0, oh1, col_ld) for the row bands of one image; pointwise convs are one band read
// straight from the image (col_ld = OH*OW).
template <class F>
static void for_bands(const ConvDims& d, F f) {
  if (conv2d_is_pointwise(d)) return f(int64_t(0), d.OH, d.OHW());
  const int64_t rows = band_rows(d);
  for (int64_t oh0 = 0; oh0 < d.OH; oh0 += rows) {
    const int64_t oh1 = std::min(d.OH, oh0 + rows);
    f(oh0, oh1, (oh1 - oh0) * d.OW);
  }
}

// Calls f(n, g, col) for every image n and group g, images spread over the threads; col is the
// calling thread's im2col buffer in ws (null for pointwise convs, which need none).
template <class F>
static void for_image_groups(const ConvDims& d, float* ws, int threads, F f) {
  const bool pw = conv2d_is_pointwise(d);
  const size_t colsz = col_floats(d);
#pragma omp parallel for num_threads(batch_threads(d, threads)) schedule(static)
  for (int64_t n = 0; n < d.N; ++n) {
    float* col = pw ? nullptr : ws + (size_t)omp_get_thread_num() * colsz;
    for (int64_t g = 0; g < d.groups; ++g) f(n, g, col);
  }
}

std::string f32_conv2d_gemm_name(const ConvDims& d, ConvPass pass) {
  std::string names;
  for_bands(d, [&](int64_t, int64_t, int64_t ld) {
    const PassGemm s = pass_gemm(d, pass, ld);
    const std::string n = gemm_name(s.M, s.N, s.K);
    if (names.find(n) == std::string::npos) names += (names.empty() ? "" : " + ") + n;
  });
  return names;
}

void f32_conv2d_fwd__gemm(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                          bool accumulate, float* ws, int threads) {
  const bool pw = conv2d_is_pointwise(d);
  const int64_t K = d.K(), P = d.OHW(), Cg = d.Cg(), OCg = d.OCg();
  const PackedW wp = pack_w(d, ConvPass::Fwd, w, ws);
  for_image_groups(d, ws + wp.floats, threads, [&](int64_t n, int64_t g, float* col) {
    const float* xg = x + (n * d.C + g * Cg) * d.HW();
    float* yg = y + (n * d.OC + g * OCg) * P;
    for_bands(d, [&](int64_t oh0, int64_t oh1, int64_t ld) {
      if (!pw) im2col_walk<true>(d, col, const_cast<float*>(xg), oh0, oh1);
      if (b)  // the bias goes in first (this band of y is in cache), then the GEMM adds onto it
        for (int64_t o = 0; o < OCg; ++o) {
          const float bv = b[g * OCg + o];
          float* r = yg + o * P + oh0 * d.OW;
          if (accumulate)
            for (int64_t i = 0; i < ld; ++i) r[i] += bv;
          else
            std::fill(r, r + ld, bv);
        }
      const PassGemm s = pass_gemm(d, ConvPass::Fwd, ld);
      sgemm(false, false, s.M, s.N, s.K, 1.f, w + g * OCg * K, K, pw ? xg : col, ld, accumulate || b ? 1.f : 0.f,
            yg + oh0 * d.OW, P, wp.of(g));
    });
  });
}

void f32_conv2d_bwd_input__gemm(const ConvDims& d, const float* gy, const float* w, float* gx, float* ws,
                                int threads, bool accumulate) {
  const bool pw = conv2d_is_pointwise(d);
  const int64_t K = d.K(), P = d.OHW(), Cg = d.Cg(), OCg = d.OCg();
  const PackedW wp = pack_w(d, ConvPass::BwdInput, w, ws);
  for_image_groups(d, ws + wp.floats, threads, [&](int64_t n, int64_t g, float* col) {
    const float* gyg = gy + (n * d.OC + g * OCg) * P;
    float* gxg = gx + (n * d.C + g * Cg) * d.HW();
    // col2im adds, so the assign form zeroes this image's group first (in this thread, just
    // before the bands write it, rather than the whole tensor up front).
    if (!accumulate && !pw) std::fill(gxg, gxg + Cg * d.HW(), 0.f);
    for_bands(d, [&](int64_t oh0, int64_t oh1, int64_t ld) {
      const PassGemm s = pass_gemm(d, ConvPass::BwdInput, ld);
      if (pw) {  // col2im of a pointwise conv is the identity (one band, ld = P): GEMM straight into gx
        sgemm(true, false, s.M, s.N, s.K, 1.f, w + g * OCg * K, K, gyg, P, accumulate ? 1.f : 0.f, gxg, P,
              wp.of(g));
      } else {
        sgemm(true, false, s.M, s.N, s.K, 1.f, w + g * OCg * K, K, gyg + oh0 * d.OW, P, 0.f, col, ld,
              wp.of(g));
        im2col_walk<false>(d, col, gxg, oh0, oh1);
      }
    });
  });
}

// gw_all [OC, K] += contributions of images [n0, n1).
static void bwd_weight_images(const ConvDims& d, const float* x, const float* gy, float* gw_all, float* col,
                              int64_t n0, int64_t n1) {
  const bool pw = conv2d_is_pointwise(d);
  const int64_t K = d.K(), P = d.OHW(), Cg = d.Cg(), OCg = d.OCg();
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t g = 0; g < d.groups; ++g) {
      const float* xg = x + (n * d.C + g * Cg) * d.HW();
      const float* gyg = gy + (n * d.OC + g * OCg) * P;
      for_bands(d, [&](int64_t oh0, int64_t oh1, int64_t ld) {
        if (!pw) im2col_walk<true>(d, col, const_cast<float*>(xg), oh0, oh1);
        const PassGemm s = pass_gemm(d, ConvPass::BwdWeight, ld);
        sgemm(false, true, s.M, s.N, s.K, 1.f, gyg + oh0 * d.OW, P, pw ? xg : col, ld, 1.f, gw_all + g * OCg * K, K);
      });
    }
}

void f32_conv2d_bwd_weight__gemm(const ConvDims& d, const float* x, const float* gy, float* gw, float* ws,
                                 int threads) {
  const int T = batch_threads(d, threads);
  if (T == 1) {
    bwd_weight_images(d, x, gy, gw, ws, 0, d.N);
    return;
  }
  const size_t colsz = col_floats(d), wsz = (size_t)(d.OC * d.K());
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();  // nt <= T
    float* part = ws + (size_t)T * colsz + (size_t)t * wsz;
    std::fill(part, part + wsz, 0.f);
    bwd_weight_images(d, x, gy, part, ws + (size_t)t * colsz, d.N * t / nt, d.N * (t + 1) / nt);
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < (int64_t)wsz; ++i) {
      float s = gw[i];
      for (int k = 0; k < nt; ++k) s += ws[(size_t)T * colsz + (size_t)k * wsz + i];  // fixed order
      gw[i] = s;
    }
  }
}

}  // namespace fas
