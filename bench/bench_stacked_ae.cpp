// Spec 000 models: training steps and inference at the thesis' 256x256x3. Each benchmark reports
// the process' peak resident memory so far (counter peak_rss_mb); run one filter per process
// to read a single model's peak, e.g.
//   /usr/bin/time -v ./bench_stacked_ae --benchmark_filter=DeepAETrainStep
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "autograd/graph.h"
#include "models/stacked_ae.h"
#include "optim/optim.h"
#include "tensor/random.h"

using namespace fas;

namespace {

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // Linux: kilobytes
}

Tensor images(int64_t batch, int64_t hw) {
  Tensor x = Tensor::zeros({batch, 3, hw, hw});
  Rng rng(1);
  init_uniform(x, 0.f, 1.f, rng);
  return x;
}

// One Adam step of an autoencoder on its own input (MSE), the unit of AE training.
template <class Model>
void ae_train_step(benchmark::State& state, Model& model, const Tensor& x) {
  Adam opt(model.named_parameters(), AdamConfig{1e-4f});
  model.train();
  for (auto _ : state) {
    opt.zero_grad();
    Tensor loss = mse_loss(model(x), x);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item());
  }
  state.counters["images_per_s"] = benchmark::Counter(double(x.size(0)) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["peak_rss_mb"] = peak_rss_mb();
}

void BM_DeepAETrainStep(benchmark::State& state) {  // the thesis could not train it (memory)
  DeepAE model(StackedAEConfig{});
  ae_train_step(state, model, images(state.range(0), 256));
}
BENCHMARK(BM_DeepAETrainStep)->Arg(8)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AE1TrainStep(benchmark::State& state) {  // issue 4 target: batch 16 vs PyTorch 650 ms/step
  LayerAE model(1, StackedAEConfig{});
  ae_train_step(state, model, images(state.range(0), 256));
}
BENCHMARK(BM_AE1TrainStep)->Arg(16)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CNN8Infer(benchmark::State& state) {  // issue 4 target: batch 1 vs PyTorch 23 ms
  CNN8 model(StackedAEConfig{});
  model.eval();
  Tensor x = images(1, 256);
  NoGradGuard ng;
  for (auto _ : state) benchmark::DoNotOptimize(model(x).data());
  state.counters["peak_rss_mb"] = peak_rss_mb();
}
BENCHMARK(BM_CNN8Infer)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
