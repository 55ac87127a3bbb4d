// fas project / fas generate (spec 004's auto-decoder) and what `fas serve --generator` shares
// with them: loading an auto-decoder checkpoint with its groups and code statistics, presets,
// decoding one code.
#pragma once
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "models/autodecoder.h"

namespace fas::cli {

struct AutoDecoderCkpt {
  LoadedModel m;
  AutoDecoder* ad = nullptr;  // owned by m.module
  std::vector<int> groups;    // per code (checkpoint metadata), empty when not recorded
  LatentStats stats;          // of every trained code: the sliders' origin and unit
};
// A checkpoint of another model, or bad group metadata: one fas::Error.
AutoDecoderCkpt load_autodecoder(const std::string& path);
std::vector<float> code_of(const AutoDecoder& ad, int64_t k);           // training image k's code
Tensor decode_one(AutoDecoder& ad, const std::vector<float>& code);     // -> [3, 256, 256]
// Slider positions (standard deviations) of a preset: mean | random | group:G | image:K.
std::vector<float> preset_sd(const AutoDecoderCkpt& a, const std::string& preset, uint64_t seed);

}  // namespace fas::cli
