// Elementwise kernels written once over a vector-traits type T (simd/vec_*.h); instantiated per
// ISA by FAS_DEFINE_ELEMENTWISE in elementwise_<isa>.cpp. Full vectors, then a scalar tail.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/elementwise.h"

namespace fas {
namespace {  // internal linkage: each ISA's instantiation stays in its own object file

// y[i] = f(x[i]) for vectors, then for the tail with the same f on one-lane values.
template <class T, class S, class F>
inline void map1(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + T::V <= n; i += T::V) T::store(y + i, f.template apply<T>(T::load(x + i)));
  for (; i < n; ++i) S::store(y + i, f.template apply<S>(S::load(x + i)));
}

struct ClampOp {
  float lo, hi;
  template <class U>
  typename U::vec apply(typename U::vec v) const {
    return U::min(U::max(v, U::set1(lo)), U::set1(hi));
  }
};
struct BiasClampOp {
  float b, lo, hi;
  template <class U>
  typename U::vec apply(typename U::vec v) const {
    return U::min(U::max(U::add(v, U::set1(b)), U::set1(lo)), U::set1(hi));
  }
};
struct ScaleShiftClampOp {
  float s, t, lo, hi;
  template <class U>
  typename U::vec apply(typename U::vec v) const {
    return U::min(U::max(U::fma(v, U::set1(s), U::set1(t)), U::set1(lo)), U::set1(hi));
  }
};

template <class T, class S>
void e_clamp(const float* x, float* y, int64_t n, float lo, float hi) {
  map1<T, S>(x, y, n, ClampOp{lo, hi});
}

template <class T, class S>
void e_clamp_grad(const float* x, const float* gy, float* gx, int64_t n, float lo, float hi) {
  auto step = [&](auto u, int64_t i) {
    using U = decltype(u);
    const auto g = U::keep_open(U::load(x + i), U::set1(lo), U::set1(hi), U::load(gy + i));
    U::store(gx + i, U::add(U::load(gx + i), g));
  };
  int64_t i = 0;
  for (; i + T::V <= n; i += T::V) step(T{}, i);
  for (; i < n; ++i) step(S{}, i);
}

template <class T, class S>
void e_clamp_mask(const float* x, const float* gy, float* gm, int64_t n, float lo, float hi) {
  auto step = [&](auto u, int64_t i) {
    using U = decltype(u);
    U::store(gm + i, U::keep_open(U::load(x + i), U::set1(lo), U::set1(hi), U::load(gy + i)));
  };
  int64_t i = 0;
  for (; i + T::V <= n; i += T::V) step(T{}, i);
  for (; i < n; ++i) step(S{}, i);
}

template <class T, class S>
void e_bias_clamp(const float* x, const float* bias, float* y, int64_t batch, int64_t channels, int64_t plane,
                  float lo, float hi) {
  for (int64_t p = 0; p < batch * channels; ++p)
    map1<T, S>(x + p * plane, y + p * plane, plane, BiasClampOp{bias[p % channels], lo, hi});
}

template <class T, class S>
void e_scaleshift_clamp(const float* x, const float* scale, const float* shift, float* y, int64_t batch,
                        int64_t channels, int64_t plane, float lo, float hi) {
  for (int64_t p = 0; p < batch * channels; ++p) {
    const int64_t c = p % channels;
    map1<T, S>(x + p * plane, y + p * plane, plane, ScaleShiftClampOp{scale[c], shift[c], lo, hi});
  }
}

template <class T, class S>
void e_add(const float* a, const float* b, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + T::V <= n; i += T::V) T::store(y + i, T::add(T::load(a + i), T::load(b + i)));
  for (; i < n; ++i) y[i] = a[i] + b[i];
}

struct TanhOp {
  template <class U>
  typename U::vec apply(typename U::vec v) const {
    using vec = typename U::vec;
    const vec x = U::min(U::max(v, U::set1(-7.90531110763549805f)), U::set1(7.90531110763549805f));
    const vec x2 = U::mul(x, x);
    vec p = U::fma(x2, U::set1(-2.76076847742355e-16f), U::set1(2.00018790482477e-13f));
    p = U::fma(x2, p, U::set1(-8.60467152213735e-11f));
    p = U::fma(x2, p, U::set1(5.12229709037114e-08f));
    p = U::fma(x2, p, U::set1(1.48572235717979e-05f));
    p = U::fma(x2, p, U::set1(6.37261928875436e-04f));
    p = U::fma(x2, p, U::set1(4.89352455891786e-03f));
    vec q = U::fma(x2, U::set1(1.19825839466702e-06f), U::set1(1.18534705686654e-04f));
    q = U::fma(x2, q, U::set1(2.26843463243900e-03f));
    q = U::fma(x2, q, U::set1(4.89352518554385e-03f));
    return U::div(U::mul(x, p), q);
  }
};

