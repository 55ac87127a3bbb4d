// Deployment: `fas export` (.fasm files, deploy/fasm.h) and the C API (include/fas/fas_c.h) on
// the bundled checkpoints and sample faces:
//   - mobilenetv2-lite float and int8 through the C API give exactly the logits of the engines
//     they were exported from (same kernels, same packed weights); float also equals the
//     training graph within 1e-5 in P(live); lbp-lr equals its graph within 1e-5; a wiqa-lda
//     fitted in the test equals its module within 1e-5 on the two bundled 640x480 frames;
//   - load from a file and from memory; no allocation in fas_run; two handles in two threads;
//   - every bad file is FAS_E_FORMAT with one message (foreign, truncated, a flipped bit,
//     another version, shapes that do not chain), bad arguments FAS_E_ARGUMENT;
//   - export's errors (engine names, int8 without calibration images).
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "deploy/fasm.h"
#include "deploy/fasm_write.h"
#include "fas/fas_c.h"
#include "models/mobilenetv2_infer.h"
#include "models/mobilenetv2_int8.h"
#include "testutil.h"

#include "count_alloc.h"  // fas_run must not allocate

using namespace fas;
using namespace fas::cli;

namespace {

const std::string kSrc = FAS_SOURCE_DIR;
const std::string kMnv2 = kSrc + "/models/mobilenetv2-lite.safetensors";
const std::string kLbp = kSrc + "/models/lbp-lr.safetensors";
const std::string kTrain = kSrc + "/data/sample/train.txt";
const std::string kTest = kSrc + "/data/sample/test.txt";

std::string tmp_path(const std::string& name) { return std::string(FAS_BINARY_DIR) + "/test_deploy_" + name; }

// 12 test-list faces in the model's input form.
Tensor test_images(const LoadedModel& m) { return load_calibration(m, "test", kTest, 12, 7); }

struct Handle {
  fas_model* m = nullptr;
  explicit Handle(const std::string& bytes) {
    EXPECT_EQ(fas_load_memory(bytes.data(), bytes.size(), &m), FAS_OK) << fas_last_error();
  }
  ~Handle() { fas_free(m); }
  float logit(const float* x, size_t n) {
    float l = NAN;
    EXPECT_EQ(fas_run(m, x, n), FAS_OK) << fas_last_error();
    EXPECT_EQ(fas_scores(m, nullptr, &l), FAS_OK);
    return l;
  }
};

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The load error of bytes: the code, and the message must contain `part`.
void expect_format_error(const std::string& bytes, const std::string& part) {
  fas_model* m = reinterpret_cast<fas_model*>(&g_news);  // overwritten with null on failure
  EXPECT_EQ(fas_load_memory(bytes.data(), bytes.size(), &m), FAS_E_FORMAT) << part;
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(fas_last_error()).find("not a valid .fasm model: "), std::string::npos) << fas_last_error();
  EXPECT_NE(std::string(fas_last_error()).find(part), std::string::npos) << fas_last_error();
}

// Rewrites the checksum after an edit (a consistent file with other contents).
void reseal(std::string& b) {
  const uint32_t crc = fasm::crc32(reinterpret_cast<const uint8_t*>(b.data()) + 20, b.size() - 20);
  std::memcpy(&b[16], &crc, 4);
}

}  // namespace

TEST(Deploy, Crc32IsTheStandardOne) {
  const char* s = "123456789";  // the CRC-32 check value
  EXPECT_EQ(fasm::crc32(reinterpret_cast<const uint8_t*>(s), 9), 0xCBF43926u);
}

