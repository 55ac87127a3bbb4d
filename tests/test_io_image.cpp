// Image loading, colour conversion, resizing, cropping, normalisation and augmentation.
#include <cmath>

#include "io/augment.h"
#include "io/image.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// Expected planar value of the pattern at (c, y, x).
float pat(int w, int n, const std::vector<uint8_t>& px, int c, int y, int x) { return px[((size_t)y * w + x) * n + c] / 255.f; }

Tensor img_from(const Shape& s, const std::vector<float>& v) { return Tensor::from(s, v); }

}  // namespace

TEST(Image, LoadsPngBmpPgmExactly) {
  auto dir = scratch_dir("img");
  const int w = 5, h = 3;
  auto rgb = pattern(w, h, 3, 1);
  write_png(dir + "/a.png", w, h, 3, rgb);
  write_bmp(dir + "/a.bmp", w, h, 3, rgb);
  for (auto f : {"/a.png", "/a.bmp"}) {
    Tensor t = load_image(dir + f);
    ASSERT_EQ(t.shape(), (Shape{3, h, w})) << f;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) ASSERT_EQ(t.data()[(c * h + y) * w + x], pat(w, 3, rgb, c, y, x)) << f;
  }
  auto grey = pattern(w, h, 1, 2);
  write_pgm(dir + "/g.pgm", w, h, grey);
  Tensor g = load_image(dir + "/g.pgm");
  ASSERT_EQ(g.shape(), (Shape{1, h, w}));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) EXPECT_EQ(g.data()[y * w + x], pat(w, 1, grey, 0, y, x));
}

TEST(Image, JpegDecodesCloseToSource) {
  auto dir = scratch_dir("img");
  const int w = 16, h = 16;
  std::vector<uint8_t> flat(w * h * 3, 0);
  for (int i = 0; i < w * h; ++i) flat[i * 3] = 200, flat[i * 3 + 1] = 100, flat[i * 3 + 2] = 50;
  write_jpg(dir + "/a.jpg", w, h, 3, flat);
  Tensor t = load_image(dir + "/a.jpg");
  ASSERT_EQ(t.shape(), (Shape{3, h, w}));
  // A flat colour survives JPEG quality 100 to within a few levels (chroma rounding).
  for (int i = 0; i < w * h; ++i) {
    EXPECT_NEAR(t.data()[i], 200 / 255.f, 3 / 255.f);
    EXPECT_NEAR(t.data()[w * h + i], 100 / 255.f, 3 / 255.f);
    EXPECT_NEAR(t.data()[2 * w * h + i], 50 / 255.f, 3 / 255.f);
  }
}

TEST(Image, GreyIsBt601AndRgbRepeats) {
  auto dir = scratch_dir("img");
  auto rgb = pattern(4, 2, 3, 3);
  write_png(dir + "/a.png", 4, 2, 3, rgb);
  Tensor g = load_image(dir + "/a.png", 1);
  ASSERT_EQ(g.shape(), (Shape{1, 2, 4}));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      float want = 0.299f * pat(4, 3, rgb, 0, y, x) + 0.587f * pat(4, 3, rgb, 1, y, x) + 0.114f * pat(4, 3, rgb, 2, y, x);
      EXPECT_NEAR(g.data()[y * 4 + x], want, 1e-6f);
    }
  Tensor back = to_rgb(g);
  ASSERT_EQ(back.shape(), (Shape{3, 2, 4}));
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 8; ++i) EXPECT_EQ(back.data()[c * 8 + i], g.data()[i]);
  // RGBA: alpha dropped.
  auto rgba = pattern(3, 3, 4, 4);
  write_png(dir + "/b.png", 3, 3, 4, rgba);
  EXPECT_EQ(load_image(dir + "/b.png").shape(), (Shape{3, 3, 3}));
}

