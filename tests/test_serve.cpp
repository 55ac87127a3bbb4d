// The liveness service's pure request handler (src/serve/handler.h) and the face box rules
// (src/detect/face_box.h), without sockets and with stand-in face tests whose log-odds are known.
#include <gtest/gtest.h>

#include <cmath>

#include "detect/face_box.h"
#include "io/image.h"
#include "io/plot.h"
#include "models/registry.h"
#include "serve/handler.h"
#include "tensor/random.h"

using namespace fas;
using namespace fas::serve;

namespace {

// Two stand-in tests: log-odds = +2 and = (mean pixel of the input - 0.5) * 10, so the fused
// P(live) is a known function of the crop.
std::vector<FaceTest> stand_in_tests(int* calls = nullptr) {
  ImageSpec spec;
  spec.channels = 3, spec.height = 32, spec.width = 32;
  FaceTest a{"const", spec, [calls](const Tensor& x) {
               if (calls) ++*calls;
               EXPECT_EQ(x.shape(), (Shape{1, 3, 32, 32}));
               return 2.0;
             }};
  FaceTest b{"brightness", spec, [](const Tensor& x) {
               double s = 0;
               for (int64_t i = 0; i < x.numel(); ++i) s += x.data()[i];
               return (s / (double)x.numel() - 0.5) * 10;
             }};
  return {a, b};
}

Tensor flat_image(int64_t h, int64_t w, float v) {
  Tensor t = Tensor::zeros({3, h, w});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = v;
  return t;
}

Request post(const std::string& body, const std::string& type = "image/png") {
  Request r;
  r.method = "POST", r.path = "/v1/liveness", r.content_type = type, r.body = body;
  return r;
}

Json body_json(const Response& r) { return Json::parse(r.body); }

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

}  // namespace

TEST(FaceBox, SquaringRuleKeepsTopLeftAndShiftsInsideTheImage) {
  // s = max(h, w) with the top-left corner kept (spec 002 §3.1).
  FaceBox q = square_box({10, 20, 50, 80}, 480, 640);
  EXPECT_EQ(q.x, 10); EXPECT_EQ(q.y, 20); EXPECT_EQ(q.w, 80); EXPECT_EQ(q.h, 80);
  // Running off the right and bottom edges: shifted back, size kept.
  q = square_box({600, 450, 60, 40}, 480, 640);
  EXPECT_EQ(q.w, 60); EXPECT_EQ(q.x, 580); EXPECT_EQ(q.y, 420);
  // Larger than the shorter side: shrunk to it.
  q = square_box({0, 0, 600, 100}, 480, 640);
  EXPECT_EQ(q.w, 480); EXPECT_EQ(q.h, 480); EXPECT_EQ(q.x, 0); EXPECT_EQ(q.y, 0);
  EXPECT_THROW(square_box({0, 0, 0, 5}, 10, 10), Error);
}

TEST(FaceBox, LargestByAreaFirstOnTies) {
  EXPECT_EQ(largest_box({{0, 0, 10, 10}, {5, 5, 20, 6}, {1, 1, 12, 12}}).x, 1);
  EXPECT_EQ(largest_box({{7, 0, 10, 10}, {5, 5, 10, 10}}).x, 7);
  EXPECT_THROW(largest_box({}), Error);
}

TEST(ServeHandler, SmallImageIsScoredWholeAndFusedByMeanLogOdds) {
  Service s(stand_in_tests(), nullptr, Options{});
  Response r = s.handle(post(plot::encode_png(flat_image(128, 128, 0.6f))));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  Json j = body_json(r);
  ASSERT_EQ(j["tests"].size(), 2u);
  EXPECT_EQ(j["tests"][0]["name"], "const");
  EXPECT_NEAR(j["tests"][0]["p_live"].get<double>(), sigmoid(2.0), 1e-9);
  const double z1 = (std::round(0.6 * 255) / 255 - 0.5) * 10;  // PNG stores 8-bit values
  EXPECT_NEAR(j["tests"][1]["p_live"].get<double>(), sigmoid(z1), 1e-4);
  EXPECT_NEAR(j["fused"]["p_live"].get<double>(), sigmoid((2.0 + z1) / 2), 1e-4);
  EXPECT_EQ(j["fused"]["decision"], "live");
  EXPECT_EQ(j["fused"]["threshold"], 0.5);
  EXPECT_EQ(j["face"], (Json{{"x", 0}, {"y", 0}, {"w", 128}, {"h", 128}}));
  EXPECT_TRUE(j["ms"].is_number());
  EXPECT_EQ(j["width"], 128);
}