TEST(Deploy, Mnv2FloatEqualsEngineAndGraph) {
  LoadedModel m = load_model(kMnv2);
  auto& net = module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite");
  MobileNetV2Infer engine(net);
  const std::string bytes = fasm::export_mobilenetv2(engine);
  Handle h(bytes);
  int c = 0, hh = 0, w = 0;
  ASSERT_EQ(fas_input_shape(h.m, &c, &hh, &w), FAS_OK);
  EXPECT_EQ(c, 3);
  EXPECT_EQ(hh, 128);
  EXPECT_EQ(w, 128);
  EXPECT_STREQ(fas_model_kind(h.m), "mobilenetv2-lite float");
  const Tensor x = test_images(m);
  const size_t n = (size_t)(c * hh * w);
  std::vector<float> want(x.size(0));
  engine.logits(x.data(), x.size(0), want.data());
  const std::vector<float> graph = model_scores(*m.info, *m.module, x);
  for (int64_t i = 0; i < x.size(0); ++i) {
    EXPECT_EQ(h.logit(x.data() + i * n, n), want[i]) << i;
    float p = 0;
    fas_scores(h.m, &p, nullptr);
    EXPECT_NEAR(p, graph[i], 1e-5) << i;
  }
  // No allocation while running.
  g_news = 0;
  g_count = true;
  for (int i = 0; i < 3; ++i) fas_run(h.m, x.data(), n);
  g_count = false;
  EXPECT_EQ(g_news.load(), 0);
  size_t total = 0, arena = 0;
  fas_memory(h.m, &total, &arena);
  EXPECT_GE(total, bytes.size() + arena);
  EXPECT_LE(total, bytes.size() + arena + 16384);  // shapes, plan and views: a few KB
}

TEST(Deploy, Mnv2Int8EqualsEngineExactly) {
  LoadedModel m = load_model(kMnv2);
  auto& net = module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite");
  const Tensor calib = load_calibration(m, "int8", kTrain, 32, 42);
  MobileNetV2Int8 engine(fold_mobilenetv2(net), calib.data(), calib.size(0));
  Handle h(fasm::export_mobilenetv2(engine));
  EXPECT_STREQ(fas_model_kind(h.m), "mobilenetv2-lite int8");
  const Tensor x = test_images(m);
  const size_t n = (size_t)(x.numel() / x.size(0));
  std::vector<float> want(x.size(0));
  engine.logits(x.data(), x.size(0), want.data());
  for (int64_t i = 0; i < x.size(0); ++i) EXPECT_EQ(h.logit(x.data() + i * n, n), want[i]) << i;
}

TEST(Deploy, LbpLrFromCliExportEqualsGraph) {
  ExportOptions o;
  o.ckpt = kLbp;
  o.common.out = tmp_path("lbp.fasm");
  ASSERT_EQ(run_export(o), 0);
  fas_model* h = nullptr;
  ASSERT_EQ(fas_load_file(o.common.out.c_str(), &h), FAS_OK) << fas_last_error();
  EXPECT_STREQ(fas_model_kind(h), "lbp-lr");
  LoadedModel m = load_model(kLbp);
  const Tensor x = test_images(m);
  const size_t n = (size_t)(x.numel() / x.size(0));
  const std::vector<float> want = model_logits(*m.info, *m.module, x);
  for (int64_t i = 0; i < x.size(0); ++i) {
    float l = NAN;
    ASSERT_EQ(fas_run(h, x.data() + i * n, n), FAS_OK);
    fas_scores(h, nullptr, &l);
    EXPECT_NEAR(l, want[i], 1e-5 * (1 + std::fabs(want[i]))) << i;
  }
  fas_free(h);
}

// wiqa-lda: a tiny one fitted here (24 sample faces upscaled to the 640x480 frame; three metrics,
// log-compressed, so the export's column selection and transform are exercised), exported by the
// CLI code and run through the C API on the two bundled raw frames as the data pipeline gives
// them, against the module's forward on the same floats.
std::string fit_tiny_wiqa(const std::string& dir) {
  TrainOptions o;
  o.model = "wiqa-lda";
  o.data = kTrain;
  o.limit = 24;
  o.common.threads = 2;
  o.common.out = dir;
  o.quiet = true;
  o.set = {"features=[\"vifd\",\"sme\",\"niqe\"]", "transform=slog"};
  EXPECT_EQ(run_train(o), 0);
  return dir + "/best.safetensors";
}

