// fas serve: the liveness web service (src/serve/) with the bundled or given checkpoints.
#pragma once
#include <string>
#include <vector>

#include "cli/common.h"
#include "serve/handler.h"

namespace fas::cli {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::vector<std::string> ckpts;  // empty: the bundled models/ checkpoints
  std::string models_dir;          // empty: the source tree's models/ (compile definition)
  std::string token_file;          // one line: the bearer token every /v1 route requires
  double max_body_mb = 8;
  long long max_pixels = 16'000'000;
  int threads = 2;                 // worker pool
  int timeout_s = 10;
  std::string cors;                // allowed origin; empty = no CORS headers
  double threshold = 0.5;          // on the fused P(live)
  int detect_max_side = 320;       // the detector's working size (face_detector.h)
  std::string generator;           // an autodecoder checkpoint: also serve /generator (spec 004)
  std::string fusion;              // a learned fusion checkpoint (cli/fusion.h): its members and LDA
};
int run_serve(const ServeOptions& o);

// The bundled checkpoints: DIR/lbp-lr.safetensors and DIR/mobilenetv2-lite.safetensors
// (DIR empty: the default models directory).
std::vector<std::string> bundled_checkpoints(const std::string& dir);

// The face tests of the checkpoints: each model's fastest engine ("float" when it has one), else
// its graph's logits. `keep` holds the loaded models the tests use.
std::vector<serve::FaceTest> face_tests(const std::vector<std::string>& ckpts, std::vector<LoadedModel>& keep);

}  // namespace fas::cli
