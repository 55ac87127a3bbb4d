// AVX-512 VNNI int8 kernels (contract and scalar references in qs8_nhwc.h / qs8_nhwc.cpp).
// vpdpwssd adds two int16 x int16 products into each int32 lane in one instruction, so a zmm
// accumulates 16 outputs x 2 k against the AVX2 kernels' int16-pair packed weights (AVX2 needs
// vpmaddwd + vpaddd for 8 outputs x 2 k); layers of at most 8 outputs (the projections) use a
// ymm. Depthwise: x sign-extended to int32 lanes, w zero-extended, so the pair product
// (x, sign(x)) . (w, 0) is x * w and one vpdpwssd is a 16-lane multiply-add.
// The epilogue performs the reference's float operations in its order, 16 lanes at a time; this
// file is built with -ffp-contract=off so that mul + add stays two roundings, as in the
// reference: results are bit-identical (tests/test_mobilenet_int8.cpp). Without a residual, four
// vectors whose outputs lie in one run are rounded, packed to 64 bytes and clamped as int8
// together (Requant::rounded, pack4, store_run: the pointwise tiles and the 8-channel depthwise;
// EXP-139). Where the four vectors' outputs lie apart (other depthwise rows, the paired
// projection pixels), the extra shuffles cost more than they save (measured), so those keep
// one narrowing store per vector.
// Not part of the SIMDe-emulated build: SIMDe 0.7.4 lacks the 512-bit int <-> float conversions
// and masked byte loads used here, so these kernels are tested on CPUs with AVX-512 VNNI.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/qs8_nhwc.h"

// GCC 12 warns inside its own avx512fintrin.h (self-initialised undefined vectors): a false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace fas {
namespace {

// acc += pairwise int16 dot products. Inline asm rather than _mm512_dpwssd_epi32: GCC 12 does
// not tie the intrinsic's accumulator to its output, and in a tile of 24 accumulators it copies
// each one through a spare register and the stack around every vpdpwssd (1.1x slower engine).
template <class V>
inline V dpwssd(V acc, V a, V b) {
  asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// 16 int32 lanes in a zmm.
struct Zmm {
  static constexpr int V = 16;
  using iv = __m512i;
  using fv = __m512;
  using mask = __mmask16;
  static mask first(int64_t n) { return n >= 16 ? mask(0xFFFF) : mask((1u << n) - 1u); }
  static iv zero() { return _mm512_setzero_si512(); }
  static iv bcast32(const int16_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static iv wpairs(const int16_t* p, mask m) { return _mm512_maskz_loadu_epi32(m, p); }
  static iv dot2(iv acc, iv a, iv b) { return dpwssd(acc, a, b); }
  static iv i8_to_i32(const int8_t* p, mask m) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)); }
  static iv w16_to_u32(const int16_t* p, mask m) { return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)); }
  static fv loadf(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static fv setf(float a) { return _mm512_set1_ps(a); }
  static fv cvt(iv a) { return _mm512_cvtepi32_ps(a); }
  static fv add(fv a, fv b) { return _mm512_add_ps(a, b); }
  static fv mul(fv a, fv b) { return _mm512_mul_ps(a, b); }
  static fv min(fv a, fv b) { return _mm512_min_ps(a, b); }
  static fv max(fv a, fv b) { return _mm512_max_ps(a, b); }
  static iv cvt_round(fv a) { return _mm512_cvtps_epi32(a); }
  // round half to even (default MXCSR), already within [-127, 127], narrowed and stored
  static void store_i8(int8_t* p, mask m, fv v) { _mm_mask_storeu_epi8(p, m, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v))); }
};

