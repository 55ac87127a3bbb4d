// The 2x2 max-pool and 2x nearest-upsample fast paths of every ISA the CPU has equal the plain
// references exactly (values, argmax, summation order) on ragged planes: odd heights and widths
// (the last row / column is dropped by the pool), widths below, at and just past a vector of
// outputs, ties (first maximum wins) and NaNs. The threaded drivers equal them too.
#include <cmath>
#include <vector>

#include "kernels/cpu.h"
#include "kernels/pool.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

struct Plane {
  int64_t planes, h, w;
};

std::vector<Plane> shapes() {
  std::vector<Plane> v = {{1, 1, 1}, {1, 2, 2}, {2, 3, 17}, {1, 2, 16}, {3, 5, 15}, {1, 4, 18}, {2, 7, 33}};
  Rng rng(5);
  while (v.size() < 40)
    v.push_back({1 + (int64_t)rng.below(4), 1 + (int64_t)rng.below(20), 1 + (int64_t)rng.below(70)});
  return v;
}

// Values on a coarse grid so that windows often hold ties; a few NaNs.
std::vector<float> values(int64_t n, Rng& rng, bool nans) {
  std::vector<float> v(n);
  for (auto& x : v) x = (float)((int)rng.below(7) - 3);
  if (nans)
    for (int64_t i = 0; i < n; i += 13) v[i] = NAN;
  return v;
}

bool same(const std::vector<float>& a, const std::vector<float>& b) {  // bitwise, NaN == NaN
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

std::string tag(const Plane& s, Isa isa) {
  return std::string(isa_name(isa)) + " " + std::to_string(s.planes) + "x" + std::to_string(s.h) + "x" +
         std::to_string(s.w);
}

class PoolKernelsAllIsas : public ::testing::Test {
 protected:
  void TearDown() override { set_active_isa(saved_); }
  Isa saved_ = active_isa();
};

}  // namespace

TEST_F(PoolKernelsAllIsas, MaxPool2x2MatchesReference) {
  Rng rng(1);
  for (Isa isa : available_isas()) {
    const PoolKernels& k = pool_kernels(isa);
    for (const Plane& s : shapes()) {
      if (s.h < 2 || s.w < 2) continue;
      const PoolGeom g{s.planes, s.h, s.w, s.h / 2, s.w / 2, 2, 2, 2, 2, 0, 0};
      const int64_t out = s.planes * g.oh * g.ow;
      for (bool nans : {false, true}) {
        auto x = values(s.planes * s.h * s.w, rng, nans);
        std::vector<float> yr(out), yk(out);
        std::vector<int32_t> ar(out), ak(out, -1);
        f32_maxpool2d(x.data(), g, yr.data(), ar.data());
        k.maxpool2x2(x.data(), s.planes, s.h, s.w, yk.data(), ak.data());
        EXPECT_TRUE(same(yk, yr)) << tag(s, isa);
        EXPECT_EQ(ak, ar) << tag(s, isa);
        k.maxpool2x2(x.data(), s.planes, s.h, s.w, yk.data(), nullptr);  // inference: no argmax
        EXPECT_TRUE(same(yk, yr)) << tag(s, isa);
        // Backward from the reference's argmax into a nonzero gradient.
        auto gy = values(out, rng, false), gx0 = values(x.size(), rng, false);
        std::vector<float> gr = gx0, gk = gx0;
        f32_maxpool2d_backward(gy.data(), ar.data(), g, gr.data());
        k.maxpool2x2_bwd(gy.data(), ar.data(), s.planes, s.h, s.w, gk.data());
        EXPECT_TRUE(same(gk, gr)) << tag(s, isa);
      }
    }
  }
}

TEST_F(PoolKernelsAllIsas, Upsample2xMatchesReference) {
  Rng rng(2);
  for (Isa isa : available_isas()) {
    const PoolKernels& k = pool_kernels(isa);
    for (const Plane& s : shapes()) {
      const int64_t in = s.planes * s.h * s.w;
      std::vector<float> x(in);
      for (auto& v : x) v = rng.normal();
      std::vector<float> yr(4 * in), yk(4 * in, NAN);
      f32_upsample_nearest2d(x.data(), s.planes, s.h, s.w, 2, 2, yr.data());
      k.upsample2x(x.data(), s.planes, s.h, s.w, yk.data());
      EXPECT_TRUE(same(yk, yr)) << tag(s, isa);
      std::vector<float> gy(4 * in), gr(in);
      for (auto& v : gy) v = rng.normal();
      for (auto& v : gr) v = rng.normal();
      std::vector<float> gk = gr;
      f32_upsample_nearest2d_backward(gy.data(), s.planes, s.h, s.w, 2, 2, gr.data());
      k.upsample2x_bwd(gy.data(), s.planes, s.h, s.w, gk.data());
      EXPECT_TRUE(same(gk, gr)) << tag(s, isa);  // bitwise: same order of additions
    }
  }
}

// The threaded drivers (fast path and generic geometry) equal the references for 1-3 threads.
TEST_F(PoolKernelsAllIsas, DriversMatchReference) {
  Rng rng(3);
  for (Isa isa : available_isas()) {
    set_active_isa(isa);
    for (int threads : test_thread_counts({1, 2, 3})) {
      for (int k : {2, 3}) {  // 2: fast path; 3 (stride 2, padded): the generic reference
        const int64_t planes = 5, h = 91, w = 157;  // large enough to be split over threads
        const int pad = k == 3 ? 1 : 0;
        const PoolGeom g{planes, h, w, (h + 2 * pad - k) / 2 + 1, (w + 2 * pad - k) / 2 + 1, k, k, 2, 2, pad, pad};
        const int64_t out = planes * g.oh * g.ow;
        auto x = values(planes * h * w, rng, false);
        std::vector<float> yr(out), yd(out);
        std::vector<int32_t> ar(out), ad(out);
        f32_maxpool2d(x.data(), g, yr.data(), ar.data());
        maxpool2d(x.data(), g, yd.data(), ad.data(), threads);
        EXPECT_TRUE(same(yd, yr)) << "k " << k << " threads " << threads;
        EXPECT_EQ(ad, ar) << "k " << k << " threads " << threads;
        auto gy = values(out, rng, false);
        std::vector<float> gr(x.size(), 0.f), gd(x.size(), 0.f);
        f32_maxpool2d_backward(gy.data(), ar.data(), g, gr.data());
        maxpool2d_backward(gy.data(), ad.data(), g, gd.data(), threads);
        EXPECT_TRUE(same(gd, gr)) << "k " << k << " threads " << threads;
      }
      for (int sc : {2, 3}) {
        const int64_t planes = 4, h = 61, w = 77, in = planes * h * w;
        std::vector<float> x(in), yr(in * sc * sc), yd(in * sc * sc);
        for (auto& v : x) v = rng.normal();
        f32_upsample_nearest2d(x.data(), planes, h, w, sc, sc, yr.data());
        upsample_nearest2d(x.data(), planes, h, w, sc, sc, yd.data(), threads);
        EXPECT_TRUE(same(yd, yr)) << "scale " << sc << " threads " << threads;
        std::vector<float> gr(in, 1.f), gd(in, 1.f);
        f32_upsample_nearest2d_backward(yr.data(), planes, h, w, sc, sc, gr.data());
        upsample_nearest2d_backward(yr.data(), planes, h, w, sc, sc, gd.data(), threads);
        EXPECT_TRUE(same(gd, gr)) << "scale " << sc << " threads " << threads;
      }
    }
  }
}
