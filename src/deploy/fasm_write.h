// Writing .fasm files (deploy/fasm.h) from the full build's inference engines: the bytes of a
// model exactly as the engine runs it (same packed weights, scales and plan), so the minimal
// build's outputs equal the engine's. `fas export` (cli/export.cpp) is the command.
#pragma once
#include <string>
#include <vector>

namespace fas {
class MobileNetV2Infer;
class MobileNetV2Int8;
}

namespace fas::fasm {

std::string export_mobilenetv2(const MobileNetV2Infer& engine);
std::string export_mobilenetv2(const MobileNetV2Int8& engine);

struct LbpLrModel {
  int64_t C = 3, H = 0, W = 0;
  bool ycc = true;
  int grid = 3;
  std::vector<int> radii;
  float scale = 59.f, offset = 0.f, bias = 0.f;
  std::vector<float> w;  // one weight per feature
};
std::string export_lbp_lr(const LbpLrModel& m);

// wiqa-lda (models/wiqa_lda.cpp): the selected metrics, their transform, the standardisation and
// the LDA layer exactly as the module stores them (float32).
struct WiqaLdaModel {
  int64_t H = 480, W = 640;
  bool slog = false;
  std::vector<int> cols;  // iqa::Metric indices
  std::vector<float> shift, scale, w;
  float bias = 0.f;
};
std::string export_wiqa_lda(const WiqaLdaModel& m);

}  // namespace fas::fasm
