#include "detect/face_detector.h"

#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <cmath>

#include "io/image.h"

namespace fas {

struct FaceDetector::Impl {
  dlib::frontal_face_detector proto = dlib::get_frontal_face_detector();
};

FaceDetector::FaceDetector(int max_side) : max_side_(max_side) {
  if (max_side < 0) fail("face detector: max_side must be >= 0");
  impl_ = std::make_unique<Impl>();
}
FaceDetector::~FaceDetector() = default;

std::vector<FaceBox> FaceDetector::detect(const Tensor& img) const {
  if (img.dim() != 3 || (img.size(0) != 1 && img.size(0) != 3)) fail("face detector: expects a [1|3, H, W] image");
  const int64_t H = img.size(1), W = img.size(2);
  double scale = 1.0;
  Tensor g = to_grey(img);
  if (max_side_ > 0 && std::max(H, W) > max_side_) {
    scale = (double)max_side_ / (double)std::max(H, W);
    g = resize(g, std::max<int64_t>(1, std::lround(H * scale)), std::max<int64_t>(1, std::lround(W * scale)),
               ResizeMode::Area);
  }
  const int64_t h = g.size(1), w = g.size(2);
  dlib::array2d<unsigned char> a(h, w);
  const float* p = g.data();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) a[y][x] = (unsigned char)std::lround(std::clamp(p[y * w + x], 0.f, 1.f) * 255.f);
  // dlib's scanner keeps scratch buffers, so one detector per thread: a copy of the prototype
  // (a copy takes about a millisecond; get_frontal_face_detector() deserialises for seconds).
  thread_local std::unique_ptr<dlib::frontal_face_detector> det;
  thread_local const Impl* det_of = nullptr;
  if (!det || det_of != impl_.get()) det = std::make_unique<dlib::frontal_face_detector>(impl_->proto), det_of = impl_.get();
  std::vector<FaceBox> out;
  for (const auto& r : (*det)(a)) {
    // Boxes may overhang the image; clip them to it, then map back to full-size pixels.
    const double l = std::max<long>(r.left(), 0), t = std::max<long>(r.top(), 0);
    const double rr = std::min<long>(r.right() + 1, w), bb = std::min<long>(r.bottom() + 1, h);
    if (rr <= l || bb <= t) continue;
    FaceBox b;
    b.x = std::lround(l / scale), b.y = std::lround(t / scale);
    b.w = std::min<int64_t>(std::lround((rr - l) / scale), W - b.x);
    b.h = std::min<int64_t>(std::lround((bb - t) / scale), H - b.y);
    if (b.w > 0 && b.h > 0) out.push_back(b);
  }
  return out;
}

Detector dlib_face_detector(int max_side) {
  auto fd = std::make_shared<FaceDetector>(max_side);
  return [fd](const Tensor& img) { return fd->detect(img); };
}

}  // namespace fas