// 8 int32 lanes in a ymm (AVX-512VL encodings).
struct Ymm {
  static constexpr int V = 8;
  using iv = __m256i;
  using fv = __m256;
  using mask = __mmask8;
  static mask first(int64_t n) { return n >= 8 ? mask(0xFF) : mask((1u << n) - 1u); }
  static iv zero() { return _mm256_setzero_si256(); }
  static iv bcast32(const int16_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static iv wpairs(const int16_t* p, mask m) { return _mm256_maskz_loadu_epi32(m, p); }
  static iv dot2(iv acc, iv a, iv b) { return dpwssd(acc, a, b); }
  static iv i8_to_i32(const int8_t* p, mask m) { return _mm256_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)); }
  static fv loadf(const float* p, mask m) { return _mm256_maskz_loadu_ps(m, p); }
  static fv setf(float a) { return _mm256_set1_ps(a); }
  static fv cvt(iv a) { return _mm256_cvtepi32_ps(a); }
  static fv add(fv a, fv b) { return _mm256_add_ps(a, b); }
  static fv mul(fv a, fv b) { return _mm256_mul_ps(a, b); }
  static fv min(fv a, fv b) { return _mm256_min_ps(a, b); }
  static fv max(fv a, fv b) { return _mm256_max_ps(a, b); }
  static iv cvt_round(fv a) { return _mm256_cvtps_epi32(a); }
  static void store_i8(int8_t* p, mask m, fv v) { _mm_mask_storeu_epi8(p, m, _mm256_cvtsepi32_epi8(_mm256_cvtps_epi32(v))); }
};

// The requantisation of qs8_nhwc.h for V sums. Without a residual the ReLU6 bounds and the
// int8 range are one clamp: clamp(clamp(v, lo, hi), -127, 127) = clamp(v, max(lo, -127),
// min(hi, 127)) whenever [lo, hi] meets [-127, 127] (always, for the bounds the engine uses).
// That clamp can follow the rounding, as int8 (qlo, qhi): round half to even is monotonic, so
// round(clamp(v, l, h)) = clamp(round(v), round(l), round(h)).
template <class T>
struct Requant {
  typename T::fv lo, hi, rs;
  bool clamp127;
  __m512i qlo, qhi;  // the merged bounds rounded, in every byte
  Requant(float lo_, float hi_, bool has_res, float res_scale) {
    const bool merge = !has_res && lo_ <= hi_ && lo_ <= 127.f && hi_ >= -127.f;
    lo = T::setf(merge ? std::max(lo_, -127.f) : lo_);
    hi = T::setf(merge ? std::min(hi_, 127.f) : hi_);
    rs = T::setf(res_scale);
    clamp127 = !merge;
    qlo = _mm512_set1_epi8(static_cast<char>(merge ? std::nearbyint(std::max(lo_, -127.f)) : 0));
    qhi = _mm512_set1_epi8(static_cast<char>(merge ? std::nearbyint(std::min(hi_, 127.f)) : 0));
  }
  bool packs() const { return !clamp127; }  // no residual: rounded + pack4 apply
  // round(acc * scale + bias) as int32. The cap at 2^30 keeps cvtps2dq from overflowing to its
  // INT_MIN on the high side; below -2^31 INT_MIN is right, as every value under -127 is.
  using iv = typename T::iv;
  using fv = typename T::fv;
  __attribute__((always_inline)) iv rounded(iv acc, fv scale, fv bias) const {
    return T::cvt_round(T::min(T::add(T::mul(T::cvt(acc), scale), bias), T::setf(1073741824.f)));
  }
  __attribute__((always_inline)) iv rounded(iv acc, const float* scale, const float* bias, typename T::mask m) const {
    return rounded(acc, T::loadf(scale, m), T::loadf(bias, m));
  }
  void operator()(typename T::iv acc, const float* scale, const float* bias, typename T::mask m, const int8_t* res,
                  int8_t* y) const {
    (*this)(acc, T::loadf(scale, m), T::loadf(bias, m), m, res, y);
  }
  void operator()(typename T::iv acc, typename T::fv scale, typename T::fv bias, typename T::mask m,
                  const int8_t* res, int8_t* y) const {
    typename T::fv v = T::add(T::mul(T::cvt(acc), scale), bias);
    v = T::min(T::max(v, lo), hi);
    if (res) v = T::add(v, T::mul(rs, T::cvt(T::i8_to_i32(res, m))));
    if (clamp127) v = T::min(T::max(v, T::setf(-127.f)), T::setf(127.f));
    T::store_i8(y, m, v);
  }
};

