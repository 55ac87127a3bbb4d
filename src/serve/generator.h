// The hybrid face generator's page and API (spec 004 §4) as a pure request handler, served by
// `fas serve --generator CKPT` beside the liveness routes:
//   GET  /generator             the slider page (generator_page.h)
//   GET  /v1/generator          {"dims", "images", "groups", "presets": [...], "sd_limit"}
//   POST /v1/generator/preset   {"name": "mean"|"random"|"group:G"|"image:K", "seed": n} -> {"sd": [...]}
//   POST /v1/generate           {"sd": [dims numbers]} -> image/png (256x256), header X-Decode-Ms
// A slider value is a code coordinate in standard deviations about the mean of the learned codes.
// Errors are JSON {"error": ...} with a 4xx status, as in handler.h.
#pragma once
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "serve/handler.h"

namespace fas::serve {

struct Generator {
  int dims = 0;                      // latent size: one slider each
  int64_t images = 0;                // training codes (presets image:0 .. image:images-1)
  int groups = 0;                    // groups recorded in the checkpoint (0 = none)
  // Slider positions of a preset (throws fas::Error for an unknown or malformed one).
  std::function<std::vector<float>(const std::string& name, uint64_t seed)> preset;
  // The decoded face of slider positions, as PNG bytes.
  std::function<std::string(const std::vector<float>& sd)> decode_png;
};

class GeneratorService {
 public:
  static constexpr float kSdLimit = 10.f;  // |slider| beyond this is refused (the page shows ±3)
  explicit GeneratorService(Generator g);
  // Answers the routes above; anything else is not its (the caller routes by path).
  Response handle(const Request& r) const;
  static bool owns(const std::string& path);

 private:
  Generator g_;
  mutable std::mutex mu_;  // the decoder is used by one request at a time
};

}  // namespace fas::serve
