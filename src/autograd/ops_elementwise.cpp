// Elementwise arithmetic, unary maths, activations and full reductions.
#include <cmath>
#include <cstring>

#include "autograd/graph.h"
#include "autograd/mutation.h"
#include "autograd/ops.h"
#include "kernels/cpu.h"
#include "kernels/elementwise.h"

namespace fas {

namespace {

// Runs f(i0, i1) over [0, n) split into one contiguous range per thread when n is large enough
// to pay for waking the team. Only for elementwise work: the result does not depend on the split.
template <class F>
void parallel_range(int64_t n, F f) {
  const int T = n >= (int64_t(1) << 17) ? num_threads() : 1;
  if (T <= 1) return f(int64_t(0), n);
#pragma omp parallel for num_threads(T) schedule(static)
  for (int t = 0; t < T; ++t) f(n * t / T, n * (t + 1) / T);
}

void check_binary(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() && b.numel() != 1)
    fail(std::string(op) + ": shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
         " do not match (b must have a's shape or one element)");
}

// y = f(a, b) elementwise, b possibly a one-element tensor. df returns (dy/da, dy/db).
template <class F, class DF>
Tensor binary(const char* name, const Tensor& a, const Tensor& b, F f, DF df) {
  check_binary(name, a, b);
  Tensor y = Tensor::uninit(a.shape());
  const int64_t n = a.numel();
  const bool bs = b.numel() == 1 && a.numel() != 1;
  const float* pa = a.data();
  const float* pb = b.data();
  float* py = y.data();
  parallel_range(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) py[i] = f(pa[i], pb[bs ? 0 : i]);
  });
  Tensor ca = a, cb = b;
  record(y, name, {a, b}, [ca, cb, bs, n, df](const Tensor& gy) mutable {
    const float* g = gy.data();
    const float* pa = ca.data();
    const float* pb = cb.data();
    // Fresh gradient buffers (Tensor::grad_for_write) are assigned, others accumulated. a is
    // taken first, so for a op a (one buffer) the b term accumulates onto a's written value.
    bool fa = false, fb = false;
    float* ga = ca.requires_grad() ? ca.grad_for_write(&fa) : nullptr;
    float* gb = cb.requires_grad() ? cb.grad_for_write(&fb) : nullptr;
    double gbs = 0;
    for (int64_t i = 0; i < n; ++i) {
      float da, db;
      df(pa[i], pb[bs ? 0 : i], &da, &db);
      if (ga) ga[i] = (fa ? 0.f : ga[i]) + g[i] * da;
      if (gb) {
        if (bs)
          gbs += (double)g[i] * db;
        else
          gb[i] = (fb ? 0.f : gb[i]) + g[i] * db;
      }
    }
    if (gb && bs) gb[0] = (fb ? 0.f : gb[0]) + (float)gbs;
  });
  return y;
}

// y = f(x); dfdx(x, y) gives the local derivative from the input and output values.
template <class F, class DF>
Tensor unary(const char* name, const Tensor& a, F f, DF dfdx) {
  Tensor y = Tensor::uninit(a.shape());
  const int64_t n = a.numel();
  const float* pa = a.data();
  float* py = y.data();
  parallel_range(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) py[i] = f(pa[i]);
  });
  Tensor ca = a, cy = y.detach();
  record(y, name, {a}, [ca, cy, n, dfdx](const Tensor& gy) mutable {
    const float* g = gy.data();
    const float* px = ca.data();
    const float* py = cy.data();
    float* gx = ca.grad_data();
    parallel_range(n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) gx[i] += g[i] * dfdx(px[i], py[i]);
    });
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  if (a.shape() == b.shape()) {  // the common case (residual adds): SIMD kernel both ways
    Tensor y = Tensor::uninit(a.shape());
    const int64_t n = a.numel();
    const VAddFn vadd = elementwise_kernels().vadd;
    parallel_range(n, [&](int64_t i0, int64_t i1) { vadd(a.data() + i0, b.data() + i0, y.data() + i0, i1 - i0); });
    Tensor ca = a, cb = b;
    record(y, "add", {a, b}, [ca, cb, n, vadd](const Tensor& gy) mutable {
      for (Tensor* t : {&ca, &cb})
        if (t->requires_grad()) {  // a fresh buffer (Tensor::grad_for_write) gets a copy of gy
          bool fresh;
          float* g = t->grad_for_write(&fresh);
          parallel_range(n, [&](int64_t i0, int64_t i1) {
            if (fresh)
              std::memcpy(g + i0, gy.data() + i0, sizeof(float) * (i1 - i0));
            else
              vadd(g + i0, gy.data() + i0, g + i0, i1 - i0);
          });
        }
    });
    return y;
  }
  return binary("add", a, b, [](float x, float y) { return x + y; },
                [](float, float, float* da, float* db) { *da = 1.f, *db = 1.f; });
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary("sub", a, b, [](float x, float y) { return x - y; },
                [](float, float, float* da, float* db) { *da = 1.f, *db = -1.f; });
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary("mul", a, b, [](float x, float y) { return x * y; },
                [](float x, float y, float* da, float* db) { *da = y, *db = x; });
}
Tensor div(const Tensor& a, const Tensor& b) {
  return binary("div", a, b, [](float x, float y) { return x / y; },
                [](float x, float y, float* da, float* db) { *da = 1.f / y, *db = -x / (y * y); });
}