TEST(Image, ErrorsNameTheFile) {
  auto dir = scratch_dir("img");
  try {
    load_image(dir + "/missing.png");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
  write_bytes(dir + "/corrupt.jpg", std::string("\xFF\xD8\xFF\xE0 this is not a jpeg", 23));
  try {
    load_image(dir + "/corrupt.jpg");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.jpg"), std::string::npos) << e.what();
  }
  write_bytes(dir + "/empty.png", "");
  EXPECT_THROW(load_image(dir + "/empty.png"), Error);
  EXPECT_THROW(load_image(dir + "/missing.png", 2), Error);
  // A directory is named as one, by load_image and by the header-only check.
  std::filesystem::create_directories(dir + "/folder.jpg");
  for (auto f : {std::function<void()>([&] { load_image(dir + "/folder.jpg"); }),
                 std::function<void()>([&] { check_image_file(dir + "/folder.jpg"); })}) {
    const std::string e = error_of(f);
    EXPECT_NE(e.find("folder.jpg': is a directory, not an image file"), std::string::npos) << e;
  }
  EXPECT_NE(error_of([&] { check_image_file(dir + "/corrupt.jpg"); }).find("corrupt.jpg"), std::string::npos);
  EXPECT_NE(error_of([&] { check_image_file(dir + "/empty.png"); }).find("not an image"), std::string::npos);
  write_png(dir + "/ok.png", 3, 2, 1, pattern(3, 2, 1, 0));
  EXPECT_NO_THROW(check_image_file(dir + "/ok.png"));
}

// stb copies PGM/PPM and raw TGA pixels without checking they are there: a truncated file would
// decode to uninitialised memory. The exact byte count is checked from the header instead (one
// byte short is an error, the full file decodes). Found by fuzz/fuzz_image.
TEST(Image, TruncatedRawFormatsAreErrors) {
  const std::string pgm = "P5\n# comment\n3 2\n255\n" + std::string("\x01\x02\x03\x04\x05\x06", 6);
  EXPECT_EQ(decode_image((const unsigned char*)pgm.data(), pgm.size(), "ok.pgm").to_vector()[5], 6.f / 255.f);
  std::string e = error_of([&] { decode_image((const unsigned char*)pgm.data(), pgm.size() - 1, "short.pgm"); });
  EXPECT_TRUE(has(e, "short.pgm") && has(e, "truncated (5 bytes") && has(e, "declares 6")) << e;
  const std::string ppm16 = "P6 1 1 65535\n" + std::string(6, '\x10');
  EXPECT_NO_THROW(decode_image((const unsigned char*)ppm16.data(), ppm16.size(), "ok16.ppm"));
  e = error_of([&] { decode_image((const unsigned char*)ppm16.data(), ppm16.size() - 3, "short16.ppm"); });
  EXPECT_TRUE(has(e, "truncated (3 bytes") && has(e, "declares 6")) << e;
  // TGA: 18-byte header (2-byte image id here), uncompressed 24-bit, 2 x 1 pixels.
  std::string tga(18, '\0');
  tga[0] = 2, tga[2] = 2, tga[12] = 2, tga[14] = 1, tga[16] = 24;
  tga += "id" + std::string(6, '\x40');
  EXPECT_NO_THROW(decode_image((const unsigned char*)tga.data(), tga.size(), "ok.tga"));
  e = error_of([&] { decode_image((const unsigned char*)tga.data(), tga.size() - 1, "short.tga"); });
  EXPECT_TRUE(has(e, "short.tga") && has(e, "truncated (5 bytes") && has(e, "declares 6")) << e;
}

// A header declaring a huge image (here 30000 x 30000, 900 Mpx, inside stb's own dimension cap)
// is refused from the header, before stb allocates it; formats fas does not document (GIF) are
// not decoded at all. Found by fuzz/fuzz_image.
TEST(Image, RefusesHugeDeclaredSizeAndUndocumentedFormats) {
  const std::string huge = "P5 30000 30000 255\n" + std::string(64, '\x7f');
  std::string e = error_of([&] { decode_image((const unsigned char*)huge.data(), huge.size(), "huge.pgm"); });
  EXPECT_TRUE(has(e, "huge.pgm") && has(e, "30000x30000") && has(e, "exceeds the limit")) << e;
  // Just at the limit, the same header passes the size check and fails only for missing data.
  const std::string edge = "P5 8192 4096 255\n" + std::string(64, '\x7f');
  e = error_of([&] { decode_image((const unsigned char*)edge.data(), edge.size(), "edge.pgm"); });
  EXPECT_TRUE(has(e, "truncated") && !has(e, "exceeds the limit")) << e;
  // A digit string that would overflow stb's int reader is refused before stb reads it.
  const std::string longnum = "P6 99999999999999999999 2 255\n";
  e = error_of([&] { decode_image((const unsigned char*)longnum.data(), longnum.size(), "long.ppm"); });
  EXPECT_TRUE(has(e, "long.ppm") && has(e, "too large")) << e;
  const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0, ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 'D', 1, 0, ';'};
  e = error_of([&] { decode_image(gif, sizeof gif, "x.gif"); });
  EXPECT_TRUE(has(e, "x.gif") && has(e, "cannot decode")) << e;
}

