// fas summary and fas bench.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/qs8_nhwc.h"
#include "layers/summary.h"
#include "optim/optim.h"

namespace fas::cli {

namespace {
LoadedModel model_for(const std::string& name, const std::string& ckpt, std::vector<std::string> set, int size,
                      uint64_t seed) {
  if (!ckpt.empty()) {
    if (!set.empty() || size > 0) fail("--set/--size cannot change a checkpoint's model");
    return load_model(ckpt);
  }
  if (name.empty()) fail("--model NAME is required");
  if (size > 0) {
    set.push_back("height=" + std::to_string(size));
    set.push_back("width=" + std::to_string(size));
  }
  return build_model(name, make_config(find_model(name), set), seed);
}

// --engine: min(threads, batch) instances of the deployment engine, each scoring its contiguous
// part of the batch on its own thread; at batch 1 the one instance splits its image over all the
// threads (DeployEngine::set_threads; engines without threads inside keep one). Engines that calibrate do so on the bench's own random images: the
// timing does not depend on the scales. timed(f) times and reports f.
void bench_engine(const BenchOptions& o, LoadedModel& m, int threads, const Tensor& x,
                  const std::function<void(const std::function<void()>&)>& timed) {
  const ModelInfo::Engine& eng = find_engine(*m.info, o.engine);
  const int64_t n = x.size(0), T = std::min<int64_t>(threads, n), per = x.numel() / n;
  std::vector<std::shared_ptr<DeployEngine>> es;
  int inner = 1;
  for (int64_t t = 0; t < T; ++t) {
    es.push_back(eng.make(*m.module, x, 0.0));
    // Spare threads only for a single instance: inside the team of several, its region would
    // nest, and nested regions get one thread.
    inner = es.back()->set_threads(T == 1 ? threads : 1);
  }
  std::vector<float> out((size_t)n);
  std::printf("engine %s: %s\n%lld instance(s) x %d thread(s), %lld image(s) each%s\n", o.engine.c_str(),
              eng.description.c_str(), (long long)T, inner, (long long)((n + T - 1) / T),
              T * inner < threads ? " (threads beyond the batch stay idle with this engine or batch: use a larger --batch)" : "");
  auto part = [&](int64_t t) {
    const int64_t lo = n * t / T, hi = n * (t + 1) / T;
    es[(size_t)t]->predict(x.data() + lo * per, hi - lo, out.data() + lo);
  };
  timed([&] {
    if (T == 1) return part(0);  // not inside a team of one: the engine's own threads would nest
#pragma omp parallel for num_threads((int)T) schedule(static, 1)
    for (int64_t t = 0; t < T; ++t) part(t);
  });
  const double kb = 1.0 / 1024, w = es[0]->weight_bytes() * kb, a = es[0]->activation_bytes() * kb;
  std::printf("memory           %lld x (weights %.1f KB + activations %.1f KB) = %.1f KB; peak activation memory %.1f KB\n",
              (long long)T, w, a, T * (w + a), T * a);
}
}  // namespace

int run_summary(const SummaryOptions& o) {
  setup_threads(o.common.threads);
  LoadedModel m = model_for(o.model, o.ckpt, o.set, o.size, o.common.seed);
  Shape in = forward_input_shape(*m.info, m.config);
  in.insert(in.begin(), 1);
  std::printf("Model: %s — %s\nConfig: %s\nInput: %s%s\n", m.info->name.c_str(), m.info->description.c_str(),
              m.config.dump().c_str(), shape_str(in).c_str(), in.size() == 4 ? " (N, C, H, W)" : "");
  std::printf("%s", summary_table(*m.module, in).c_str());
  return 0;
}

int run_bench(const BenchOptions& o) {
  const int threads = setup_threads(o.common.threads);
  if (o.batch <= 0 || o.runs <= 0 || o.warmup < 0) fail("bench: --batch and --runs must be positive, --warmup >= 0");
  LoadedModel m = model_for(o.model, "", o.set, o.size, o.common.seed);
  Shape in = forward_input_shape(*m.info, m.config);
  in.insert(in.begin(), o.batch);
  Rng rng(o.common.seed);
  Tensor x = Tensor::zeros(in);
  if (!m.info->forward_input) init_uniform(x, 0.f, 1.f, rng);  // image input; else ids 0
  Tensor y = Tensor::zeros({o.batch});
  for (int64_t i = 0; i < o.batch; ++i) y.data()[i] = (float)(i % 2);

  using clk = std::chrono::steady_clock;
  auto time_it = [&](const std::function<void()>& f) {
    for (int i = 0; i < o.warmup; ++i) f();
    std::vector<double> ms;
    for (int i = 0; i < o.runs; ++i) {
      auto t0 = clk::now();
      f();
      ms.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms;
  };
  auto report = [&](const char* what, const std::vector<double>& ms) {
    const double med = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    std::printf("%-16s median %9.3f ms  min %9.3f ms  max %9.3f ms  %10.1f img/s\n", what, med, ms.front(), ms.back(),
                1000.0 * o.batch / med);
  };
  // The wait policy changes timings by ~7 % (cli/wait_policy.h): say which one ran.
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("fas bench: model %s, input %s, %d threads, %d runs (+%d warm-up), OpenMP wait policy %s, kernels %s, "
              "GEMM %s, int8 kernels %s\n",
              m.info->name.c_str(), shape_str(x.shape()).c_str(), threads, o.runs, o.warmup,
              policy && *policy ? policy : "default (spin, then sleep)", isa_report().c_str(), gemm_name().c_str(),
              qs8_kernels(active_isa()).name);
  m.module->eval();
  if (o.engine != "graph") {
    if (o.train) fail("bench: --train times the training graph; it cannot be combined with --engine " + o.engine);
    bench_engine(o, m, threads, x, [&](const std::function<void()>& f) { report(("engine " + o.engine).c_str(), time_it(f)); });
    return 0;
  }
  report("forward", time_it([&] {
           NoGradGuard ng;
           (*m.module)(x);
         }));
  if (o.train) {
    // The model's own training step (models/train_step.h) on one batch of random images.
    m.module->train();
    Shape img = input_shape(m.config);
    img.insert(img.begin(), o.batch);
    Batch b;
    b.x = Tensor::zeros(img);
    init_uniform(b.x, 0.f, 1.f, rng);
    b.y = y;
    for (int64_t i = 0; i < o.batch; ++i) b.index.push_back((size_t)i);
    StepContext sc;
    sc.optimizer = m.info->recipe.optimizer;
    sc.lr = m.info->recipe.lr;
    sc.seed = o.common.seed;
    auto step = make_train_step(*m.module, *m.info, sc);
    int64_t k = 0;
    report("train step", time_it([&] { step->step(b, ++k); }));
  }
  return 0;
}

}  // namespace fas::cli
