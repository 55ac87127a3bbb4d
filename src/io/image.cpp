#include "io/image.h"

#include <stb_image.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "io/image_check.h"

namespace fas {

namespace {

void check_chw(const Tensor& img, const char* op) {
  if (!img.defined() || img.dim() != 3)
    fail(std::string(op) + ": expected an image [C, H, W], got " +
         (img.defined() ? shape_str(img.shape()) : std::string("an undefined tensor")));
}

// Interleaved 8-bit pixels (n channels) -> planar float [C, H, W] in [0, 1].
Tensor planar_from_u8(const unsigned char* px, int w, int h, int n, int channels) {
  const int keep = n >= 3 ? 3 : 1;  // alpha dropped
  Tensor rgb = Tensor::zeros({keep, h, w});
  float* o = rgb.data();
  const int64_t hw = (int64_t)h * w;
  for (int64_t i = 0; i < hw; ++i)
    for (int c = 0; c < keep; ++c) o[c * hw + i] = (float)px[i * n + c] / 255.f;
  return channels == 0 ? rgb : to_channels(rgb, channels);
}

}  // namespace

Tensor decode_image(const unsigned char* bytes, size_t size, const std::string& name, int channels) {
  if (channels != 0 && channels != 1 && channels != 3)
    fail("load_image: channels must be 0, 1 or 3, got " + std::to_string(channels) + " (" + name + ")");
  if (size == 0) fail("image '" + name + "': empty file");
  if (size > (size_t)INT_MAX) fail("image '" + name + "': file of " + std::to_string(size) + " bytes is too large");
  int w = 0, h = 0, n = 0;
  // Validate the declared size before decoding (stb would allocate it first).
  const std::string missing = check_before_stb(bytes, size, name);
  if (!stbi_info_from_memory(bytes, (int)size, &w, &h, &n))
    fail("image '" + name + "': cannot decode (" + stbi_failure_reason() + ")");
  if (w <= 0 || h <= 0) fail("image '" + name + "': invalid size " + std::to_string(w) + "x" + std::to_string(h));
  if ((int64_t)w * h > kMaxImagePixels)
    fail("image '" + name + "': " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
         std::to_string(kMaxImagePixels) + " pixels");
  if (!missing.empty()) fail(missing);
  unsigned char* px = stbi_load_from_memory(bytes, (int)size, &w, &h, &n, 0);
  if (!px) fail("image '" + name + "': cannot decode (" + stbi_failure_reason() + ")");
  struct Free {
    unsigned char* p;
    ~Free() { stbi_image_free(p); }
  } guard{px};
  return planar_from_u8(px, w, h, n, channels);
}

namespace {
// A directory opens as a stream on Linux and then fails to read: name it instead.
void check_not_directory(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("image '" + path + "': is a directory, not an image file");
}

std::vector<unsigned char> read_image_bytes(const std::string& path) {
  check_not_directory(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("image '" + path + "': cannot open (" + std::strerror(errno) + ")");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) fail("image '" + path + "': read error");
  return bytes;
}
}  // namespace

void check_image_file(const std::string& path) {
  // The whole file, not stb's header read from a FILE*: the bytes stb reads for the header must
  // pass check_before_stb first (a JPEG's Huffman tables come before its size).
  const std::vector<unsigned char> bytes = read_image_bytes(path);
  check_before_stb(bytes.data(), bytes.size(), path);  // a truncated raw image is only found when loaded
  int w = 0, h = 0, n = 0;
  if (bytes.size() > (size_t)INT_MAX || !stbi_info_from_memory(bytes.data(), (int)bytes.size(), &w, &h, &n))
    fail("image '" + path + "': not an image (" + stbi_failure_reason() + ")");
}

Tensor load_image(const std::string& path, int channels) {
  const std::vector<unsigned char> bytes = read_image_bytes(path);
  return decode_image(bytes.data(), bytes.size(), path, channels);
}

Tensor to_grey(const Tensor& img) {
  check_chw(img, "to_grey");
  const int64_t c = img.size(0), h = img.size(1), w = img.size(2), hw = h * w;
  if (c == 1) return img.clone();
  if (c != 3) fail("to_grey: expected 1 or 3 channels, got shape " + shape_str(img.shape()));
  Tensor out = Tensor::zeros({1, h, w});
  const float* p = img.data();
  float* o = out.data();
  for (int64_t i = 0; i < hw; ++i) o[i] = 0.299f * p[i] + 0.587f * p[hw + i] + 0.114f * p[2 * hw + i];
  return out;
}

Tensor to_rgb(const Tensor& img) {
  check_chw(img, "to_rgb");
  const int64_t c = img.size(0), h = img.size(1), w = img.size(2), hw = h * w;
  if (c == 3) return img.clone();
  if (c != 1) fail("to_rgb: expected 1 or 3 channels, got shape " + shape_str(img.shape()));
  Tensor out = Tensor::zeros({3, h, w});
  for (int k = 0; k < 3; ++k) std::memcpy(out.data() + k * hw, img.data(), hw * sizeof(float));
  return out;
}

Tensor to_channels(const Tensor& img, int channels) {
  if (channels == 1) return to_grey(img);
  if (channels == 3) return to_rgb(img);
  fail("image: channels must be 1 or 3, got " + std::to_string(channels));
}

Tensor resize_bilinear(const Tensor& img, int64_t oh, int64_t ow) {
  check_chw(img, "resize_bilinear");
  if (oh <= 0 || ow <= 0) fail("resize_bilinear: bad output size " + std::to_string(oh) + "x" + std::to_string(ow));
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  Tensor out = Tensor::zeros({C, oh, ow});
  // Source coordinate of output pixel centre: (o + 0.5) * in / out - 0.5, clamped to the edge.
  auto taps = [](int64_t o, int64_t in, int64_t n, int64_t& i0, int64_t& i1, float& f) {
    float s = ((float)o + 0.5f) * (float)in / (float)n - 0.5f;
    if (s < 0) s = 0;
    i0 = std::min<int64_t>((int64_t)s, in - 1);
    i1 = std::min<int64_t>(i0 + 1, in - 1);
    f = s - (float)i0;
  };
  std::vector<int64_t> x0(ow), x1(ow);
  std::vector<float> fx(ow);
  for (int64_t x = 0; x < ow; ++x) taps(x, W, ow, x0[x], x1[x], fx[x]);
  for (int64_t c = 0; c < C; ++c) {
    const float* src = img.data() + c * H * W;
    float* dst = out.data() + c * oh * ow;
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0, y1;
      float fy;
      taps(y, H, oh, y0, y1, fy);
      const float* r0 = src + y0 * W;
      const float* r1 = src + y1 * W;
      for (int64_t x = 0; x < ow; ++x) {
        float top = r0[x0[x]] + fx[x] * (r0[x1[x]] - r0[x0[x]]);
        float bot = r1[x0[x]] + fx[x] * (r1[x1[x]] - r1[x0[x]]);
        dst[y * ow + x] = top + fy * (bot - top);
      }
    }
  }
  return out;
}