TEST(Image, BilinearMatchesHalfPixelFormula) {
  // 2x2 -> 4x4 with half-pixel centres: source coordinate (o + 0.5) / 2 - 0.5 clamped to
  // [0, 1] gives weights {0, .25, .75, 1} per axis, so out[y][x] = 2 wy + wx for in = [[0,1],[2,3]].
  Tensor in = img_from({1, 2, 2}, {0, 1, 2, 3});
  Tensor out = resize_bilinear(in, 4, 4);
  const float wts[4] = {0.f, 0.25f, 0.75f, 1.f};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(out.data()[y * 4 + x], 2 * wts[y] + wts[x]);
  // Halving: each output is the mean of its 2x2 block, for both bilinear and area.
  Rng rng(1);
  Tensor big = randu({3, 6, 8}, rng, 0, 1);
  for (Tensor half : {resize_bilinear(big, 3, 4), resize_area(big, 3, 4)})
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x) {
          const float* p = big.data() + c * 48;
          float m = (p[(2 * y) * 8 + 2 * x] + p[(2 * y) * 8 + 2 * x + 1] + p[(2 * y + 1) * 8 + 2 * x] +
                     p[(2 * y + 1) * 8 + 2 * x + 1]) / 4;
          EXPECT_NEAR(half.data()[(c * 3 + y) * 4 + x], m, 1e-6f);
        }
  EXPECT_TRUE(allclose(resize_bilinear(big, 6, 8), big, 0, 0));
  EXPECT_THROW(resize_bilinear(big, 0, 3), Error);
}

TEST(Image, AreaWeightsFractionalCoverage) {
  // 3 -> 2 columns: output 0 covers [0, 1.5): (p0 + 0.5 p1) / 1.5; output 1 covers [1.5, 3).
  Tensor in = img_from({1, 1, 3}, {3, 6, 9});
  Tensor out = resize_area(in, 1, 2);
  EXPECT_NEAR(out.data()[0], (3 + 0.5f * 6) / 1.5f, 1e-5f);
  EXPECT_NEAR(out.data()[1], (0.5f * 6 + 9) / 1.5f, 1e-5f);
  // The mean is preserved by area resizing to any size.
  Rng rng(2);
  Tensor r = randu({1, 7, 11}, rng, 0, 1);
  Tensor s = resize_area(r, 3, 5);
  EXPECT_NEAR(mean(s).item(), mean(r).item(), 1e-5f);
  // resize() picks area only when shrinking both sides.
  EXPECT_TRUE(allclose(resize(r, 3, 5, ResizeMode::Area), s, 0, 0));
  EXPECT_TRUE(allclose(resize(r, 14, 22, ResizeMode::Area), resize_bilinear(r, 14, 22), 0, 0));
  EXPECT_THROW(parse_resize_mode("cubic"), Error);
}