Tensor add_scalar(const Tensor& a, float s) {
  return unary("add_scalar", a, [s](float x) { return x + s; }, [](float, float) { return 1.f; });
}
Tensor mul_scalar(const Tensor& a, float s) {
  return unary("mul_scalar", a, [s](float x) { return x * s; }, [s](float, float) { return s; });
}
Tensor neg(const Tensor& a) { return mul_scalar(a, -1.f); }
Tensor exp(const Tensor& a) {
  return unary("exp", a, [](float x) { return std::exp(x); }, [](float, float y) { return y; });
}
Tensor log(const Tensor& a) {
  return unary("log", a, [](float x) { return std::log(x); }, [](float x, float) { return 1.f / x; });
}
Tensor square(const Tensor& a) {
  return unary("square", a, [](float x) { return x * x; }, [](float x, float) { return 2.f * x; });
}
Tensor sqrt(const Tensor& a) {
  return unary("sqrt", a, [](float x) { return std::sqrt(x); }, [](float, float y) { return 0.5f / y; });
}
Tensor abs(const Tensor& a) {
  // d|x|/dx at 0 is taken as 0 (PyTorch's sign(0) = 0).
  return unary("abs", a, [](float x) { return std::fabs(x); },
               [](float x, float) { return (float)((x > 0) - (x < 0)); });
}

// Activations. At kinks the derivative is PyTorch's: relu'(0) = 0, relu6'(0) = relu6'(6) = 0.
// relu and relu6 are clamps: forward and backward run the dispatched SIMD kernels.
namespace {
Tensor clamp_op(const char* name, const Tensor& a, float lo, float hi) {
  Tensor y = Tensor::uninit(a.shape());
  const int64_t n = a.numel();
  const ElementwiseKernels& k = elementwise_kernels();
  parallel_range(n, [&](int64_t i0, int64_t i1) { k.vclamp(a.data() + i0, y.data() + i0, i1 - i0, lo, hi); });
  Tensor ca = a;
  record(y, name, {a}, [ca, n, lo, hi, &k](const Tensor& gy) mutable {
    bool fresh;  // a fresh buffer (Tensor::grad_for_write) gets the masked gradient written
    float* gx = ca.grad_for_write(&fresh);
    parallel_range(n, [&](int64_t i0, int64_t i1) {
      (fresh ? k.vclamp_mask : k.vclamp_grad)(ca.data() + i0, gy.data() + i0, gx + i0, i1 - i0, lo, hi);
    });
  });
  return y;
}
}  // namespace
Tensor relu(const Tensor& a) { return clamp_op("relu", a, 0.f, INFINITY); }
Tensor relu6(const Tensor& a) { return clamp_op("relu6", a, 0.f, 6.f); }
Tensor leaky_relu(const Tensor& a, float slope) {
  return unary("leaky_relu", a, [slope](float x) { return x > 0 ? x : slope * x; },
               [slope](float x, float) { return x > 0 ? 1.f : slope; });
}
// tanh: the dispatched SIMD rational approximation (within 2e-6 of std::tanh; the Scalar ISA
// uses std::tanh itself), backward from the output.
Tensor tanh(const Tensor& a) {
  Tensor y = Tensor::uninit(a.shape());
  const int64_t n = a.numel();
  const ElementwiseKernels& k = elementwise_kernels();
  parallel_range(n, [&](int64_t i0, int64_t i1) { k.vtanh(a.data() + i0, y.data() + i0, i1 - i0); });
  Tensor ca = a, cy = y.detach();
  record(y, "tanh", {a}, [ca, cy, n, &k](const Tensor& gy) mutable {
    float* gx = ca.grad_data();
    parallel_range(n, [&](int64_t i0, int64_t i1) { k.vtanh_grad(cy.data() + i0, gy.data() + i0, gx + i0, i1 - i0); });
  });
  return y;
}
Tensor sigmoid(const Tensor& a) {
  return unary("sigmoid", a, [](float x) { return x >= 0 ? 1.f / (1.f + std::exp(-x)) : std::exp(x) / (1.f + std::exp(x)); },
               [](float, float y) { return y * (kMutantSigmoidOne - y); });
}

Tensor sum(const Tensor& a) {
  const int64_t n = a.numel();
  const float* p = a.data();
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  Tensor y = Tensor::scalar((float)s);
  Tensor ca = a;
  record(y, "sum", {a}, [ca, n](const Tensor& gy) mutable {
    float g = gy.data()[0];
    float* gx = ca.grad_data();
    for (int64_t i = 0; i < n; ++i) gx[i] += g;
  });
  return y;
}

Tensor mean(const Tensor& a) {
  if (a.numel() == 0) fail("mean: empty tensor of shape " + shape_str(a.shape()));
  return mul_scalar(sum(a), 1.0f / (float)a.numel());
}

}  // namespace fas