TEST(ServeHandler, DecisionFollowsTheThreshold) {
  Options o;
  o.threshold = 0.99;
  Service s(stand_in_tests(), nullptr, o);
  Json j = body_json(s.handle(post(plot::encode_png(flat_image(64, 64, 0.5f)))));
  EXPECT_EQ(j["fused"]["decision"], "spoof");  // fused P = sigmoid(~1) < 0.99
}

TEST(ServeHandler, FrameGoesThroughTheDetectorLargestSquaredBox) {
  // A dark frame with a bright square: the brightness test sees the crop only.
  Tensor img = flat_image(240, 320, 0.f);
  for (int c = 0; c < 3; ++c)
    for (int y = 100; y < 200; ++y)
      for (int x = 50; x < 150; ++x) img.data()[(c * 240 + y) * 320 + x] = 1.f;
  Detector det = [](const Tensor& t) {
    EXPECT_EQ(t.size(1), 240);
    return std::vector<FaceBox>{{0, 0, 20, 20}, {50, 100, 100, 90}};
  };
  Service s(stand_in_tests(), det, Options{});
  Json j = body_json(s.handle(post(plot::encode_png(img))));
  EXPECT_EQ(j["face"], (Json{{"x", 50}, {"y", 100}, {"w", 100}, {"h", 100}}));
  EXPECT_EQ(j["faces_found"], 2);
  EXPECT_NEAR(j["tests"][1]["p_live"].get<double>(), sigmoid(5.0), 1e-4);  // all-white crop
  // The same brightness test marked whole-frame sees the mostly dark frame instead.
  std::vector<FaceTest> tests = stand_in_tests();
  tests[1].whole_frame = true;
  Service w(tests, det, Options{});
  Json jw = body_json(w.handle(post(plot::encode_png(img))));
  const double mean = 100.0 * 100 / (240.0 * 320);  // resized by area: the mean is kept
  EXPECT_NEAR(jw["tests"][1]["p_live"].get<double>(), sigmoid((mean - 0.5) * 10), 2e-2);
}

TEST(ServeHandler, NoFaceSkipsTheTests) {
  int calls = 0;
  Service s(stand_in_tests(&calls), [](const Tensor&) { return std::vector<FaceBox>{}; }, Options{});
  Response r = s.handle(post(plot::encode_png(flat_image(240, 320, 0.3f))));
  ASSERT_EQ(r.status, 200);
  Json j = body_json(r);
  EXPECT_TRUE(j["face"].is_null());
  EXPECT_TRUE(j["fused"].is_null());
  EXPECT_EQ(j["message"], "no face found");
  EXPECT_TRUE(j["tests"].empty());
  EXPECT_EQ(calls, 0);
}

TEST(ServeHandler, BadBodiesAreJson4xx) {
  Options o;
  o.max_pixels = 300 * 300;
  o.max_body = 1 << 20;
  Service s(stand_in_tests(), nullptr, o);
  const std::string png = plot::encode_png(flat_image(64, 64, 0.5f));
  auto expect_error = [&](const Request& q, int status, const std::string& needle) {
    Response r = s.handle(q);
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    Json j = body_json(r);
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(needle), std::string::npos) << j["error"];
  };
  expect_error(post(""), 400, "empty");
  expect_error(post("this is not an image at all"), 400, "not a decodable image");
  expect_error(post(png.substr(0, png.size() / 2)), 400, "corrupt");  // header fine, data cut
  expect_error(post(png, "text/plain"), 415, "text/plain");
  expect_error(post(png, ""), 415, "no content type");
  expect_error(post(std::string(o.max_body + 1, 'x')), 413, "bytes");
  // A small PNG that claims 1000 x 1000 pixels is refused from its header, before decoding.
  expect_error(post(plot::encode_png(flat_image(1000, 1000, 0.f))), 413, "1000x1000");
  Request mp = post("", "multipart/form-data; boundary=x");
  mp.multipart = true;
  expect_error(mp, 400, "no field 'image'");
  mp.has_image_field = true, mp.image_field = png;
  EXPECT_EQ(s.handle(mp).status, 200);
  // application/octet-stream and parameters in the type are accepted.
  EXPECT_EQ(s.handle(post(png, "application/octet-stream")).status, 200);
  EXPECT_EQ(s.handle(post(png, "Image/PNG; q=1")).status, 200);
  // After all of that the service still answers.
  EXPECT_EQ(s.handle(post(png)).status, 200);
}

