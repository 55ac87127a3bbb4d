#include "iqa/fft.h"

#include <cmath>

#include "base/error.h"

namespace fas::iqa {

namespace {
// std::complex's operator* checks for inf/NaN through a library call (__muldc3) unless
// -ffast-math; the transforms only see finite values.
inline cplx mul(cplx a, cplx b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
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
        for (int r = 1; r < p; ++r) v[r] = mul(src[j + r * stride], tw_[(size_t)r * k * tstep]);
        if (p == 2) {
          out[0] = v[0] + v[1], out[1] = v[0] - v[1];
        } else if (p == 4) {
          const cplx a = v[0] + v[2], b = v[0] - v[2], c = v[1] + v[3], t = v[1] - v[3], d(t.imag(), -t.real());
          out[0] = a + c, out[1] = b + d, out[2] = a - c, out[3] = b - d;
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

void fft2_pair(const Plane& a, const Plane& b, std::vector<cplx>& A, std::vector<cplx>& B) {
  FAS_CHECK(a.h == b.h && a.w == b.w, "fft2_pair: planes differ in size");
  const int h = a.h, w = a.w;
  std::vector<cplx> z((size_t)h * w), work((size_t)std::max(h, w)), col((size_t)h);
  for (size_t i = 0; i < z.size(); ++i) z[i] = cplx(a.v[i], b.v[i]);
  const Fft fr(w), fc(h);
  for (int y = 0; y < h; ++y) fr.forward(z.data() + (size_t)y * w, work.data());
  for (int x = 0; x < w; ++x) {
    for (int y = 0; y < h; ++y) col[y] = z[(size_t)y * w + x];
    fc.forward(col.data(), work.data());
    for (int y = 0; y < h; ++y) z[(size_t)y * w + x] = col[y];
  }
  // Z = A + iB with A, B Hermitian: A[k] = (Z[k] + conj Z[-k]) / 2, B[k] = (Z[k] - conj Z[-k]) / 2i.
  A.resize(z.size());
  B.resize(z.size());
  for (int y = 0; y < h; ++y) {
    const int ny = (h - y) % h;
    for (int x = 0; x < w; ++x) {
      const cplx zk = z[(size_t)y * w + x], zc = std::conj(z[(size_t)ny * w + (w - x) % w]);
      A[(size_t)y * w + x] = 0.5 * (zk + zc);
      const cplx d = zk - zc;
      B[(size_t)y * w + x] = cplx(0.5 * d.imag(), -0.5 * d.real());
    }
  }
}

}  // namespace fas::iqa
