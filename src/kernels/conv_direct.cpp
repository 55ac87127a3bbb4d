// Dispatch table, padding and whole-tensor drivers of the direct stride-1 conv kernels. Built
// without ISA flags; also instantiates the portable one-lane variant ("scalar").
#include "kernels/conv_direct.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/conv_direct_impl.h"
#include "kernels/simd/vec_scalar.h"
#include "base/error.h"

FAS_DEFINE_CONV_DIRECT(scalar, VecScalar)

namespace fas {

#define FAS_CONV_DIRECT_TABLE(isa) \
  ConvDirectKernels { f32_conv2d_s1_4oc3v__##isa, f32_conv2d_s1_dw_3oc3tap__##isa }

const ConvDirectKernels& conv_direct_kernels(Isa isa) {
  static const ConvDirectKernels scalar = FAS_CONV_DIRECT_TABLE(scalar);
#if defined(__x86_64__)
  static const ConvDirectKernels avx2 = FAS_CONV_DIRECT_TABLE(avx2);
  static const ConvDirectKernels avx512 = FAS_CONV_DIRECT_TABLE(avx512);
  if (isa == Isa::Avx2 && isa_supported(isa)) return avx2;
  if (isa == Isa::Avx512 && isa_supported(isa)) return avx512;
#elif defined(__aarch64__)
  static const ConvDirectKernels neon = FAS_CONV_DIRECT_TABLE(neon);
  if (isa == Isa::Neon && isa_supported(isa)) return neon;
#endif
  if (isa == Isa::Scalar) return scalar;
  fail(std::string("conv_direct: ISA ") + isa_name(isa) + " is not available on this CPU or build");
}

const ConvDirectKernels& conv_direct_kernels() { return conv_direct_kernels(active_isa()); }

int64_t direct_conv_padded_width(int64_t OW, int KW) {
  return (OW + kDirectConvLanes - 1) / kDirectConvLanes * kDirectConvLanes + KW - 1;
}

void f32_conv2d_pad_planes(const float* x, int64_t C, int64_t H, int64_t W, int64_t pt, int64_t pl, float* xp,
                           int64_t Hp, int64_t Wp) {
  // Columns [lo, hi) of a padded row hold x columns [lo - pl, hi - pl).
  const int64_t lo = std::clamp<int64_t>(pl, 0, Wp), hi = std::clamp<int64_t>(pl + W, lo, Wp);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t r = 0; r < Hp; ++r) {
      float* dst = xp + (c * Hp + r) * Wp;
      const int64_t sr = r - pt;
      if (sr < 0 || sr >= H || hi == lo) {
        std::memset(dst, 0, sizeof(float) * Wp);
        continue;
      }
      std::memset(dst, 0, sizeof(float) * lo);
      std::memcpy(dst + lo, x + (c * H + sr) * W + (lo - pl), sizeof(float) * (hi - lo));
      std::memset(dst + hi, 0, sizeof(float) * (Wp - hi));
    }
}

// Narrow layers only: min(C, OC) <= 16 and max(C, OC) <= 32. From 32-64 channels on both sides
// im2col + OpenBLAS wins (3x3 64->64: 55 vs 40 GFLOP/s on one core).
constexpr int64_t kDirectMaxChannels = 16;

bool conv2d_direct_suits(const ConvDims& d) {
  return d.groups == 1 && d.sh == 1 && d.sw == 1 && d.dh == 1 && d.dw == 1 && !conv2d_is_pointwise(d) &&
         std::min(d.C, d.OC) <= kDirectMaxChannels && std::max(d.C, d.OC) <= 2 * kDirectMaxChannels;
}

namespace {

// One direct conv over the batch: its geometry on padded inputs and the input plane geometry.
// With the batch split over threads, each image is padded and run a band of `band` output rows
// at a time, so the padded rows are still in cache when the kernel reads them.
struct DirectConv {
  DirectConvGeom g;
  int64_t N, H, W, pt, pl, band;
  size_t padded() const { return (size_t)(g.C * g.Hp * g.Wp); }
  size_t band_padded() const { return (size_t)(g.C * (band + g.KH - 1) * g.Wp); }
  int64_t in_image() const { return g.C * H * W; }
  int64_t out_image() const { return g.OC * g.OH * g.OW; }
  // Geometry of output rows [r0, r1) on their own padded band.
  DirectConvGeom band_geom(int64_t r0, int64_t r1) const {
    DirectConvGeom b = g;
    b.OH = r1 - r0, b.Hp = r1 - r0 + g.KH - 1;
    return b;
  }
  // Pads the input rows output rows [r0, r1) read, of image x, into xp.
  void pad_band(const float* x, int64_t r0, int64_t r1, float* xp) const {
    f32_conv2d_pad_planes(x, g.C, H, W, pt - r0, pl, xp, r1 - r0 + g.KH - 1, g.Wp);
  }
};

constexpr int64_t kPadBandFloats = 64 * 1024;  // 256 KB of padded rows per band

DirectConv make(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t OH, int64_t OW, int KH, int KW,
                int64_t pt, int64_t pl) {
  const int64_t Wp = direct_conv_padded_width(OW, KW);
  const int64_t band = std::min(OH, std::max<int64_t>(1, kPadBandFloats / (C * Wp) - KH + 1));
  return DirectConv{{C, OC, OH + KH - 1, Wp, OH, OW, KH, KW, OH * OW}, N, H, W, pt, pl, band};
}

// Calls f(r0, r1) for the row bands of one image.
template <class F>
void for_row_bands(const DirectConv& p, F f) {
  for (int64_t r0 = 0; r0 < p.g.OH; r0 += p.band) f(r0, std::min(p.g.OH, r0 + p.band));
}

DirectConv forward_conv(const ConvDims& d) {
  return make(d.N, d.C, d.H, d.W, d.OC, d.OH, d.OW, d.KH, d.KW, d.pt, d.pl);
}
// The input gradient as a forward conv of gy: channels swapped, kernel flipped, pads KH-1-pt.
DirectConv input_grad_conv(const ConvDims& d) {
  return make(d.N, d.OC, d.OH, d.OW, d.C, d.H, d.W, d.KH, d.KW, d.KH - 1 - d.pt, d.KW - 1 - d.pl);
}

// Padded floats the passes need: a band per thread when the batch is split over threads, else
// one whole image shared by the team.
size_t padded_floats(const DirectConv& p, int threads) {
  return p.N >= threads ? (size_t)threads * p.band_padded() : p.padded();
}

size_t round16(size_t n) { return (n + 15) / 16 * 16; }

// Pads one image with the team of the enclosing parallel region, one plane per iteration.
void pad_image_shared(const DirectConv& p, const float* x, float* xp) {
#pragma omp for schedule(static)
  for (int64_t c = 0; c < p.g.C; ++c)
    f32_conv2d_pad_planes(x + c * p.H * p.W, 1, p.H, p.W, p.pt, p.pl, xp + c * p.g.Hp * p.g.Wp, p.g.Hp, p.g.Wp);
}

void run_forward(const DirectConv& p, const float* x, const float* w, const float* b, float* y, bool acc, float* ws,
                 int threads) {
  const ConvDirectFwdFn f = conv_direct_kernels().fwd;
  const DirectConvGeom& g = p.g;
  if (p.N >= threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t n = 0; n < p.N; ++n) {
      float* xp = ws + (size_t)omp_get_thread_num() * p.band_padded();
      for_row_bands(p, [&](int64_t r0, int64_t r1) {
        p.pad_band(x + n * p.in_image(), r0, r1, xp);
        f(xp, w, b, y + n * p.out_image() + r0 * g.OW, p.band_geom(r0, r1), 0, g.OC, 0, r1 - r0, acc);
      });
    }
    return;
  }
  // Fewer images than threads (inference): split each image into output-channel blocks x row
  // bands, about four tasks per thread.
  const int64_t blocks = (g.OC + 3) / 4;
  const int64_t bands = std::min<int64_t>(g.OH, std::max<int64_t>(1, (4 * threads + blocks - 1) / blocks));
#pragma omp parallel num_threads(threads)
  for (int64_t n = 0; n < p.N; ++n) {
    pad_image_shared(p, x + n * p.in_image(), ws);  // ends with a barrier
#pragma omp for schedule(static)
    for (int64_t t = 0; t < blocks * bands; ++t) {
      const int64_t blk = t % blocks, band = t / blocks;
      f(ws, w, b, y + n * p.out_image(), g, blk * 4, std::min(g.OC, blk * 4 + 4), g.OH * band / bands,
        g.OH * (band + 1) / bands, acc);
    }
  }
}

}  // namespace

