// libFuzzer target: `fas serve`'s request handler (serve/handler.h, the generator routes mounted
// as `fas serve --generator` does), requests passed in directly, no socket. Input:
//   byte 0   flags: 1 multipart, 2 multipart has an "image" field, 4 a bearer token is required,
//            8 CORS on, 16 a stand-in detector (crops above 16 px) whose box comes from byte 1..4
//   byte 1-4 the detector's box (x, y, w, h; each 0..255, w and h at least 1)
//   then     "METHOD\nPATH\nCONTENT-TYPE\nAUTHORIZATION\n" and the body (the image field if multipart)
// The stand-in face tests and generator do real tensor work on what they are given (the mean
// pixel, a PNG of the sliders), so a wrong crop or shape reaches ASan. Every answer must be a
// 2xx or 4xx with a body: a 5xx is an exception the handler did not expect.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "io/plot.h"
#include "serve/generator.h"
#include "serve/handler.h"

using namespace fas;
using namespace fas::serve;

namespace {

double mean_log_odds(const Tensor& x) {
  double s = 0;
  for (int64_t i = 0; i < x.numel(); ++i) s += x.data()[i];
  return s / (double)x.numel() - 0.5;
}

Generator stand_in_generator() {
  Generator g;
  g.dims = 3, g.images = 4, g.groups = 2;
  g.preset = [](const std::string& name, uint64_t seed) -> std::vector<float> {
    if (name == "mean") return {0, 0, 0};
    if (name == "random") return {(float)(seed % 3), 1, -1};
    fail("unknown preset " + name);
  };
  g.decode_png = [](const std::vector<float>& sd) {
    Tensor t = Tensor::zeros({3, 4, 4});
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = std::clamp(0.5f + sd[i % sd.size()] / 20.f, 0.f, 1.f);
    return plot::encode_png(t);
  };
  return g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const GeneratorService gen(stand_in_generator());
  if (size < 5) return 0;
  const uint8_t flags = data[0];
  const FaceBox box{data[1], data[2], (int64_t)data[3] + 1, (int64_t)data[4] + 1};
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 5, size - 5));
  Request r;
  std::getline(in, r.method), std::getline(in, r.path), std::getline(in, r.content_type), std::getline(in, r.authorization);
  r.body.assign(std::istreambuf_iterator<char>(in), {});
  r.multipart = flags & 1, r.has_image_field = flags & 2;
  if (r.multipart) r.image_field.swap(r.body);

  ImageSpec spec;
  spec.channels = 3, spec.height = 8, spec.width = 8;
  ImageSpec grey = spec;
  grey.channels = 1;
  Options o;
  o.max_body = 1 << 16, o.max_pixels = 1 << 16;  // small limits: the fuzzer reaches both edges
  if (flags & 4) o.token = "secret";
  if (flags & 8) o.cors_origin = "https://example.org";
  Detector det;
  if (flags & 16) {
    o.crop_max_side = 16;
    det = [box](const Tensor&) { return std::vector<FaceBox>{box}; };
  }
  o.mounts.push_back({GeneratorService::owns, [](const Request& q) { return gen.handle(q); }});
  const Service s({FaceTest{"crop", spec, mean_log_odds}, FaceTest{"frame", grey, mean_log_odds, true}}, det, o);
  const Response out = s.handle(r);
  if (out.status >= 500 || out.status < 200 || (out.body.empty() && out.status != 204)) __builtin_trap();
  return 0;
}
