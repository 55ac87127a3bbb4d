#include "iqa/fft.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace fas::iqa {

namespace {
// Complex arithmetic on Cx<T>, T = double or V8d (a scalar twiddle multiplies every lane). Plain
// formulas: std::complex's operator* checks for inf/NaN through a library call (__muldc3) unless
// -ffast-math, and the transforms only see finite values.
template <class T>
inline Cx<T> add(const Cx<T>& a, const Cx<T>& b) { return {a.r + b.r, a.i + b.i}; }
template <class T>
inline Cx<T> sub(const Cx<T>& a, const Cx<T>& b) { return {a.r - b.r, a.i - b.i}; }
template <class T>
inline Cx<T> scale(double k, const Cx<T>& a) { return {k * a.r, k * a.i}; }
template <class T>
inline Cx<T> mul(const Cx<T>& a, const cplx& w) { return {a.r * w.real() - a.i * w.imag(), a.r * w.imag() + a.i * w.real()}; }
template <class T>
inline Cx<T> mul_minus_i(const Cx<T>& a) { return {a.i, -a.r}; }
const double kSin3 = std::sqrt(3.0) / 2, kCos5a = std::cos(2 * M_PI / 5), kCos5b = std::cos(4 * M_PI / 5),
             kSin5a = std::sin(2 * M_PI / 5), kSin5b = std::sin(4 * M_PI / 5);

// Stockham: stage with radix p and span ns (product of the earlier radices) maps x -> y with
// y[(j / ns) * ns * p + j % ns + r * ns] = DFT_p(x[j + r n/p] * w^(r (j % ns) n / (ns p))).
template <class T>
inline __attribute__((always_inline)) void stockham(int n, const std::vector<int>& radices, const cplx* tw, Cx<T>* x,
                                                    Cx<T>* work) {
  Cx<T>*src = x, *dst = work;
  int ns = 1;
  Cx<T> sv[8], so[8];
  std::vector<Cx<T>> big_v, big_out;  // only for a prime factor above 8 (sizes such as 2 x 97)
  for (int p : radices) {
    if (p > 8) big_v.resize((size_t)p), big_out.resize((size_t)p);
    Cx<T>* v = p > 8 ? big_v.data() : sv;
    Cx<T>* out = p > 8 ? big_out.data() : so;
    const int stride = n / p, tstep = n / (ns * p);
    // j = b ns + k: no division in the loop; r k tstep < p ns tstep = n, so no modulo either.
    for (int bk = 0; bk < stride; bk += ns)
      for (int k = 0; k < ns; ++k) {
        const int j = bk + k;
        v[0] = src[j];
        if (k == 0)  // twiddles of 1 (every butterfly of the first stage)
          for (int r = 1; r < p; ++r) v[r] = src[j + r * stride];
        else
          for (int r = 1; r < p; ++r) v[r] = mul(src[j + r * stride], tw[(size_t)r * k * tstep]);
        if (p == 2) {
          out[0] = add(v[0], v[1]), out[1] = sub(v[0], v[1]);
        } else if (p == 4) {
          const Cx<T> a = add(v[0], v[2]), b = sub(v[0], v[2]), c = add(v[1], v[3]), d = mul_minus_i(sub(v[1], v[3]));
          out[0] = add(a, c), out[1] = add(b, d), out[2] = sub(a, c), out[3] = sub(b, d);
        } else if (p == 3) {  // w = exp(-2 pi i / 3) = -1/2 - i sqrt(3)/2
          const Cx<T> a = add(v[1], v[2]), m = sub(v[0], scale(0.5, a)), d = mul_minus_i(scale(kSin3, sub(v[1], v[2])));
          out[0] = add(v[0], a), out[1] = add(m, d), out[2] = sub(m, d);
        } else if (p == 5) {  // pairs r, 5 - r share cosines: 2 real combinations instead of 16 products
          const Cx<T> a1 = add(v[1], v[4]), b1 = sub(v[1], v[4]), a2 = add(v[2], v[3]), b2 = sub(v[2], v[3]);
          const Cx<T> r1 = add(v[0], add(scale(kCos5a, a1), scale(kCos5b, a2)));
          const Cx<T> r2 = add(v[0], add(scale(kCos5b, a1), scale(kCos5a, a2)));
          const Cx<T> i1 = mul_minus_i(add(scale(kSin5a, b1), scale(kSin5b, b2)));
          const Cx<T> i2 = mul_minus_i(sub(scale(kSin5b, b1), scale(kSin5a, b2)));
          out[0] = add(v[0], add(a1, a2)), out[1] = add(r1, i1), out[4] = sub(r1, i1), out[2] = add(r2, i2),
          out[3] = sub(r2, i2);
        } else {
          const int tp = n / p;  // w_p^q = tw[q n/p]
          for (int q = 0; q < p; ++q) {
            Cx<T> s = v[0];
            for (int r = 1, rq = q; r < p; ++r, rq = rq + q >= p ? rq + q - p : rq + q) s = add(s, mul(v[r], tw[(size_t)rq * tp]));
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
    for (int i = 0; i < n; ++i) x[i] = src[i];
}

FAS_IQA_CLONES void stockham8(int n, const std::vector<int>& radices, const cplx* tw, Cx8* x, Cx8* work) {
  stockham(n, radices, tw, x, work);
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

void Fft::forward(cplx* x, cplx* work) const {
  std::vector<Cx<double>> v((size_t)n_), wv((size_t)n_);
  for (int i = 0; i < n_; ++i) v[i] = {x[i].real(), x[i].imag()};
  stockham(n_, radices_, tw_.data(), v.data(), wv.data());
  for (int i = 0; i < n_; ++i) x[i] = cplx(v[i].r, v[i].i);
  (void)work;
}

void Fft::forward8(Cx8* x, Cx8* work) const { stockham8(n_, radices_, tw_.data(), x, work); }

namespace {
constexpr int L = 8;
// dst[c * ds + r] = src[r * ss][c] for an 8 x 8 block of rows src[0], src[ss], ... (three rounds
// of two-source shuffles: pairs, quads, halves).
inline __attribute__((always_inline)) void transpose8(const V8d* src, size_t ss, double* dst, size_t ds) {
  V8d t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    const V8d &a = src[i * ss], &b = src[(i + 1) * ss];
    t[i] = FAS_SHUFFLE8(a, b, 0, 8, 2, 10, 4, 12, 6, 14), t[i + 1] = FAS_SHUFFLE8(a, b, 1, 9, 3, 11, 5, 13, 7, 15);
  }
  // u[i + j]: columns j, j + 4 of rows i .. i + 3; u[i + 2 + j]: columns j + 2, j + 6
  for (int i = 0; i < 8; i += 4)
    for (int j = 0; j < 2; ++j) {
      const V8d &a = t[i + j], &b = t[i + 2 + j];
      u[i + j] = FAS_SHUFFLE8(a, b, 0, 1, 8, 9, 4, 5, 12, 13), u[i + 2 + j] = FAS_SHUFFLE8(a, b, 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int c = 0; c < 4; ++c) {
    store8(dst + (size_t)c * ds, FAS_SHUFFLE8(u[c], u[4 + c], 0, 1, 2, 3, 8, 9, 10, 11));
    store8(dst + (size_t)(c + 4) * ds, FAS_SHUFFLE8(u[c], u[4 + c], 4, 5, 6, 7, 12, 13, 14, 15));
  }
}

// Columns x0 .. x0 + nb - 1 of a + i b, one per lane (lanes past the edge transform zeros),
// written transposed into the split planes tr, ti (w x h), where the row transforms read rows.
// buf as doubles: value t of lane l is re at v[16 t + l], im at v[16 t + 8 + l] (GCC vector types
// alias their element type); lane by lane through this view, not v.r[l], which compiled to
// inserts and extracts.
FAS_IQA_CLONES void column_group(const Plane& a, const Plane& b, int x0, int nb, const Fft& fc, Cx8* buf, Cx8* work,
                                 Plane& tr, Plane& ti) {
  const int h = a.h;
  double* v = reinterpret_cast<double*>(buf);
  for (int y = 0; y < h; ++y) {
    if (nb == L) {
      load8(buf[y].r, a.row(y) + x0), load8(buf[y].i, b.row(y) + x0);
      continue;
    }
    std::fill_n(v + 16 * y, 16, 0.0);
    for (int l = 0; l < nb; ++l) v[16 * y + l] = a.row(y)[x0 + l], v[16 * y + 8 + l] = b.row(y)[x0 + l];
  }
  fc.forward8(buf, work);
  int y = 0;
  if (nb == L)  // whole 8 x 8 blocks: vector transposes
    for (; y + 8 <= h; y += 8) {
      transpose8(&buf[y].r, 2, tr.row(x0) + y, tr.w);
      transpose8(&buf[y].i, 2, ti.row(x0) + y, ti.w);
    }
  for (int l = 0; l < nb; ++l) {
    double *r = tr.row(x0 + l), *i = ti.row(x0 + l);
    for (int yy = y; yy < h; ++yy) r[yy] = v[16 * yy + l], i[yy] = v[16 * yy + 8 + l];
  }
}

// Rows y0 .. y0 + nb - 1 of the column transforms, one per lane, stored at(y, x) = z[x * h + y]
// as interleaved complex values.
FAS_IQA_CLONES void row_group(const Plane& tr, const Plane& ti, int y0, int nb, const Fft& fr, Cx8* buf, Cx8* work,
                              double* z) {
  const int w = tr.h, h = tr.w;
  double* v = reinterpret_cast<double*>(buf);
  for (int x = 0; x < w; ++x) {
    if (nb == L) {
      load8(buf[x].r, tr.row(x) + y0), load8(buf[x].i, ti.row(x) + y0);
      continue;
    }
    std::fill_n(v + 16 * x, 16, 0.0);
    for (int l = 0; l < nb; ++l) v[16 * x + l] = tr.row(x)[y0 + l], v[16 * x + 8 + l] = ti.row(x)[y0 + l];
  }
  fr.forward8(buf, work);
  for (int x = 0; x < w; ++x) {
    double* o = z + 2 * ((size_t)x * h + y0);
    if (nb == L) {  // re and im interleaved by two shuffles
      const V8d &r = buf[x].r, &i = buf[x].i;
      store8(o, FAS_SHUFFLE8(r, i, 0, 8, 1, 9, 2, 10, 3, 11)), store8(o + 8, FAS_SHUFFLE8(r, i, 4, 12, 5, 13, 6, 14, 7, 15));
      continue;
    }
    for (int l = 0; l < nb; ++l) o[2 * l] = v[16 * x + l], o[2 * l + 1] = v[16 * x + 8 + l];
  }
}
}  // namespace

Dft2Pair fft2_pair(const Plane& a, const Plane& b) {
  FAS_CHECK(a.h == b.h && a.w == b.w, "fft2_pair: planes differ in size");
  const int h = a.h, w = a.w;
  const Fft fr(w), fc(h);
  std::vector<Cx8> buf((size_t)std::max(h, w)), work(buf.size());
  Plane tr(w, h, Uninit{}), ti(w, h, Uninit{});
  for (int x0 = 0; x0 < w; x0 += L) column_group(a, b, x0, std::min(L, w - x0), fc, buf.data(), work.data(), tr, ti);
  Dft2Pair d{h, w, Plane(w, 2 * h, Uninit{})};
  for (int y0 = 0; y0 < h; y0 += L) row_group(tr, ti, y0, std::min(L, h - y0), fr, buf.data(), work.data(), d.store.v.data());
  return d;
}

}  // namespace fas::iqa
