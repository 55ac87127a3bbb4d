// The web service's per-request work on one core: the auto-decoder's decode of one code (spec 004
// asks ≤ 20 ms for the slider page) and the PNG the page receives. Run with FAS_NUM_THREADS=1.
#include <benchmark/benchmark.h>

#include "autograd/graph.h"
#include "io/plot.h"
#include "models/autodecoder.h"
#include "tensor/random.h"

using namespace fas;

namespace {

void BM_autodecoder_decode(benchmark::State& st) {
  Rng rng(1);
  AutoDecoder ad(200, st.range(0), rng);  // the spec's table: 200 images, z = 25 (or 100)
  Tensor z = Tensor::zeros({1, st.range(0)});
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(ad.decode(z).data());
}
BENCHMARK(BM_autodecoder_decode)->Arg(25)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_autodecoder_decode_png(benchmark::State& st) {
  Rng rng(1);
  AutoDecoder ad(200, 25, rng);
  Tensor z = Tensor::zeros({1, 25});
  NoGradGuard ng;
  for (auto _ : st) {
    std::string png = plot::encode_png(ad.decode(z).reshape({3, 256, 256}));
    benchmark::DoNotOptimize(png.data());
  }
}
BENCHMARK(BM_autodecoder_decode_png)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