TEST(ServeHandler, BearerTokenGuardsEveryV1Route) {
  Options o;
  o.token = "s3cret";
  Service s(stand_in_tests(), nullptr, o);
  Request q = post(plot::encode_png(flat_image(64, 64, 0.5f)));
  Response r = s.handle(q);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(body_json(r).contains("error"));
  q.authorization = "Bearer wrong!";
  EXPECT_EQ(s.handle(q).status, 401);
  q.authorization = "Bearer s3cre";
  EXPECT_EQ(s.handle(q).status, 401);
  q.authorization = "s3cret";
  EXPECT_EQ(s.handle(q).status, 401);
  q.authorization = "Bearer s3cret";
  EXPECT_EQ(s.handle(q).status, 200);
  Request other = q;
  other.authorization = "";
  other.path = "/v1/unknown";
  EXPECT_EQ(s.handle(other).status, 401);  // unknown /v1 routes do not reveal themselves
  other.authorization = q.authorization;
  EXPECT_EQ(s.handle(other).status, 404);
  Request get = q;
  get.method = "GET";
  EXPECT_EQ(s.handle(get).status, 405);
}

TEST(ServeHandler, PageHealthHeadersAndCors) {
  Options o;
  o.page = "<html>page</html>";
  Service s(stand_in_tests(), nullptr, o);
  auto header = [](const Response& r, const std::string& k) {
    for (const auto& [a, b] : r.headers)
      if (a == k) return b;
    return std::string();
  };
  Request g;
  g.method = "GET", g.path = "/";
  Response page = s.handle(g);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.body, o.page);
  EXPECT_NE(header(page, "Content-Security-Policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(page, "Access-Control-Allow-Origin"), "");  // no CORS unless asked
  g.path = "/health";
  Json h = body_json(s.handle(g));
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["tests"], (Json{"const", "brightness"}));
  EXPECT_EQ(h["detector"], false);
  g.path = "/nope";
  EXPECT_EQ(s.handle(g).status, 404);

  o.cors_origin = "https://example.org";
  Service c(stand_in_tests(), nullptr, o);
  Request pre;
  pre.method = "OPTIONS", pre.path = "/v1/liveness";
  Response r = c.handle(pre);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "https://example.org");
}

TEST(ServeHandler, NoTestsIsAnError) { EXPECT_THROW(Service({}, nullptr, Options{}), Error); }

// find_face (detect/face_crop.h), the one path of fas serve and fas predict --detect.
TEST(FindFace, CropsAreWholeFramesAreDetectedNoFaceIsNoCrop) {
  int calls = 0;
  const Detector two = [&calls](const Tensor&) {
    ++calls;
    return std::vector<FaceBox>{{10, 20, 30, 30}, {300, 100, 90, 120}};
  };
  FaceCrop f = find_face(flat_image(128, 160, 0.5f), two);
  EXPECT_TRUE(f.found); EXPECT_FALSE(f.detected); EXPECT_EQ(calls, 0);
  EXPECT_EQ(f.box.w, 160); EXPECT_EQ(f.box.h, 128);
  f = find_face(flat_image(480, 640, 0.5f), nullptr);
  EXPECT_TRUE(f.found); EXPECT_FALSE(f.detected); EXPECT_EQ(f.box.w, 640);
  f = find_face(flat_image(480, 640, 0.5f), two);
  EXPECT_TRUE(f.found); EXPECT_TRUE(f.detected); EXPECT_EQ(f.faces, 2u); EXPECT_EQ(calls, 1);
  EXPECT_EQ(f.box.x, 300); EXPECT_EQ(f.box.y, 100); EXPECT_EQ(f.box.w, 120); EXPECT_EQ(f.box.h, 120);
  f = find_face(flat_image(480, 640, 0.5f), [](const Tensor&) { return std::vector<FaceBox>{}; });
  EXPECT_FALSE(f.found); EXPECT_EQ(f.faces, 0u);
  ImageSpec spec;
  spec.channels = 1, spec.height = 8, spec.width = 8;
  EXPECT_THROW(face_test_input(flat_image(480, 640, 0.5f), f, spec, false), Error);
  EXPECT_EQ(face_test_input(flat_image(480, 640, 0.5f), f, spec, true).shape(), (Shape{1, 1, 8, 8}));
}

// A learned fusion (fas serve --fusion): Options::fuse maps the tests' log-odds to the fused ones.
TEST(ServeHandler, LearnedFusionReplacesTheMean) {
  Options o;
  o.fuse = [](const std::vector<double>& z) { return 0.5 * z[0] - 2.0 * z[1] + 0.25; };
  o.fusion_method = "learned (test)";
  Service s(stand_in_tests(), nullptr, o);
  Json j = body_json(s.handle(post(plot::encode_png(flat_image(128, 128, 0.7f)))));
  const double z1 = (std::round(0.7 * 255) / 255 - 0.5) * 10;  // the PNG holds 8-bit levels
  EXPECT_NEAR(j["fused"]["p_live"].get<double>(), sigmoid(0.5 * 2.0 - 2.0 * z1 + 0.25), 1e-4);
  EXPECT_EQ(j["fused"]["method"], "learned (test)");
  EXPECT_EQ(j["fused"]["decision"], "spoof");
}
