// The generator routes (src/serve/generator.h) mounted on the liveness service, with a stand-in
// decoder whose image brightness is a known function of the first slider.
#include <gtest/gtest.h>

#include <stb_image.h>

#include "io/plot.h"
#include "serve/generator.h"
#include "serve/handler.h"

using namespace fas;
using namespace fas::serve;

namespace {

Generator stand_in(int* decodes = nullptr) {
  Generator g;
  g.dims = 3, g.images = 5, g.groups = 2;
  g.preset = [](const std::string& name, uint64_t seed) -> std::vector<float> {
    if (name == "mean") return {0, 0, 0};
    if (name == "random") return {(float)(seed % 3), 1, -1};
    fail("unknown preset " + name);
  };
  g.decode_png = [decodes](const std::vector<float>& sd) {
    if (decodes) ++*decodes;
    Tensor t = Tensor::zeros({3, 8, 8});
    const float v = std::clamp(0.5f + sd[0] / 10.f, 0.f, 1.f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = v;
    return plot::encode_png(t);
  };
  return g;
}

Service service_with(const GeneratorService& gen, const std::string& token = "") {
  ImageSpec spec;
  spec.channels = 3, spec.height = 8, spec.width = 8;
  Options o;
  o.token = token;
  o.mounts.push_back({GeneratorService::owns, [&gen](const Request& r) { return gen.handle(r); }});
  return Service({FaceTest{"const", spec, [](const Tensor&) { return 0.0; }}}, nullptr, o);
}

Request req(const std::string& method, const std::string& path, const std::string& body = "") {
  Request r;
  r.method = method, r.path = path, r.body = body, r.content_type = "application/json";
  return r;
}

int first_pixel(const std::string& png) {
  int w = 0, h = 0, c = 0;
  unsigned char* p = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()), (int)png.size(), &w, &h, &c, 3);
  EXPECT_NE(p, nullptr);
  const int v = p ? p[0] : -1;
  stbi_image_free(p);
  return v;
}

}  // namespace

TEST(ServeGenerator, PageInfoPresetAndDecode) {
  int decodes = 0;
  GeneratorService gen(stand_in(&decodes));
  Service s = service_with(gen);
  Response page = s.handle(req("GET", "/generator"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/v1/generate"), std::string::npos);
  Json info = Json::parse(s.handle(req("GET", "/v1/generator")).body);
  EXPECT_EQ(info["dims"], 3);
  EXPECT_EQ(info["images"], 5);
  EXPECT_EQ(info["presets"], (Json{"mean", "random", "group:0", "group:1"}));
  Response p = s.handle(req("POST", "/v1/generator/preset", R"({"name": "random", "seed": 7})"));
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Json::parse(p.body)["sd"], (Json{1.0, 1.0, -1.0}));
  Response lo = s.handle(req("POST", "/v1/generate", R"({"sd": [-2, 0, 0]})"));
  Response hi = s.handle(req("POST", "/v1/generate", R"({"sd": [2, 0, 0]})"));
  ASSERT_EQ(hi.status, 200) << hi.body;
  EXPECT_EQ(hi.content_type, "image/png");
  EXPECT_FALSE(hi.body.empty());
  // The slider moved the image: 0.3 * 255 vs 0.7 * 255.
  EXPECT_EQ(first_pixel(lo.body), 77);
  EXPECT_EQ(first_pixel(hi.body), 179);
  EXPECT_EQ(decodes, 2);
  bool has_ms = false;
  for (auto& [k, v] : hi.headers) has_ms |= k == "X-Decode-Ms" && std::stod(v) >= 0;
  EXPECT_TRUE(has_ms);
  // The liveness routes are still there.
  EXPECT_EQ(s.handle(req("GET", "/health")).status, 200);
}

TEST(ServeGenerator, BadLatentsAndPresetsAreJson400) {
  int decodes = 0;
  GeneratorService gen(stand_in(&decodes));
  Service s = service_with(gen);
  for (const char* body : {"", "[1,2,3]", "{}", R"({"sd": [1, 2]})", R"({"sd": [1, 2, 3, 4]})", R"({"sd": [1, "a", 3]})",
                           R"({"sd": [1, 2, 1e9]})", R"({"sd": "1,2,3"})", "{not json"}) {
    Response r = s.handle(req("POST", "/v1/generate", body));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(Json::parse(r.body).contains("error")) << body;
  }
  Response wrong_len = s.handle(req("POST", "/v1/generate", R"({"sd": [1, 2]})"));
  EXPECT_NE(Json::parse(wrong_len.body)["error"].get<std::string>().find("latent has 3"), std::string::npos);
  EXPECT_EQ(decodes, 0);
  EXPECT_EQ(s.handle(req("POST", "/v1/generator/preset", R"({"name": "nope"})")).status, 400);
  EXPECT_EQ(s.handle(req("POST", "/v1/generator/preset", R"({"name": "mean", "seed": -1})")).status, 400);
  EXPECT_EQ(s.handle(req("GET", "/v1/generate")).status, 405);
  EXPECT_EQ(s.handle(req("POST", "/v1/generator")).status, 405);
}

TEST(ServeGenerator, TokenGuardsTheGeneratorApiButNotItsPage) {
  GeneratorService gen(stand_in());
  Service s = service_with(gen, "tok");
  EXPECT_EQ(s.handle(req("GET", "/generator")).status, 200);
  EXPECT_EQ(s.handle(req("GET", "/v1/generator")).status, 401);
  Request r = req("POST", "/v1/generate", R"({"sd": [0, 0, 0]})");
  EXPECT_EQ(s.handle(r).status, 401);
  r.authorization = "Bearer tok";
  EXPECT_EQ(s.handle(r).status, 200);
}
