#include "io/augment.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "io/image.h"

namespace fas {

bool AugmentConfig::any() const {
  return flip > 0 || vflip > 0 || rot90 > 0 || rotate.on() || shift.on() || zoom.on() || crop.on() ||
         brightness.on() || contrast.on() || noise.on() || cutout.on();
}

namespace {

struct Field {
  const char* name;
  AugmentConfig::T AugmentConfig::*t;
};
const Field kFields[] = {{"rotate", &AugmentConfig::rotate},         {"shift", &AugmentConfig::shift},
                         {"zoom", &AugmentConfig::zoom},             {"crop", &AugmentConfig::crop},
                         {"brightness", &AugmentConfig::brightness}, {"contrast", &AugmentConfig::contrast},
                         {"noise", &AugmentConfig::noise},           {"cutout", &AugmentConfig::cutout}};

float parse_num(const std::string& s, const std::string& ctx) {
  char* end = nullptr;
  float v = std::strtof(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v) || v < 0)
    fail("augment: bad value '" + s + "' in '" + ctx + "' (want a number >= 0)");
  return v;
}

// Bilinear sample of one channel plane at (x, y), coordinates clamped ('nearest' fill).
float sample(const float* p, int64_t H, int64_t W, float x, float y) {
  x = std::min(std::max(x, 0.f), (float)(W - 1));
  y = std::min(std::max(y, 0.f), (float)(H - 1));
  int64_t x0 = (int64_t)x, y0 = (int64_t)y;
  int64_t x1 = std::min(x0 + 1, W - 1), y1 = std::min(y0 + 1, H - 1);
  float fx = x - x0, fy = y - y0;
  float top = p[y0 * W + x0] + fx * (p[y0 * W + x1] - p[y0 * W + x0]);
  float bot = p[y1 * W + x0] + fx * (p[y1 * W + x1] - p[y1 * W + x0]);
  return top + fy * (bot - top);
}

bool coin(Rng& rng, float p) { return p >= 1.f || rng.uniform() < p; }

}  // namespace

AugmentConfig parse_augment(const std::string& s) {
  AugmentConfig a;
  if (s.empty() || s == "none") return a;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos) fail("augment: expected name=value, got '" + item + "' in '" + s + "'");
    std::string name = item.substr(0, eq), val = item.substr(eq + 1);
    float* prob = name == "flip" ? &a.flip : name == "vflip" ? &a.vflip : name == "rot90" ? &a.rot90 : nullptr;
    if (prob) {
      *prob = parse_num(val, s);
      if (*prob > 1) fail("augment: " + name + " is a probability, got " + val);
      continue;
    }
    AugmentConfig::T t;
    auto at = val.find('@');
    t.mag = parse_num(val.substr(0, at), s);
    if (at != std::string::npos) t.p = parse_num(val.substr(at + 1), s);
    if (t.p > 1) fail("augment: probability above 1 in '" + item + "'");
    bool found = false;
    for (auto& f : kFields)
      if (name == f.name) {
        a.*(f.t) = t;
        found = true;
      }
    if (!found)
      fail("augment: unknown transform '" + name +
           "' (known: flip, vflip, rot90, rotate, shift, zoom, crop, brightness, contrast, noise, cutout)");
    if ((name == "crop" || name == "zoom" || name == "contrast") && t.mag >= 1)
      fail("augment: " + name + " must be below 1, got " + val);
  }
  return a;
}

std::string augment_str(const AugmentConfig& a) {
  std::ostringstream os;
  const char* sep = "";
  for (auto [name, prob] : {std::pair{"flip", a.flip}, {"vflip", a.vflip}, {"rot90", a.rot90}})
    if (prob > 0) {
      os << sep << name << "=" << prob;
      sep = ",";
    }
  for (auto& f : kFields) {
    const auto& t = a.*(f.t);
    if (!t.on()) continue;
    os << sep << f.name << "=" << t.mag;
    if (t.p < 1) os << "@" << t.p;
    sep = ",";
  }
  std::string r = os.str();
  return r.empty() ? "none" : r;
}

