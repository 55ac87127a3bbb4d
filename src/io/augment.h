// Seeded training-time augmentations on [C, H, W] images in [0, 1] (applied before
// normalisation; results are clipped back to [0, 1]). They cover spec 001 §1.5 (brightness,
// noise, contrast, cutout, rotation, translation, zoom, flip, each with its own frequency) and
// spec 003 §3.4 (Keras ImageDataGenerator: one affine per image, rotation U(-30°, 30°), shift
// U(-0.1, 0.1) of the size, zoom per axis U(0.85, 1.15), bilinear, fill 'nearest').
#pragma once
#include <string>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace fas {

struct AugmentConfig {
  // Each transform: a magnitude and the probability that it is applied to an image.
  struct T {
    float mag = 0.f, p = 1.f;
    bool on() const { return mag > 0.f && p > 0.f; }
  };
  float flip = 0.f;   // probability of a horizontal (left-right) flip
  float vflip = 0.f;  // probability of a vertical (top-bottom) flip
  float rot90 = 0.f;  // probability of a rotation by 90, 180 or 270 degrees (uniform); square images
  // vflip and rot90 are exact (no resampling): for texture cues (a print's missing fine detail,
  // docs/experiments/EXP-010) that a bilinear rotation would blur, while hiding the face's
  // orientation and the direction of the light.
  T rotate;          // degrees: angle ~ U(-mag, mag)
  T shift;           // fraction of width/height: tx, ty ~ U(-mag, mag)
  T zoom;            // scale per axis ~ U(1 - mag, 1 + mag), independently (Keras)
  T crop;            // random crop keeping a fraction (1 - mag) of each side, resized back
  T brightness;      // additive delta ~ U(-mag, mag)
  T contrast;        // factor ~ U(1 - mag, 1 + mag) around the image mean
  T noise;           // Gaussian noise, sigma = mag
  T cutout;          // one square of side mag * min(H, W) set to 0.5 (grey)
  bool any() const;
};

// "none" or comma-separated "name=mag[@p]": flip=P, vflip=P, rot90=P, rotate, shift, zoom, crop, brightness,
// contrast, noise, cutout. Example (spec 001): "brightness=0.2,noise=0.03@0.47,contrast=0.3@0.17,
// cutout=0.25@0.51,rotate=15@0.3,shift=0.1@0.3,zoom=0.1@0.3,flip=0.5". Unknown names -> fas::Error.
AugmentConfig parse_augment(const std::string& s);
std::string augment_str(const AugmentConfig& a);

// One random draw of every enabled transform, in a fixed order (flip, vflip, rot90, crop, affine
// [rotate+shift+zoom as one warp], brightness, contrast, cutout, noise) so a seed fixes the result.
Tensor augment(const Tensor& img, const AugmentConfig& a, Rng& rng);

}  // namespace fas