TEST(Image, CropAndCenterCrop) {
  std::vector<float> v(2 * 4 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (float)i;
  Tensor in = img_from({2, 4, 5}, v);
  Tensor c = crop(in, 1, 2, 2, 3);
  ASSERT_EQ(c.shape(), (Shape{2, 2, 3}));
  for (int ch = 0; ch < 2; ++ch)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) EXPECT_EQ(c.data()[(ch * 2 + y) * 3 + x], v[(ch * 4 + 1 + y) * 5 + 2 + x]);
  EXPECT_THROW(crop(in, 3, 0, 2, 2), Error);
  EXPECT_THROW(crop(in, 0, -1, 2, 2), Error);
  Tensor cc = center_crop(in, 1, 1);  // largest square: 4x4, columns 0..3 (offset (5-4)/2 = 0)
  ASSERT_EQ(cc.shape(), (Shape{2, 4, 4}));
  EXPECT_EQ(cc.data()[0], v[0]);
}

TEST(Image, Normalisation) {
  Tensor a = img_from({2, 1, 2}, {0.f, 1.f, 0.5f, 0.25f});
  Tensor s = a.clone();
  normalize_inplace(s, parse_normalize("symmetric"));
  EXPECT_EQ(s.to_vector(), (std::vector<float>{-1.f, 1.f, 0.f, -0.5f}));
  Tensor m = a.clone();
  normalize_inplace(m, parse_normalize("meanstd:0.5,0.25:0.5,0.25"));
  EXPECT_EQ(m.to_vector(), (std::vector<float>{-1.f, 1.f, 1.f, 0.f}));
  // Batched [N, C, H, W]: the channel is dim 1.
  Tensor b = Tensor::full({2, 2, 1, 1}, 0.5f);
  normalize_inplace(b, parse_normalize("meanstd:0,0.5:1,1"));
  EXPECT_EQ(b.to_vector(), (std::vector<float>{0.5f, 0.f, 0.5f, 0.f}));
  Tensor u = a.clone();
  normalize_inplace(u, parse_normalize("unit"));
  EXPECT_EQ(u.to_vector(), a.to_vector());
  Tensor three = Tensor::zeros({3, 1, 1});
  EXPECT_THROW(normalize_inplace(three, parse_normalize("meanstd:0,0:1,1")), Error);
  EXPECT_THROW(parse_normalize("meanstd:0:0"), Error);
  EXPECT_THROW(parse_normalize("zscore"), Error);
  EXPECT_EQ(normalize_str(parse_normalize("meanstd:0.5,0.25:1,2")), "meanstd:0.5,0.25:1,2");
  // denormalize inverts each kind (for display of normalised batches).
  for (auto spec : {"unit", "symmetric", "meanstd:0.5,0.25:0.5,2"}) {
    Tensor t = a.clone();
    normalize_inplace(t, parse_normalize(spec));
    denormalize_inplace(t, parse_normalize(spec));
    EXPECT_TRUE(allclose(t, a, 1e-6f, 0)) << spec;
  }
}

// Per-image standardisation (TF per_image_standardization): each image of a batch on its own,
// over all its channels; brightness and contrast changes of an image do not change the result.
TEST(Image, PerImageStandardisation) {
  const Normalize n = parse_normalize("image");
  EXPECT_EQ(normalize_str(n), "image");
  // Image 0 alternates 0 and 1 (mean 0.5, std 0.5 above the floor 1/sqrt(16)); image 1 is
  // constant, where the floor keeps the result finite (0).
  std::vector<float> v(32, 0.2f), want(32, 0.f);
  for (int i = 0; i < 16; ++i) v[i] = (float)(i % 2), want[i] = i % 2 ? 1.f : -1.f;
  Tensor b = Tensor::from({2, 2, 2, 4}, v);
  Tensor t = b.clone();
  normalize_inplace(t, n);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(t.data()[i], want[i], 1e-6) << i;
  Tensor shifted = b.clone();  // 0.6 * x + 0.1 on image 0 (std 0.3): same standardised values
  for (int i = 0; i < 16; ++i) shifted.data()[i] = 0.6f * shifted.data()[i] + 0.1f;
  normalize_inplace(shifted, n);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(shifted.data()[i], want[i], 1e-5) << i;
  // A single [C, H, W] image, and the display inverse (mean 0.5, std 0.2).
  Tensor one = img_from({2, 1, 2}, {0.f, 1.f, 0.5f, 0.25f});
  normalize_inplace(one, n);
  denormalize_inplace(one, n);
  double s = 0, s2 = 0;
  for (float v : one.to_vector()) s += v, s2 += (double)v * v;
  EXPECT_NEAR(s / 4, 0.5, 1e-6);
  EXPECT_NEAR(std::sqrt(s2 / 4 - 0.25), 0.2, 1e-6);
}

