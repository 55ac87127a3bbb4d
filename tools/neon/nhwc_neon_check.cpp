// Cross-check of the NEON kernels against the scalar references under qemu-aarch64.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>
#include "kernels/nhwc.h"
using namespace fas;
int main() {
  std::mt19937 g(1);
  std::uniform_real_distribution<float> u(-1, 1);
  auto rv = [&](size_t n) { std::vector<float> v(n); for (auto& x : v) x = u(g); return v; };
  int bad = 0, cases = 0;
  for (int64_t M : {1, 3, 9}) for (int64_t K : {1, 5, 48}) for (int64_t N : {1, 3, 8, 13, 48}) for (int r = 0; r < 2; ++r) {
    auto x = rv(M * K), w = rv(K * nhwc_pad_ch(N)), b = rv(nhwc_pad_ch(N)), res = rv(M * N);
    std::vector<float> a(M * N), c(M * N);
    f32_pwconv_nhwc__scalar(M, K, N, x.data(), K, w.data(), b.data(), r ? res.data() : nullptr, a.data(), 0, 6);
    f32_pwconv_nhwc__neon(M, K, N, x.data(), K, w.data(), b.data(), r ? res.data() : nullptr, c.data(), 0, 6);
    for (size_t i = 0; i < a.size(); ++i) bad += std::fabs(a[i] - c[i]) > 1e-5f * (1 + std::fabs(a[i]));
    ++cases;
  }
  for (int64_t W : {1, 2, 5, 13}) for (int64_t C : {1, 3, 8, 13}) for (int s : {1, 2}) for (int pl : {0, 1}) {
    const int64_t Wo = std::max<int64_t>(1, (W + pl + 1 - 3) / s + 1);
    auto r0 = rv(W * C), r1 = rv(W * C), w = rv(9 * nhwc_pad_ch(C)), b = rv(nhwc_pad_ch(C));
    const float* rows[3] = {nullptr, r0.data(), r1.data()};
    std::vector<float> a(Wo * C), c(Wo * C);
    f32_dwconv3x3_nhwc_row__scalar(rows, W, C, s, pl, Wo, w.data(), b.data(), a.data(), -1e30f, 1e30f);
    f32_dwconv3x3_nhwc_row__neon(rows, W, C, s, pl, Wo, w.data(), b.data(), c.data(), -1e30f, 1e30f);
    for (size_t i = 0; i < a.size(); ++i) bad += std::fabs(a[i] - c[i]) > 1e-5f * (1 + std::fabs(a[i]));
    ++cases;
  }
  std::printf("neon vs scalar: %d cases, %d mismatching elements\n", cases, bad);
  return bad != 0;
}
