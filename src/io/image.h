// Images as tensors: [C, H, W] float32 in [0, 1] (C = 1 grey or 3 RGB), read with stb_image
// (JPEG, PNG, BMP, PGM/PPM, TGA). Pure functions: each returns a new tensor.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace fas {

// channels: 0 = as stored (grey+alpha -> 1, RGBA -> 3: alpha is dropped), 1 = grey, 3 = RGB.
// Grey from colour uses BT.601 luma (0.299 R + 0.587 G + 0.114 B), not stb's integer shortcut.
// Errors (missing, unreadable, corrupt) are fas::Error naming the file and stb's reason.
Tensor load_image(const std::string& path, int channels = 0);
// Checks, without decoding the pixels, that `path` is a readable regular file whose header is an
// image format stb reads: a fas::Error naming the file otherwise ("is a directory", "cannot open
// (...)", "not an image (...)"). Lets a command check all its inputs before writing anything.
void check_image_file(const std::string& path);
// Images above this many pixels (e.g. 8192 x 4096) are refused before decoding, from the size the
// header declares: a few corrupt or hostile header bytes must not make fas allocate gigabytes
// (a 32768 x 32768 RGBA image would take 4 GB as bytes, 12 GB as floats).
constexpr int64_t kMaxImagePixels = int64_t(1) << 25;
// Same from bytes in memory; `name` is used in error messages.
Tensor decode_image(const unsigned char* bytes, size_t size, const std::string& name, int channels = 0);

// [C, H, W] -> [1, H, W] by BT.601 (C = 3) or a copy (C = 1).
Tensor to_grey(const Tensor& img);
// [1, H, W] -> [3, H, W] by repetition, or a copy when already 3 channels.
Tensor to_rgb(const Tensor& img);
// Channel conversion to 1 or 3 channels.
Tensor to_channels(const Tensor& img, int channels);

// Bilinear with half-pixel centres (OpenCV INTER_LINEAR, PyTorch align_corners=False),
// edge pixels clamped.
Tensor resize_bilinear(const Tensor& img, int64_t out_h, int64_t out_w);
// Area averaging: each output pixel is the mean of the input area it covers, fractional pixels
// weighted by coverage (OpenCV INTER_AREA when shrinking; it degrades to nearest-like
// replication when enlarging). The right choice when shrinking a lot (no aliasing).
Tensor resize_area(const Tensor& img, int64_t out_h, int64_t out_w);
enum class ResizeMode { Bilinear, Area };
// Area when shrinking both sides, bilinear otherwise; no-op copy at equal size.
Tensor resize(const Tensor& img, int64_t out_h, int64_t out_w, ResizeMode mode);
ResizeMode parse_resize_mode(const std::string& s);  // "bilinear" | "area"

// Rows [top, top+h) and columns [left, left+w); must lie inside the image.
Tensor crop(const Tensor& img, int64_t top, int64_t left, int64_t h, int64_t w);
// Largest centred crop with aspect h:w.
Tensor center_crop(const Tensor& img, int64_t h, int64_t w);

// Normalisation of a [C, H, W] (or [N, C, H, W]) tensor in [0, 1], in place.
struct Normalize {
  // [0,1] as is; [-1,1]; (x - mean_c) / std_c; PerImage: each image minus its own mean, over its
  // own standard deviation (all channels together, floor 1/sqrt(numel): TF's
  // per_image_standardization). PerImage removes global brightness and contrast, which flip
  // between NUAA's training and test sessions (docs/experiments/EXP-009), keeping texture.
  // DoG: a difference-of-Gaussians band-pass per channel (Gaussian sigma0 minus Gaussian sigma1,
  // sigma0 = 0: the image itself), then PerImage: the preprocessing of the NUAA database's own
  // paper (Tan et al., ECCV 2010), which keeps the print's missing high frequencies as the cue.
  // Band: PerImage first, then the same band-pass and no rescaling: the band's energy relative
  // to the image's contrast survives (DoG's final standardisation removes it), and that energy
  // -- prints lose fine detail -- is the cue that holds across NUAA's sessions.
  // Equalize: each channel of each image through its own mid-rank CDF (histogram equalisation,
  // exact): the result is the same under any strictly increasing grey-level map of a channel
  // (brightness, contrast, gamma, colour cast), while the order of neighbouring pixels -- all that
  // LBP-style texture codes read -- is kept.
  // Scaled: spec 001's "standard scaling", each image to mean 0.5 and standard deviation 0.25
  // (PerImage's statistics and std floor), clipped to [0, 1] so a sigmoid output can match it.
  enum Kind { Unit, Symmetric, MeanStd, PerImage, DoG, Band, Equalize, Scaled } kind = Unit;
  std::vector<float> mean, std;  // MeanStd only, one per channel
  float sigma0 = 0.f, sigma1 = 0.f;  // DoG and Band only
};
void normalize_inplace(Tensor& img, const Normalize& n);
// The inverse, back to [0, 1] for display (values are not clipped). PerImage, DoG and Band cannot be
// undone: they map each image to mean 0.5 and standard deviation 0.2 instead.
// Equalize and Scaled are already in [0, 1] and stay as they are.
void denormalize_inplace(Tensor& img, const Normalize& n);
// "unit" | "symmetric" | "meanstd:m0,m1,m2:s0,s1,s2" | "image" | "scaled" | "equalize" | "dog:SIGMA0:SIGMA1" | "band:SIGMA0:SIGMA1"
Normalize parse_normalize(const std::string& s);
std::string normalize_str(const Normalize& n);

}  // namespace fas
