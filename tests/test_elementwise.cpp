// Every ISA's elementwise kernels equal the plain references on ragged lengths (not multiples
// of 4/8/16), in place and out of place; batch-norm folding equals conv -> BN (eval).
#include <cmath>

#include "kernels/batchnorm.h"
#include "kernels/cpu.h"
#include "kernels/dwconv3x3.h"
#include "kernels/elementwise.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {
const int64_t kLengths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1029};
const float kInf = INFINITY;
}  // namespace

TEST(Elementwise, ClampAndGradMatchReference) {
  Rng rng(5);
  for (Isa isa : available_isas()) {
    const ElementwiseKernels& k = elementwise_kernels(isa);
    for (int64_t n : kLengths)
      for (auto [lo, hi] : {std::pair{0.f, kInf}, std::pair{0.f, 6.f}, std::pair{-kInf, kInf}}) {
        Tensor x = randn({n}, rng, 5.f), gy = randn({n}, rng), gx0 = randn({n}, rng);
        if (n > 4) x.data()[1] = lo, x.data()[2] = hi;  // exactly on the kinks: derivative 0
        Tensor yr = Tensor::zeros({n}), y = Tensor::zeros({n});
        f32_vclamp__ref(x.data(), yr.data(), n, lo, hi);
        k.vclamp(x.data(), y.data(), n, lo, hi);
        EXPECT_EQ(max_abs_diff(y, yr), 0.f) << isa_name(isa) << " n=" << n;
        Tensor xi = x.clone();  // in place
        k.vclamp(xi.data(), xi.data(), n, lo, hi);
        EXPECT_EQ(max_abs_diff(xi, yr), 0.f);
        Tensor gr = gx0.clone(), g = gx0.clone();
        f32_vclamp_grad__ref(x.data(), gy.data(), gr.data(), n, lo, hi);
        k.vclamp_grad(x.data(), gy.data(), g.data(), n, lo, hi);
        EXPECT_EQ(max_abs_diff(g, gr), 0.f) << isa_name(isa) << " n=" << n;
        Tensor mr = gx0.clone(), m = gx0.clone();  // the mask overwrites: old contents must vanish
        f32_vclamp_mask__ref(x.data(), gy.data(), mr.data(), n, lo, hi);
        k.vclamp_mask(x.data(), gy.data(), m.data(), n, lo, hi);
        EXPECT_EQ(max_abs_diff(m, mr), 0.f) << isa_name(isa) << " n=" << n;
        Tensor z = Tensor::zeros({n});  // = the accumulating form on a zero buffer
        f32_vclamp_grad__ref(x.data(), gy.data(), z.data(), n, lo, hi);
        EXPECT_EQ(max_abs_diff(mr, z), 0.f);
      }
  }
}

TEST(Elementwise, ChannelEpiloguesAndAddMatchReference) {
  Rng rng(6);
  for (Isa isa : available_isas()) {
    const ElementwiseKernels& k = elementwise_kernels(isa);
    for (int64_t plane : {1, 5, 8, 13, 49, 125}) {
      const int64_t batch = 2, ch = 3, n = batch * ch * plane;
      Tensor x = randn({n}, rng, 3.f), b = randn({ch}, rng), s = randn({ch}, rng), t = randn({ch}, rng);
      Tensor yr = Tensor::zeros({n}), y = Tensor::zeros({n});
      f32_vbias_clamp__ref(x.data(), b.data(), yr.data(), batch, ch, plane, 0.f, 6.f);
      k.vbias_clamp(x.data(), b.data(), y.data(), batch, ch, plane, 0.f, 6.f);
      EXPECT_EQ(max_abs_diff(y, yr), 0.f) << isa_name(isa) << " plane " << plane;
      f32_vscaleshift_clamp__ref(x.data(), s.data(), t.data(), yr.data(), batch, ch, plane, -kInf, kInf);
      k.vscaleshift_clamp(x.data(), s.data(), t.data(), y.data(), batch, ch, plane, -kInf, kInf);
      EXPECT_TRUE(allclose(y, yr, 1e-6f, 1e-6f)) << isa_name(isa) << " plane " << plane;  // FMA rounding
      Tensor a = randn({n}, rng);
      f32_vadd__ref(a.data(), x.data(), yr.data(), n);
      k.vadd(a.data(), x.data(), y.data(), n);
      EXPECT_EQ(max_abs_diff(y, yr), 0.f) << isa_name(isa);
    }
  }
}

