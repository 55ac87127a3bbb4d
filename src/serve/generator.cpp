#include "serve/generator.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "serve/generator_page.h"

namespace fas::serve {

namespace {

// The JSON body of a POST, or an error response.
bool parse_body(const Request& r, Json& j, Response& err) {
  j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    err = error_response(400, "send a JSON object");
    return false;
  }
  return true;
}

}  // namespace

GeneratorService::GeneratorService(Generator g) : g_(std::move(g)) {
  if (g_.dims <= 0 || !g_.preset || !g_.decode_png) fail("serve: generator needs dims, preset and decode_png");
}

bool GeneratorService::owns(const std::string& path) {
  return path == "/generator" || path == "/v1/generator" || path == "/v1/generator/preset" || path == "/v1/generate";
}

Response GeneratorService::handle(const Request& r) const {
  if (r.path == "/generator") return page_response(r, generator_page_html());
  if (r.path == "/v1/generator") {
    if (r.method != "GET") return error_response(405, "use GET");
    Json presets = {"mean", "random"};
    for (int g = 0; g < g_.groups; ++g) presets.push_back("group:" + std::to_string(g));
    return json_response(200, {{"dims", g_.dims}, {"images", g_.images}, {"groups", g_.groups},
                               {"presets", presets}, {"sd_limit", kSdLimit}});
  }
  if (r.method != "POST") return error_response(405, "use POST");
  Json j;
  Response err;
  if (!parse_body(r, j, err)) return err;
  if (r.path == "/v1/generator/preset") {
    if (!j.contains("name") || !j["name"].is_string()) return error_response(400, "'name' (a preset name) is required");
    const Json seed = j.value("seed", Json(0));
    if (!seed.is_number_unsigned()) return error_response(400, "'seed' must be a non-negative integer");
    try {
      std::lock_guard<std::mutex> lock(mu_);
      return json_response(200, {{"sd", g_.preset(j["name"].get<std::string>(), seed.get<uint64_t>())}});
    } catch (const Error& e) {
      return error_response(400, e.what());
    }
  }
  // /v1/generate
  if (!j.contains("sd") || !j["sd"].is_array())
    return error_response(400, "'sd' (an array of " + std::to_string(g_.dims) + " numbers) is required");
  const Json& a = j["sd"];
  if ((int)a.size() != g_.dims)
    return error_response(400, "'sd' has " + std::to_string(a.size()) + " values; the model's latent has " +
                                   std::to_string(g_.dims));
  std::vector<float> sd;
  for (const Json& v : a) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > kSdLimit)
      return error_response(400, "every 'sd' value must be a number in [-10, 10]");
    sd.push_back(v.get<float>());
  }
  const auto t0 = std::chrono::steady_clock::now();
  Response out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.body = g_.decode_png(sd);
  }
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.2f", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  out.content_type = "image/png";
  out.headers.push_back({"Cache-Control", "no-store"});
  out.headers.push_back({"X-Decode-Ms", ms});
  return out;
}

}  // namespace fas::serve