// Histogram equalisation per plane (mid-rank CDF): hand-computed ties, invariance to any strictly
// increasing map of a channel, symmetry under reversal, mean 0.5, images of a batch independent.
TEST(Image, Equalize) {
  const Normalize n = parse_normalize("equalize");
  EXPECT_EQ(normalize_str(n), "equalize");
  // One plane of 4: 0.1 is lowest (0), the tied 0.3s share ranks 1 and 2 (1.5 / 3), 0.9 is top (1).
  Tensor hand = img_from({1, 2, 2}, {0.3f, 0.1f, 0.3f, 0.9f});
  normalize_inplace(hand, n);
  EXPECT_EQ(hand.to_vector(), (std::vector<float>{0.5f, 0.f, 0.5f, 1.f}));
  // A random 3 x 7 x 5 image (odd sizes, repeated levels from 8-bit quantisation), per channel a
  // different strictly increasing map (gamma, gain and offset): the equalised images are identical.
  Rng rng(7);
  const int64_t C = 3, H = 7, W = 5;
  Tensor x = Tensor::zeros({C, H, W});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::round(rng.uniform() * 20.f) / 255.f;
  Tensor mapped = x.clone(), reversed = x.clone();
  const float gamma[3] = {2.2f, 0.45f, 1.f}, gain[3] = {0.7f, 1.3f, 0.2f};
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = i / (H * W);
    mapped.data()[i] = gain[c] * std::pow(x.data()[i], gamma[c]) + 0.05f * (float)c;
    reversed.data()[i] = 1.f - x.data()[i];
  }
  normalize_inplace(x, n);
  normalize_inplace(mapped, n);
  normalize_inplace(reversed, n);
  EXPECT_EQ(x.to_vector(), mapped.to_vector());
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t i = 0; i < H * W; ++i) {
      const float v = x.data()[c * H * W + i];
      s += v;
      EXPECT_GE(v, 0.f);
      EXPECT_LE(v, 1.f);
      EXPECT_NEAR(reversed.data()[c * H * W + i], 1.f - v, 1e-6f);
    }
    EXPECT_NEAR(s / (double)(H * W), 0.5, 1e-6) << c;
  }
  // A batch: image 1 is flat (-> 0.5 everywhere) and does not change image 0's result.
  std::vector<float> v = {0.3f, 0.1f, 0.3f, 0.9f, 0.2f, 0.2f, 0.2f, 0.2f};
  Tensor batch = Tensor::from({2, 1, 2, 2}, v);
  normalize_inplace(batch, n);
  EXPECT_EQ(batch.to_vector(), (std::vector<float>{0.5f, 0.f, 0.5f, 1.f, 0.5f, 0.5f, 0.5f, 0.5f}));
  // Display inverse: the values are already in [0, 1] and stay as they are.
  Tensor keep = batch.clone();
  denormalize_inplace(keep, n);
  EXPECT_EQ(keep.to_vector(), batch.to_vector());
  Tensor bad = img_from({1, 1, 2}, {0.f, std::nanf("")});
  EXPECT_THROW(normalize_inplace(bad, n), Error);
}

