// MobileNetV2-lite inference, batch 1, one thread (BM_FloatSplit2: one image over two threads):
// the float engine and the int8 engine on the thesis face model (2x250x200) and on 3x128x128.
// Targets (issue 4): face <= 1.0 ms, 128x128 <= 0.4 ms; ncnn 1.57 / 0.55 ms on this machine.
// Run: build/bench_mobilenet_infer --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Weights are random (Keras init, identity-ish BN): timing does not depend on their values.
// CApi*: the same engines exported to .fasm and run through the C API (fas/fas_c.h), what the
// minimal deployment build runs (docs/deploy.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>

#include "deploy/fasm_write.h"
#include "fas/fas_c.h"
#include "kernels/cpu.h"
#include "kernels/nhwc.h"
#include "kernels/qs8_nhwc.h"
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

// One layer of the engine's depthwise row kernel (active ISA) at a face-model shape: Ho output
// rows of a [H][W][C] plane (pad 1 stride 1, TF "same" for stride 2), so a kernel change can be
// compared without the rest of the network. Random weights; the plane stays in L2 as in the engine.
struct DwGeom {
  int pad;
  int64_t Ho, Wo;
};
DwGeom dw_geom(int64_t H, int64_t W, int stride) {
  return {stride == 1 ? 1 : (int)(W % 2 == 0 ? 0 : 1), (H + stride - 1) / stride, (W + stride - 1) / stride};
}
// Every output row of the layer: f(rows) with its three input rows of x ([H][W][C]; null = padding).
template <class T, class F>
void for_dw_rows(const T* x, int64_t H, int64_t W, int64_t C, int stride, const DwGeom& g, F f) {
  for (int64_t oy = 0; oy < g.Ho; ++oy) {
    const T* rows[3];
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t iy = oy * stride - g.pad + ky;
      rows[ky] = iy >= 0 && iy < H ? x + iy * W * C : nullptr;
    }
    f(rows);
    benchmark::ClobberMemory();
  }
}

void BM_DwRows(benchmark::State& st, int64_t C, int64_t H, int64_t W, int stride) {
  Rng rng(4);
  Tensor x = Tensor::zeros({H * W * C}), w = Tensor::zeros({9 * nhwc_pad_ch(C)}), b = Tensor::zeros({nhwc_pad_ch(C)});
  init_uniform(x, -1.f, 1.f, rng);
  init_uniform(w, -1.f, 1.f, rng);
  const DwGeom g = dw_geom(H, W, stride);
  Tensor y = Tensor::zeros({g.Wo * C});
  const NhwcKernels k = nhwc_kernels(active_isa());
  for (auto _ : st)
    for_dw_rows(x.data(), H, W, C, stride, g, [&](const float* const* rows) {
      k.dwconv3x3(rows, W, C, stride, g.pad, g.Wo, w.data(), b.data(), y.data(), 0.f, 6.f);
    });
  st.SetLabel(isa_name(active_isa()));
}

// The stem's row kernel (active ISA): a C x H x W NCHW image to Ho x Wo x 8, 3x3 stride 2, TF
// "same" padding, as the engine runs Conv1.
void BM_StemRows(benchmark::State& st, int64_t C, int64_t H, int64_t W) {
  Rng rng(5);
  constexpr int64_t kOut = 8;
  Tensor x = Tensor::zeros({C * H * W}), w = Tensor::zeros({9 * C * kOut}), b = Tensor::zeros({kOut});
  init_uniform(x, -1.f, 1.f, rng);
  init_uniform(w, -1.f, 1.f, rng);
  const int pad_top = H % 2 ? 1 : 0, pad_left = W % 2 ? 1 : 0;
  const int64_t Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  Tensor y = Tensor::zeros({Wo * kOut});
  const NhwcKernels k = nhwc_kernels(active_isa());
  for (auto _ : st)
    for (int64_t oy = 0; oy < Ho; ++oy) {
      const float* rows[3];
      for (int ky = 0; ky < 3; ++ky) {
        const int64_t iy = oy * 2 - pad_top + ky;
        rows[ky] = iy >= 0 && iy < H ? x.data() + iy * W : nullptr;
      }
      k.conv3x3(rows, W, C, 1, H * W, 2, pad_left, Wo, kOut, w.data(), b.data(), y.data(), 0.f, 6.f);
      benchmark::ClobberMemory();
    }
  st.SetLabel(isa_name(active_isa()));
}

// The pointwise kernel (active ISA) over M pixels, K -> N (pooled: the head's fused global-pool
// sums), in row-sized calls of `row` pixels as the engine makes them.
void BM_Pw(benchmark::State& st, int64_t M, int64_t row, int64_t K, int64_t N, bool pooled) {
  Rng rng(6);
  Tensor x = Tensor::zeros({M * K}), w = Tensor::zeros({K * nhwc_pad_ch(N)}), b = Tensor::zeros({nhwc_pad_ch(N)});
  init_uniform(x, -1.f, 1.f, rng);
  init_uniform(w, -1.f, 1.f, rng);
  Tensor y = Tensor::zeros({M * N}), sum = Tensor::zeros({N});
  const NhwcKernels k = nhwc_kernels(active_isa());
  for (auto _ : st) {
    for (int64_t m = 0; m < M; m += row) {
      const int64_t r = std::min(row, M - m);
      if (pooled) k.pwconv_sum(r, K, N, x.data() + m * K, K, w.data(), b.data(), sum.data(), 0.f, 6.f);
      else k.pwconv(r, K, N, x.data() + m * K, K, w.data(), b.data(), nullptr, y.data() + m * N, 0.f, 6.f);
    }
    benchmark::ClobberMemory();
  }
  st.SetLabel(isa_name(active_isa()));
}

