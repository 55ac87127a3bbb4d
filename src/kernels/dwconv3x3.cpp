// Dispatch table and whole-tensor drivers for the depthwise 3x3 kernels. This file is built
// without ISA flags; it also instantiates the portable one-lane variant ("scalar").
#include "kernels/dwconv3x3.h"

#include <string>

#include "kernels/dwconv3x3_impl.h"
#include "kernels/simd/vec_scalar.h"
#include "base/error.h"

FAS_DEFINE_DWCONV3X3(scalar, VecScalar)

namespace fas {

#define FAS_DWCONV3X3_TABLE(isa)                                   \
  DwConv3x3Kernels {                                               \
    {f32_dwconv3x3_s1__##isa, f32_dwconv3x3_s2__##isa},            \
        {f32_dwconv3x3_s1_dx__##isa, f32_dwconv3x3_s2_dx__##isa},  \
        {f32_dwconv3x3_s1_dw__##isa, f32_dwconv3x3_s2_dw__##isa} \
  }

const DwConv3x3Kernels& dwconv3x3_kernels(Isa isa) {
  static const DwConv3x3Kernels scalar = FAS_DWCONV3X3_TABLE(scalar);
#if defined(__x86_64__)
  static const DwConv3x3Kernels avx2 = FAS_DWCONV3X3_TABLE(avx2);
  static const DwConv3x3Kernels avx512 = FAS_DWCONV3X3_TABLE(avx512);
  if (isa == Isa::Avx2 && isa_supported(isa)) return avx2;
  if (isa == Isa::Avx512 && isa_supported(isa)) return avx512;
#elif defined(__aarch64__)
  static const DwConv3x3Kernels neon = FAS_DWCONV3X3_TABLE(neon);
  if (isa == Isa::Neon && isa_supported(isa)) return neon;
#endif
  if (isa == Isa::Scalar) return scalar;
  fail(std::string("dwconv3x3: ISA ") + isa_name(isa) + " is not available on this CPU or build");
}

const DwConv3x3Kernels& dwconv3x3_kernels() { return dwconv3x3_kernels(active_isa()); }

namespace {
void check_args(const char* op, int stride, int threads) {
  if (stride != 1 && stride != 2) fail(std::string(op) + ": stride must be 1 or 2, got " + std::to_string(stride));
  if (threads < 1) fail(std::string(op) + ": thread count must be at least 1, got " + std::to_string(threads));
}
}  // namespace

void dwconv3x3_forward(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t c,
                       const DwConv3x3Geom& g, int stride, float out_min, float out_max, bool accumulate,
                       int threads) {
  check_args("dwconv3x3_forward", stride, threads);
  const DwConv3x3Fn f = dwconv3x3_kernels().fwd[stride - 1];
  const int64_t planes = n * c, in_plane = g.h * g.w, out_plane = g.oh * g.ow;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t ch = p % c;
    f(x + p * in_plane, w + ch * 9, bias ? bias[ch] : 0.f, y + p * out_plane, g, out_min, out_max, accumulate);
  }
}

void dwconv3x3_backward_input(const float* dy, const float* w, float* dx, int64_t n, int64_t c,
                              const DwConv3x3Geom& g, int stride, int threads, bool accumulate) {
  check_args("dwconv3x3_backward_input", stride, threads);
  const DwConv3x3DxFn f = dwconv3x3_kernels().dx[stride - 1];
  const int64_t planes = n * c, in_plane = g.h * g.w, out_plane = g.oh * g.ow;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t p = 0; p < planes; ++p) f(dy + p * out_plane, w + (p % c) * 9, dx + p * in_plane, g, accumulate);
}

void dwconv3x3_backward_weight(const float* x, const float* dy, float* dw, int64_t n, int64_t c,
                               const DwConv3x3Geom& g, int stride, int threads) {
  check_args("dwconv3x3_backward_weight", stride, threads);
  const DwConv3x3DwFn f = dwconv3x3_kernels().dw[stride - 1];
  const int64_t in_plane = g.h * g.w, out_plane = g.oh * g.ow;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t b = 0; b < n; ++b) {
      const int64_t p = b * c + ch;
      f(x + p * in_plane, dy + p * out_plane, dw + ch * 9, g);
    }
}

}  // namespace fas
