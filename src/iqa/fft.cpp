#include "iqa/fft.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace fas::iqa {

namespace {
// std::complex's operator* checks for inf/NaN through a library call (__muldc3) unless
// -ffast-math; the transforms only see finite values.
inline cplx mul(cplx a, cplx b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
inline cplx mul_minus_i(cplx a) { return {a.imag(), -a.real()}; }
const double kSin3 = std::sqrt(3.0) / 2, kCos5a = std::cos(2 * M_PI / 5), kCos5b = std::cos(4 * M_PI / 5),
             kSin5a = std::sin(2 * M_PI / 5), kSin5b = std::sin(4 * M_PI / 5);
}  // namespace

Fft::Fft(int n) : n_(n) {
  FAS_CHECK(n >= 1, "fft: size must be positive");
  int m = n;
  while (m % 4 == 0) radices_.push_back(4), m /= 4;
  for (int p : {2, 3, 5})
    while (m % p == 0) radices_.push_back(p), m /= p;
  for (int p = 7; m > 1; p += 2)
    while (m % p == 0) radices_.push_back(p), m /= p;
  tw_.resize((size_t)n);
  for (int t = 0; t < n; ++t) tw_[t] = std::polar(1.0, -2.0 * M_PI * t / n);
}

// Stockham: stage with radix p and span ns (product of the earlier radices) maps x -> y with
// y[(j / ns) * ns * p + j % ns + r * ns] = DFT_p(x[j + r n/p] * w^(r (j % ns) n / (ns p))).
void Fft::forward(cplx* x, cplx* work) const {
  cplx *src = x, *dst = work;
  int ns = 1;
  cplx sv[8], so[8];
  std::vector<cplx> big_v, big_out;  // only for a prime factor above 8 (sizes such as 2 x 97)
  for (int p : radices_) {
    if (p > 8) big_v.resize((size_t)p), big_out.resize((size_t)p);
    cplx* v = p > 8 ? big_v.data() : sv;
    cplx* out = p > 8 ? big_out.data() : so;
    const int stride = n_ / p, tstep = n_ / (ns * p);
    // j = b ns + k: no division in the loop; r k tstep < p ns tstep = n, so no modulo either.
    for (int bk = 0; bk < stride; bk += ns)
      for (int k = 0; k < ns; ++k) {
        const int j = bk + k;
        v[0] = src[j];
        if (k == 0)  // twiddles of 1 (every butterfly of the first stage)
          for (int r = 1; r < p; ++r) v[r] = src[j + r * stride];
        else
          for (int r = 1; r < p; ++r) v[r] = mul(src[j + r * stride], tw_[(size_t)r * k * tstep]);
        if (p == 2) {
          out[0] = v[0] + v[1], out[1] = v[0] - v[1];
        } else if (p == 4) {
          const cplx a = v[0] + v[2], b = v[0] - v[2], c = v[1] + v[3], d = mul_minus_i(v[1] - v[3]);
          out[0] = a + c, out[1] = b + d, out[2] = a - c, out[3] = b - d;
        } else if (p == 3) {  // w = exp(-2 pi i / 3) = -1/2 - i sqrt(3)/2
          const cplx a = v[1] + v[2], m = v[0] - 0.5 * a, d = mul_minus_i(kSin3 * (v[1] - v[2]));
          out[0] = v[0] + a, out[1] = m + d, out[2] = m - d;
        } else if (p == 5) {  // pairs r, 5 - r share cosines: 2 real combinations instead of 16 products
          const cplx a1 = v[1] + v[4], b1 = v[1] - v[4], a2 = v[2] + v[3], b2 = v[2] - v[3];
          const cplx r1 = v[0] + kCos5a * a1 + kCos5b * a2, r2 = v[0] + kCos5b * a1 + kCos5a * a2;
          const cplx i1 = mul_minus_i(kSin5a * b1 + kSin5b * b2), i2 = mul_minus_i(kSin5b * b1 - kSin5a * b2);
          out[0] = v[0] + a1 + a2, out[1] = r1 + i1, out[4] = r1 - i1, out[2] = r2 + i2, out[3] = r2 - i2;
        } else {
          const int tp = n_ / p;  // w_p^q = tw_[q n/p]
          for (int q = 0; q < p; ++q) {
            cplx s = v[0];
            for (int r = 1, rq = q; r < p; ++r, rq = rq + q >= p ? rq + q - p : rq + q) s += mul(v[r], tw_[(size_t)rq * tp]);
            out[q] = s;
          }
        }
        const int base = bk * p + k;
        for (int r = 0; r < p; ++r) dst[base + r * ns] = out[r];
      }
    std::swap(src, dst);
    ns *= p;
  }
  if (src != x)
    for (int i = 0; i < n_; ++i) x[i] = src[i];
}

Dft2Pair fft2_pair(const Plane& a, const Plane& b) {
  FAS_CHECK(a.h == b.h && a.w == b.w, "fft2_pair: planes differ in size");
  const int h = a.h, w = a.w;
  Plane rows(h, 2 * w, Uninit{});  // a + i b, then its row transforms
  cplx* zr = reinterpret_cast<cplx*>(rows.v.data());
  std::vector<cplx> work((size_t)std::max(h, w));
  const Fft fr(w), fc(h);
  for (int y = 0; y < h; ++y) {
    cplx* r = zr + (size_t)y * w;
    for (int x = 0; x < w; ++x) r[x] = cplx(a.row(y)[x], b.row(y)[x]);
    fr.forward(r, work.data());
  }
  // Columns: gather blocks of 8 into contiguous rows of the transposed result (each cache line
  // read once), then transform those rows in place.
  Dft2Pair d{h, w, Plane(w, 2 * h, Uninit{})};
  cplx* zt = d.z();
  constexpr int kBlock = 8;
  for (int x0 = 0; x0 < w; x0 += kBlock) {
    const int nb = std::min(kBlock, w - x0);
    for (int y = 0; y < h; ++y)
      for (int c = 0; c < nb; ++c) zt[(size_t)(x0 + c) * h + y] = zr[(size_t)y * w + x0 + c];
    for (int c = 0; c < nb; ++c) fc.forward(zt + (size_t)(x0 + c) * h, work.data());
  }
  return d;
}

}  // namespace fas::iqa
