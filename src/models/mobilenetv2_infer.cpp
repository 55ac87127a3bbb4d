#include "models/mobilenetv2_infer.h"

#include <cmath>
#include <limits>

#include "kernels/nhwc.h"

namespace fas {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
}

MobileNetV2Infer::MobileNetV2Infer(const MobileNetV2Lite& model) : MobileNetV2Infer(fold_mobilenetv2(model)) {}

MobileNetV2Infer::MobileNetV2Infer(FoldedMobileNetV2 net) : net_(std::move(net)) {
  auto pack_pw = [](const FoldedConv& c) {
    return Packed{pack_pw_weights(c.w.data(), c.cout, c.cin, nullptr), pack_bias(c.b.data(), c.cout)};
  };
  stem_ = {pack_conv3x3_weights(net_.stem.w.data(), net_.stem.cout, net_.stem.cin, nullptr),
           pack_bias(net_.stem.b.data(), net_.stem.cout)};
  for (const auto& fb : net_.blocks) {
    Block b;
    if (fb.expand.defined()) b.expand = pack_pw(fb.expand);
    b.dw = {pack_dw3x3_weights(fb.dw.w.data(), fb.dw.cout, nullptr), pack_bias(fb.dw.b.data(), fb.dw.cout)};
    b.project = pack_pw(fb.project);
    blocks_.push_back(std::move(b));
  }
  head_ = pack_pw(net_.head);
  plan();
}

void MobileNetV2Infer::plan() {
  size_t size[2] = {0, 0}, ring = 0, row = 0;
  // Block 0 style (no expand, residual) runs shifted in place when its input has one row of
  // slack in front; only the stem can provide it here (its output starts the plan).
  auto shifted = [](const FoldedBlock& fb) { return !fb.expand.defined() && fb.residual; };
  const FoldedBlock* first = net_.blocks.empty() ? nullptr : &net_.blocks[0];
  stem_off_ = first && shifted(*first) ? first->dw.W * first->dw.cin : 0;
  int cur = 0;
  size_t off = stem_off_;
  size[0] = off + net_.stem.Ho * net_.stem.Wo * net_.stem.cout;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const FoldedBlock& fb = net_.blocks[i];
    Block& b = blocks_[i];
    b.src = cur, b.src_off = off;
    // In place needs the ring between input and depthwise (an expand conv) and row-aligned
    // input/output (stride 1, same width: implied by the residual) — then the residual is
    // the row being overwritten.
    const size_t row_len = fb.dw.W * fb.dw.cin;
    if (fb.expand.defined() && fb.residual) {
      b.dst = cur, b.dst_off = off;
    } else if (shifted(fb) && off >= row_len) {
      b.dst = cur, b.dst_off = off - row_len;
    } else {
      b.dst = 1 - cur, b.dst_off = 0;
    }
    cur = b.dst, off = b.dst_off;
    size[cur] = std::max<size_t>(size[cur], off + fb.project.Ho * fb.project.Wo * fb.project.cout);
    if (fb.expand.defined()) ring = std::max<size_t>(ring, 3 * fb.expand.W * fb.expand.cout);
    row = std::max<size_t>(row, fb.dw.Wo * fb.dw.cout);
  }
  final_buf_ = cur, final_off_ = off;
  buf_[0].assign(size[0], 0.f);
  buf_[1].assign(size[1], 0.f);
  ring_.assign(ring, 0.f);
  row_.assign(row, 0.f);
  head_row_.assign(net_.head.W * net_.head.cout, 0.f);
  pool_.assign(net_.head.cout, 0.f);
}

size_t MobileNetV2Infer::activation_bytes() const {
  return sizeof(float) * (buf_[0].size() + buf_[1].size() + ring_.size() + row_.size() + head_row_.size() +
                          pool_.size());
}

std::vector<const float*> MobileNetV2Infer::buffer_addresses() const {
  return {buf_[0].data(), buf_[1].data(), ring_.data(), row_.data(), head_row_.data(), pool_.data()};
}

