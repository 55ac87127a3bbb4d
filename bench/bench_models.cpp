// Whole-model timings for the side-by-side comparison with PyTorch (bench/run.py).
// The models are those of ../shared/tools/torch_ref.py (copied in tools/torch_ref.py): CNN8, AE1
// and DCVAE as the same layer stacks built from fas ops, MobileNetV2-lite as the model class;
// same layers, paddings, batch, loss and Adam(lr 1e-4). Each benchmark is one inference or one training step (forward,
// backward, Adam). Thread count: FAS_NUM_THREADS (the script sets it like torch's).
//
// MobileNetV2-lite runs the model class itself (models/mobilenetv2_lite.h). "mnv2*_infer_lean" is
// its inference engine (models/mobilenetv2_infer.h, docs/models/mobilenetv2-lite.md) on the same
// weights: batch norm folded, NHWC, fused inverted-residual blocks, static memory plan.
#include <benchmark/benchmark.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "kernels/cpu.h"
#include "models/mobilenetv2_infer.h"
#include "models/mobilenetv2_lite.h"
#include "optim/optim.h"
#include "tensor/random.h"

using namespace fas;

namespace {

struct Params {
  NamedTensors list;
  Rng rng{0};
  Tensor add(const std::string& name, const Shape& s, float scale) {
    Tensor t = Tensor::zeros(s);
    init_uniform(t, -scale, scale, rng);
    t.set_requires_grad(true);
    list.push_back({name + std::to_string(list.size()), t});
    return t;
  }
  Tensor conv_w(int64_t oc, int64_t cg, int k) { return add("conv", {oc, cg, k, k}, 1.f / std::sqrt((float)cg * k * k)); }
  Tensor bias(int64_t n) { return add("bias", {n}, 0.05f); }
};

Conv2dArgs pad_args(int k, int stride, int groups = 1) {  // PyTorch padding = k / 2, symmetric
  Conv2dArgs a;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = k / 2;
  a.groups = groups;
  return a;
}

Pool2dArgs pool2() { return Pool2dArgs{}; }  // 2x2, stride 2, no padding (PyTorch MaxPool2d(2))

Tensor random_input(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  Tensor x = Tensor::zeros(s);
  init_uniform(x, 0.f, 1.f, rng);
  return x;
}

// ------------------------------------------------------------------ MobileNetV2-lite (width 0.1)
// The real model class (models/mobilenetv2_lite.h, Keras-exact channels) for the eager rows, and
// the real inference engine built from it (models/mobilenetv2_infer.h) for the lean rows.
// pad_layers = false: TF-"same" padding inside the stride-2 convs, like torch_ref.py's padded
// convs (no separate zero-padding copy; the same arithmetic, see MobileNetV2LiteConfig).
std::unique_ptr<MobileNetV2Lite> make_mnv2(int64_t cin, int64_t h, int64_t w) {
  MobileNetV2LiteConfig cfg;
  cfg.in_channels = cin, cfg.height = h, cfg.width = w, cfg.pad_layers = false;
  Rng rng(0);
  return std::make_unique<MobileNetV2Lite>(cfg, rng);
}

// ------------------------------------------------------------------ CNN8, AE1, DCVAE
struct Cnn8 {
  Params p;
  std::vector<Tensor> w, b;
  Tensor fc_w, fc_b;
  Cnn8() {
    int64_t c = 3;
    for (int64_t co : {8, 16, 32, 64, 128, 256, 512, 1024}) w.push_back(p.conv_w(co, c, 3)), b.push_back(p.bias(co)), c = co;
    fc_w = p.add("fc.w", {2, 1024}, 1.f / 32.f), fc_b = p.bias(2);
  }
  Tensor forward(Tensor x) {  // inference: dropout is the identity
    for (size_t i = 0; i < w.size(); ++i) x = max_pool2d(tanh(conv2d(x, w[i], b[i], pad_args(3, 1))), pool2());
    return linear(tanh(flatten(x)), fc_w, fc_b);
  }
};

struct Ae1 {
  Params p;
  Tensor w[4], b[4];
  Ae1() {
    const int64_t io[4][2] = {{3, 8}, {8, 16}, {16, 16}, {16, 3}};
    for (int i = 0; i < 4; ++i) w[i] = p.conv_w(io[i][1], io[i][0], 3), b[i] = p.bias(io[i][1]);
  }
  Tensor forward(Tensor x) {
    auto conv = [&](const Tensor& t, int i) { return conv2d(t, w[i], b[i], pad_args(3, 1)); };
    x = max_pool2d(tanh(conv(x, 0)), pool2());
    x = max_pool2d(tanh(conv(x, 1)), pool2());
    x = tanh(conv(upsample_nearest2d(x, 2, 2), 2));
    return sigmoid(conv(upsample_nearest2d(x, 2, 2), 3));
  }
};

struct Dcvae {
  Params p;
  std::vector<Tensor> ew, eb, dw, db;
  Tensor fc_w, fc_b;
  Rng noise{1};
  Dcvae() {
    const int64_t enc[5][2] = {{1, 32}, {32, 64}, {64, 128}, {128, 256}, {256, 512}};
    for (auto& e : enc) ew.push_back(p.conv_w(e[1], e[0], 3)), eb.push_back(p.bias(e[1]));
    fc_w = p.add("fc.w", {1024, 32768}, 1.f / std::sqrt(32768.f)), fc_b = p.bias(1024);
    const int64_t dec[6][3] = {{8, 512, 3}, {512, 256, 3}, {256, 128, 3}, {128, 64, 3}, {64, 32, 3}, {32, 1, 1}};
    for (auto& d : dec) dw.push_back(p.conv_w(d[1], d[0], (int)d[2])), db.push_back(p.bias(d[1]));
  }
  Tensor loss(const Tensor& x) {
    Tensor h = relu(conv2d(x, ew[0], eb[0], pad_args(3, 1)));
    for (int i = 1; i < 5; ++i) h = max_pool2d(relu(conv2d(h, ew[i], eb[i], pad_args(3, 1))), pool2());
    auto ml = chunk(linear(flatten(h), fc_w, fc_b), 2, 1);
    Tensor eps = Tensor::zeros(ml[0].shape());
    init_normal(eps, 0.f, 1.f, noise);
    Tensor z = add(ml[0], mul(eps, exp(mul_scalar(ml[1], 0.5f)))).reshape({x.size(0), 8, 8, 8});
    for (int i = 0; i < 4; ++i) z = relu(conv2d(upsample_nearest2d(z, 2, 2), dw[i], db[i], pad_args(3, 1)));
    z = relu(conv2d(z, dw[4], db[4], pad_args(3, 1)));
    Tensor rec = sigmoid(conv2d(z, dw[5], db[5], pad_args(1, 1)));
    return add(bce_loss(rec, x), gaussian_kl(ml[0], ml[1]));
  }
};

// ------------------------------------------------------------------ benchmarks
void train_loop(benchmark::State& st, NamedTensors params, const std::function<Tensor()>& loss) {
  Adam opt(std::move(params), AdamConfig{1e-4f});
  auto step = [&] {
    opt.zero_grad();
    Tensor l = loss();
    l.backward();
    opt.step();
  };
  step();  // warm-up outside the timing (Adam state, workspaces), like torch_ref.py's two steps
  for (auto _ : st) step();
}

void set_images(benchmark::State& st, int64_t batch) {
  st.counters["img/s"] = benchmark::Counter((double)batch, benchmark::Counter::kIsIterationInvariantRate);
}

void mnv2_infer(benchmark::State& st, int64_t cin, int64_t h, int64_t w, bool lean) {
  auto m = make_mnv2(cin, h, w);
  m->eval();
  Tensor x = random_input({1, cin, h, w}, 7);
  NoGradGuard ng;
  if (lean) {
    MobileNetV2Infer engine(*m);
    float got = 0;
    engine.logits(x.data(), 1, &got);  // sanity: the engine equals the eager model
    const float ref = m->forward_logits(x).item();
    if (std::fabs(ref - got) > 1e-3f * (1 + std::fabs(ref))) st.SkipWithError("engine != eager model");
    for (auto _ : st) {
      engine.logits(x.data(), 1, &got);
      benchmark::DoNotOptimize(got);
    }
  } else {
    m->forward(x);  // warm-up
    for (auto _ : st) benchmark::DoNotOptimize(m->forward(x).data());
  }
  set_images(st, 1);
}

void mnv2_train(benchmark::State& st, int64_t batch) {
  auto m = make_mnv2(3, 128, 128);
  m->train();
  Tensor x = random_input({batch, 3, 128, 128}, 7), t = Tensor::ones({batch, 1});
  train_loop(st, m->named_parameters(), [&] { return bce_with_logits(m->forward_logits(x), t); });
  set_images(st, batch);
}

}  // namespace

