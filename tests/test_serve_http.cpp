// The liveness service through real sockets: cpp-httplib's client against HttpServer on a free
// loopback port, with stand-in face tests (their log-odds are known). Built only with httplib.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "io/plot.h"
#include "models/registry.h"
#include "serve/handler.h"
#include "serve/http_server.h"

using namespace fas;
using namespace fas::serve;

namespace {

std::vector<FaceTest> stand_in_tests() {
  ImageSpec spec;
  spec.channels = 3, spec.height = 16, spec.width = 16;
  return {FaceTest{"const", spec, [](const Tensor&) { return 2.0; }}};
}

std::string png_of(int64_t h, int64_t w, float v) {
  Tensor t = Tensor::zeros({3, h, w});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = v;
  return plot::encode_png(t);
}

// A server on 127.0.0.1:<any free port>, serving from a thread for the test's lifetime.
struct LiveServer {
  Service service;
  HttpServer server;
  std::thread thread;
  explicit LiveServer(Options o, int threads = 2)
      : service(stand_in_tests(), nullptr, std::move(o)), server(service, HttpOptions{"127.0.0.1", 0, threads, 5}) {
    server.bind();
    thread = std::thread([this] { server.run(); });
    while (!server.running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LiveServer() {
    server.stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server.port());
    c.set_read_timeout(10, 0);
    return c;
  }
};

Json body_json(const httplib::Result& r) { return Json::parse(r->body); }

}  // namespace

TEST(ServeHttp, HealthPageAndGoodImage) {
  LiveServer s(Options{});
  auto c = s.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(body_json(h)["status"], "ok");
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("/v1/liveness"), std::string::npos);
  auto r = c.Post("/v1/liveness", png_of(40, 30, 0.5f), "image/png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = body_json(r);
  EXPECT_NEAR(j["fused"]["p_live"].get<double>(), 1 / (1 + std::exp(-2.0)), 1e-9);
  EXPECT_EQ(j["width"], 30);
  EXPECT_EQ(j["height"], 40);
  EXPECT_GE(j["ms"].get<double>(), 0.0);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "");
}

TEST(ServeHttp, MultipartUpload) {
  LiveServer s(Options{});
  auto c = s.client();
  httplib::MultipartFormDataItems items = {{"image", png_of(20, 20, 0.2f), "face.png", "image/png"}};
  auto r = c.Post("/v1/liveness", items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  httplib::MultipartFormDataItems wrong = {{"file", png_of(20, 20, 0.2f), "face.png", "image/png"}};
  auto w = c.Post("/v1/liveness", wrong);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->status, 400);
  EXPECT_NE(body_json(w)["error"].get<std::string>().find("'image'"), std::string::npos);
}

// Corrupt, empty, oversized, wrong type and unknown routes get a JSON 4xx, and the server goes on
// serving good requests after each.
TEST(ServeHttp, BadRequestsAreJson4xxAndTheServerKeepsServing) {
  Options o;
  o.max_body = 4096;
  o.max_pixels = 100 * 100;
  LiveServer s(o);
  auto c = s.client();
  std::string corrupt = png_of(20, 20, 0.3f);
  corrupt.resize(corrupt.size() / 2);
  struct Case {
    std::string body, type;
    int status;
  };
  const std::vector<Case> cases = {
      {"", "image/png", 400},
      {"not an image at all", "image/jpeg", 400},
      {corrupt, "image/png", 400},
      {std::string(5000, 'x'), "image/png", 413},         // over max_body in the handler
      {std::string(200000, 'x'), "image/png", 413},       // over httplib's payload limit
      {png_of(200, 200, 0.5f), "image/png", 413},         // over max_pixels
      {png_of(20, 20, 0.5f), "text/plain", 415},
  };
  for (const auto& k : cases) {
    auto r = c.Post("/v1/liveness", k.body, k.type.c_str());
    ASSERT_TRUE(r) << k.type << " " << k.body.size();
    EXPECT_EQ(r->status, k.status) << k.body.size() << " " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << r->status;
    EXPECT_TRUE(body_json(r).contains("error")) << r->body;
    auto ok = c.Post("/v1/liveness", png_of(20, 20, 0.5f), "image/png");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  }
  auto missing = c.Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto get = c.Get("/v1/liveness");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
}

TEST(ServeHttp, TokenIsCheckedOverTheWire) {
  Options o;
  o.token = "s3cret";
  LiveServer s(o);
  auto c = s.client();
  auto no = c.Post("/v1/liveness", png_of(20, 20, 0.5f), "image/png");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 401);
  EXPECT_EQ(no->get_header_value("WWW-Authenticate"), "Bearer");
  c.set_bearer_token_auth("s3cret");
  auto yes = c.Post("/v1/liveness", png_of(20, 20, 0.5f), "image/png");
  ASSERT_TRUE(yes);
  EXPECT_EQ(yes->status, 200);
}

// Many concurrent clients on a 2-worker pool: every request answered, none failed.
TEST(ServeHttp, ConcurrentClientsAllSucceed) {
  LiveServer s(Options{}, 2);
  const std::string img = png_of(64, 64, 0.5f);
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&] {
      auto c = s.client();
      for (int i = 0; i < 10; ++i) {
        auto r = c.Post("/v1/liveness", img, "image/png");
        (r && r->status == 200 ? ok : bad)++;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(bad.load(), 0);
}

// stop() right after run() starts (or before) must not leave run() blocked.
TEST(ServeHttp, StopRightAfterStartDoesNotHang) {
  Service service(stand_in_tests(), nullptr, Options{});
  for (int i = 0; i < 20; ++i) {
    HttpServer server(service, HttpOptions{"127.0.0.1", 0, 1, 5});
    server.bind();
    std::thread t([&] { server.run(); });
    if (i % 2) server.stop();
    else std::this_thread::yield(), server.stop();
    t.join();
  }
  HttpServer never_run(service, HttpOptions{"127.0.0.1", 0, 1, 5});
  never_run.bind();
  never_run.stop();
  never_run.run();  // returns at once: stopped before it ran
}

TEST(ServeHttp, PortInUseIsOneClearError) {
  Service service(stand_in_tests(), nullptr, Options{});
  HttpServer a(service, HttpOptions{"127.0.0.1", 0, 1, 5});
  a.bind();
  HttpServer b(service, HttpOptions{"127.0.0.1", a.port(), 1, 5});
  try {
    b.bind();
    FAIL() << "bound a port in use";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(a.port())), std::string::npos) << e.what();
  }
}