// Four vectors of rounded sums (Requant::rounded) to 64 int8 in the order [a | b | c | d]: the
// packs saturate, and work within 128-bit lanes (lane l holds the l-th quarter of each of a..d),
// so one dword permute restores the order; then the bounds, on all 64 bytes at once.
__attribute__((always_inline)) inline __m512i pack4(__m512i a, __m512i b, __m512i c, __m512i d,
                                                   const Requant<Zmm>& rq) {
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i p = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
  return _mm512_min_epi8(_mm512_max_epi8(_mm512_permutexvar_epi32(order, p), rq.qlo), rq.qhi);
}

// L vectors of 16 rounded outputs, o[0] .. o[L-1], stored one after another from y; the last
// one's lanes under `last`. (An array, not a callback: a lambda that captures the accumulators
// makes GCC keep them in memory through the whole k loop.)
template <int L>
__attribute__((always_inline)) inline void store_run(const __m512i (&o)[L], int8_t* y, __mmask16 last,
                                                     const Requant<Zmm>& rq) {
  const __m512i z = _mm512_setzero_si512();
#pragma GCC unroll 16
  for (int g = 0; g < L; g += 4) {
    const __m512i b = pack4(o[g], g + 1 < L ? o[g + 1] : z, g + 2 < L ? o[g + 2] : z, g + 3 < L ? o[g + 3] : z, rq);
    const int n = std::min(4, L - g);
    const __mmask64 m = g + 4 < L ? ~__mmask64(0)
                                  : ((__mmask64(1) << (16 * (n - 1))) - 1) | (__mmask64(last) << (16 * (n - 1)));
    _mm512_mask_storeu_epi8(y + 16 * g, m, b);
  }
}

constexpr int64_t kChunk = 256;  // k per stack chunk (even)

// Rows x[i*ldx + k], k < kc, of MR pixels widened to int16 in xs, zero-filled to a multiple
// of 16 (so a pair or two pairs read past kc are zero).
template <int MR>
__attribute__((always_inline)) inline void widen_rows(const int8_t* x, int64_t ldx, int64_t kc,
                                                      int16_t (*xs)[kChunk + 16]) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
    for (int64_t k = 0; k < kc; k += 16) {
      const __mmask16 m = kc - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (kc - k)) - 1u);
      _mm256_store_si256(reinterpret_cast<__m256i*>(xs[i] + k),
                         _mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(m, x + i * ldx + k)));
    }
}