namespace {
// Coverage weights of input cells [0, in) over output cell o: a sparse row of the area matrix.
struct AreaTap {
  int64_t i;
  float w;
};
std::vector<std::vector<AreaTap>> area_weights(int64_t in, int64_t out) {
  std::vector<std::vector<AreaTap>> rows(out);
  const double scale = (double)in / (double)out;
  for (int64_t o = 0; o < out; ++o) {
    double a = o * scale, b = (o + 1) * scale;
    for (int64_t i = (int64_t)std::floor(a); i < (int64_t)std::ceil(b) && i < in; ++i) {
      double cover = std::min(b, (double)i + 1) - std::max(a, (double)i);
      if (cover > 1e-9) rows[o].push_back({i, (float)(cover / scale)});
    }
  }
  return rows;
}
}  // namespace

Tensor resize_area(const Tensor& img, int64_t oh, int64_t ow) {
  check_chw(img, "resize_area");
  if (oh <= 0 || ow <= 0) fail("resize_area: bad output size " + std::to_string(oh) + "x" + std::to_string(ow));
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  auto ry = area_weights(H, oh), rx = area_weights(W, ow);
  Tensor out = Tensor::zeros({C, oh, ow});
  std::vector<float> row(W);
  for (int64_t c = 0; c < C; ++c) {
    const float* src = img.data() + c * H * W;
    float* dst = out.data() + c * oh * ow;
    for (int64_t y = 0; y < oh; ++y) {
      std::fill(row.begin(), row.end(), 0.f);  // vertical pass into one row, then horizontal
      for (auto& t : ry[y])
        for (int64_t x = 0; x < W; ++x) row[x] += t.w * src[t.i * W + x];
      for (int64_t x = 0; x < ow; ++x) {
        float s = 0;
        for (auto& t : rx[x]) s += t.w * row[t.i];
        dst[y * ow + x] = s;
      }
    }
  }
  return out;
}