size_t f32_conv2d_direct_workspace(const ConvDims& d, ConvPass pass, int threads) {
  const size_t wsize = (size_t)(d.OC * d.C * d.KH * d.KW);
  switch (pass) {
    case ConvPass::Fwd: return padded_floats(forward_conv(d), threads);
    case ConvPass::BwdInput: return round16(wsize) + padded_floats(input_grad_conv(d), threads);
    case ConvPass::BwdWeight: return padded_floats(forward_conv(d), threads) + (threads > 1 ? threads * wsize : 0);
  }
  return 0;
}

void f32_conv2d_fwd__direct(const ConvDims& d, const float* x, const float* w, const float* b, float* y,
                            bool accumulate, float* ws, int threads) {
  run_forward(forward_conv(d), x, w, b, y, accumulate, ws, threads);
}

void f32_conv2d_bwd_input__direct(const ConvDims& d, const float* gy, const float* w, float* gx, float* ws,
                                  int threads, bool accumulate) {
  // wt [C][OC][KH][KW] = w [OC][C][KH][KW] with the kernel rotated by 180 degrees.
  float* wt = ws;
  const int64_t KK = (int64_t)d.KH * d.KW;
  for (int64_t oc = 0; oc < d.OC; ++oc)
    for (int64_t c = 0; c < d.C; ++c)
      for (int64_t k = 0; k < KK; ++k) wt[(c * d.OC + oc) * KK + (KK - 1 - k)] = w[(oc * d.C + c) * KK + k];
  // The forward kernel writes every output, so accumulate = false assigns gx without reading it.
  run_forward(input_grad_conv(d), gy, wt, nullptr, gx, accumulate, ws + round16((size_t)(d.OC * d.C * KK)), threads);
}

