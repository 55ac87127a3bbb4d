// fas serve. Compiled into the fas executable (not the library) because it needs cpp-httplib and
// dlib when they are found (FAS_HAVE_HTTPLIB / FAS_HAVE_DLIB); without httplib it says so.
#include "cli/serve.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <pthread.h>
#include <thread>

#include "cli/commands.h"
#include "autograd/graph.h"
#include "cli/common.h"
#include "cli/autodecoder_cli.h"
#include "cli/fusion.h"
#include "io/plot.h"
#include "serve/generator.h"
#include "serve/handler.h"
#ifdef FAS_HAVE_HTTPLIB
#include "serve/http_server.h"
#endif
#ifdef FAS_HAVE_DLIB
#include "detect/face_detector.h"
#endif

#ifndef FAS_MODELS_DIR
#define FAS_MODELS_DIR "models"
#endif

namespace fas::cli {

std::vector<std::string> bundled_checkpoints(const std::string& dir) {
  const std::string d = dir.empty() ? FAS_MODELS_DIR : dir;
  std::vector<std::string> out;
  for (const char* n : {"lbp-lr.safetensors", "mobilenetv2-lite.safetensors"}) {
    out.push_back(join_path(d, n));
    if (!std::ifstream(out.back())) fail("serve: bundled checkpoint '" + out.back() + "' not found; pass --models-dir DIR or --ckpt FILE");
  }
  return out;
}

namespace {

std::string read_token(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("serve: cannot read token file '" + path + "'");
  std::string t;
  std::getline(f, t);
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) fail("serve: token file '" + path + "' is empty");
  return t;
}

}  // namespace

// The "float" engine gives the same numbers as the graph (docs/models/mobilenetv2-lite.md).
std::vector<serve::FaceTest> face_tests(const std::vector<std::string>& ckpts, std::vector<LoadedModel>& keep) {
  keep = load_fusion(ckpts, EngineOptions{}, "serve", nullptr);
  std::vector<serve::FaceTest> tests;
  for (auto& m : keep) {
    serve::FaceTest t;
    t.name = m.info->name;
    t.spec = image_spec(m.config);
    t.whole_frame = m.info->whole_frame;
    if (m.info->engines.count("float")) {
      EngineOptions fo;
      fo.name = "float";
      Scorer s = make_engine_scorer(m, fo, 42);
      t.log_odds = [s](const Tensor& x) { return live_log_odds(s(x).at(0)); };
    } else {
      const ModelInfo* info = m.info;
      Module* mod = m.module.get();
      t.log_odds = [info, mod](const Tensor& x) {
        NoGradGuard ng;
        return (double)model_logits(*info, *mod, x).at(0);
      };
    }
    tests.push_back(std::move(t));
  }
  return tests;
}


int run_serve(const ServeOptions& o) {
#ifndef FAS_HAVE_HTTPLIB
  (void)o;
  fail("serve: this fas was built without cpp-httplib (Debian libcpp-httplib-dev); install it and rebuild");
#else
  if (o.port < 0 || o.port > 65535) fail("serve: --port must be 0..65535");
  if (o.max_body_mb <= 0 || o.max_pixels <= 0 || o.threads <= 0 || o.timeout_s <= 0)
    fail("serve: --max-body-mb, --max-pixels, --threads and --timeout-s must be positive");
  // One OpenMP thread per request: the pool's workers give the parallelism.
  setup_threads(1);
  std::vector<LoadedModel> models;
  if (!o.fusion.empty() && !o.ckpts.empty()) fail("serve: give --fusion or --ckpt, not both (the fusion names its members)");
  serve::Options so;
  std::vector<std::string> ckpts = o.ckpts.empty() ? std::vector<std::string>{} : o.ckpts;
  if (!o.fusion.empty()) {
    const Fusion fz = load_fusion_checkpoint(o.fusion);
    ckpts = fz.member_paths;
    const iqa::LdaModel lda = fz.lda;
    so.fuse = [lda](const std::vector<double>& z) { return lda.decision(z.data()); };
    so.fusion_method = "learned (" + o.fusion + ")";
  } else if (ckpts.empty()) {
    ckpts = bundled_checkpoints(o.models_dir);
  }
  std::vector<serve::FaceTest> tests = face_tests(ckpts, models);
  so.max_body = (size_t)(o.max_body_mb * (1 << 20));
  so.max_pixels = o.max_pixels;
  so.threshold = o.threshold;
  so.cors_origin = o.cors;
  if (!o.token_file.empty()) so.token = read_token(o.token_file);
  // The generator (spec 004) beside the liveness routes: /generator and its /v1 routes.
  std::shared_ptr<AutoDecoderCkpt> gen;
  std::shared_ptr<serve::GeneratorService> gen_service;
  if (!o.generator.empty()) {
    gen = std::make_shared<AutoDecoderCkpt>(load_autodecoder(o.generator));
    serve::Generator g;
    g.dims = (int)gen->ad->latent();
    g.images = gen->ad->images();
    for (int k : gen->groups) g.groups = std::max(g.groups, k + 1);
    g.preset = [gen](const std::string& name, uint64_t seed) { return preset_sd(*gen, name, seed); };
    g.decode_png = [gen](const std::vector<float>& sd) {
      return plot::encode_png(decode_one(*gen->ad, code_from_sd(gen->stats, sd)));
    };
    gen_service = std::make_shared<serve::GeneratorService>(std::move(g));
    so.mounts.push_back({serve::GeneratorService::owns, [gen_service](const serve::Request& r) { return gen_service->handle(r); }});
  }
  Detector det;
#ifdef FAS_HAVE_DLIB
  det = dlib_face_detector(o.detect_max_side);
#else
  std::fprintf(stderr, "fas serve: built without dlib (Debian libdlib-dev): images are scored whole, no face detection\n");
#endif
  serve::Service service(std::move(tests), det, so);
  serve::HttpOptions ho;
  ho.host = o.host, ho.port = o.port, ho.threads = o.threads, ho.timeout_s = o.timeout_s;
  // SIGINT/SIGTERM end the server cleanly: blocked here (inherited by the workers), taken by sigwait.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  serve::HttpServer server(service, ho);
  server.bind();
  std::string names;
  for (const auto& m : models) names += (names.empty() ? "" : " + ") + m.info->name;
  std::printf("fas serve: http://%s:%d/ (tests: %s; fused by %s, threshold %g%s)\n", o.host.c_str(), server.port(),
              names.c_str(), so.fusion_method.c_str(), o.threshold, so.token.empty() ? "" : "; bearer token required");
  if (gen) std::printf("fas serve: the face generator of %s: http://%s:%d/generator\n", o.generator.c_str(), o.host.c_str(), server.port());
  std::fflush(stdout);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    server.stop();
  });
  server.run();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if the server stopped by itself
  waiter.join();
  std::printf("fas serve: stopped\n");
  return 0;
#endif
}

}  // namespace fas::cli