// The int8 twins of BM_Pw / BM_DwRows (qs8_kernels(active_isa())): the same shapes and row
// blocking, int8 activations in [-127, 127], per-channel weight scales, ReLU6 epilogue with
// bounds in output units. The int8 head has no pooled kernel: it writes its outputs.
struct Qs8Layer {
  std::vector<int8_t> x;
  std::vector<int16_t> w;
  std::vector<float> scale, bias;
};
Qs8Layer qs8_layer(int64_t x_size, int64_t N, int64_t K, bool depthwise, uint64_t seed) {
  Rng rng(seed);
  Tensor xf = Tensor::zeros({x_size}), wf = Tensor::zeros({N * K});
  init_uniform(xf, -127.f, 127.f, rng);
  init_uniform(wf, -1.f, 1.f, rng);
  Qs8Layer l;
  for (int64_t i = 0; i < x_size; ++i) l.x.push_back((int8_t)xf.data()[i]);
  const Qs8Weights q = qs8_quantize_weights(wf.data(), N, K);
  l.w = depthwise ? qs8_pack_dw3x3(q, N) : qs8_pack_pw(q, N, K);
  l.scale.assign(nhwc_pad_ch(N), 1e-3f);
  l.bias.assign(nhwc_pad_ch(N), 0.f);
  return l;
}

void BM_Qs8Pw(benchmark::State& st, int64_t M, int64_t row, int64_t K, int64_t N) {
  const Qs8Layer l = qs8_layer(M * K, N, K, false, 6);
  std::vector<int8_t> y(M * N);
  const Qs8Kernels k = qs8_kernels(active_isa());
  for (auto _ : st) {
    for (int64_t m = 0; m < M; m += row)
      k.pwconv(std::min(row, M - m), K, N, l.x.data() + m * K, K, l.w.data(), l.scale.data(), l.bias.data(), nullptr,
               0.f, y.data() + m * N, 0.f, 100.f);
    benchmark::ClobberMemory();
  }
  st.SetLabel(k.name);
}

void BM_Qs8DwRows(benchmark::State& st, int64_t C, int64_t H, int64_t W, int stride) {
  const Qs8Layer l = qs8_layer(H * W * C, C, 9, true, 4);
  const DwGeom g = dw_geom(H, W, stride);
  std::vector<int8_t> y(g.Wo * C);
  const Qs8Kernels k = qs8_kernels(active_isa());
  for (auto _ : st)
    for_dw_rows(l.x.data(), H, W, C, stride, g, [&](const int8_t* const* rows) {
      k.dwconv3x3(rows, W, C, stride, g.pad, g.Wo, l.w.data(), l.scale.data(), l.bias.data(), y.data(), 0.f, 100.f);
    });
  st.SetLabel(k.name);
}

}  // namespace

// The face model's main pointwise shapes: block 1's expand, a projection, the pooled head.
BENCHMARK_CAPTURE(BM_Pw, expand_8to48_125x100, 12500, 100, 8, 48, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Pw, project_48to8_63x50, 3150, 50, 48, 8, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Pw, head_32to1280_8x7_pooled, 56, 56, 32, 1280, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_StemRows, face_2x250x200, 2, 250, 200)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_StemRows, rgb_3x128x128, 3, 128, 128)->Unit(benchmark::kMicrosecond);
// The face model's depthwise layers (channels x input rows x columns, stride).
BENCHMARK_CAPTURE(BM_DwRows, c8_125x100_s1, 8, 125, 100, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DwRows, c48_125x100_s2, 48, 125, 100, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DwRows, c48_63x50_s1, 48, 63, 50, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DwRows, c48_32x25_s1, 48, 32, 25, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DwRows, c48_16x13_s1, 48, 16, 13, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DwRows, c96_8x7_s1, 96, 8, 7, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8Pw, expand_8to48_125x100, 12500, 100, 8, 48)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8Pw, project_48to8_63x50, 3150, 50, 48, 8)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8Pw, head_32to1280_8x7, 56, 56, 32, 1280)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8DwRows, c8_125x100_s1, 8, 125, 100, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8DwRows, c48_125x100_s2, 48, 125, 100, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8DwRows, c48_63x50_s1, 48, 63, 50, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8DwRows, c48_32x25_s1, 48, 32, 25, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8DwRows, c48_16x13_s1, 48, 16, 13, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Qs8DwRows, c96_8x7_s1, 96, 8, 7, 1)->Unit(benchmark::kMicrosecond);
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
