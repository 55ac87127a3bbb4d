// Per-kernel benchmarks (Google Benchmark; not tests) on shapes from the spec models, single
// thread unless FAS_NUM_THREADS is set. Every row is timed in wall time (UseRealTime), and its
// counters are "FLOP" (per iteration, 2 x MACs) and "GFLOP/s" (from wall time); its label says
// whose code ran: "fas <kernel>/<isa>" or "OpenBLAS sgemm (<OpenBLAS core>)" (conv2d_kernels()).
// BM_FmaPeak/<isa> is the measured FMA peak of one core for that ISA (bench/fma_probe.h); the
// share of it a row reaches is computed by bench/run.py, which runs each row in its own process.
// BM_DotPeak/<instruction> is the int8 dot-product peak (GFLOP/s counts 2 ops per multiply-add).
// Depthwise and elementwise kernels are benchmarked once per ISA the CPU has (suffix /isa).
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "fma_probe.h"
#include "io/image.h"
#include "kernels/cpu.h"
#include "kernels/dwconv3x3.h"
#include "kernels/elementwise.h"
#include "kernels/lbp.h"
#include "tensor/random.h"

using namespace fas;

namespace {

Tensor rand_tensor(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::zeros(s);
  init_normal(t, 0.f, 1.f, rng);
  return t;
}

// Rates divide by the time the benchmark is timed in: wall time, as every row here uses
// UseRealTime() (Google Benchmark's default, CPU time, overstates a rate on a shared machine
// and counts every thread's time).
void set_gflops(benchmark::State& st, double flops_per_iter) {
  st.counters["FLOP"] = flops_per_iter;
  st.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The measured peak: reps of the probe per iteration, about 0.3 ms at 100 GFLOP/s.
void fma_peak_bench(benchmark::State& st, fas_bench::FmaProbe p) {
  const int64_t reps = 1 << 12;
  float sink = 0;
  for (auto _ : st) sink += p.run(reps);
  benchmark::DoNotOptimize(sink);
  set_gflops(st, p.flops_per_rep * reps);
  st.SetLabel(std::string("probe/") + p.isa);
}

// ------------------------------------------------------------------ convolutions (ops, no grad)
void conv_bench(benchmark::State& st, int64_t n, int64_t c, int64_t oc, int64_t h, int64_t w, int k, int stride) {
  NoGradGuard ng;
  Tensor x = rand_tensor({n, c, h, w}, 1), wt = rand_tensor({oc, c, k, k}, 2), b = rand_tensor({oc}, 3);
  Conv2dArgs a = conv_args_same(h, w, k, k, stride, stride);
  Tensor y;
  for (auto _ : st) {
    y = conv2d(x, wt, b, a);
    benchmark::DoNotOptimize(y.data());
  }
  set_gflops(st, 2.0 * n * oc * c * k * k * y.size(2) * y.size(3));
  st.SetLabel(conv2d_kernels(x, wt, a, false));
}

void BM_Conv3x3_64to64_56x56(benchmark::State& st) { conv_bench(st, 1, 64, 64, 56, 56, 3, 1); }
BENCHMARK(BM_Conv3x3_64to64_56x56)->UseRealTime()->Unit(benchmark::kMillisecond);
// MobileNetV2-lite (face, 2x250x200): stem, an expand and a project 1x1, the final 32 -> 1280.
void BM_Conv3x3s2_stem_2to8_250x200(benchmark::State& st) { conv_bench(st, 1, 2, 8, 250, 200, 3, 2); }
BENCHMARK(BM_Conv3x3s2_stem_2to8_250x200)->UseRealTime()->Unit(benchmark::kMicrosecond);
void BM_Conv1x1_8to48_125x100(benchmark::State& st) { conv_bench(st, 1, 8, 48, 125, 100, 1, 1); }
BENCHMARK(BM_Conv1x1_8to48_125x100)->UseRealTime()->Unit(benchmark::kMicrosecond);
void BM_Conv1x1_48to8_63x50(benchmark::State& st) { conv_bench(st, 1, 48, 8, 63, 50, 1, 1); }
BENCHMARK(BM_Conv1x1_48to8_63x50)->UseRealTime()->Unit(benchmark::kMicrosecond);
void BM_Conv1x1_32to1280_8x7(benchmark::State& st) { conv_bench(st, 1, 32, 1280, 8, 7, 1, 1); }
BENCHMARK(BM_Conv1x1_32to1280_8x7)->UseRealTime()->Unit(benchmark::kMicrosecond);
// CNN8 first block (3 -> 8 at 256x256) and a DCVAE encoder conv (64 -> 128 at 64x64).
void BM_Conv3x3_3to8_256x256(benchmark::State& st) { conv_bench(st, 1, 3, 8, 256, 256, 3, 1); }
BENCHMARK(BM_Conv3x3_3to8_256x256)->UseRealTime()->Unit(benchmark::kMicrosecond);
void BM_Conv3x3_64to128_64x64(benchmark::State& st) { conv_bench(st, 1, 64, 128, 64, 64, 3, 1); }
BENCHMARK(BM_Conv3x3_64to128_64x64)->UseRealTime()->Unit(benchmark::kMillisecond);

// Transposed conv, Keras "same", stride 2 (decoder-style 128 -> 64 channels, 32x32 -> 64x64).
void BM_ConvT3x3s2_128to64_32x32(benchmark::State& st) {
  NoGradGuard ng;
  const int64_t c = 128, oc = 64, h = 32;
  Tensor x = rand_tensor({1, c, h, h}, 1), w = rand_tensor({c, oc, 3, 3}, 2), b = rand_tensor({oc}, 3);
  ConvT2dArgs a = convt_args_keras(Padding::Same, h, h, 3, 3, 2, 2);
  for (auto _ : st) benchmark::DoNotOptimize(conv_transpose2d(x, w, b, a).data());
  set_gflops(st, 2.0 * c * oc * 9 * h * h);  // every input pixel scatters a 3x3 x oc patch
  st.SetLabel(conv_transpose2d_kernels(x, w, a, false));
}
BENCHMARK(BM_ConvT3x3s2_128to64_32x32)->UseRealTime()->Unit(benchmark::kMillisecond);

// A training step's three conv passes (forward, input gradient, weight + bias gradient) through
// the op: the stacked AE's 16 -> 16 layer at 128x128 and its 3 -> 8 at 256x256 (direct kernels),
// and a DCVAE 64 -> 128 layer at 64x64 (im2col + GEMM); 4 images.
void conv_train_bench(benchmark::State& st, int64_t n, int64_t c, int64_t oc, int64_t h) {
  Tensor x = rand_tensor({n, c, h, h}, 1).set_requires_grad(true);
  Tensor wt = rand_tensor({oc, c, 3, 3}, 2).set_requires_grad(true), b = rand_tensor({oc}, 3).set_requires_grad(true);
  Tensor gy = rand_tensor({n, oc, h, h}, 4);
  const Conv2dArgs a = conv_args_same(h, h, 3, 3, 1, 1);
  for (auto _ : st) {
    conv2d(x, wt, b, a).backward(gy);
    benchmark::ClobberMemory();
  }
  set_gflops(st, 3 * 2.0 * n * oc * c * 9 * h * h);
  st.SetLabel(conv2d_kernels(x, wt, a, true));
}
void BM_ConvTrain3x3_16to16_128x128_b4(benchmark::State& st) { conv_train_bench(st, 4, 16, 16, 128); }
BENCHMARK(BM_ConvTrain3x3_16to16_128x128_b4)->UseRealTime()->Unit(benchmark::kMillisecond);
void BM_ConvTrain3x3_3to8_256x256_b4(benchmark::State& st) { conv_train_bench(st, 4, 3, 8, 256); }
BENCHMARK(BM_ConvTrain3x3_3to8_256x256_b4)->UseRealTime()->Unit(benchmark::kMillisecond);
void BM_ConvTrain3x3_64to128_64x64_b4(benchmark::State& st) { conv_train_bench(st, 4, 64, 128, 64); }
BENCHMARK(BM_ConvTrain3x3_64to128_64x64_b4)->UseRealTime()->Unit(benchmark::kMillisecond);

// ------------------------------------------------------------------ depthwise 3x3 (kernels)
// MobileNetV2-lite face model shapes: channels, input H x W, stride.
struct DwShape {
  int64_t c, h, w;
  int s;
};
const DwShape kDwShapes[] = {{8, 125, 100, 1}, {48, 125, 100, 2}, {48, 63, 50, 1},
                             {48, 63, 50, 2},  {96, 16, 13, 1},   {96, 8, 7, 1}};

DwConv3x3Geom same_geom(const DwShape& d) {
  // TF "same": out = ceil(in / s); the odd padding pixel goes bottom/right.
  const int64_t oh = (d.h + d.s - 1) / d.s, ow = (d.w + d.s - 1) / d.s;
  const int64_t ph = std::max<int64_t>((oh - 1) * d.s + 3 - d.h, 0), pw = std::max<int64_t>((ow - 1) * d.s + 3 - d.w, 0);
  return {d.h, d.w, oh, ow, (int)(ph / 2), (int)(pw / 2)};
}

enum class DwPass { Fwd, Dx, Dw };
void dw_bench(benchmark::State& st, Isa isa, DwShape d, DwPass pass) {
  const Isa prev = active_isa();  // restored below: the conv rows' choice follows active_isa()
  set_active_isa(isa);
  const DwConv3x3Geom g = same_geom(d);
  Tensor x = rand_tensor({1, d.c, d.h, d.w}, 1), w = rand_tensor({d.c, 1, 3, 3}, 2), b = rand_tensor({d.c}, 3);
  Tensor y = rand_tensor({1, d.c, g.oh, g.ow}, 4), dw = Tensor::zeros({d.c, 9});
  for (auto _ : st) {
    if (pass == DwPass::Fwd)
      dwconv3x3_forward(x.data(), w.data(), b.data(), y.data(), 1, d.c, g, d.s, 0.f, 6.f, false, num_threads());
    else if (pass == DwPass::Dx)
      dwconv3x3_backward_input(y.data(), w.data(), x.data(), 1, d.c, g, d.s, num_threads());
    else
      dwconv3x3_backward_weight(x.data(), y.data(), dw.data(), 1, d.c, g, d.s, num_threads());
    benchmark::ClobberMemory();
  }
  set_gflops(st, 2.0 * 9 * d.c * g.oh * g.ow);
  st.SetLabel(std::string("fas dwconv3x3/") + isa_name(isa));
  set_active_isa(prev);
}

// ------------------------------------------------------------------ pooling, BN, activations (ops)
void BM_MaxPool2x2_8ch_256x256(benchmark::State& st) {
  NoGradGuard ng;
  Tensor x = rand_tensor({1, 8, 256, 256}, 1);
  Pool2dArgs a = pool_args_same(256, 256, 2, 2, 2, 2);
  for (auto _ : st) benchmark::DoNotOptimize(max_pool2d(x, a).data());
  set_gflops(st, 8.0 * 256 * 256 * 0.75);  // 3 comparisons per output of a 2x2 window
  st.SetLabel("fas");  // memory-bound ops without an FMA share: no ISA given, no % of peak
}
BENCHMARK(BM_MaxPool2x2_8ch_256x256)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_AvgPool2x2_16ch_128x128(benchmark::State& st) {
  NoGradGuard ng;
  Tensor x = rand_tensor({1, 16, 128, 128}, 1);
  Pool2dArgs a;
  for (auto _ : st) benchmark::DoNotOptimize(avg_pool2d(x, a).data());
  set_gflops(st, 16.0 * 128 * 128);  // one add (or scale) per input element
  st.SetLabel("fas");
}
BENCHMARK(BM_AvgPool2x2_16ch_128x128)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Batch norm in training mode (batch statistics), MobileNetV2 training shape: 32 x 48 x 32 x 32.
void BM_BatchNormTrain_32x48x32x32(benchmark::State& st) {
  NoGradGuard ng;
  Tensor x = rand_tensor({32, 48, 32, 32}, 1), g = Tensor::ones({48}), b = Tensor::zeros({48});
  Tensor rm = Tensor::zeros({48}), rv = Tensor::ones({48});
  BatchNormArgs a;
  for (auto _ : st) benchmark::DoNotOptimize(batch_norm(x, g, b, rm, rv, a).data());
  set_gflops(st, 5.0 * x.numel());  // mean, var (2), normalise (2)
  st.SetLabel("fas");
}
BENCHMARK(BM_BatchNormTrain_32x48x32x32)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Uniform LBP(8, r) histograms of one 128x128 plane on lbp-lr's 3x3 grid (one of its 9 planes x
// radii per image), per ISA and the per-pixel reference. Counter: pixels per second.
void lbp_bench(benchmark::State& st, Lbp8U2HistFn fn, std::string label) {
  Tensor x = rand_tensor({128, 128}, 1);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::clamp(std::floor((x.data()[i] + 2.f) * 64.f), 0.f, 255.f);  // 8-bit levels
  std::vector<float> out(3 * 3 * kLbpBins);
  for (auto _ : st) {
    fn(x.data(), 128, 128, 2, 3, 59.f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  st.counters["pixels/s"] = benchmark::Counter(128.0 * 128, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(label);
}

void ew_bench(benchmark::State& st, Isa isa, int which) {
  const ElementwiseKernels& k = elementwise_kernels(isa);
  const int64_t c = 48, plane = 125 * 100;
  Tensor x = rand_tensor({c, plane}, 1), y = Tensor::zeros({c, plane}), s = rand_tensor({c}, 2), t = rand_tensor({c}, 3);
  for (auto _ : st) {
    if (which == 0)
      k.vclamp(x.data(), y.data(), c * plane, 0.f, 6.f);
    else
      k.vscaleshift_clamp(x.data(), s.data(), t.data(), y.data(), 1, c, plane, 0.f, 6.f);
    benchmark::ClobberMemory();
  }
  set_gflops(st, (which == 0 ? 2.0 : 4.0) * c * plane);
  st.SetBytesProcessed(st.iterations() * 2 * c * plane * sizeof(float));
  st.SetLabel(std::string("fas elementwise/") + isa_name(isa));
}

// One Adam step over DCVAE's 36,728,065 parameters (width 1, latent 512): the optimizer's share
// of a training step that does not shrink with the batch (every data-parallel rank pays it).
// Bytes: w, g, m, v read and w, m, v written.
void adam_bench(benchmark::State& st, Isa isa) {
  const VAdamFn f = elementwise_kernels(isa).vadam;
  const int64_t n = 36728065;
  Tensor w = rand_tensor({n}, 1), g = rand_tensor({n}, 2), m = Tensor::zeros({n}), v = Tensor::zeros({n});
  int t = 0;
  for (auto _ : st) {
    ++t;
    const AdamStep s{1e-4f, 0.9f, 0.999f, 1e-8f, 0.f, 1.f - std::pow(0.9f, (float)t), 1.f - std::pow(0.999f, (float)t),
                     false, false};
    f(w.data(), g.data(), m.data(), v.data(), n, s);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * 7 * n * (int64_t)sizeof(float));
  st.SetLabel(std::string("fas elementwise/") + isa_name(isa));
}

// normalize=equalize of one 128x128 RGB crop: 8-bit levels (a decoded crop, the counting path)
// and the same crop resampled by 1e-4 steps (off the levels: the sort path).
void equalize_bench(benchmark::State& st, bool levels) {
  Tensor x = rand_tensor({3, 128, 128}, 4);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] = std::clamp(std::floor((x.data()[i] + 2.f) * 64.f), 0.f, 255.f) / 255.f + (levels ? 0.f : 1e-4f * (float)(i % 7));
  const Normalize eq = parse_normalize("equalize");
  Tensor y = x.clone();
  for (auto _ : st) {
    std::copy(x.data(), x.data() + x.numel(), y.data());
    normalize_inplace(y, eq);
    benchmark::ClobberMemory();
  }
  st.SetLabel("fas");
}

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("FAS_NUM_THREADS")) set_num_threads(1);
  auto register_probes = [](const char* prefix, int (*list)(fas_bench::FmaProbe*)) {
    fas_bench::FmaProbe probes[4];
    for (int i = 0, n = list(probes); i < n; ++i)
      benchmark::RegisterBenchmark((prefix + std::string(probes[i].isa)).c_str(), fma_peak_bench, probes[i])
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
  };
  register_probes("BM_FmaPeak/", fas_bench::fma_probes);
  register_probes("BM_DotPeak/", fas_bench::dot_probes);  // int8 dot products, 2 ops per MAC
  for (Isa isa : available_isas()) {
    const std::string in = std::string("/") + isa_name(isa);
    for (const DwShape& d : kDwShapes) {
      const std::string shape = "_c" + std::to_string(d.c) + "_" + std::to_string(d.h) + "x" + std::to_string(d.w) + "_s" +
                                std::to_string(d.s);
      for (auto [pass, name] : {std::pair{DwPass::Fwd, "fwd"}, std::pair{DwPass::Dx, "dx"}, std::pair{DwPass::Dw, "dw"}})
        benchmark::RegisterBenchmark(("BM_DwConv3x3_" + std::string(name) + shape + in).c_str(), dw_bench, isa, d, pass)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("BM_ReLU6_48x125x100" + in).c_str(), ew_bench, isa, 0)->UseRealTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_BNApplyReLU6_48x125x100" + in).c_str(), ew_bench, isa, 1)->UseRealTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Adam_36M" + in).c_str(), adam_bench, isa)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Lbp8U2Hist_128x128_r2_grid3" + in).c_str(), lbp_bench, lbp8_u2_hist_kernel(isa),
                                 std::string("fas lbp/") + isa_name(isa))
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_Lbp8U2Hist_128x128_r2_grid3/ref", lbp_bench, f32_lbp8_u2_hist__ref,
                               std::string("fas lbp reference"))
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Equalize_3x128x128/levels", equalize_bench, true)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Equalize_3x128x128/resampled", equalize_bench, false)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
