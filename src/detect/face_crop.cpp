#include "detect/face_crop.h"

#include <algorithm>

#include "io/image.h"

namespace fas {

FaceCrop find_face(const Tensor& img, const Detector& det, int64_t crop_max_side) {
  if (img.dim() != 3) fail("find_face: expects an image [C, H, W]");
  const int64_t H = img.size(1), W = img.size(2);
  FaceCrop f;
  f.box = {0, 0, W, H};
  if (std::max(H, W) <= crop_max_side) {
    f.source = "whole image (a face crop: longer side <= " + std::to_string(crop_max_side) + " px)";
    return f;
  }
  if (!det) {
    f.source = "whole image (no face detector built in)";
    return f;
  }
  const std::vector<FaceBox> faces = det(img);
  f.source = "detector";
  f.faces = faces.size();
  f.found = !faces.empty();
  if (f.found) f.box = square_box(largest_box(faces), H, W), f.detected = true;
  return f;
}

Tensor test_input(const Tensor& img, const ImageSpec& spec) {
  Tensor t = resize(to_channels(img, spec.channels), spec.height, spec.width, spec.resize);
  Tensor x = t.reshape({1, spec.channels, spec.height, spec.width});
  normalize_inplace(x, spec.norm);
  return x;
}

Tensor face_test_input(const Tensor& img, const FaceCrop& f, const ImageSpec& spec, bool whole_frame) {
  if (whole_frame) return test_input(img, spec);
  if (!f.found) fail("face_test_input: no face was found");
  return test_input(crop(img, f.box.y, f.box.x, f.box.h, f.box.w), spec);
}

}  // namespace fas
