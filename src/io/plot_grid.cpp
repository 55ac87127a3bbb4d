// Image grids and PNG output (stb_image_write; its implementation is in stb_impl_write.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "io/atomic_file.h"
#include "io/plot.h"
#include "stb_image_write.h"

namespace fas::plot {
namespace {

void check_image(const Tensor& t, const std::string& what) {
  if (!t.defined()) fail("plot: " + what + ": undefined tensor");
  if (t.dim() != 3 || (t.size(0) != 1 && t.size(0) != 3) || t.size(1) < 1 || t.size(2) < 1)
    fail("plot: " + what + ": expected an image [C, H, W] with C = 1 or 3, got " + shape_str(t.shape()));
}

uint8_t to_u8(float v) {
  if (!(v > 0)) return 0;  // also NaN
  if (v >= 1) return 255;
  return (uint8_t)(v * 255.f + 0.5f);
}

}  // namespace

std::vector<Tensor> unbatch(const Tensor& nchw, int64_t n) {
  if (!nchw.defined() || nchw.dim() != 4)
    fail("plot: unbatch: expected a batch [N, C, H, W], got " +
         (nchw.defined() ? shape_str(nchw.shape()) : std::string("an undefined tensor")));
  const int64_t N = n < 0 ? nchw.size(0) : std::min(n, nchw.size(0));
  const Shape one = {nchw.size(1), nchw.size(2), nchw.size(3)};
  std::vector<Tensor> out;
  Tensor flat = nchw.detach().reshape({nchw.size(0), -1});
  for (int64_t i = 0; i < N; ++i) {
    Tensor t = Tensor::zeros(one);
    std::copy(flat.data() + i * t.numel(), flat.data() + (i + 1) * t.numel(), t.data());
    out.push_back(t);
  }
  return out;
}

Tensor image_grid(const std::vector<std::vector<Tensor>>& rows, int pad, float pad_value) {
  if (pad < 0) fail("plot: image grid: negative padding " + std::to_string(pad));
  int64_t cols = 0, ch = 1, cell_h = 0, cell_w = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    cols = std::max(cols, (int64_t)rows[r].size());
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const Tensor& t = rows[r][c];
      check_image(t, "image grid, row " + std::to_string(r) + " column " + std::to_string(c));
      ch = std::max(ch, t.size(0));
      cell_h = std::max(cell_h, t.size(1));
      cell_w = std::max(cell_w, t.size(2));
    }
  }
  if (cols == 0) fail("plot: image grid: no images");
  const int64_t nr = (int64_t)rows.size();
  const int64_t H = nr * cell_h + (nr + 1) * pad, W = cols * cell_w + (cols + 1) * pad;
  Tensor g = Tensor::full({ch, H, W}, pad_value);
  float* out = g.data();
  for (int64_t r = 0; r < nr; ++r) {
    for (int64_t c = 0; c < (int64_t)rows[r].size(); ++c) {
      const Tensor& t = rows[r][c];
      const int64_t tc = t.size(0), th = t.size(1), tw = t.size(2);
      const int64_t y0 = pad + r * (cell_h + pad) + (cell_h - th) / 2, x0 = pad + c * (cell_w + pad) + (cell_w - tw) / 2;
      const float* in = t.data();
      for (int64_t k = 0; k < ch; ++k) {
        const float* src = in + (tc == 1 ? 0 : k) * th * tw;  // grey repeated into R, G, B
        for (int64_t y = 0; y < th; ++y) std::copy(src + y * tw, src + (y + 1) * tw, out + (k * H + y0 + y) * W + x0);
      }
    }
  }
  return g;
}

std::string encode_png(const Tensor& chw) {
  check_image(chw, "encode_png");
  const int C = (int)chw.size(0), H = (int)chw.size(1), W = (int)chw.size(2);
  std::vector<uint8_t> px((size_t)C * H * W);  // interleaved HWC for stb
  const float* d = chw.data();
  for (int k = 0; k < C; ++k)
    for (int i = 0; i < H * W; ++i) px[(size_t)i * C + k] = to_u8(d[(size_t)k * H * W + i]);
  std::string bytes;
  auto sink = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append((const char*)data, size); };
  if (!stbi_write_png_to_func(sink, &bytes, W, H, C, px.data(), W * C))
    fail("plot: PNG encoding failed for " + shape_str(chw.shape()));
  return bytes;
}

void write_png(const std::string& path, const Tensor& chw) {
  check_image(chw, "write_png " + path);
  io::write_file_atomic(path, encode_png(chw));
}

void write_image_grid_png(const std::string& path, const std::vector<std::vector<Tensor>>& rows, int pad,
                          float pad_value) {
  write_png(path, image_grid(rows, pad, pad_value));
}

}  // namespace fas::plot