// The two paths of equalize -- counting the 256 levels of an 8-bit plane, sorting any other --
// against a brute-force mid-rank (#below + (#equal - 1) / 2) / (n - 1) on a ragged 3 x 17 x 19
// image: plane 0 of 8-bit levels (counted), plane 1 the same levels plus one resampled value
// (sorted), plane 2 every level of 0..255 and a level written another way (1e-7 off: sorted).
TEST(Image, EqualizeCountingPathEqualsSortAndBruteForce) {
  Rng rng(3);
  const int64_t C = 3, S = 17 * 19;
  Tensor x = Tensor::zeros({C, 17, 19});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = (float)rng.below(256) / 255.f;
  x.data()[S + 5] = 0.123456f;
  for (int64_t i = 0; i < 256; ++i) x.data()[2 * S + i] = (float)i / 255.f;
  x.data()[2 * S + 7] = 7.f / 255.f + 1e-7f;
  Tensor want = Tensor::zeros(x.shape());
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < S; ++i) {
      int64_t below = 0, equal = 0;
      for (int64_t j = 0; j < S; ++j) {
        below += x.data()[c * S + j] < x.data()[c * S + i];
        equal += x.data()[c * S + j] == x.data()[c * S + i];
      }
      want.data()[c * S + i] = (float)(((double)below + (double)(equal - 1) * 0.5) / (double)(S - 1));
    }
  normalize_inplace(x, parse_normalize("equalize"));
  EXPECT_EQ(x.to_vector(), want.to_vector());
}

// Difference of Gaussians: a band-pass, so constant and linear images vanish (away from the
// clamped borders) while a fine checkerboard survives; then per-image standardisation.
TEST(Image, DifferenceOfGaussians) {
  const Normalize n = parse_normalize("dog:0:1");
  EXPECT_EQ(normalize_str(n), "dog:0:1");
  EXPECT_EQ(normalize_str(parse_normalize("dog:0.5:2")), "dog:0.5:2");
  for (auto bad : {"dog:1", "dog:2:1", "dog:-1:2", "dog:0:x", "dog:0:100"}) EXPECT_THROW(parse_normalize(bad), Error) << bad;
  const int64_t H = 24, W = 24;
  Tensor ramp = Tensor::zeros({1, H, W}), checker = Tensor::zeros({1, H, W});
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      ramp.data()[y * W + x] = 0.01f * (float)(x + 2 * y);
      checker.data()[y * W + x] = (float)((x + y) % 2);
    }
  Tensor r = ramp.clone(), c = checker.clone();
  normalize_inplace(r, n);
  normalize_inplace(c, n);
  // Interior of the ramp: the Gaussian reproduces linear functions, so x - G(x) = 0 there (and
  // standardisation only rescales); the checkerboard keeps a +-1 pattern.
  double interior = 0;
  for (int64_t y = 4; y < H - 4; ++y)
    for (int64_t x = 4; x < W - 4; ++x) interior = std::max(interior, (double)std::fabs(r.data()[y * W + x]));
  EXPECT_LT(interior, 0.05);
  EXPECT_LT(c.data()[12 * W + 12] * c.data()[12 * W + 13], -0.5f);  // alternating signs survive
  Tensor flat = Tensor::full({3, 8, 8}, 0.7f);
  normalize_inplace(flat, n);
  for (float v : flat.to_vector()) EXPECT_NEAR(v, 0.f, 1e-6);
}

