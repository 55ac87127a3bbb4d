// The minimal build's self-check (no test framework: it runs where only the cross compiler and
// qemu are, tools/arm_check.sh):
//   1. every kernel the minimal build ships, under every ISA this CPU has (NEON on aarch64,
//      AVX2/AVX-512 on x86-64), against its scalar reference on ragged shapes: float kernels
//      within 1e-5 (abs + rel; FMA contraction and summation order differ), int8 kernels and
//      the LBP histograms bit for bit;
//   2. with .fasm files as arguments: each model through the C API under every ISA against the
//      scalar path on fixed pseudo-random images: float and lbp-lr logits within 1e-5 relative,
//      int8 within 1e-3 (the float stem rounds differently per ISA, which can move an int8
//      activation by one step: 3e-4 measured on x86-64), and the load error of a corrupt copy.
// Prints one line per check and "min_check: all passed"; exit code 1 on the first failure.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fas/fas_c.h"
#include "kernels/cpu.h"
#include "kernels/lbp.h"
#include "kernels/nhwc.h"
#include "kernels/qs8_nhwc.h"

using namespace fas;

namespace {

int g_failed = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    ++g_failed;
  }
}

struct Lcg {  // deterministic on every platform
  uint64_t s = 12345;
  float uniform(float lo, float hi) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((s >> 40) & 0xFFFFFF) / 16777216.f;
  }
  std::vector<float> vec(size_t n, float lo = -1.f, float hi = 1.f) {
    std::vector<float> v(n);
    for (auto& x : v) x = uniform(lo, hi);
    return v;
  }
  std::vector<int8_t> i8(size_t n) {
    std::vector<int8_t> v(n);
    for (auto& x : v) x = (int8_t)std::lround(uniform(-127.f, 127.f));
    return v;
  }
};

bool close(const float* a, const float* b, size_t n, float tol) {
  for (size_t i = 0; i < n; ++i)
    if (!(std::fabs(a[i] - b[i]) <= tol * (1.f + std::fabs(b[i])))) return false;
  return true;
}

void check_float_kernels(Isa isa, Lcg& rng) {
  const NhwcKernels k = nhwc_kernels(isa), ref = nhwc_kernels(Isa::Scalar);
  const float inf = INFINITY;
  int cases = 0;
  for (int64_t M : {1, 3, 7, 50})
    for (int64_t K : {3, 8, 17})
      for (int64_t N : {5, 8, 24}) {
        const int64_t ldx = K + 2;
        auto x = rng.vec(M * ldx), w = pack_pw_weights(rng.vec(N * K).data(), N, K, nullptr);
        auto b = pack_bias(rng.vec(N).data(), N), res = rng.vec(M * N);
        for (bool with_res : {false, true}) {
          std::vector<float> y(M * N), y0(M * N);
          const float lo = with_res ? -inf : 0.f, hi = with_res ? inf : 6.f;
          k.pwconv(M, K, N, x.data(), ldx, w.data(), b.data(), with_res ? res.data() : nullptr, y.data(), lo, hi);
          ref.pwconv(M, K, N, x.data(), ldx, w.data(), b.data(), with_res ? res.data() : nullptr, y0.data(), lo, hi);
          check(close(y.data(), y0.data(), y.size(), 1e-5f), std::string("pwconv ") + isa_name(isa));
        }
        std::vector<float> s(N, 0.5f), s0(N, 0.5f);
        k.pwconv_sum(M, K, N, x.data(), ldx, w.data(), b.data(), s.data(), 0.f, 6.f);
        ref.pwconv_sum(M, K, N, x.data(), ldx, w.data(), b.data(), s0.data(), 0.f, 6.f);
        check(close(s.data(), s0.data(), N, 1e-5f), std::string("pwconv_sum ") + isa_name(isa));
        cases += 3;
      }
  for (int64_t W : {5, 17, 64})
    for (int64_t C : {3, 8, 20})
      for (int stride : {1, 2})
        for (int pad : {0, 1})
          for (int missing : {-1, 0, 2}) {
            auto r0 = rng.vec(W * C), r1 = rng.vec(W * C), r2 = rng.vec(W * C);
            const float* rows[3] = {r0.data(), r1.data(), r2.data()};
            if (missing >= 0) rows[missing] = nullptr;
            auto w = pack_dw3x3_weights(rng.vec(C * 9).data(), C, nullptr);
            auto b = pack_bias(rng.vec(C).data(), C);
            const int64_t Wo = (W + 2 * pad - 3) / stride + 1;
            std::vector<float> y(Wo * C), y0(Wo * C);
            k.dwconv3x3(rows, W, C, stride, pad, Wo, w.data(), b.data(), y.data(), 0.f, 6.f);
            ref.dwconv3x3(rows, W, C, stride, pad, Wo, w.data(), b.data(), y0.data(), 0.f, 6.f);
            check(close(y.data(), y0.data(), y.size(), 1e-5f), std::string("dwconv3x3 ") + isa_name(isa));
            // The stem's full 3x3 conv on NCHW planes (xs = 1, cs = plane size).
            const int64_t Cin = 3, Cout = C + 1, H = 3;
            auto img = rng.vec(Cin * H * W);
            const float* prow[3] = {img.data(), img.data() + W, img.data() + 2 * W};
            if (missing >= 0) prow[missing] = nullptr;
            auto cw = pack_conv3x3_weights(rng.vec(Cout * Cin * 9).data(), Cout, Cin, nullptr);
            auto cb = pack_bias(rng.vec(Cout).data(), Cout);
            std::vector<float> z(Wo * Cout), z0(Wo * Cout);
            k.conv3x3(prow, W, Cin, 1, H * W, stride, pad, Wo, Cout, cw.data(), cb.data(), z.data(), 0.f, 6.f);
            ref.conv3x3(prow, W, Cin, 1, H * W, stride, pad, Wo, Cout, cw.data(), cb.data(), z0.data(), 0.f, 6.f);
            check(close(z.data(), z0.data(), z.size(), 1e-5f), std::string("conv3x3 ") + isa_name(isa));
            cases += 2;
          }
  std::printf("float kernels, %s: %d cases\n", isa_name(isa), cases);
}