TEST(Deploy, WiqaLdaFromCliExportEqualsGraph) {
  ExportOptions o;
  o.ckpt = fit_tiny_wiqa(tmp_path("wiqa"));
  o.common.out = tmp_path("wiqa.fasm");
  ASSERT_EQ(run_export(o), 0);
  fas_model* h = nullptr;
  ASSERT_EQ(fas_load_file(o.common.out.c_str(), &h), FAS_OK) << fas_last_error();
  EXPECT_STREQ(fas_model_kind(h), "wiqa-lda");
  int c = 0, hh = 0, w = 0;
  fas_input_shape(h, &c, &hh, &w);
  EXPECT_EQ(c, 1);
  EXPECT_EQ(hh, 480);
  EXPECT_EQ(w, 640);
  LoadedModel m = load_model(o.ckpt);
  const std::string list = tmp_path("frames.txt");
  std::ofstream(list) << kSrc << "/data/sample/frame_live.jpg 1\n" << kSrc << "/data/sample/frame_spoof.jpg 0\n";
  const Tensor x = load_calibration(m, "test", list, 2, 0);
  ASSERT_EQ(x.size(0), 2);
  const size_t n = (size_t)(x.numel() / x.size(0));
  ASSERT_EQ(n, (size_t)480 * 640);
  const std::vector<float> want = model_logits(*m.info, *m.module, x);
  for (int64_t i = 0; i < x.size(0); ++i) {
    float l = NAN, p = NAN;
    ASSERT_EQ(fas_run(h, x.data() + i * n, n), FAS_OK) << fas_last_error();
    fas_scores(h, &p, &l);
    EXPECT_NEAR(l, want[i], 1e-5 * (1 + std::fabs(want[i]))) << i;
    EXPECT_NEAR(p, 1 / (1 + std::exp(-want[i])), 1e-6) << i;
  }
  EXPECT_NE(want[0], want[1]);  // the two frames score differently: not a constant model
  // A frame of another size is an argument error, not a run.
  EXPECT_EQ(fas_run(h, x.data(), n - 640), FAS_E_ARGUMENT);
  EXPECT_NE(std::string(fas_last_error()).find("1x480x640"), std::string::npos) << fas_last_error();
  // Crafted files: a metric index out of range, a weight array of the wrong count (resealed).
  const std::string good = read_all(o.common.out);
  std::string b = good;
  const int64_t col = 24;  // GEOM {C, H, W, slog, p, cols...}: the first column
  std::memcpy(&b[64 + 16 + 8 * 5], &col, 8);
  reseal(b);
  expect_format_error(b, "metric index out of range");
  b = good;
  const size_t dens = b.find(std::string("DENS\2\0\0\0", 8));
  ASSERT_NE(dens, std::string::npos);
  b[dens + 8] += 1;
  reseal(b);
  expect_format_error(b, "array DENS has");
  expect_format_error(good.substr(0, good.size() - 16), "file size");
  fas_free(h);
}

TEST(Deploy, CliExportInt8MatchesEvalCalibration) {
  // fas export --engine int8 calibrates as the int8 engine of eval/predict does (list, count,
  // seed, clip), with max-abs and with a percentile clip.
  for (double pct : {0.0, 99.9}) {
    ExportOptions o;
    o.ckpt = kMnv2;
    o.common.out = tmp_path("int8.fasm");
    o.engine = {"int8", kTrain, 16, pct};
    ASSERT_EQ(run_export(o), 0);
    LoadedModel m = load_model(kMnv2);
    const Scorer engine = make_engine_scorer(m, o.engine, o.common.seed);
    const Tensor x = test_images(m);
    const std::vector<float> want = engine(x);
    fas_model* h = nullptr;
    ASSERT_EQ(fas_load_file(o.common.out.c_str(), &h), FAS_OK) << fas_last_error();
    const size_t n = (size_t)(x.numel() / x.size(0));
    for (int64_t i = 0; i < x.size(0); ++i) {
      float p = NAN;
      ASSERT_EQ(fas_run(h, x.data() + i * n, n), FAS_OK);
      fas_scores(h, &p, nullptr);
      EXPECT_EQ(p, want[i]) << i << " pct " << pct;
    }
    fas_free(h);
  }
}

