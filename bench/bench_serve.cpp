// The web service's per-request work: the auto-decoder's decode of one code (spec 004 asks
// ≤ 20 ms on one core for the slider page) and the PNG the page receives; one liveness request on
// a 640x480 NUAA frame as `fas serve` answers it (spec 002 asks ≤ 50 ms: JPEG decode, dlib face
// detection, the bundled tests, fusion) and the detection alone. Run with FAS_NUM_THREADS=1.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "cli/serve.h"
#include "io/image.h"
#ifdef FAS_HAVE_DLIB
#include "detect/face_detector.h"
#endif

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

std::string frame_bytes() {
  std::ifstream f(std::string(FAS_SOURCE_DIR) + "/data/sample/frame_live.jpg", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

#ifdef FAS_HAVE_DLIB
void BM_face_detect_640x480(benchmark::State& st) {
  const std::string b = frame_bytes();
  Tensor img = decode_image(reinterpret_cast<const unsigned char*>(b.data()), b.size(), "frame", 3);
  FaceDetector det(320);
  for (auto _ : st) benchmark::DoNotOptimize(det.detect(img).size());
}
BENCHMARK(BM_face_detect_640x480)->Unit(benchmark::kMillisecond);

void BM_liveness_request_640x480(benchmark::State& st) {
  std::vector<cli::LoadedModel> keep;
  auto tests = cli::face_tests(cli::bundled_checkpoints(std::string(FAS_SOURCE_DIR) + "/models"), keep);
  auto det = std::make_shared<FaceDetector>(320);
  serve::Service s(std::move(tests), [det](const Tensor& img) { return det->detect(img); }, serve::Options{});
  serve::Request r;
  r.method = "POST", r.path = "/v1/liveness", r.content_type = "image/jpeg", r.body = frame_bytes();
  for (auto _ : st) {
    serve::Response out = s.handle(r);
    if (out.status != 200) st.SkipWithError(out.body.c_str());
  }
}
BENCHMARK(BM_liveness_request_640x480)->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
