// Convolution lowered to OpenBLAS sgemm (single-threaded BLAS; the batch loop owns the cores).
// Per image n and group g, with K = Cg*KH*KW and P = OH*OW:
//   fwd:        y_ng [OCg, P]  = w_g [OCg, K] * col [K, P]           (col = im2col(x_ng))
//   bwd_input:  col [K, P]     = w_g^T * gy_ng [OCg, P];  x_ng += col2im(col)
//   bwd_weight: gw_g [OCg, K] += gy_ng * col^T
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/conv.h"
#include "kernels/gemm.h"

namespace fas {

// Shared walk of im2col / col2im: for each (c, kh, kw) row of col and each output row oh, calls
// f(col_row_ptr, x_index_base, lo, hi) where outputs ow in [lo, hi) read x_g[base + ow*sw]; the
// rest of that col row segment is padding.
template <bool kToCol>
static void im2col_walk(const ConvDims& d, float* col, float* x_g) {
  const int64_t P = d.OHW();
  for (int64_t c = 0; c < d.Cg(); ++c)
    for (int kh = 0; kh < d.KH; ++kh) {
      int64_t ohlo, ohhi;
      conv_valid_range((int64_t)kh * d.dh - d.pt, d.sh, d.H, d.OH, &ohlo, &ohhi);
      for (int kw = 0; kw < d.KW; ++kw) {
        const int64_t off = (int64_t)kw * d.dw - d.pl;
        int64_t lo, hi;
        conv_valid_range(off, d.sw, d.W, d.OW, &lo, &hi);
        float* row = col + ((c * d.KH + kh) * d.KW + kw) * P;
        float* xc = x_g + c * d.HW();
        if (kToCol) {  // padding rows and columns read as zero
          std::memset(row, 0, sizeof(float) * ohlo * d.OW);
          std::memset(row + ohhi * d.OW, 0, sizeof(float) * (d.OH - ohhi) * d.OW);
        }
        for (int64_t oh = ohlo; oh < ohhi; ++oh) {
          float* r = row + oh * d.OW;
          float* xr = xc + (oh * d.sh - d.pt + (int64_t)kh * d.dh) * d.W;
          if (kToCol) {
            for (int64_t ow = 0; ow < lo; ++ow) r[ow] = 0.f;
            if (d.sw == 1)
              std::memcpy(r + lo, xr + lo + off, sizeof(float) * (hi - lo));
            else
              for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * d.sw + off];
            for (int64_t ow = hi; ow < d.OW; ++ow) r[ow] = 0.f;
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow * d.sw + off] += r[ow];
          }
        }
      }
    }
}

void f32_im2col(const ConvDims& d, const float* x_g, float* col) {
  im2col_walk<true>(d, col, const_cast<float*>(x_g));  // reads x_g only
}

void f32_col2im(const ConvDims& d, const float* col, float* x_g) {
  im2col_walk<false>(d, const_cast<float*>(col), x_g);  // reads col only
}

bool conv2d_is_pointwise(const ConvDims& d) {
  return d.KH == 1 && d.KW == 1 && d.sh == 1 && d.sw == 1 && d.pt == 0 && d.pl == 0 && d.OH == d.H &&
         d.OW == d.W;
}

static size_t col_floats(const ConvDims& d) { return conv2d_is_pointwise(d) ? 0 : (size_t)(d.K() * d.OHW()); }

static int batch_threads(const ConvDims& d, int threads) {
  return (int)std::max<int64_t>(1, std::min<int64_t>(threads, d.N));
}

size_t f32_conv2d_gemm_workspace(const ConvDims& d, ConvPass pass, int threads) {
  const int T = batch_threads(d, threads);
  size_t per_thread = col_floats(d);
  if (pass == ConvPass::BwdWeight && T > 1) per_thread += (size_t)(d.OC * d.K());  // private gw partial
  return per_thread * (size_t)T;
}

void f32_conv2d_fwd__gemm(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                          bool accumulate, float* ws, int threads) {
  const bool pw = conv2d_is_pointwise(d);
  const int64_t K = d.K(), P = d.OHW(), Cg = d.Cg(), OCg = d.OCg();
  const size_t colsz = col_floats(d);
#pragma omp parallel for num_threads(batch_threads(d, threads)) schedule(static)
  for (int64_t n = 0; n < d.N; ++n) {
    float* col = pw ? nullptr : ws + (size_t)omp_get_thread_num() * colsz;
    for (int64_t g = 0; g < d.groups; ++g) {
      const float* xg = x + (n * d.C + g * Cg) * d.HW();
      if (!pw) f32_im2col(d, xg, col);
      float* yg = y + (n * d.OC + g * OCg) * P;
      sgemm(false, false, OCg, P, K, 1.f, w + g * OCg * K, K, pw ? xg : col, P, accumulate ? 1.f : 0.f, yg, P);
      if (b)
        for (int64_t o = 0; o < OCg; ++o) {
          const float bv = b[g * OCg + o];
          float* r = yg + o * P;
          for (int64_t i = 0; i < P; ++i) r[i] += bv;
        }
    }
  }
}

void f32_conv2d_bwd_input__gemm(const ConvDims& d, const float* gy, const float* w, float* gx, float* ws,
                                int threads) {
  const bool pw = conv2d_is_pointwise(d);
  const int64_t K = d.K(), P = d.OHW(), Cg = d.Cg(), OCg = d.OCg();
  const size_t colsz = col_floats(d);
#pragma omp parallel for num_threads(batch_threads(d, threads)) schedule(static)
  for (int64_t n = 0; n < d.N; ++n) {
    float* col = pw ? nullptr : ws + (size_t)omp_get_thread_num() * colsz;
    for (int64_t g = 0; g < d.groups; ++g) {
      const float* gyg = gy + (n * d.OC + g * OCg) * P;
      float* gxg = gx + (n * d.C + g * Cg) * d.HW();
      if (pw) {  // col2im of a pointwise conv is the identity: accumulate straight into gx
        sgemm(true, false, K, P, OCg, 1.f, w + g * OCg * K, K, gyg, P, 1.f, gxg, P);
      } else {
        sgemm(true, false, K, P, OCg, 1.f, w + g * OCg * K, K, gyg, P, 0.f, col, P);
        f32_col2im(d, col, gxg);
      }
    }
  }
}

// gw_all [OC, K] += contributions of images [n0, n1).
static void bwd_weight_images(const ConvDims& d, const float* x, const float* gy, float* gw_all, float* col,
                              int64_t n0, int64_t n1) {
  const bool pw = conv2d_is_pointwise(d);
  const int64_t K = d.K(), P = d.OHW(), Cg = d.Cg(), OCg = d.OCg();
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t g = 0; g < d.groups; ++g) {
      const float* xg = x + (n * d.C + g * Cg) * d.HW();
      if (!pw) f32_im2col(d, xg, col);
      sgemm(false, true, OCg, K, P, 1.f, gy + (n * d.OC + g * OCg) * P, P, pw ? xg : col, P, 1.f,
            gw_all + g * OCg * K, K);
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