// Band: standardise, then the band-pass without rescaling. Unlike dog: it ignores brightness and
// contrast but keeps how much of the image's contrast is fine detail: a checkerboard keeps most
// of its energy, a smooth wave of the same contrast almost none (dog: maps both to std 1).
TEST(Image, BandPassKeepsRelativeFineEnergy) {
  const Normalize n = parse_normalize("band:0:1");
  EXPECT_EQ(normalize_str(n), "band:0:1");
  EXPECT_EQ(normalize_str(parse_normalize("band:0.5:2")), "band:0.5:2");
  for (auto bad : {"band:1", "band:2:1", "band:0:x"}) EXPECT_THROW(parse_normalize(bad), Error) << bad;
  const int64_t H = 24, W = 24;
  Tensor checker = Tensor::zeros({1, H, W}), wave = Tensor::zeros({1, H, W});
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      checker.data()[y * W + x] = (float)((x + y) % 2);
      wave.data()[y * W + x] = 0.5f + 0.5f * std::sin(0.26f * (float)x);
    }
  auto std_of = [](const Tensor& t) {
    double s = 0, s2 = 0;
    for (float v : t.to_vector()) s += v, s2 += (double)v * v;
    const double m = s / (double)t.numel();
    return std::sqrt(s2 / (double)t.numel() - m * m);
  };
  Tensor c = checker.clone(), w = wave.clone();
  normalize_inplace(c, n);
  normalize_inplace(w, n);
  EXPECT_GT(std_of(c), 0.5);
  EXPECT_LT(std_of(w), 0.1);
  EXPECT_GT(std_of(c), 10 * std_of(w));
  Tensor dc = checker.clone(), dw = wave.clone();  // dog: rescales what is left of the wave
  normalize_inplace(dc, parse_normalize("dog:0:1"));
  normalize_inplace(dw, parse_normalize("dog:0:1"));
  EXPECT_NEAR(std_of(dc), 1.0, 1e-4);
  EXPECT_GT(std_of(dw), 3 * std_of(w));
  // Brightness and contrast do not matter: 0.3 x + 0.4 gives the same result.
  Tensor dim = checker.clone();
  for (int64_t i = 0; i < dim.numel(); ++i) dim.data()[i] = 0.3f * dim.data()[i] + 0.4f;
  normalize_inplace(dim, n);
  EXPECT_TRUE(allclose(dim, c, 1e-4f, 1e-4f));
}

TEST(Augment, ParseAndPrint) {
  auto a = parse_augment("flip=0.5,rotate=30,shift=0.1@0.3,noise=0.02@0.47");
  EXPECT_EQ(a.flip, 0.5f);
  EXPECT_EQ(a.rotate.mag, 30.f);
  EXPECT_EQ(a.shift.p, 0.3f);
  EXPECT_TRUE(a.any());
  EXPECT_EQ(augment_str(a), "flip=0.5,rotate=30,shift=0.1@0.3,noise=0.02@0.47");
  EXPECT_FALSE(parse_augment("none").any());
  EXPECT_THROW(parse_augment("blur=1"), Error);
  EXPECT_THROW(parse_augment("flip=2"), Error);
  EXPECT_THROW(parse_augment("noise=-1"), Error);
  EXPECT_THROW(parse_augment("zoom=1.5"), Error);
  EXPECT_THROW(parse_augment("rotate"), Error);
}

TEST(Augment, FlipMirrorsAndSeedsReproduce) {
  Rng r0(3);
  Tensor img = randu({3, 5, 7}, r0, 0, 1);
  Rng rng(1);
  Tensor f = augment(img, parse_augment("flip=1"), rng);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 7; ++x) EXPECT_EQ(f.data()[(c * 5 + y) * 7 + x], img.data()[(c * 5 + y) * 7 + 6 - x]);
  auto all = parse_augment("flip=0.5,rotate=20,shift=0.1,zoom=0.1,crop=0.2,brightness=0.2,contrast=0.3,noise=0.05,cutout=0.3");
  Rng a(7), b(7), c(8);
  Tensor x = augment(img, all, a), y = augment(img, all, b), z = augment(img, all, c);
  EXPECT_EQ(x.to_vector(), y.to_vector());
  EXPECT_GT(max_abs_diff(x, z), 1e-3f);
  EXPECT_EQ(x.shape(), img.shape());
  for (float v : x.to_vector()) ASSERT_TRUE(v >= 0.f && v <= 1.f);
  // Nothing enabled: the image is returned unchanged.
  Rng d(9);
  EXPECT_EQ(augment(img, parse_augment("none"), d).to_vector(), img.to_vector());
}

