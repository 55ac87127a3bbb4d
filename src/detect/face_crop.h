// The face tests' input from any image, one path for `fas predict --detect`, `fas eval` of a
// learned fusion and `fas serve`: a small image is already a face crop; a larger one (a camera
// frame) goes through the face detector, the largest face is squared by the thesis' rule
// (face_box.h) and cropped; no face gives no crop (spec 002 §3.1: the face tests were trained on
// crops, the thesis' whole-image fallback "added noise"). No dlib here (face_detector.h is one
// Detector).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "detect/face_box.h"
#include "io/dataset.h"
#include "tensor/tensor.h"

namespace fas {

// All faces of an image [C, H, W] in [0, 1]; null = no detector built in.
using Detector = std::function<std::vector<FaceBox>(const Tensor& img)>;

// Images whose longer side is at most this are taken as face crops and scored whole (the NUAA
// crops are 128 px; a frame in which a face could be found by dlib's 80 px HOG window and still
// leave context is larger): the face tests' training inputs are such crops.
constexpr int64_t kCropMaxSide = 160;

struct FaceCrop {
  bool found = true;       // false: the detector ran and found no face (there is no crop)
  bool detected = false;   // the box came from the detector (else it is the whole image)
  FaceBox box;             // the crop in the image's pixels (the whole image when not detected)
  size_t faces = 0;        // faces the detector found (0 when it did not run)
  std::string source;      // how the box was chosen, for the answer's "face_source"
};

// The face crop of img [C, H, W]: whole when its longer side is <= crop_max_side or det is null,
// else the squared largest detected face (found = false without one).
FaceCrop find_face(const Tensor& img, const Detector& det, int64_t crop_max_side = kCropMaxSide);

// A test's input [1, C, H, W] from an image [C, H, W] (the crop, or the whole frame for
// whole-frame tests): the spec's channels, resize and normalisation.
Tensor test_input(const Tensor& img, const ImageSpec& spec);

// The input of a test: whole_frame tests see img, face tests the crop of f (f.found required).
Tensor face_test_input(const Tensor& img, const FaceCrop& f, const ImageSpec& spec, bool whole_frame);

}  // namespace fas
