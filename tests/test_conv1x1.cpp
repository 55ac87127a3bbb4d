// The fused pointwise conv kernel equals its reference for every ISA on ragged sizes (channel
// counts not multiples of 4, pixel counts not multiples of the vector width), with and without
// bias and clamp.
#include <cmath>

#include "kernels/conv1x1.h"
#include "kernels/cpu.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

TEST(Conv1x1, EveryIsaMatchesReference) {
  Rng rng(11);
  for (Isa isa : available_isas()) {
    const Conv1x1Fn k = conv1x1_kernel(isa);
    for (auto [c, oc, p] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 7}, {8, 48, 125}, {48, 8, 50},
                            {16, 96, 33}, {13, 7, 16}, {32, 9, 64}, {96, 16, 17}}) {
      Tensor x = randn({c, p}, rng), w = randn({oc, c}, rng), b = randn({oc}, rng);
      for (bool with_bias : {true, false})
        for (auto [lo, hi] : {std::pair{-INFINITY, INFINITY}, std::pair{0.f, 6.f}}) {
          Tensor ref = Tensor::zeros({oc, p}), got = Tensor::zeros({oc, p});
          const float* bp = with_bias ? b.data() : nullptr;
          f32_conv1x1_bias_clamp__ref(x.data(), w.data(), bp, ref.data(), c, oc, p, lo, hi);
          k(x.data(), w.data(), bp, got.data(), c, oc, p, lo, hi);
          ASSERT_TRUE(allclose(got, ref, 1e-5f * (float)c, 1e-5f))
              << isa_name(isa) << " C " << c << " OC " << oc << " P " << p << " bias " << with_bias;
        }
    }
  }
}
