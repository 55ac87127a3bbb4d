// W-IQA (src/iqa/): all 24 metrics of one 640x480 greyscale frame on one core, and the groups
// that make them up. The frame is a NUAA raw frame when FAS_IQA_FRAME names one (grey), else a
// deterministic synthetic texture (the cost does not depend on the content).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "iqa/filters.h"
#include "iqa/iqa.h"
#include "iqa/nss.h"
#include "io/image.h"

using namespace fas;
using namespace fas::iqa;

namespace {
const Plane& frame() {
  static const Plane p = [] {
    if (const char* path = std::getenv("FAS_IQA_FRAME")) {
      const Tensor g = to_grey(load_image(path, 3));
      return plane_from_unit(g.data(), (int)g.size(1), (int)g.size(2));
    }
    Plane s(480, 640);
    for (int64_t y = 0; y < 480; ++y)
      for (int64_t x = 0; x < 640; ++x)
        s.row((int)y)[x] = (double)(((x * x + 3 * y * y + 5 * x * y) / 7 + ((x * 2654435761LL) ^ (y * 40503)) % 61) % 256);
    return s;
  }();
  return p;
}
const Plane& blurred() {
  static const Plane p = blur_reference(frame());
  return p;
}

void BM_iqa_all24(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(compute_features(frame()));
}
void BM_iqa_blur(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(blur_reference(frame()));
}
void BM_iqa_pixel(benchmark::State& st) {
  const Plane &I = frame(), &J = blurred();
  for (auto _ : st) {
    const PixelMetrics p = pixel_metrics(I, J);
    double s = p.ad + p.md + p.mse + p.nae + p.nxc + p.psnr + ramd(I, J) + p.sc + p.snr + p.mas + p.mams + lmse(I, J);
    benchmark::DoNotOptimize(s);
  }
}
void BM_iqa_gradient(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(gradient_metrics(frame(), blurred()));
}
void BM_iqa_tcd(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(tcd(frame(), blurred()));
}
void BM_iqa_spectral(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(spectral_metrics(frame(), blurred()));
}
void BM_iqa_ssim(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(ssim(frame(), blurred()));
}
void BM_iqa_vifd(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(vifp(frame(), blurred()));
}
void BM_iqa_jqi(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(jqi(frame()));
}
void BM_iqa_niqe(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(niqe(frame()));
}
void BM_iqa_biqi(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(biqi(frame()));
}
}  // namespace

BENCHMARK(BM_iqa_all24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_blur)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_pixel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_gradient)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_tcd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_spectral)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_ssim)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_vifd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_jqi)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_niqe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_iqa_biqi)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