// One MR x (V*NV) pointwise tile from column n0: rows widened to int16 on the stack (a masked
// load reads the tail and zero-fills the odd pair's second k), then one vpdpwssd per pixel,
// pair and vector.
template <class T, int MR, int NV>
void pw_tile(int64_t K, int64_t N, int64_t n0, const int8_t* x, int64_t ldx, const int16_t* w, const float* scale,
             const float* bias, const int8_t* res, int8_t* y, const Requant<T>& rq) {
  constexpr int V = T::V;
  const int64_t Np = nhwc_pad_ch(N);
  alignas(64) int16_t xs[MR][kChunk + 16];
  typename T::mask wm[NV];
  typename T::iv acc[MR][NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) wm[j] = T::first(N - n0 - V * j);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = T::zero();
  for (int64_t k0 = 0; k0 < K; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, K - k0);
    widen_rows<MR>(x + k0, ldx, kc, xs);
    for (int64_t p = 0; p < (kc + 1) / 2; ++p) {
      const int16_t* wp = w + (k0 / 2 + p) * Np * 2 + n0 * 2;
      typename T::iv wv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) wv[j] = T::wpairs(wp + 2 * V * j, wm[j]);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const typename T::iv xb = T::bcast32(xs[i] + 2 * p);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = T::dot2(acc[i][j], xb, wv[j]);
      }
    }
  }
  if constexpr (std::is_same_v<T, Zmm>) {
    if (rq.packs()) {
      __m512i o[MR][NV];
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j)
          o[i][j] = rq.rounded(acc[i][j], scale + n0 + V * j, bias + n0 + V * j, wm[j]);
      if (n0 == 0 && N == V * NV)  // the tile spans whole rows: its outputs are MR * NV vectors in a run
        return store_run<MR * NV>(reinterpret_cast<const __m512i(&)[MR * NV]>(o), y, wm[NV - 1], rq);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) store_run<NV>(o[i], y + i * N + n0, wm[NV - 1], rq);
      return;
    }
  }
  // Fully unrolled, as every loop over acc: otherwise GCC keeps acc in memory and copies each
  // accumulator through the stack around every vpdpwssd.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      const int64_t n = n0 + V * j;
      rq(acc[i][j], scale + n, bias + n, wm[j], res ? res + i * N + n : nullptr, y + i * N + n);
    }
}

template <class T, int MR, int NV>
void pw_columns(int64_t M, int64_t K, int64_t N, int64_t n0, const int8_t* x, int64_t ldx, const int16_t* w,
                const float* scale, const float* bias, const int8_t* res, int8_t* y, const Requant<T>& rq) {
  nhwc_pw_pixel_tiles<MR>(M, [&](int64_t m, auto S) {
    pw_tile<T, decltype(S)::value, NV>(K, N, n0, x + m * ldx, ldx, w, scale, bias, res ? res + m * N : nullptr,
                                       y + m * N, rq);
  });
}

// Exactly 8 outputs (the projections): a zmm holds 8 outputs x 2 pairs (4 k). The weight rows
// of pairs p and p+1 are adjacent in the packed layout; one permute interleaves them (lane 2n:
// pair p, output n; lane 2n+1: pair p+1), shared by the MR pixels, and a 64-bit broadcast
// gives each pixel's two x pairs, so every vpdpwssd fills 16 lanes where a ymm fills 8. After
// the k loop the two halves of each output sit in adjacent lanes: pixels i and i+1 are folded
// into one zmm (two permutes and an add), requantised and stored as 16 contiguous bytes.
template <int MR>
void pw8_tile(int64_t K, const int8_t* x, int64_t ldx, const int16_t* w, __m512 scale, __m512 bias,
              const int8_t* res, int8_t* y, const Requant<Zmm>& rq) {
  alignas(64) int16_t xs[MR][kChunk + 16];
  const __m512i ilv = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  __m512i acc[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc[i] = _mm512_setzero_si512();
  for (int64_t k0 = 0; k0 < K; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, K - k0);
    widen_rows<MR>(x + k0, ldx, kc, xs);
    const int64_t np = (kc + 1) / 2;  // chunks are even, so only the last may end on an odd pair
    for (int64_t p = 0; p < np; p += 2) {
      const __mmask16 m = p + 1 < np ? __mmask16(0xFFFF) : __mmask16(0x00FF);
      const __m512i wv = _mm512_permutexvar_epi32(ilv, _mm512_maskz_loadu_epi32(m, w + (k0 / 2 + p) * 16));
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        int64_t xp;
        std::memcpy(&xp, xs[i] + 2 * p, 8);
        acc[i] = dpwssd(acc[i], _mm512_set1_epi64(xp), wv);
      }
    }
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#pragma GCC unroll 8
  for (int i = 0; i < MR; i += 2) {
    const __m512i b = i + 1 < MR ? acc[i + 1] : _mm512_setzero_si512();
    const __m512i s = _mm512_add_epi32(_mm512_permutex2var_epi32(acc[i], even, b),
                                       _mm512_permutex2var_epi32(acc[i], odd, b));
    rq(s, scale, bias, i + 1 < MR ? __mmask16(0xFFFF) : __mmask16(0x00FF), res ? res + i * 8 : nullptr, y + i * 8);
  }
}