Tensor augment(const Tensor& in, const AugmentConfig& a, Rng& rng) {
  if (!in.defined() || in.dim() != 3) fail("augment: expected an image [C, H, W], got " + shape_str(in.shape()));
  Tensor img = in.clone();
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2), HW = H * W;

  if (a.flip > 0 && rng.uniform() < a.flip) {
    float* p = img.data();
    for (int64_t r = 0; r < C * H; ++r) std::reverse(p + r * W, p + (r + 1) * W);
  }
  if (a.vflip > 0 && rng.uniform() < a.vflip) {
    float* p = img.data();
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H / 2; ++y)
        std::swap_ranges(p + (c * H + y) * W, p + (c * H + y + 1) * W, p + (c * H + H - 1 - y) * W);
  }
  if (a.rot90 > 0 && rng.uniform() < a.rot90) {
    if (H != W) fail("augment: rot90 needs square images, got " + shape_str(img.shape()) + " (use --size)");
    const uint64_t turns = 1 + rng.below(3);  // 90, 180 or 270 degrees counter-clockwise
    Tensor r = Tensor::zeros(img.shape());
    const float* s = img.data();
    float* d = r.data();
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          // Destination (y, x) reads the source pixel that the rotation moves there.
          const int64_t sy = turns == 1 ? x : turns == 2 ? H - 1 - y : W - 1 - x;
          const int64_t sx = turns == 1 ? W - 1 - y : turns == 2 ? W - 1 - x : y;
          d[c * HW + y * W + x] = s[c * HW + sy * W + sx];
        }
    img = r;
  }
  if (a.crop.on() && coin(rng, a.crop.p)) {
    float keep = 1.f - rng.uniform(0.f, a.crop.mag);
    int64_t ch = std::max<int64_t>(1, (int64_t)std::lround(H * keep)), cw = std::max<int64_t>(1, (int64_t)std::lround(W * keep));
    int64_t top = (int64_t)rng.below((uint64_t)(H - ch + 1)), left = (int64_t)rng.below((uint64_t)(W - cw + 1));
    img = resize_bilinear(crop(img, top, left, ch, cw), H, W);
  }
  // One affine warp for rotation, shift and zoom (Keras applies them as one transform).
  float ang = 0, tx = 0, ty = 0, zx = 1, zy = 1;
  bool warp = false;
  if (a.rotate.on() && coin(rng, a.rotate.p)) {
    ang = rng.uniform(-a.rotate.mag, a.rotate.mag) * 3.14159265358979f / 180.f;
    warp = true;
  }
  if (a.shift.on() && coin(rng, a.shift.p)) {
    tx = rng.uniform(-a.shift.mag, a.shift.mag) * W;
    ty = rng.uniform(-a.shift.mag, a.shift.mag) * H;
    warp = true;
  }
  if (a.zoom.on() && coin(rng, a.zoom.p)) {
    zx = rng.uniform(1.f - a.zoom.mag, 1.f + a.zoom.mag);
    zy = rng.uniform(1.f - a.zoom.mag, 1.f + a.zoom.mag);
    warp = true;
  }
  if (warp) {
    // Inverse map: output pixel -> source pixel = centre + Z * R(-ang) * (out - centre) - t,
    // where zoom > 1 samples a larger area (zooms out), as Keras' zoom_range does.
    Tensor out = Tensor::zeros(img.shape());
    const float cx = (W - 1) * 0.5f, cy = (H - 1) * 0.5f, cs = std::cos(ang), sn = std::sin(ang);
    for (int64_t c = 0; c < C; ++c) {
      const float* src = img.data() + c * HW;
      float* dst = out.data() + c * HW;
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          float dx = x - cx, dy = y - cy;
          float sx = zx * (cs * dx + sn * dy) + cx - tx;
          float sy = zy * (-sn * dx + cs * dy) + cy - ty;
          dst[y * W + x] = sample(src, H, W, sx, sy);
        }
    }
    img = out;
  }
  float* p = img.data();
  const int64_t n = img.numel();
  if (a.brightness.on() && coin(rng, a.brightness.p)) {
    float d = rng.uniform(-a.brightness.mag, a.brightness.mag);
    for (int64_t i = 0; i < n; ++i) p[i] += d;
  }
  if (a.contrast.on() && coin(rng, a.contrast.p)) {
    float f = rng.uniform(1.f - a.contrast.mag, 1.f + a.contrast.mag);
    double m = 0;
    for (int64_t i = 0; i < n; ++i) m += p[i];
    float mean = (float)(m / (double)n);
    for (int64_t i = 0; i < n; ++i) p[i] = mean + f * (p[i] - mean);
  }
  if (a.cutout.on() && coin(rng, a.cutout.p)) {
    int64_t side = std::max<int64_t>(1, (int64_t)(a.cutout.mag * std::min(H, W)));
    side = std::min({side, H, W});
    int64_t top = (int64_t)rng.below((uint64_t)(H - side + 1)), left = (int64_t)rng.below((uint64_t)(W - side + 1));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = top; y < top + side; ++y)
        for (int64_t x = left; x < left + side; ++x) p[c * HW + y * W + x] = 0.5f;
  }
  if (a.noise.on() && coin(rng, a.noise.p))
    for (int64_t i = 0; i < n; ++i) p[i] += a.noise.mag * rng.normal();
  for (int64_t i = 0; i < n; ++i) p[i] = std::min(1.f, std::max(0.f, p[i]));
  return img;
}

}  // namespace fas