// conv (depthwise 3x3, bias) -> batch norm (eval) -> ReLU6 equals the folded conv with the
// ReLU6 fused into its epilogue.
TEST(Elementwise, FoldBatchNormMatchesConvThenBn) {
  Rng rng(7);
  const int64_t n = 2, c = 5;
  const DwConv3x3Geom g{11, 13, 11, 13, 1, 1};
  const float eps = 1e-3f;
  Tensor x = randn({n, c, g.h, g.w}, rng), w = randn({c, 1, 3, 3}, rng), b = randn({c}, rng);
  Tensor gamma = randn({c}, rng), beta = randn({c}, rng), mean = randn({c}, rng), var = randu({c}, rng, 0.2f, 2.f);
  // Unfolded: conv, then y = gamma * (z - mean) / sqrt(var + eps) + beta, then ReLU6.
  Tensor z = Tensor::zeros({n, c, g.oh, g.ow});
  dwconv3x3_forward(x.data(), w.data(), b.data(), z.data(), n, c, g, 1, -kInf, kInf);
  Tensor ref = Tensor::zeros(z.shape());
  const int64_t plane = g.oh * g.ow;
  for (int64_t i = 0; i < z.numel(); ++i) {
    const int64_t ch = (i / plane) % c;
    const float bn = gamma.data()[ch] * (z.data()[i] - mean.data()[ch]) / std::sqrt(var.data()[ch] + eps) + beta.data()[ch];
    ref.data()[i] = std::min(std::max(bn, 0.f), 6.f);
  }
  Tensor wf = w.clone(), bf = b.clone();
  fold_batch_norm(wf.data(), bf.data(), c, 9, gamma.data(), beta.data(), mean.data(), var.data(), eps);
  Tensor y = Tensor::zeros(z.shape());
  dwconv3x3_forward(x.data(), wf.data(), bf.data(), y.data(), n, c, g, 1, 0.f, 6.f);
  EXPECT_TRUE(allclose(y, ref, 1e-4f, 1e-4f));
  // Without affine parameters and without a conv bias (b = 0).
  Tensor wn = w.clone(), bn = Tensor::zeros({c});
  fold_batch_norm(wn.data(), bn.data(), c, 9, nullptr, nullptr, mean.data(), var.data(), eps);
  for (int64_t o = 0; o < c; ++o) {
    const float s = 1.f / std::sqrt(var.data()[o] + eps);
    EXPECT_FLOAT_EQ(wn.data()[o * 9 + 4], w.data()[o * 9 + 4] * s);
    EXPECT_FLOAT_EQ(bn.data()[o], -mean.data()[o] * s);
  }
}

// The SIMD batch-norm kernels equal the plain kernels of kernels/batchnorm.h (the layers' own
// references) on ragged [N, C, S] shapes, through the threaded drivers (ctest: 2 threads).
TEST(Elementwise, BatchNormKernelsMatchReference) {
  Rng rng(8);
  const Isa saved = active_isa();
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    for (auto [n, c, s] : {std::tuple<int64_t, int64_t, int64_t>{2, 3, 1}, {3, 5, 7}, {2, 4, 17}, {4, 3, 125}, {1, 2, 1000}}) {
      Tensor x = randn({n, c, s}, rng, 2.f), gy = randn({n, c, s}, rng), a = randn({c}, rng), b = randn({c}, rng),
             d = randn({c}, rng);
      for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] += 3.f;  // a non-zero mean
      Tensor m = Tensor::zeros({c}), v = Tensor::zeros({c}), mr = Tensor::zeros({c}), vr = Tensor::zeros({c});
      f32_batchnorm_stats(x.data(), n, c, s, mr.data(), vr.data());
      bn_stats(x.data(), n, c, s, m.data(), v.data(), num_threads());
      EXPECT_TRUE(allclose(m, mr, 1e-5f, 1e-5f)) << isa_name(isa);
      EXPECT_TRUE(allclose(v, vr, 1e-5f, 1e-4f)) << isa_name(isa);
      Tensor sg = Tensor::zeros({c}), sx = Tensor::zeros({c}), sgr = Tensor::zeros({c}), sxr = Tensor::zeros({c});
      f32_batchnorm_grad_sums(gy.data(), x.data(), mr.data(), n, c, s, sgr.data(), sxr.data());
      bn_grad_sums(gy.data(), x.data(), mr.data(), n, c, s, sg.data(), sx.data(), num_threads());
      EXPECT_TRUE(allclose(sg, sgr, 1e-4f, 1e-5f)) << isa_name(isa);
      EXPECT_TRUE(allclose(sx, sxr, 1e-4f, 1e-5f)) << isa_name(isa);
      Tensor gx0 = randn({n, c, s}, rng), gx = gx0.clone(), gxr = gx0.clone();
      f32_batchnorm_backward_input(gy.data(), x.data(), n, c, s, a.data(), b.data(), d.data(), gxr.data());
      bn_backward_input(gy.data(), x.data(), n, c, s, a.data(), b.data(), d.data(), gx.data(), num_threads());
      EXPECT_TRUE(allclose(gx, gxr, 1e-5f, 1e-5f)) << isa_name(isa);
      // Assign form (fresh gradient buffer): gx is overwritten, never read, so NaN garbage in it
      // must not leak; equals the reference accumulated into zeros.
      Tensor gxw = Tensor::full({n, c, s}, NAN), gxz = Tensor::zeros({n, c, s});
      f32_batchnorm_backward_input(gy.data(), x.data(), n, c, s, a.data(), b.data(), d.data(), gxz.data());
      bn_backward_input(gy.data(), x.data(), n, c, s, a.data(), b.data(), d.data(), gxw.data(), num_threads(), false);
      EXPECT_TRUE(allclose(gxw, gxz, 1e-5f, 1e-5f)) << isa_name(isa);
    }
  }
  set_active_isa(saved);
}