TEST(Deploy, SeparateHandlesRunConcurrently) {
  LoadedModel m = load_model(kMnv2);
  MobileNetV2Infer engine(module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite"));
  const std::string bytes = fasm::export_mobilenetv2(engine);
  const Tensor x = test_images(m);
  const size_t n = (size_t)(x.numel() / x.size(0));
  std::vector<float> want(x.size(0));
  engine.logits(x.data(), x.size(0), want.data());
  Handle a(bytes), b(bytes);
  std::vector<float> got_a(x.size(0)), got_b(x.size(0));
  auto work = [&](Handle* h, std::vector<float>* out, int64_t start) {
    for (int rep = 0; rep < 4; ++rep)
      for (int64_t k = 0; k < x.size(0); ++k) {
        const int64_t i = (k + start) % x.size(0);
        fas_run(h->m, x.data() + i * n, n);
        fas_scores(h->m, nullptr, &(*out)[i]);
      }
  };
  std::thread ta(work, &a, &got_a, 0), tb(work, &b, &got_b, 5);
  ta.join(), tb.join();
  EXPECT_EQ(got_a, want);
  EXPECT_EQ(got_b, want);
}

TEST(Deploy, BadFilesAreOneFormatError) {
  LoadedModel m = load_model(kMnv2);
  const std::string good = fasm::export_mobilenetv2(MobileNetV2Infer(module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite")));
  expect_format_error(read_all(kSrc + "/data/sample/frame_live.jpg"), "no FASM magic");
  expect_format_error("FASM", "shorter than the 64-byte header");
  expect_format_error(good.substr(0, good.size() - 100), "file size");
  std::string b = good;
  b[b.size() / 2] ^= 4;
  expect_format_error(b, "checksum mismatch");
  b = good;
  b[4] = 2;  // version 2, resealed
  reseal(b);
  expect_format_error(b, "format version 2");
  // A stride changed in the geometry (stem stride at GEOM element 4 + 3), checksum resealed:
  // the shapes no longer chain.
  b = good;
  const int64_t one = 1;  // was 2
  std::memcpy(&b[64 + 16 + 8 * 7], &one, 8);
  reseal(b);
  expect_format_error(b, "stem");
  // A weight array's count changed: the array no longer fits the geometry.
  b = good;
  const size_t sw = b.find(std::string("SW\0\0\2\0\0\0", 8));  // tag and dtype f32
  ASSERT_NE(sw, std::string::npos);
  b[sw + 8] += 1;
  reseal(b);
  expect_format_error(b, "array SW has");
}

TEST(Deploy, BadArgumentsAndIo) {
  fas_model* h = nullptr;
  EXPECT_EQ(fas_load_file(tmp_path("missing.fasm").c_str(), &h), FAS_E_IO);
  EXPECT_NE(std::string(fas_last_error()).find("cannot open"), std::string::npos);
  EXPECT_EQ(fas_load_file(nullptr, &h), FAS_E_ARGUMENT);
  EXPECT_EQ(fas_load_memory("x", 1, nullptr), FAS_E_ARGUMENT);
  EXPECT_EQ(fas_run(nullptr, nullptr, 0), FAS_E_ARGUMENT);
  fas_free(nullptr);
  LoadedModel m = load_model(kMnv2);
  Handle good(fasm::export_mobilenetv2(MobileNetV2Infer(module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite"))));
  float p;
  EXPECT_EQ(fas_scores(good.m, &p, nullptr), FAS_E_ARGUMENT);  // nothing run yet
  std::vector<float> x(3 * 128 * 128, 0.5f);
  EXPECT_EQ(fas_run(good.m, x.data(), x.size() - 1), FAS_E_ARGUMENT);
  EXPECT_NE(std::string(fas_last_error()).find("3x128x128 = 49152"), std::string::npos) << fas_last_error();
  EXPECT_EQ(fas_run(good.m, x.data(), x.size()), FAS_OK);
  EXPECT_EQ(fas_scores(good.m, &p, nullptr), FAS_OK);
  EXPECT_GT(p, 0.f);
  EXPECT_LT(p, 1.f);
}

TEST(Deploy, ExportErrors) {
  ExportOptions o;
  o.ckpt = kMnv2;
  test::expect_error([&] { run_export(o); }, {"--out FILE is required"});
  o.common.out = tmp_path("never.fasm");
  o.engine.name = "int8";
  test::expect_error([&] { run_export(o); }, {"calibrates on training images", "--calib"});
  o.engine.name = "fp16";
  test::expect_error([&] { run_export(o); }, {"float or int8", "fp16"});
  o.engine.name = "float";
  o.engine.calib_pct = 99.9;
  test::expect_error([&] { run_export(o); }, {"--calib-pct applies to the int8 engine"});
  o.engine.calib_pct = 0;
  o.ckpt = kLbp;
  o.engine.name = "int8";
  test::expect_error([&] { run_export(o); }, {"lbp-lr exports one form"});
  o.ckpt = fit_tiny_wiqa(tmp_path("wiqa_err"));
  test::expect_error([&] { run_export(o); }, {"wiqa-lda exports one form"});
  std::ifstream f(o.common.out);
  EXPECT_FALSE(f.good());  // nothing written on an error
}
