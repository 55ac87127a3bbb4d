// NUAA training harness for MobileNetV2-lite: trains on faces_train.txt and evaluates on
// faces_test.txt (ISO/IEC 30107-3 metrics, ROC and histogram plots). It stands in for
// `fas train/eval --model mobilenetv2-lite` until the CLI lands, so it is opt-in (minutes of CPU):
//
//   FAS_NUAA_DIR=/work/shared/data/nuaa [FAS_NUAA_SIZE=64] [FAS_NUAA_EPOCHS=12] [FAS_NUAA_OUT=dir]
//   [FAS_NUAA_NORM=unit|sample] FAS_NUAA_MAX_ACER=0.10 ./build/test_mobilenet_nuaa
//
// Without FAS_NUAA_DIR the test is skipped. With it, the test fails if the test-list ACER at the
// 0.5 threshold exceeds FAS_NUAA_MAX_ACER (default 0.10), so a broken model or trainer shows.
// Recipe (spec 003 §5 with Keras defaults; choices documented in docs/mobilenetv2-lite.md):
// inputs in [0, 1] (FAS_NUAA_NORM=sample standardises each image), BCE on logits, Adam (Keras
// form, lr 1e-3, eps 1e-7), batch 32, lr x0.1 for the last quarter of the epochs, §3.4
// augmentation (one affine per image: rotation U(-30°, 30°), shift U(-10 %, 10 %), zoom per axis
// U(0.85, 1.15), bilinear, nearest fill), BN momentum 0.99 instead of Keras' 0.999 (with ~110
// steps an epoch, 0.999 would leave a third of the initial running statistics in place after 10
// epochs; spec 003 §4.5 allows a smaller momentum chosen deliberately).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

// A private (static) copy of stb_image: the library's own stb implementation may also be linked.
// Unused static stb functions would warn at the end of this file, hence the file-wide pragma.
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include "autograd/graph.h"
#include "io/plot.h"
#include "metrics/metrics.h"
#include "models/mobilenetv2_lite.h"
#include "optim/optim.h"
#include "testutil.h"

using namespace fas;

namespace {

struct Set {
  std::vector<float> pixels;  // N x 3 x S x S in [0, 1]
  std::vector<int> labels;
  int64_t n = 0;
};

// Resize to S x S by area averaging over the source pixels each output pixel covers (exact for
// 128 -> 64: the 2 x 2 mean).
void resize_area(const unsigned char* img, int h, int w, int s, float* out) {
  for (int c = 0; c < 3; ++c)
    for (int oy = 0; oy < s; ++oy)
      for (int ox = 0; ox < s; ++ox) {
        const int y0 = oy * h / s, y1 = std::max(y0 + 1, (oy + 1) * h / s);
        const int x0 = ox * w / s, x1 = std::max(x0 + 1, (ox + 1) * w / s);
        float acc = 0;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) acc += img[(y * w + x) * 3 + c];
        out[(c * s + oy) * s + ox] = acc / (255.f * (y1 - y0) * (x1 - x0));
      }
}

Set load(const std::string& dir, const std::string& list, int s) {
  std::ifstream f(dir + "/" + list);
  if (!f) fail("nuaa harness: cannot open " + dir + "/" + list);
  Set set;
  std::string path;
  int label, line = 0;
  while (f >> path >> label) {
    ++line;
    int w, h, c;
    unsigned char* img = stbi_load((dir + "/" + path).c_str(), &w, &h, &c, 3);
    if (!img) fail("nuaa harness: cannot read image " + path + " (" + list + " line " + std::to_string(line) + ")");
    set.pixels.resize(set.pixels.size() + 3 * s * s);
    resize_area(img, h, w, s, set.pixels.data() + set.n * 3 * s * s);
    stbi_image_free(img);
    set.labels.push_back(label);
    ++set.n;
  }
  if (set.n == 0) fail("nuaa harness: empty list " + list);
  return set;
}

// Spec 003 §3.4 / Keras ImageDataGenerator: one affine per image on the S x S x 3 source.
void augment_into(const float* chw, int s, Rng& rng, float* out) {
  const float kPi = 3.14159265f;
  const float a = rng.uniform(-30.f, 30.f) * kPi / 180.f;
  const float ty = rng.uniform(-0.1f, 0.1f) * s, tx = rng.uniform(-0.1f, 0.1f) * s;
  const float zy = rng.uniform(0.85f, 1.15f), zx = rng.uniform(0.85f, 1.15f);
  const float ca = std::cos(a), sa = std::sin(a), cy = (s - 1) / 2.f, cx = (s - 1) / 2.f;
  for (int oy = 0; oy < s; ++oy)
    for (int ox = 0; ox < s; ++ox) {
      // Output pixel -> source pixel: rotate and zoom about the centre, then shift.
      const float dy = oy - cy, dx = ox - cx;
      float sy = (ca * dy + sa * dx) * zy + cy + ty, sx = (-sa * dy + ca * dx) * zx + cx + tx;
      sy = std::min(std::max(sy, 0.f), s - 1.f);
      sx = std::min(std::max(sx, 0.f), s - 1.f);
      const int y0 = static_cast<int>(sy), x0 = static_cast<int>(sx);
      const int y1 = std::min(y0 + 1, s - 1), x1 = std::min(x0 + 1, s - 1);
      const float fy = sy - y0, fx = sx - x0;
      for (int c = 0; c < 3; ++c) {
        const float* p = chw + c * s * s;
        out[(c * s + oy) * s + ox] = (1 - fy) * ((1 - fx) * p[y0 * s + x0] + fx * p[y0 * s + x1]) +
                                     fy * ((1 - fx) * p[y1 * s + x0] + fx * p[y1 * s + x1]);
      }
    }
}