// The SIMD tanh approximation stays within 2e-6 of std::tanh (a few ulp near +-1) over the
// whole float range that matters, including the clamp region, zeros and tiny values; its
// backward equals the reference formula.
TEST(Elementwise, TanhApproximationAndGrad) {
  std::vector<float> xs;
  for (float v = -12.f; v <= 12.f; v += 0.001953125f) xs.push_back(v);
  for (float v : {0.f, -0.f, 1e-30f, -1e-20f, 3e-4f, 1e30f, -1e30f}) xs.push_back(v);
  const int64_t n = (int64_t)xs.size();  // 12296: not a multiple of any vector width
  Tensor x = Tensor::from({n}, xs), yr = Tensor::zeros({n}), y = Tensor::zeros({n});
  f32_vtanh__ref(x.data(), yr.data(), n);
  Rng rng(9);
  Tensor gy = randn({n}, rng), g0 = randn({n}, rng);
  for (Isa isa : available_isas()) {
    const ElementwiseKernels& k = elementwise_kernels(isa);
    k.vtanh(x.data(), y.data(), n);
    EXPECT_LE(max_abs_diff(y, yr), 2e-6f) << isa_name(isa);
    EXPECT_EQ(y.data()[n - 7], 0.f);  // tanh(0) is exactly 0
    Tensor g = g0.clone(), gr = g0.clone();
    f32_vtanh_grad__ref(yr.data(), gy.data(), gr.data(), n);
    k.vtanh_grad(yr.data(), gy.data(), g.data(), n);
    EXPECT_TRUE(allclose(g, gr, 1e-6f, 1e-6f)) << isa_name(isa);
  }
}

// Adam, AdamW, Adam with L2 decay and the Keras form, several steps from random moments: every
// ISA's kernel equals the plain loop to rounding (the vector ISAs may fuse multiply and add), and
// the threaded driver equals one call of the kernel bit for bit (its split is elementwise).
TEST(Elementwise, AdamStepMatchesReference) {
  struct Form {
    float wd;
    bool decoupled, keras;
  };
  const Form forms[] = {{0.f, false, false}, {0.01f, false, false}, {0.05f, true, false}, {0.f, false, true}};
  Rng rng(11);
  for (Isa isa : available_isas()) {
    const ElementwiseKernels& k = elementwise_kernels(isa);
    for (int64_t n : kLengths)
      for (const Form& f : forms) {
        Tensor w = randn({n}, rng), m = randn({n}, rng, 0.1f), v = randn({n}, rng, 0.1f);
        for (int64_t i = 0; i < n; ++i) v.data()[i] *= v.data()[i];  // a second moment is >= 0
        Tensor wr = w.clone(), mr = m.clone(), vr = v.clone();
        for (int t : {1, 2, 7}) {
          Tensor g = randn({n}, rng);
          const AdamStep s{1e-2f, 0.9f, 0.999f, 1e-8f, f.wd, 1.f - std::pow(0.9f, (float)t),
                           1.f - std::pow(0.999f, (float)t), f.decoupled, f.keras};
          f32_vadam__ref(wr.data(), g.data(), mr.data(), vr.data(), n, s);
          k.vadam(w.data(), g.data(), m.data(), v.data(), n, s);
          EXPECT_TRUE(allclose(m, mr, 1e-6f, 1e-7f)) << isa_name(isa) << " n=" << n << " t=" << t;
          EXPECT_TRUE(allclose(v, vr, 1e-6f, 1e-9f)) << isa_name(isa) << " n=" << n << " t=" << t;
          EXPECT_TRUE(allclose(w, wr, 1e-6f, 1e-7f)) << isa_name(isa) << " n=" << n << " t=" << t;
        }
      }
  }
  const int64_t n = (int64_t(1) << 16) + 1029;  // threaded, ragged
  Tensor w = randn({n}, rng), g = randn({n}, rng), m = Tensor::zeros({n}), v = Tensor::zeros({n});
  Tensor w1 = w.clone(), m1 = m.clone(), v1 = v.clone();
  const AdamStep s{1e-3f, 0.9f, 0.999f, 1e-8f, 0.f, 0.1f, 0.001f, false, false};
  adam_step(w.data(), g.data(), m.data(), v.data(), n, s);
  elementwise_kernels().vadam(w1.data(), g.data(), m1.data(), v1.data(), n, s);
  EXPECT_EQ(max_abs_diff(w, w1), 0.f);
  EXPECT_EQ(max_abs_diff(v, v1), 0.f);
}
