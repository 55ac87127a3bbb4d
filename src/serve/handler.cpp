#include "serve/handler.h"

#include <stb_image.h>

#include <chrono>
#include <climits>
#include <cmath>

#include "io/image.h"
#include "io/image_check.h"
#include "models/registry.h"

namespace fas::serve {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

// Tokens are compared in time independent of where they differ.
bool same_token(const std::string& a, const std::string& b) {
  unsigned char d = a.size() != b.size();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d |= (unsigned char)(a[i] ^ b[i]);
  return d == 0;
}

bool authorized(const Options& o, const std::string& auth) {
  if (o.token.empty()) return true;
  const std::string prefix = "Bearer ";
  return auth.size() > prefix.size() && lower(auth.substr(0, prefix.size())) == lower(prefix) &&
         same_token(auth.substr(prefix.size()), o.token);
}

// The media type without parameters, lower case ("Image/PNG; x=1" -> "image/png").
std::string media_type(const std::string& ct) {
  std::string t = lower(ct.substr(0, ct.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  return t;
}

}  // namespace

Response json_response(int status, const Json& j) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  // Replace, not throw: a message may quote the request's path or content type, which need not
  // be UTF-8 (a 404 for "/v1/%FE" was a 500 from nlohmann's strict dump).
  r.body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

Response error_response(int status, const std::string& message) { return json_response(status, {{"error", message}}); }

Response page_response(const Request& r, const std::string& html) {
  if (r.method != "GET" && r.method != "HEAD") return error_response(405, "use GET");
  Response out;
  out.content_type = "text/html; charset=utf-8";
  out.body = html;
  // The page only talks to this server; the webcam is asked for by the page itself.
  out.headers.push_back({"Content-Security-Policy",
                         "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                         "img-src blob: data:; media-src blob: mediastream:; connect-src 'self'"});
  out.headers.push_back({"Cache-Control", "no-store"});
  return out;
}

Service::Service(std::vector<FaceTest> tests, Detector detector, Options opt)
    : tests_(std::move(tests)), detector_(std::move(detector)), opt_(std::move(opt)) {
  if (tests_.empty()) fail("serve: no face tests to serve");
}

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Json Service::score(const Tensor& img) const {
  Json out = {{"width", img.size(2)}, {"height", img.size(1)}};
  auto t0 = std::chrono::steady_clock::now();
  const FaceCrop f = find_face(img, detector_, opt_.crop_max_side);
  if (f.detected || !f.found) out["detect_ms"] = ms_since(t0);  // the detector ran
  out["face_source"] = f.source;
  if (f.detected || !f.found) out["faces_found"] = f.faces;
  if (!f.found) {
    out["face"] = nullptr;
    out["tests"] = Json::array();
    out["fused"] = nullptr;
    out["message"] = "no face found";
    return out;
  }
  out["face"] = {{"x", f.box.x}, {"y", f.box.y}, {"w", f.box.w}, {"h", f.box.h}};
  Json tests = Json::array();
  std::vector<double> z;
  t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(score_mu_);
    for (const auto& t : tests_) {
      z.push_back(t.log_odds(face_test_input(img, f, t.spec, t.whole_frame)));
      tests.push_back({{"name", t.name}, {"p_live", live_probability(z.back())}});
    }
  }
  double mean = 0;
  for (double v : z) mean += v / (double)z.size();
  const double p = live_probability(opt_.fuse ? opt_.fuse(z) : mean);
  out["tests"] = tests;
  out["tests_ms"] = ms_since(t0);
  out["fused"] = {{"p_live", p}, {"decision", p >= opt_.threshold ? "live" : "spoof"}, {"threshold", opt_.threshold}, {"method", opt_.fusion_method}};
  return out;
}

Response Service::liveness(const Request& r) const {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string type = media_type(r.content_type);
  const std::string* bytes = &r.body;
  if (r.multipart || type == "multipart/form-data") {
    if (!r.has_image_field) return error_response(400, "multipart body has no field 'image'");
    bytes = &r.image_field;
  } else if (type.rfind("image/", 0) != 0 && type != "application/octet-stream") {
    return error_response(415, "send the image as image/* or application/octet-stream bytes, or as multipart field 'image' (got '" +
                                   (type.empty() ? std::string("no content type") : type) + "')");
  }
  if (bytes->empty()) return error_response(400, "empty image");
  if (bytes->size() > opt_.max_body || bytes->size() > (size_t)INT_MAX)
    return error_response(413, "image of " + std::to_string(bytes->size()) + " bytes exceeds the limit of " +
                                   std::to_string(opt_.max_body) + " bytes");
  // Dimensions from the header, before any pixel is decoded: a small file claiming a huge image
  // (a decompression bomb) is refused here.
  int w = 0, h = 0, comp = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes->data());
  try {
    check_before_stb(data, bytes->size(), "request body");  // truncation is decode_image's to report
  } catch (const Error& e) {
    return error_response(400, std::string("corrupt image: ") + e.what());
  }
  if (!stbi_info_from_memory(data, (int)bytes->size(), &w, &h, &comp) || w <= 0 || h <= 0)
    return error_response(400, "not a decodable image (JPEG, PNG, BMP, PPM/PGM, TGA)");
  if ((int64_t)w * (int64_t)h > opt_.max_pixels)
    return error_response(413, "image of " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
                                   std::to_string(opt_.max_pixels) + " pixels");
  Tensor img;
  try {
    img = to_rgb(decode_image(data, bytes->size(), "request body", 3));
  } catch (const Error& e) {
    return error_response(400, std::string("corrupt image: ") + e.what());
  }
  Json j = score(img);
  j["ms"] = ms_since(t0);
  return json_response(200, j);
}

Response Service::handle(const Request& r) const {
  Response out;
  const Mount* mount = nullptr;
  for (const auto& m : opt_.mounts)
    if (!mount && m.owns(r.path)) mount = &m;
  const bool api = r.path.rfind("/v1/", 0) == 0;
  try {
    if (mount && !api) {
      out = mount->handle(r);
    } else if (r.path == "/" || r.path == "/index.html") {
      out = page_response(r, opt_.page);
    } else if (r.path == "/health") {
      if (r.method != "GET" && r.method != "HEAD") out = error_response(405, "use GET");
      else {
        Json names = Json::array();
        for (const auto& t : tests_) names.push_back(t.name);
        out = json_response(200, {{"status", "ok"}, {"tests", names}, {"detector", (bool)detector_}});
      }
    } else if (api) {
      if (r.method == "OPTIONS" && !opt_.cors_origin.empty()) out = json_response(204, Json::object()), out.body.clear();
      else if (!authorized(opt_, r.authorization)) {
        out = error_response(401, "missing or wrong bearer token");
        out.headers.push_back({"WWW-Authenticate", "Bearer"});
      } else if (mount) {
        out = mount->handle(r);
      } else if (r.path == "/v1/liveness") {
        out = r.method == "POST" ? liveness(r) : error_response(405, "use POST");
      } else {
        out = error_response(404, "no route " + r.path);
      }
    } else {
      out = error_response(404, "no route " + r.path);
    }
  } catch (const std::exception& e) {
    out = error_response(500, std::string("internal error: ") + e.what());
  }
  out.headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (!opt_.cors_origin.empty()) {
    out.headers.push_back({"Access-Control-Allow-Origin", opt_.cors_origin});
    out.headers.push_back({"Access-Control-Allow-Headers", "Authorization, Content-Type"});
    out.headers.push_back({"Access-Control-Allow-Methods", "GET, POST, OPTIONS"});
    out.headers.push_back({"Vary", "Origin"});
  }
  return out;
}

}  // namespace fas::serve