void check_int8_kernels(Isa isa, Lcg& rng) {
  const Qs8Kernels k = qs8_kernels(isa);
  int cases = 0;
  for (int64_t M : {1, 5, 50})
    for (int64_t K : {3, 8, 17})
      for (int64_t N : {5, 16, 24}) {
        auto x = rng.i8(M * K), res = rng.i8(M * N);
        auto q = qs8_quantize_weights(rng.vec(N * K).data(), N, K);
        auto w = qs8_pack_pw(q, N, K);
        std::vector<float> scale(nhwc_pad_ch(N)), bias(nhwc_pad_ch(N));
        for (int64_t n = 0; n < N; ++n) scale[n] = rng.uniform(0.001f, 0.01f), bias[n] = rng.uniform(-20.f, 20.f);
        std::vector<int8_t> y(M * N), y0(M * N);
        k.pwconv(M, K, N, x.data(), K, w.data(), scale.data(), bias.data(), res.data(), 0.7f, y.data(), -INFINITY, INFINITY);
        qs8_pwconv_nhwc__scalar(M, K, N, x.data(), K, w.data(), scale.data(), bias.data(), res.data(), 0.7f, y0.data(),
                                -INFINITY, INFINITY);
        check(y == y0, std::string("qs8 pwconv ") + isa_name(isa));
        ++cases;
      }
  for (int64_t W : {5, 33})
    for (int64_t C : {8, 20})
      for (int stride : {1, 2}) {
        auto r0 = rng.i8(W * C), r1 = rng.i8(W * C);
        const int8_t* rows[3] = {r0.data(), nullptr, r1.data()};
        auto w = qs8_pack_dw3x3(qs8_quantize_weights(rng.vec(C * 9).data(), C, 9), C);
        std::vector<float> scale(nhwc_pad_ch(C), 0.004f), bias(nhwc_pad_ch(C), 1.5f);
        const int64_t Wo = (W + 2 - 3) / stride + 1;
        std::vector<int8_t> y(Wo * C), y0(Wo * C);
        k.dwconv3x3(rows, W, C, stride, 1, Wo, w.data(), scale.data(), bias.data(), y.data(), 0.f, INFINITY);
        qs8_dwconv3x3_nhwc_row__scalar(rows, W, C, stride, 1, Wo, w.data(), scale.data(), bias.data(), y0.data(), 0.f,
                                       INFINITY);
        check(y == y0, std::string("qs8 dwconv3x3 ") + isa_name(isa));
        ++cases;
      }
  auto x = rng.vec(1000, -5.f, 5.f);
  std::vector<int8_t> y(x.size()), y0(x.size());
  k.quantize((int64_t)x.size(), x.data(), 40.f, y.data());  // also saturates
  qs8_quantize__scalar((int64_t)x.size(), x.data(), 40.f, y0.data());
  check(y == y0, std::string("qs8 quantize ") + isa_name(isa));
  std::printf("int8 kernels, %s: %d cases\n", isa_name(isa), cases + 1);
}