// One depthwise output pixel whose window may leave the row: taps outside [0, W) skipped.
template <int NR>
inline void dw_edge_pixel(const int8_t* const* r, const __m512i (*wk)[3], int64_t W, int64_t C, int stride,
                          int pad_left, int64_t ox, int64_t c0, __mmask16 m, __m512 sc, __m512 bi, int8_t* y,
                          const Requant<Zmm>& rq) {
  __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) {
      const int64_t ix = ox * stride - pad_left + kx;
      if (ix >= 0 && ix < W) acc = Zmm::dot2(acc, Zmm::i8_to_i32(r[i] + ix * C + c0, m), wk[i][kx]);
    }
  rq(acc, sc, bi, m, nullptr, y + ox * C + c0);
}

// One channel vector [c0, c0+16) of a depthwise output row from NR present rows, walked as the
// AVX2 kernel (four interior pixels at a time, the stride a compile-time constant).
template <int NR>
void dw_channel_vector(const int8_t* const* r, const int16_t* const* wrow, int64_t W, int64_t C, int stride,
                       int pad_left, int64_t Wo, const float* scale, const float* bias, int8_t* y, int64_t c0,
                       const Requant<Zmm>& rq) {
  const int64_t Cp = nhwc_pad_ch(C);
  const __mmask16 m = Zmm::first(C - c0);
  const __m512 sc = Zmm::loadf(scale + c0, m), bi = Zmm::loadf(bias + c0, m);
  __m512i wk[NR > 0 ? NR : 1][3];
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) wk[i][kx] = Zmm::w16_to_u32(wrow[i] + kx * Cp + c0, m);
  auto edge = [&](int64_t ox) { dw_edge_pixel<NR>(r, wk, W, C, stride, pad_left, ox, c0, m, sc, bi, y, rq); };
  nhwc_row_walk_3<4>(W, stride, pad_left, Wo, edge, [&](int64_t ox, auto S, auto) {
    constexpr int kS = decltype(S)::value;
    __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    const int64_t off = (ox * kS - pad_left) * C + c0;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) a[u] = Zmm::dot2(a[u], Zmm::i8_to_i32(r[i] + off + (u * kS + kx) * C, m), wk[i][kx]);
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) rq(a[u], sc, bi, m, nullptr, y + (ox + u) * C + c0);
  });
}

// 8 channels at stride 1 (the first block's depthwise): two adjacent output pixels' channels
// are 16 contiguous bytes, and so are their inputs at each tap, so one zmm serves two pixels
// (weights, scale and bias repeated in both halves) instead of leaving 8 of 16 lanes idle.
template <int NR>
void dw_c8_stride1(const int8_t* const* r, const int16_t* const* wrow, int64_t W, int pad_left, int64_t Wo,
                   const float* scale, const float* bias, int8_t* y, const Requant<Zmm>& rq) {
  const __m512 sc = _mm512_broadcast_f32x8(_mm256_loadu_ps(scale)), bi = _mm512_broadcast_f32x8(_mm256_loadu_ps(bias));
  __m512i wk[NR > 0 ? NR : 1][3];
#pragma GCC unroll 3
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx)
      wk[i][kx] = _mm512_cvtepu16_epi32(_mm256_broadcastsi128_si256(_mm_loadu_si128(
          reinterpret_cast<const __m128i*>(wrow[i] + kx * 8))));
  auto edge = [&](int64_t ox) { dw_edge_pixel<NR>(r, wk, W, 8, 1, pad_left, ox, 0, 0xFF, sc, bi, y, rq); };
  nhwc_row_walk_3<8>(W, 1, pad_left, Wo, edge, [&](int64_t ox, auto, auto) {
    __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    const int64_t off = (ox - pad_left) * 8;
#pragma GCC unroll 3
    for (int i = 0; i < NR; ++i)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          a[u] = Zmm::dot2(a[u], _mm512_cvtepi8_epi32(_mm_loadu_si128(
                                     reinterpret_cast<const __m128i*>(r[i] + off + (2 * u + kx) * 8))), wk[i][kx]);
    if (rq.packs()) {
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) a[u] = rq.rounded(a[u], sc, bi);
      return store_run<4>(a, y + ox * 8, 0xFFFF, rq);
    }
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) rq(a[u], sc, bi, 0xFFFF, nullptr, y + (ox + 2 * u) * 8);
  });
}

}  // namespace