void f32_conv2d_bwd_weight__direct(const ConvDims& d, const float* x, const float* gy, float* gw, float* ws,
                                   int threads) {
  const DirectConv p = forward_conv(d);
  const ConvDirectDwFn f = conv_direct_kernels().dw;
  const DirectConvGeom& g = p.g;
  // gw += the images [n0, n1), padded a band at a time into xp.
  auto images = [&](int64_t n0, int64_t n1, float* xp, float* out) {
    for (int64_t n = n0; n < n1; ++n)
      for_row_bands(p, [&](int64_t r0, int64_t r1) {
        p.pad_band(x + n * p.in_image(), r0, r1, xp);
        f(xp, gy + n * p.out_image() + r0 * g.OW, out, p.band_geom(r0, r1), 0, r1 - r0);
      });
  };
  if (threads == 1) return images(0, d.N, ws, gw);
  // Each thread sums its images (or, below one image per thread, its row band of every image)
  // into a private partial; the partials are added in thread order.
  const size_t wsize = (size_t)(d.OC * d.C * d.KH * d.KW);
  float* parts = ws + padded_floats(p, threads);
  const bool by_image = d.N >= threads;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    float* part = parts + (size_t)t * wsize;
    std::fill(part, part + wsize, 0.f);
    if (by_image) {
      images(d.N * t / nt, d.N * (t + 1) / nt, ws + (size_t)t * p.band_padded(), part);
    } else {
      for (int64_t n = 0; n < d.N; ++n) {
        pad_image_shared(p, x + n * p.in_image(), ws);  // ends with a barrier
        f(ws, gy + n * p.out_image(), part, g, g.OH * t / nt, g.OH * (t + 1) / nt);
#pragma omp barrier
      }
    }
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < (int64_t)wsize; ++i) {
      float s = gw[i];
      for (int k = 0; k < nt; ++k) s += parts[(size_t)k * wsize + i];  // fixed order
      gw[i] = s;
    }
  }
}

}  // namespace fas