Tensor resize(const Tensor& img, int64_t oh, int64_t ow, ResizeMode mode) {
  check_chw(img, "resize");
  if (img.size(1) == oh && img.size(2) == ow) return img.clone();
  const bool shrink = oh <= img.size(1) && ow <= img.size(2);
  return mode == ResizeMode::Area && shrink ? resize_area(img, oh, ow) : resize_bilinear(img, oh, ow);
}

ResizeMode parse_resize_mode(const std::string& s) {
  if (s == "bilinear") return ResizeMode::Bilinear;
  if (s == "area") return ResizeMode::Area;
  fail("resize mode must be 'bilinear' or 'area', got '" + s + "'");
}

Tensor crop(const Tensor& img, int64_t top, int64_t left, int64_t h, int64_t w) {
  check_chw(img, "crop");
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  if (top < 0 || left < 0 || h <= 0 || w <= 0 || top + h > H || left + w > W)
    fail("crop: window top=" + std::to_string(top) + " left=" + std::to_string(left) + " size " +
         std::to_string(h) + "x" + std::to_string(w) + " does not fit image " + shape_str(img.shape()));
  Tensor out = Tensor::zeros({C, h, w});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < h; ++y)
      std::memcpy(out.data() + (c * h + y) * w, img.data() + (c * H + top + y) * W + left, w * sizeof(float));
  return out;
}

Tensor center_crop(const Tensor& img, int64_t h, int64_t w) {
  check_chw(img, "center_crop");
  const int64_t H = img.size(1), W = img.size(2);
  // Largest window of aspect h:w: compare H/W with h/w without division.
  int64_t ch = H, cw = W;
  if (H * w > W * h) ch = std::max<int64_t>(1, W * h / w);
  else cw = std::max<int64_t>(1, H * w / h);
  return crop(img, (H - ch) / 2, (W - cw) / 2, ch, cw);
}

namespace {
// Each [C, H, W] image of img to a * (x - mean) / max(std, 1/sqrt(n)) + b.
void standardize_images(Tensor& img, float a, float b) {
  const int64_t per = img.dim() == 3 ? img.numel() : img.numel() / img.size(0), count = img.numel() / per;
  for (int64_t k = 0; k < count; ++k) {
    float* p = img.data() + k * per;
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < per; ++i) s += p[i], s2 += (double)p[i] * p[i];
    const double mean = s / (double)per, var = std::max(0.0, s2 / (double)per - mean * mean);
    const float scale = a / (float)std::max(std::sqrt(var), 1.0 / std::sqrt((double)per));
    for (int64_t i = 0; i < per; ++i) p[i] = (p[i] - (float)mean) * scale + b;
  }
}

// Separable Gaussian blur of one H x W plane (borders clamped), radius ceil(3 sigma); tmp holds H*W.
void gaussian_blur_plane(float* p, int64_t H, int64_t W, float sigma, std::vector<float>& tmp) {
  const int r = (int)std::ceil(3.f * sigma);
  std::vector<float> k(2 * r + 1);
  float sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[i + r] = std::exp(-0.5f * (float)(i * i) / (sigma * sigma));
  for (float& v : k) v /= sum;
  tmp.resize((size_t)(H * W));
  auto clampi = [](int64_t v, int64_t hi) { return std::min(std::max<int64_t>(v, 0), hi - 1); };
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      float a = 0;
      for (int i = -r; i <= r; ++i) a += k[i + r] * p[y * W + clampi(x + i, W)];
      tmp[y * W + x] = a;
    }
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      float a = 0;
      for (int i = -r; i <= r; ++i) a += k[i + r] * tmp[clampi(y + i, H) * W + x];
      p[y * W + x] = a;
    }
}

// Every plane to Gaussian(sigma0) - Gaussian(sigma1) (sigma0 = 0: the plane itself).
void difference_of_gaussians(Tensor& img, float sigma0, float sigma1) {
  const int64_t H = img.size(-2), W = img.size(-1), planes = img.numel() / (H * W);
  std::vector<float> fine, tmp;
  for (int64_t c = 0; c < planes; ++c) {
    float* p = img.data() + c * H * W;
    fine.assign(p, p + H * W);
    if (sigma0 > 0) gaussian_blur_plane(fine.data(), H, W, sigma0, tmp);
    gaussian_blur_plane(p, H, W, sigma1, tmp);
    for (int64_t i = 0; i < H * W; ++i) p[i] = fine[(size_t)i] - p[i];
  }
}