void qs8_pwconv_nhwc__avx512vnni(int64_t M, int64_t K, int64_t N, const int8_t* x, int64_t ldx, const int16_t* w,
                                 const float* scale, const float* bias, const int8_t* res, float res_scale, int8_t* y,
                                 float lo, float hi) {
  if (N == 8) {
    const Requant<Zmm> rq(lo, hi, res != nullptr, res_scale);
    const __m512 sc = _mm512_broadcast_f32x8(_mm256_loadu_ps(scale)), bi = _mm512_broadcast_f32x8(_mm256_loadu_ps(bias));
    return nhwc_pw_pixel_tiles<12>(M, [&](int64_t m, auto S) {
      pw8_tile<decltype(S)::value>(K, x + m * ldx, ldx, w, sc, bi, res ? res + m * 8 : nullptr, y + m * 8, rq);
    });
  }
  if (N < 8) {
    const Requant<Ymm> rq(lo, hi, res != nullptr, res_scale);
    return pw_columns<Ymm, 12, 1>(M, K, N, 0, x, ldx, w, scale, bias, res, y, rq);
  }
  const Requant<Zmm> rq(lo, hi, res != nullptr, res_scale);
  // Tiles use at most 24 accumulators + NV weight vectors + 1 broadcast of the 32 registers.
  auto cols = [&](int64_t v, int64_t nleft) {
    const int64_t n0 = v * 16;
    if (nleft >= 4) pw_columns<Zmm, 6, 4>(M, K, N, n0, x, ldx, w, scale, bias, res, y, rq);
    else if (nleft == 3) pw_columns<Zmm, 8, 3>(M, K, N, n0, x, ldx, w, scale, bias, res, y, rq);
    else if (nleft == 2) pw_columns<Zmm, 12, 2>(M, K, N, n0, x, ldx, w, scale, bias, res, y, rq);
    else pw_columns<Zmm, 12, 1>(M, K, N, n0, x, ldx, w, scale, bias, res, y, rq);
  };
  const int64_t nv = (N + 15) / 16;
  for (int64_t v = 0; v < nv; v += 4) cols(v, nv - v);
}

void qs8_dwconv3x3_nhwc_row__avx512vnni(const int8_t* const rows[3], int64_t W, int64_t C, int stride, int pad_left,
                                        int64_t Wo, const int16_t* w, const float* scale, const float* bias, int8_t* y,
                                        float lo, float hi) {
  const Requant<Zmm> rq(lo, hi, false, 0.f);
  const int64_t Cp = nhwc_pad_ch(C);
  const int8_t* r[3];
  const int16_t* wrow[3];
  const int nr = nhwc_present_rows(rows, w, Cp, r, wrow);
  nhwc_const_0to3(nr, [&](auto NR) {
    constexpr int kNR = decltype(NR)::value;
    if (C == 8 && stride == 1) return dw_c8_stride1<kNR>(r, wrow, W, pad_left, Wo, scale, bias, y, rq);
    for (int64_t c0 = 0; c0 < C; c0 += 16)
      dw_channel_vector<kNR>(r, wrow, W, C, stride, pad_left, Wo, scale, bias, y, c0, rq);
  });
}

}  // namespace fas
