// Face detection with dlib's HOG frontal face detector (Debian libdlib-dev, linked as
// libdlib.so). Built only when dlib is found (CMake FAS_HAVE_DLIB); the pure box helpers are in
// face_box.h. The thesis used dlib's MMOD CNN (its Figure 8 says HoG); the HOG detector needs
// no model file and runs in milliseconds on a CPU, which the ≤ 50 ms budget asks for.
#pragma once
#include <memory>
#include <vector>

#include "detect/face_crop.h"
#include "tensor/tensor.h"

namespace fas {

class FaceDetector {
 public:
  // max_side: the image is shrunk (area averaging) so its longer side is at most this many
  // pixels before detection, and the boxes are scaled back; 0 = full size. dlib's HOG window is
  // 80x80 px, so faces smaller than 80 px at the shrunk scale are missed.
  explicit FaceDetector(int max_side = 320);
  ~FaceDetector();
  FaceDetector(const FaceDetector&) = delete;
  FaceDetector& operator=(const FaceDetector&) = delete;
  // All faces in img [C, H, W] (C = 1 or 3, values in [0, 1]), in img's pixel coordinates.
  // Safe to call from several threads (each thread gets its own dlib detector).
  std::vector<FaceBox> detect(const Tensor& img) const;

 private:
  struct Impl;  // dlib's detector, deserialised once here (~2 s); each thread copies it
  std::unique_ptr<Impl> impl_;
  int max_side_;
};

// The detector as a find_face Detector (face_crop.h), shared by its copies.
Detector dlib_face_detector(int max_side = 320);

}  // namespace fas