float MobileNetV2Infer::run_one(const float* x) {
  const NhwcKernels k = nhwc_kernels(active_isa());
  // Stem: reads the NCHW image directly (element (ix, c) of a row at ix + c*H*W).
  {
    const FoldedConv& s = net_.stem;
    float* out = buf_[0].data() + stem_off_;
    for (int64_t oy = 0; oy < s.Ho; ++oy) {
      const float* rows[3];
      for (int r = 0; r < 3; ++r) {
        const int64_t iy = oy * s.stride - s.pad_top + r;
        rows[r] = iy >= 0 && iy < s.H ? x + iy * s.W : nullptr;
      }
      k.conv3x3(rows, s.W, s.cin, 1, s.H * s.W, s.stride, s.pad_left, s.Wo, s.cout, stem_.w.data(), stem_.b.data(),
                out + oy * s.Wo * s.cout, 0.f, 6.f);
    }
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const FoldedBlock& fb = net_.blocks[i];
    const Block& b = blocks_[i];
    const FoldedConv &d = fb.dw, &p = fb.project;
    const float* in = buf_[b.src].data() + b.src_off;
    float* out = buf_[b.dst].data() + b.dst_off;
    const int64_t cin = fb.expand.defined() ? fb.expand.cin : d.cin, E = d.cout;
    int64_t next = 0;  // next input row to expand into the ring (row iy lives in slot iy % 3)
    for (int64_t oy = 0; oy < d.Ho; ++oy) {
      const float* rows[3];
      for (int r = 0; r < 3; ++r) {
        const int64_t iy = oy * d.stride - d.pad_top + r;
        if (iy < 0 || iy >= d.H) {
          rows[r] = nullptr;
        } else if (fb.expand.defined()) {
          for (; next <= iy; ++next)
            k.pwconv(d.W, cin, E, in + next * d.W * cin, cin, b.expand.w.data(), b.expand.b.data(), nullptr,
                     ring_.data() + (next % 3) * d.W * E, 0.f, 6.f);
          rows[r] = ring_.data() + (iy % 3) * d.W * E;
        } else {
          rows[r] = in + iy * d.W * cin;
        }
      }
      k.dwconv3x3(rows, d.W, E, d.stride, d.pad_left, d.Wo, b.dw.w.data(), b.dw.b.data(), row_.data(), 0.f, 6.f);
      // The residual row oy of the input; in place it is the very row being written.
      k.pwconv(d.Wo, E, p.cout, row_.data(), E, b.project.w.data(), b.project.b.data(),
               fb.residual ? in + oy * d.W * cin : nullptr, out + oy * p.Wo * p.cout, -kInf, kInf);
    }
  }
  // Conv_1 + ReLU6 row by row, summed straight into the pool.
  const FoldedConv& h = net_.head;
  const float* in = buf_[final_buf_].data() + final_off_;
  std::fill(pool_.begin(), pool_.end(), 0.f);
  for (int64_t y = 0; y < h.H; ++y) {
    k.pwconv(h.W, h.cin, h.cout, in + y * h.W * h.cin, h.cin, head_.w.data(), head_.b.data(), nullptr,
             head_row_.data(), 0.f, 6.f);
    for (int64_t xx = 0; xx < h.W; ++xx) {
      const float* r = head_row_.data() + xx * h.cout;
      for (int64_t c = 0; c < h.cout; ++c) pool_[c] += r[c];
    }
  }
  double acc = 0;
  for (int64_t c = 0; c < h.cout; ++c) acc += static_cast<double>(pool_[c]) * net_.dense_w[c];
  return static_cast<float>(acc / static_cast<double>(h.H * h.W)) + net_.dense_b;
}

void MobileNetV2Infer::logits(const float* x, int64_t n, float* out) {
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) out[i] = run_one(x + i * per);
}

void MobileNetV2Infer::predict(const float* x, int64_t n, float* out) {
  logits(x, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-out[i]));
}

Tensor MobileNetV2Infer::forward(const Tensor& x) {
  const Shape want{net_.C, net_.H, net_.W};
  if (x.dim() != 4 || Shape(x.shape().begin() + 1, x.shape().end()) != want)
    fail("MobileNetV2Infer: expected input [N, " + std::to_string(net_.C) + ", " + std::to_string(net_.H) + ", " +
         std::to_string(net_.W) + "], got " + shape_str(x.shape()));
  Tensor y = Tensor::empty({x.shape()[0], 1});
  predict(x.data(), x.shape()[0], y.data());
  return y;
}

}  // namespace fas