// vflip mirrors top-bottom; rot90 turns a square image by one of 90/180/270 degrees exactly
// (checked against index maps written out independently), each turn occurring; a non-square
// image is a clear error.
TEST(Augment, VerticalFlipAndQuarterTurnsAreExact) {
  auto a = parse_augment("flip=0.5,vflip=0.25,rot90=1");
  EXPECT_EQ(augment_str(a), "flip=0.5,vflip=0.25,rot90=1");
  EXPECT_THROW(parse_augment("rot90=2"), Error);
  Rng r0(3);
  const int64_t C = 2, S = 5;
  Tensor img = randu({C, 3, S}, r0, 0, 1);
  Rng rng(1);
  Tensor f = augment(img, parse_augment("vflip=1"), rng);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < S; ++x) EXPECT_EQ(f.data()[(c * 3 + y) * S + x], img.data()[(c * 3 + 2 - y) * S + x]);
  Rng bad(2);
  EXPECT_THROW(augment(img, parse_augment("rot90=1"), bad), Error);  // 3 x 5 is not square
  Tensor sq = randu({C, S, S}, r0, 0, 1);
  auto at = [&](const Tensor& t, int64_t c, int64_t y, int64_t x) { return t.data()[(c * S + y) * S + x]; };
  // new(y, x) for a counter-clockwise quarter turn is old(x, S-1-y); two turns old(S-1-y, S-1-x).
  auto turned = [&](int k, int64_t c, int64_t y, int64_t x) {
    for (int i = 0; i < k; ++i) {
      const int64_t oy = x, ox = S - 1 - y;
      y = oy, x = ox;
    }
    return at(sq, c, y, x);
  };
  int seen[4] = {0, 0, 0, 0};
  Rng rr(5);
  for (int trial = 0; trial < 30; ++trial) {
    Tensor r = augment(sq, parse_augment("rot90=1"), rr);
    int match = -1;
    for (int k = 1; k <= 3 && match < 0; ++k) {
      bool all = true;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < S; ++y)
          for (int64_t x = 0; x < S; ++x) all = all && at(r, c, y, x) == turned(k, c, y, x);
      if (all) match = k;
    }
    ASSERT_GT(match, 0) << "trial " << trial << ": not a quarter, half or three-quarter turn";
    ++seen[match];
  }
  EXPECT_TRUE(seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
}

TEST(Augment, BrightnessShiftsAndNoiseHasItsSigma) {
  Tensor grey = Tensor::full({1, 64, 64}, 0.5f);
  Rng rng(5);
  Tensor b = augment(grey, parse_augment("brightness=0.2"), rng);
  float d = b.data()[0] - 0.5f;
  EXPECT_LE(std::fabs(d), 0.2f);
  for (float v : b.to_vector()) EXPECT_FLOAT_EQ(v, 0.5f + d);  // one delta for the image
  Tensor n = augment(grey, parse_augment("noise=0.05"), rng);
  double s = 0, s2 = 0;
  for (float v : n.to_vector()) s += v - 0.5, s2 += (v - 0.5) * (v - 0.5);
  double m = s / 4096, sd = std::sqrt(s2 / 4096 - m * m);
  EXPECT_NEAR(m, 0, 0.005);
  EXPECT_NEAR(sd, 0.05, 0.005);
  // Any rotation about the centre keeps the centre pixel (its fixed point), and moves others.
  Rng r0(4);
  Tensor img = randu({1, 5, 5}, r0, 0, 1);
  AugmentConfig rot;
  rot.rotate = {90.f, 1.f};
  Rng r1(11);
  Tensor out = augment(img, rot, r1);
  EXPECT_NEAR(out.data()[12], img.data()[12], 1e-5f);
  EXPECT_GT(max_abs_diff(out, img), 1e-2f);
}