void check_lbp(Isa isa, Lcg& rng) {
  int cases = 0;
  for (int64_t H : {12, 40})
    for (int64_t W : {11, 37, 70})
      for (int r : {1, 2, 3}) {
        std::vector<float> img(H * W);
        for (auto& v : img) v = std::floor(rng.uniform(0.f, 8.f));  // few levels: many ties
        std::vector<float> a(9 * kLbpBins), b(9 * kLbpBins);
        lbp8_u2_hist_kernel(isa)(img.data(), H, W, r, 3, 59.f, a.data());
        f32_lbp8_u2_hist__ref(img.data(), H, W, r, 3, 59.f, b.data());
        check(a == b, std::string("lbp ") + isa_name(isa));
        ++cases;
      }
  std::printf("lbp kernel, %s: %d cases\n", isa_name(isa), cases);
}

// Each model under every ISA against the scalar path; a corrupt copy is FAS_E_FORMAT.
void check_model(const char* path) {
  Lcg rng;  // the same images on every platform (their scalar logits can be compared)
  FILE* f = std::fopen(path, "rb");
  if (!f) return check(false, std::string("cannot open ") + path);
  std::vector<unsigned char> bytes;
  for (int c; (c = std::fgetc(f)) != EOF;) bytes.push_back((unsigned char)c);
  std::fclose(f);
  fas_model* m = nullptr;
  if (fas_load_memory(bytes.data(), bytes.size(), &m) != FAS_OK) return check(false, fas_last_error());
  int C, H, W;
  fas_input_shape(m, &C, &H, &W);
  const size_t n = (size_t)C * H * W;
  std::vector<std::vector<float>> images;
  for (int i = 0; i < 3; ++i) {
    std::vector<float> x(n);
    for (auto& v : x) v = std::floor(rng.uniform(0.f, 256.f)) / 255.f;  // 8-bit levels
    images.push_back(x);
  }
  std::vector<float> want;
  set_active_isa(Isa::Scalar);
  for (auto& x : images) {
    float l;
    check(fas_run(m, x.data(), n) == FAS_OK && fas_scores(m, nullptr, &l) == FAS_OK, "run");
    want.push_back(l);
  }
  const float tol = std::string(fas_model_kind(m)).find("int8") != std::string::npos ? 1e-3f : 1e-5f;
  std::string line = std::string(path) + " (" + fas_model_kind(m) + "): scalar logits";
  for (float l : want) line += " " + std::to_string(l);
  for (Isa isa : available_isas()) {
    if (isa == Isa::Scalar) continue;
    set_active_isa(isa);
    for (size_t i = 0; i < images.size(); ++i) {
      float l = 0;
      fas_run(m, images[i].data(), n);
      fas_scores(m, nullptr, &l);
      check(std::fabs(l - want[i]) <= tol * (1.f + std::fabs(want[i])),
            std::string(path) + " under " + isa_name(isa) + ": " + std::to_string(l) + " vs " + std::to_string(want[i]));
    }
    line += std::string(", ") + isa_name(isa) + " within " + std::to_string(tol).substr(0, 7);
  }
  fas_free(m);
  std::vector<unsigned char> bad = bytes;
  bad[bad.size() / 2] ^= 1;  // one flipped bit
  fas_model* b = nullptr;
  check(fas_load_memory(bad.data(), bad.size(), &b) == FAS_E_FORMAT && !b, "a flipped bit must be FAS_E_FORMAT");
  std::printf("%s; a flipped bit: %s\n", line.c_str(), fas_last_error());
}

}  // namespace

int main(int argc, char** argv) {
  Lcg rng;
  std::printf("min_check: ISA %s\n", isa_report().c_str());
  for (Isa isa : available_isas()) {
    if (isa != Isa::Scalar) check_float_kernels(isa, rng), check_int8_kernels(isa, rng);
    check_lbp(isa, rng);
  }
  for (int i = 1; i < argc; ++i) check_model(argv[i]);
  if (g_failed) {
    std::printf("min_check: %d checks failed\n", g_failed);
    return 1;
  }
  std::printf("min_check: all passed\n");
  return 0;
}