BENCHMARK_CAPTURE(mnv2_infer, mnv2nir_infer, 2, 250, 200, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(mnv2_infer, mnv2nir_infer_lean, 2, 250, 200, true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(mnv2_infer, mnv2_infer, 3, 128, 128, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(mnv2_infer, mnv2_infer_lean, 3, 128, 128, true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(mnv2_train, mnv2_train, 32)->Unit(benchmark::kMillisecond)->UseRealTime();

static void cnn8_infer(benchmark::State& st) {
  Cnn8 m;
  Tensor x = random_input({1, 3, 256, 256}, 7);
  NoGradGuard ng;
  m.forward(x);  // warm-up
  for (auto _ : st) benchmark::DoNotOptimize(m.forward(x).data());
  set_images(st, 1);
}
BENCHMARK(cnn8_infer)->Unit(benchmark::kMillisecond)->UseRealTime();

static void ae1_train(benchmark::State& st) {
  Ae1 m;
  Tensor x = random_input({16, 3, 256, 256}, 7);
  train_loop(st, m.p.list, [&] { return mse_loss(m.forward(x), x); });
  set_images(st, 16);
}
BENCHMARK(ae1_train)->Unit(benchmark::kMillisecond)->UseRealTime();

static void dcvae_train(benchmark::State& st) {
  Dcvae m;
  Tensor x = random_input({16, 1, 128, 128}, 7);
  train_loop(st, m.p.list, [&] { return m.loss(x); });
  set_images(st, 16);
}
BENCHMARK(dcvae_train)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  num_threads();  // applies FAS_NUM_THREADS before the first OpenMP region
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
