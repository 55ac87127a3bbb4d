// The liveness service as a pure request handler: request bytes and headers in, status, headers
// and JSON out. No sockets here (http_server.h binds it to cpp-httplib), so it is unit-tested
// directly and can be fuzzed.
//   GET  /              the page (page.h)
//   GET  /health        {"status": "ok", "tests": [...], "detector": bool}
//   POST /v1/liveness   an image (raw bytes with an image/* or application/octet-stream type, or
//                       multipart field "image") -> {"tests": [{"name", "p_live"}],
//                       "fused": {"p_live", "decision", "threshold", "method"}, "face": {x, y, w, h} | null,
//                       "face_source", "width", "height", "ms" (total), "detect_ms", "tests_ms"}
// Every error is a JSON {"error": "..."} with a 4xx status; nothing is written to disk.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "detect/face_crop.h"
#include "io/dataset.h"
#include "models/registry.h"  // Json
#include "serve/page.h"
#include "tensor/tensor.h"

namespace fas::serve {

struct Request {
  std::string method, path;  // path without the query string
  std::string content_type;  // the Content-Type header ("" if absent)
  std::string authorization; // the Authorization header ("" if absent)
  std::string body;          // raw body (not used for multipart)
  // multipart/form-data, parsed by the socket layer: the "image" field, when present.
  bool multipart = false, has_image_field = false;
  std::string image_field;
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
};

// A face test: its name, its input pipeline and a scorer of one normalised input [1, C, H, W]
// giving the live log-odds. Scorers are called under the service's lock (the engines and graphs
// are used from one thread at a time).
struct FaceTest {
  std::string name;
  ImageSpec spec;
  std::function<double(const Tensor& x)> log_odds;
  bool whole_frame = false;  // scored on the whole image (W-IQA), not on the face crop
};

// Further routes served beside the liveness ones (e.g. the generator, generator.h): the paths it
// owns, and its handler. Its /v1/ routes get the same token check, and its answers the same
// headers.
struct Mount {
  std::function<bool(const std::string& path)> owns;
  std::function<Response(const Request& r)> handle;
};

struct Options {
  size_t max_body = 8u << 20;         // bytes of the encoded image
  int64_t max_pixels = 16'000'000;    // width x height, checked before decoding
  double threshold = 0.5;             // on the fused P(live)
  // The fused live log-odds of the tests' log-odds (in test order): null = their mean (the
  // fusion of `fas eval` with several --ckpt); a learned fusion's LDA (cli/fusion.h) otherwise.
  std::function<double(const std::vector<double>& z)> fuse;
  std::string fusion_method = "mean log-odds";
  int64_t crop_max_side = kCropMaxSide;  // detect/face_crop.h find_face
  std::string token;                  // "" = no authentication; else "Authorization: Bearer TOKEN"
  std::string cors_origin;            // "" = no CORS headers
  std::string page = page_html();     // the HTML of GET /
  std::vector<Mount> mounts;
};

class Service {
 public:
  Service(std::vector<FaceTest> tests, Detector detector, Options opt);
  Response handle(const Request& r) const;
  // The scoring of a decoded image [C, H, W] (no limits checked): the /v1/liveness JSON
  // without "ms".
  Json score(const Tensor& img) const;
  const Options& options() const { return opt_; }

 private:
  Response liveness(const Request& r) const;
  std::vector<FaceTest> tests_;
  Detector detector_;
  Options opt_;
  mutable std::mutex score_mu_;
};

Response json_response(int status, const Json& j);
Response error_response(int status, const std::string& message);
// An HTML page for GET/HEAD (405 otherwise), with a content security policy that lets it talk to
// this server only.
Response page_response(const Request& r, const std::string& html);

}  // namespace fas::serve
