// MobileNetV2-lite inference, batch 1, one thread (BM_FloatSplit2: one image over two threads):
// the float engine and the int8 engine on the thesis face model (2x250x200) and on 3x128x128.
// Targets (issue 4): face <= 1.0 ms, 128x128 <= 0.4 ms; ncnn 1.57 / 0.55 ms on this machine.
// Run: build/bench_mobilenet_infer --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Weights are random (Keras init, identity-ish BN): timing does not depend on their values.
// CApi*: the same engines exported to .fasm and run through the C API (fas/fas_c.h), what the
// minimal deployment build runs (docs/deploy.md).
#include <benchmark/benchmark.h>

#include <memory>

#include "deploy/fasm_write.h"
#include "fas/fas_c.h"
#include "kernels/cpu.h"
#include "models/mobilenetv2_infer.h"
#include "models/mobilenetv2_int8.h"

using namespace fas;

namespace {

std::unique_ptr<MobileNetV2Lite> make_model(int64_t c, int64_t h, int64_t w) {
  MobileNetV2LiteConfig cfg;
  cfg.in_channels = c, cfg.height = h, cfg.width = w;
  Rng rng(1);
  auto m = std::make_unique<MobileNetV2Lite>(cfg, rng);
  m->eval();
  return m;
}

Tensor make_input(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  Tensor x = Tensor::zeros({n, c, h, w});
  Rng rng(seed);
  init_uniform(x, -1.f, 1.f, rng);
  return x;
}

// The timed loop, shared by the float and int8 engines (same logits/activation_bytes API).
template <class Engine>
void time_engine(benchmark::State& st, Engine& engine, const Tensor& x) {
  float out = 0;
  for (auto _ : st) {
    engine.logits(x.data(), 1, &out);
    benchmark::DoNotOptimize(out);
  }
  st.counters["act_KiB"] = engine.activation_bytes() / 1024.0;
  st.SetLabel(isa_name(active_isa()));
}

void BM_Float(benchmark::State& st, int64_t c, int64_t h, int64_t w) {
  auto m = make_model(c, h, w);
  MobileNetV2Infer engine(*m);
  time_engine(st, engine, make_input(1, c, h, w, 2));
}

// One image split over 2 threads (MobileNetV2Infer::set_threads; EXP-123): against BM_Float.
void BM_FloatSplit2(benchmark::State& st, int64_t c, int64_t h, int64_t w) {
  auto m = make_model(c, h, w);
  MobileNetV2Infer engine(*m);
  engine.set_threads(2);
  time_engine(st, engine, make_input(1, c, h, w, 2));
  st.counters["threads"] = engine.threads();
}

void BM_Int8(benchmark::State& st, int64_t c, int64_t h, int64_t w) {
  auto m = make_model(c, h, w);
  Tensor calib = make_input(8, c, h, w, 3);
  MobileNetV2Int8 engine(fold_mobilenetv2(*m), calib.data(), 8);
  time_engine(st, engine, make_input(1, c, h, w, 2));
}

// One image through the C API on a .fasm export of the engine.
void time_c_api(benchmark::State& st, const std::string& bytes) {
  fas_model* h = nullptr;
  if (fas_load_memory(bytes.data(), bytes.size(), &h) != FAS_OK) return st.SkipWithError(fas_last_error());
  int c, hh, w;
  fas_input_shape(h, &c, &hh, &w);
  const Tensor x = make_input(1, c, hh, w, 2);
  float out = 0;
  for (auto _ : st) {
    fas_run(h, x.data(), (size_t)x.numel());
    fas_scores(h, nullptr, &out);
    benchmark::DoNotOptimize(out);
  }
  size_t total = 0;
  fas_memory(h, &total, nullptr);
  st.counters["load_KiB"] = total / 1024.0;  // RAM: weights + plan + arena
  st.SetLabel(isa_name(active_isa()));
  fas_free(h);
}

void BM_CApiFloat(benchmark::State& st, int64_t c, int64_t h, int64_t w) {
  auto m = make_model(c, h, w);
  time_c_api(st, fasm::export_mobilenetv2(MobileNetV2Infer(*m)));
}

void BM_CApiInt8(benchmark::State& st, int64_t c, int64_t h, int64_t w) {
  auto m = make_model(c, h, w);
  Tensor calib = make_input(8, c, h, w, 3);
  time_c_api(st, fasm::export_mobilenetv2(MobileNetV2Int8(fold_mobilenetv2(*m), calib.data(), 8)));
}

}  // namespace

BENCHMARK_CAPTURE(BM_Float, face_2x250x200, 2, 250, 200)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Float, rgb_3x128x128, 3, 128, 128)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_FloatSplit2, face_2x250x200, 2, 250, 200)->Unit(benchmark::kMillisecond)->MinTime(1.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_FloatSplit2, rgb_3x128x128, 3, 128, 128)->Unit(benchmark::kMillisecond)->MinTime(1.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_Int8, face_2x250x200, 2, 250, 200)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Int8, rgb_3x128x128, 3, 128, 128)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_CApiFloat, face_2x250x200, 2, 250, 200)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_CApiInt8, face_2x250x200, 2, 250, 200)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_CApiFloat, rgb_3x128x128, 3, 128, 128)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_CAPTURE(BM_CApiInt8, rgb_3x128x128, 3, 128, 128)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_MAIN();