template <class T, class S>
void e_tanh(const float* x, float* y, int64_t n) {
  map1<T, S>(x, y, n, TanhOp{});
}

template <class T, class S>
void e_tanh_grad(const float* y, const float* gy, float* gx, int64_t n) {
  auto step = [&](auto u, int64_t i) {
    using U = decltype(u);
    const auto yv = U::load(y + i);
    const auto d = U::fma(U::mul(yv, yv), U::set1(-1.f), U::set1(1.f));  // 1 - y^2
    U::store(gx + i, U::fma(U::load(gy + i), d, U::load(gx + i)));
  };
  int64_t i = 0;
  for (; i + T::V <= n; i += T::V) step(T{}, i);
  for (; i < n; ++i) step(S{}, i);
}

// Sum of f(i) over a plane of n floats: each f is one float vector (one rounding per element),
// accumulated in double like the reference, so long sums (and exact zeros such as the bias
// gradient of a BN followed by another BN) keep the reference's precision.
template <class T, class S, class F>
inline double plane_sum(int64_t n, F f) {
  typename T::dacc a = T::dzero();
  int64_t i = 0;
  for (; i + T::V <= n; i += T::V) a = T::dadd(a, f(T{}, i));
  double s = T::dsum(a);
  for (; i < n; ++i) s += f(S{}, i);
  return s;
}

template <class T, class S>
void e_bn_stats(const float* x, int64_t N, int64_t C, int64_t P, int64_t c0, int64_t c1, float* mean, float* var) {
  const double M = (double)(N * P);
  for (int64_t c = c0; c < c1; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * P;
      s += plane_sum<T, S>(P, [p](auto u, int64_t i) { return decltype(u)::load(p + i); });
    }
    const float m = (float)(s / M);
    double q = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * P;
      q += plane_sum<T, S>(P, [p, m](auto u, int64_t i) {
        using U = decltype(u);
        const auto v = U::add(U::load(p + i), U::set1(-m));
        return U::mul(v, v);
      });
    }
    mean[c] = m;
    var[c] = (float)(q / M);
  }
}

template <class T, class S>
void e_bn_grad_sums(const float* gy, const float* x, const float* mean, int64_t N, int64_t C, int64_t P, int64_t c0,
                    int64_t c1, float* sum_g, float* sum_gxc) {
  for (int64_t c = c0; c < c1; ++c) {
    double sg = 0, sgx = 0;
    const float m = mean[c];
    for (int64_t n = 0; n < N; ++n) {
      const float* g = gy + (n * C + c) * P;
      const float* xp = x + (n * C + c) * P;
      sg += plane_sum<T, S>(P, [g](auto u, int64_t i) { return decltype(u)::load(g + i); });
      sgx += plane_sum<T, S>(P, [g, xp, m](auto u, int64_t i) {
        using U = decltype(u);
        return U::mul(U::load(g + i), U::add(U::load(xp + i), U::set1(-m)));
      });
    }
    sum_g[c] = (float)sg;
    sum_gxc[c] = (float)sgx;
  }
}

// kAcc: gx += ...; else gx = ... (gx is not read: a fresh, uninitialised gradient buffer).
template <class T, class S, bool kAcc>
void e_bn_backward_input(const float* gy, const float* x, int64_t C, int64_t P, int64_t p0, int64_t p1,
                         const float* a, const float* b, const float* d, float* gx) {
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t c = p % C, o = p * P;
    auto step = [&](auto u, int64_t i) {
      using U = decltype(u);
      const auto dd = kAcc ? U::add(U::load(gx + o + i), U::set1(d[c])) : U::set1(d[c]);
      const auto t = U::fma(U::set1(b[c]), U::load(x + o + i), dd);
      U::store(gx + o + i, U::fma(U::set1(a[c]), U::load(gy + o + i), t));
    };
    int64_t i = 0;
    for (; i + T::V <= P; i += T::V) step(T{}, i);
    for (; i < P; ++i) step(S{}, i);
  }
}