// Keras samplewise_center + samplewise_std_normalization: each image to zero mean and unit std
// over all its pixels and channels (spec 003 §3.3's literal "normalized samplewise").
void standardize(float* p, int64_t n) {
  double m = 0, v = 0;
  for (int64_t i = 0; i < n; ++i) m += p[i];
  m /= n;
  for (int64_t i = 0; i < n; ++i) v += (p[i] - m) * (p[i] - m);
  const float inv = 1.f / (std::sqrt(static_cast<float>(v / n)) + 1e-6f);
  for (int64_t i = 0; i < n; ++i) p[i] = (p[i] - static_cast<float>(m)) * inv;
}

int env_int(const char* k, int d) { return getenv(k) ? std::atoi(getenv(k)) : d; }
double env_double(const char* k, double d) { return getenv(k) ? std::atof(getenv(k)) : d; }
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST(MobileNetV2LiteNuaa, TrainAndEvaluate) {
  const char* dir = getenv("FAS_NUAA_DIR");
  if (!dir) GTEST_SKIP() << "set FAS_NUAA_DIR to run the NUAA training harness";
  const int s = env_int("FAS_NUAA_SIZE", 64), epochs = env_int("FAS_NUAA_EPOCHS", 12), batch = 32;
  const std::string out = getenv("FAS_NUAA_OUT") ? getenv("FAS_NUAA_OUT") : "";
  // [0, 1] inputs by default: per-image standardisation was tried and generalised worse (it
  // removes the brightness and contrast that tell a print from a face; docs/mobilenetv2-lite.md).
  const bool samplewise = getenv("FAS_NUAA_NORM") && std::string(getenv("FAS_NUAA_NORM")) == "sample";
  auto t0 = std::chrono::steady_clock::now();
  Set train = load(dir, "faces_train.txt", s), test = load(dir, "faces_test.txt", s);
  printf("loaded %ld train, %ld test images at %dx%d in %.1f s\n", (long)train.n, (long)test.n, s, s,
         seconds_since(t0));

  MobileNetV2LiteConfig cfg;
  cfg.in_channels = 3, cfg.height = s, cfg.width = s;
  cfg.bn_momentum = 0.99f;
  Rng rng(2020);
  MobileNetV2Lite model(cfg, rng);
  AdamConfig ac;
  ac.keras = true;
  ac.eps = 1e-7f;
  Adam opt(model.named_parameters(), ac);

  const int64_t img = 3 * s * s;
  std::vector<int64_t> order(train.n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> epoch_loss;
  for (int e = 0; e < epochs; ++e) {
    auto te = std::chrono::steady_clock::now();
    opt.set_lr(e >= epochs - epochs / 4 ? 1e-4f : 1e-3f);
    for (int64_t i = train.n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    model.train();
    double sum = 0;
    int64_t seen = 0;
    for (int64_t b = 0; b + batch <= train.n; b += batch) {  // drop the last partial batch
      Tensor x = Tensor::empty({batch, 3, s, s}), y = Tensor::empty({batch});
      for (int i = 0; i < batch; ++i) {
        const int64_t k = order[b + i];
        augment_into(train.pixels.data() + k * img, s, rng, x.data() + i * img);
        if (samplewise) standardize(x.data() + i * img, img);
        y.data()[i] = static_cast<float>(train.labels[k]);
      }
      opt.zero_grad();
      Tensor loss = bce_with_logits(model.forward_logits(x).reshape({batch}), y);
      ASSERT_TRUE(std::isfinite(loss.item())) << "epoch " << e + 1 << " batch " << b / batch;
      loss.backward();
      opt.step();
      sum += loss.item() * batch, seen += batch;
    }
    epoch_loss.push_back(sum / seen);
    printf("epoch %d/%d  loss %.4f  lr %g  %.1f s\n", e + 1, epochs, sum / seen, opt.lr(), seconds_since(te));
    fflush(stdout);
  }

  model.eval();
  metrics::Scores sc;
  sc.labels = test.labels;
  {
    NoGradGuard ng;
    for (int64_t b = 0; b < test.n; b += 64) {
      const int64_t n = std::min<int64_t>(64, test.n - b);
      Tensor x = Tensor::empty({n, 3, s, s});
      std::copy(test.pixels.begin() + b * img, test.pixels.begin() + (b + n) * img, x.data());
      for (int64_t i = 0; samplewise && i < n; ++i) standardize(x.data() + i * img, img);
      for (float p : model(x).to_vector()) sc.scores.push_back(p);
    }
  }
  metrics::EvalOptions eo;
  eo.threshold = 0.5;  // the thesis' implied decision threshold on P(live)
  metrics::Report r = metrics::evaluate(sc, eo);
  printf("%s\ntrainable params %ld, total time %.1f s\n", r.to_table().c_str(), (long)model.count_params(true),
         seconds_since(t0));
  if (!out.empty()) {
    std::filesystem::create_directories(out);
    plot::write_eval_artifacts(out, "mobilenetv2-lite", r, sc);
    plot::ChartOptions co;
    co.title = "MobileNetV2-lite on NUAA: training loss";
    co.xlabel = "epoch";
    co.ylabel = "BCE";
    plot::write_svg(out + "/loss.svg", plot::line_chart_svg({plot::epoch_series("train loss", epoch_loss)}, co));
  }
  EXPECT_LE(r.acer, env_double("FAS_NUAA_MAX_ACER", 0.10));
  EXPECT_LT(model.count_params(true), 100000);
}