// Every plane to its own mid-rank CDF: a pixel with L smaller and E equal values in its plane of N
// becomes (L + (E - 1) / 2) / (N - 1). Exact (a sort, no binning, so interpolated values keep their
// order), symmetric (reversing the order maps v to 1 - v), mean exactly 0.5, a flat plane -> 0.5.
// Fast path for planes of 8-bit levels (a decoded image without resampling: every value is
// exactly k / 255.f, as the loader writes it): ranks by counting the 256 levels. Distinct levels
// are distinct floats, so ties group exactly as in the sort; the output is identical.
bool equalize_plane_by_levels(float* p, int64_t plane, double denom) {
  int64_t count[256] = {0};
  for (int64_t i = 0; i < plane; ++i) {
    const float k = std::nearbyint(p[i] * 255.f);
    if (!(k >= 0.f && k <= 255.f) || k / 255.f != p[i]) return false;
    ++count[(int)k];
  }
  float level[256];
  for (int64_t k = 0, lo = 0; k < 256; lo += count[k], ++k)
    level[k] = plane > 1 ? (float)((double)(2 * lo + count[k] - 1) * 0.5 / denom) : 0.5f;
  for (int64_t i = 0; i < plane; ++i) p[i] = level[(int)std::nearbyint(p[i] * 255.f)];
  return true;
}

void equalize_planes(Tensor& img) {
  const int64_t plane = img.size(-2) * img.size(-1), planes = img.numel() / plane;
  std::vector<std::pair<float, int64_t>> order;
  const double denom = plane > 1 ? (double)(plane - 1) : 1.0;
  for (int64_t c = 0; c < planes; ++c) {
    float* p = img.data() + c * plane;
    if (equalize_plane_by_levels(p, plane, denom)) continue;
    order.resize((size_t)plane);
    for (int64_t i = 0; i < plane; ++i) order[(size_t)i] = {p[i], i};
    std::sort(order.begin(), order.end());
    for (int64_t lo = 0; lo < plane;) {
      int64_t hi = lo + 1;
      while (hi < plane && order[(size_t)hi].first == order[(size_t)lo].first) ++hi;
      const float v = plane > 1 ? (float)((double)(lo + hi - 1) * 0.5 / denom) : 0.5f;
      for (int64_t k = lo; k < hi; ++k) p[order[(size_t)k].second] = v;
      lo = hi;
    }
  }
}
}  // namespace

void normalize_inplace(Tensor& img, const Normalize& n) {
  if (!img.defined() || (img.dim() != 3 && img.dim() != 4))
    fail("normalize: expected [C, H, W] or [N, C, H, W], got " + (img.defined() ? shape_str(img.shape()) : "undefined"));
  float* p = img.data();
  const int64_t total = img.numel();
  switch (n.kind) {
    case Normalize::Unit:
      return;
    case Normalize::Symmetric:
      for (int64_t i = 0; i < total; ++i) p[i] = 2.f * p[i] - 1.f;
      return;
    case Normalize::DoG:
      difference_of_gaussians(img, n.sigma0, n.sigma1);
      standardize_images(img, 1.f, 0.f);
      return;
    case Normalize::Band:
      standardize_images(img, 1.f, 0.f);
      difference_of_gaussians(img, n.sigma0, n.sigma1);
      return;
    case Normalize::PerImage:
      standardize_images(img, 1.f, 0.f);
      return;
    case Normalize::Scaled:
      standardize_images(img, 0.25f, 0.5f);
      for (int64_t i = 0; i < total; ++i) p[i] = std::min(std::max(p[i], 0.f), 1.f);
      return;
    case Normalize::Equalize:
      for (int64_t i = 0; i < total; ++i)
        if (std::isnan(p[i])) fail("normalize: equalize got a NaN pixel");
      equalize_planes(img);
      return;
    case Normalize::MeanStd: {
      const int64_t cdim = img.dim() == 3 ? 0 : 1;
      const int64_t C = img.size(cdim), plane = img.size(-1) * img.size(-2);
      if ((int64_t)n.mean.size() != C || (int64_t)n.std.size() != C)
        fail("normalize: mean/std have " + std::to_string(n.mean.size()) + "/" + std::to_string(n.std.size()) +
             " values, image " + shape_str(img.shape()) + " has " + std::to_string(C) + " channels");
      for (int64_t i = 0; i < total; ++i) {
        int64_t c = (i / plane) % C;
        p[i] = (p[i] - n.mean[c]) / n.std[c];
      }
      return;
    }
  }
}