// The reference's operations in its order; the vector ISAs may fuse a multiply and an add
// (FMA), so they agree with it to rounding, not bit for bit.
template <class T, class S>
void e_adam(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s) {
  const float keras_lr = s.lr * std::sqrt(s.bc2) / s.bc1, lr_wd = s.lr * s.wd;
  const bool l2 = s.wd != 0.f && !s.decoupled, decay = s.wd != 0.f && s.decoupled;
  auto step = [&](auto u, int64_t k) {
    using U = decltype(u);
    auto wk = U::load(w + k), gk = U::load(g + k);
    if (l2) gk = U::add(gk, U::mul(U::set1(s.wd), wk));
    if (decay) wk = U::sub(wk, U::mul(U::set1(lr_wd), wk));
    const auto mk = U::add(U::mul(U::set1(s.beta1), U::load(m + k)), U::mul(U::set1(1.f - s.beta1), gk));
    const auto vk = U::add(U::mul(U::set1(s.beta2), U::load(v + k)), U::mul(U::mul(U::set1(1.f - s.beta2), gk), gk));
    U::store(m + k, mk);
    U::store(v + k, vk);
    const auto upd = s.keras ? U::div(U::mul(U::set1(keras_lr), mk), U::add(U::sqrt(vk), U::set1(s.eps)))
                             : U::div(U::mul(U::set1(s.lr), U::div(mk, U::set1(s.bc1))),
                                      U::add(U::sqrt(U::div(vk, U::set1(s.bc2))), U::set1(s.eps)));
    U::store(w + k, U::sub(wk, upd));
  };
  int64_t k = 0;
  for (; k + T::V <= n; k += T::V) step(T{}, k);
  for (; k < n; ++k) step(S{}, k);
}

}  // namespace
}  // namespace fas

// Defines the exported elementwise kernels of one ISA from traits T (tail lanes use VecScalar).
#define FAS_DEFINE_ELEMENTWISE(isa, T)                                                                       \
  namespace fas {                                                                                            \
  void f32_vclamp__##isa(const float* x, float* y, int64_t n, float lo, float hi) {                         \
    e_clamp<T, VecScalar>(x, y, n, lo, hi);                                                                  \
  }                                                                                                          \
  void f32_vclamp_grad__##isa(const float* x, const float* gy, float* gx, int64_t n, float lo, float hi) {  \
    e_clamp_grad<T, VecScalar>(x, gy, gx, n, lo, hi);                                                        \
  }                                                                                                          \
  void f32_vclamp_mask__##isa(const float* x, const float* gy, float* gm, int64_t n, float lo, float hi) {  \
    e_clamp_mask<T, VecScalar>(x, gy, gm, n, lo, hi);                                                        \
  }                                                                                                          \
  void f32_vbias_clamp__##isa(const float* x, const float* bias, float* y, int64_t batch, int64_t channels, \
                              int64_t plane, float lo, float hi) {                                          \
    e_bias_clamp<T, VecScalar>(x, bias, y, batch, channels, plane, lo, hi);                                 \
  }                                                                                                          \
  void f32_vscaleshift_clamp__##isa(const float* x, const float* scale, const float* shift, float* y,       \
                                    int64_t batch, int64_t channels, int64_t plane, float lo, float hi) {  \
    e_scaleshift_clamp<T, VecScalar>(x, scale, shift, y, batch, channels, plane, lo, hi);                   \
  }                                                                                                          \
  void f32_vadd__##isa(const float* a, const float* b, float* y, int64_t n) { e_add<T, VecScalar>(a, b, y, n); } \
  void f32_vtanh__##isa(const float* x, float* y, int64_t n) { e_tanh<T, VecScalar>(x, y, n); }             \
  void f32_vtanh_grad__##isa(const float* y, const float* gy, float* gx, int64_t n) {                        \
    e_tanh_grad<T, VecScalar>(y, gy, gx, n);                                                                  \
  }                                                                                                          \
  void f32_bn_stats__##isa(const float* x, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, float* mean, \
                           float* var) {                                                                   \
    e_bn_stats<T, VecScalar>(x, N, C, S, c0, c1, mean, var);                                                \
  }                                                                                                          \
  void f32_bn_grad_sums__##isa(const float* gy, const float* x, const float* mean, int64_t N, int64_t C,      \
                               int64_t S, int64_t c0, int64_t c1, float* sum_g, float* sum_gxc) {          \
    e_bn_grad_sums<T, VecScalar>(gy, x, mean, N, C, S, c0, c1, sum_g, sum_gxc);                             \
  }                                                                                                          \
  void f32_bn_backward_input__##isa(const float* gy, const float* x, int64_t C, int64_t S, int64_t p0,       \
                                    int64_t p1, const float* a, const float* b, const float* d, float* gx,   \
                                    bool accumulate) {                                                       \
    if (accumulate)                                                                                          \
      e_bn_backward_input<T, VecScalar, true>(gy, x, C, S, p0, p1, a, b, d, gx);                             \
    else                                                                                                     \
      e_bn_backward_input<T, VecScalar, false>(gy, x, C, S, p0, p1, a, b, d, gx);                            \
  }                                                                                                          \
  void f32_vadam__##isa(float* w, const float* g, float* m, float* v, int64_t n, const AdamStep& s) {         \
    e_adam<T, VecScalar>(w, g, m, v, n, s);                                                                  \
  }                                                                                                          \
  }  // namespace fas