void denormalize_inplace(Tensor& img, const Normalize& n) {
  if (n.kind == Normalize::Unit || n.kind == Normalize::Equalize || n.kind == Normalize::Scaled) return;  // in [0, 1]
  if (n.kind == Normalize::Symmetric) {
    float* p = img.data();
    for (int64_t i = 0; i < img.numel(); ++i) p[i] = 0.5f * (p[i] + 1.f);
    return;
  }
  if (n.kind == Normalize::PerImage || n.kind == Normalize::DoG || n.kind == Normalize::Band)
    return standardize_images(img, 0.2f, 0.5f);
  // x = (y - m) / s  <=>  y = x * s + m = (x - (-m/s)) / (1/s): reuse the forward map.
  Normalize inv;
  inv.kind = Normalize::MeanStd;
  for (size_t c = 0; c < n.mean.size(); ++c) {
    inv.mean.push_back(-n.mean[c] / n.std[c]);
    inv.std.push_back(1.f / n.std[c]);
  }
  normalize_inplace(img, inv);
}

namespace {
std::vector<float> parse_floats(const std::string& s, const std::string& what) {
  std::vector<float> v;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    char* end = nullptr;
    float f = std::strtof(tok.c_str(), &end);
    if (tok.empty() || *end) fail("normalize: bad number '" + tok + "' in " + what);
    v.push_back(f);
  }
  return v;
}
}  // namespace

Normalize parse_normalize(const std::string& s) {
  Normalize n;
  if (s == "unit") return n;
  if (s == "symmetric") {
    n.kind = Normalize::Symmetric;
    return n;
  }
  if (s == "image") {
    n.kind = Normalize::PerImage;
    return n;
  }
  if (s == "equalize") {
    n.kind = Normalize::Equalize;
    return n;
  }
  if (s == "scaled") {
    n.kind = Normalize::Scaled;
    return n;
  }
  for (const auto& [prefix, kind] : {std::pair<std::string, Normalize::Kind>{"dog", Normalize::DoG}, {"band", Normalize::Band}}) {
    if (s.rfind(prefix + ":", 0) != 0) continue;
    const std::string rest = s.substr(prefix.size() + 1), form = "'" + prefix + ":SIGMA0:SIGMA1'";
    const auto colon = rest.find(':');
    if (colon == std::string::npos) fail("normalize: expected " + form + ", got '" + s + "'");
    auto s0 = parse_floats(rest.substr(0, colon), s), s1 = parse_floats(rest.substr(colon + 1), s);
    if (s0.size() != 1 || s1.size() != 1 || !(s0[0] >= 0) || !(s1[0] > s0[0]) || s1[0] > 50)
      fail("normalize: " + form + " needs 0 <= SIGMA0 < SIGMA1 <= 50, got '" + s + "'");
    n.kind = kind;
    n.sigma0 = s0[0], n.sigma1 = s1[0];
    return n;
  }
  if (s.rfind("meanstd:", 0) == 0) {
    auto rest = s.substr(8);
    auto colon = rest.find(':');
    if (colon == std::string::npos) fail("normalize: expected 'meanstd:MEANS:STDS', got '" + s + "'");
    n.kind = Normalize::MeanStd;
    n.mean = parse_floats(rest.substr(0, colon), s);
    n.std = parse_floats(rest.substr(colon + 1), s);
    for (float v : n.std)
      if (!(v > 0)) fail("normalize: std must be > 0 in '" + s + "'");
    return n;
  }
  fail("normalize must be 'unit', 'symmetric', 'image', 'scaled', 'equalize', 'dog:S0:S1', 'band:S0:S1' or 'meanstd:M,..:S,..', got '" + s + "'");
}

std::string normalize_str(const Normalize& n) {
  if (n.kind == Normalize::Unit) return "unit";
  if (n.kind == Normalize::Symmetric) return "symmetric";
  if (n.kind == Normalize::PerImage) return "image";
  if (n.kind == Normalize::Equalize) return "equalize";
  if (n.kind == Normalize::Scaled) return "scaled";
  std::ostringstream os;
  if (n.kind == Normalize::DoG || n.kind == Normalize::Band) {
    os << (n.kind == Normalize::DoG ? "dog:" : "band:") << n.sigma0 << ":" << n.sigma1;
    return os.str();
  }
  os << "meanstd:";
  for (size_t i = 0; i < n.mean.size(); ++i) os << (i ? "," : "") << n.mean[i];
  os << ":";
  for (size_t i = 0; i < n.std.size(); ++i) os << (i ? "," : "") << n.std[i];
  return os.str();
}

}  // namespace fas
