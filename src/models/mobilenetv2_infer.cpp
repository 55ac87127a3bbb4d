#include "models/mobilenetv2_infer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/nhwc.h"

namespace fas {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();

inline void observe_rows(const MobileNetV2Infer::Observer* obs, size_t point, const float* v, int64_t pixels,
                         int64_t channels) {
  if (obs) (*obs)(point, v, pixels, channels);
}
}  // namespace

MobileNetV2Infer::MobileNetV2Infer(const MobileNetV2Lite& model) : MobileNetV2Infer(fold_mobilenetv2(model)) {}

MobileNetV2Infer::MobileNetV2Infer(FoldedMobileNetV2 net) : net_(std::move(net)), plan_(plan_mobilenetv2(net_)) {
  auto pack_pw = [](const FoldedConv& c) {
    if (!c.defined()) return Packed{};
    return Packed{pack_pw_weights(c.w.data(), c.cout, c.cin, nullptr), pack_bias(c.b.data(), c.cout)};
  };
  stem_ = {pack_conv3x3_weights(net_.stem.w.data(), net_.stem.cout, net_.stem.cin, nullptr),
           pack_bias(net_.stem.b.data(), net_.stem.cout)};
  for (const auto& fb : net_.blocks) {
    expand_.push_back(pack_pw(fb.expand));
    dw_.push_back({pack_dw3x3_weights(fb.dw.w.data(), fb.dw.cout, nullptr), pack_bias(fb.dw.b.data(), fb.dw.cout)});
    project_.push_back(pack_pw(fb.project));
  }
  head_ = pack_pw(net_.head);
  buf_[0].assign(plan_.buf[0], 0.f);
  buf_[1].assign(plan_.buf[1], 0.f);
  ring_.assign(plan_.ring, 0.f);
  row_.assign(plan_.row, 0.f);
  pool_.assign(net_.head.cout, 0.f);
}

size_t MobileNetV2Infer::activation_bytes() const {
  return sizeof(float) * (buf_[0].size() + buf_[1].size() + ring_.size() + row_.size() + pool_.size());
}

size_t MobileNetV2Infer::weight_bytes() const {
  size_t n = stem_.w.size() + stem_.b.size() + head_.w.size() + head_.b.size();
  for (const auto* v : {&expand_, &dw_, &project_})
    for (const Packed& p : *v) n += p.w.size() + p.b.size();
  return n * sizeof(float) + folded_bytes(net_);
}

std::vector<const float*> MobileNetV2Infer::buffer_addresses() const {
  return {buf_[0].data(), buf_[1].data(), ring_.data(), row_.data(), pool_.data()};
}

void MobileNetV2Infer::run_pool(const float* x, const Observer* obs) {
  const NhwcKernels k = nhwc_kernels(active_isa());
  observe_rows(obs, 0, x, net_.C * net_.H * net_.W, 1);
  // Stem: reads the NCHW image directly (element (ix, c) of a row at ix + c*H*W).
  const FoldedConv& s = net_.stem;
  float* stem_out = buf_[0].data() + plan_.stem_off;
  for (int64_t oy = 0; oy < s.Ho; ++oy) {
    const float* rows[3];
    dw_input_rows<float>(s, oy, [&](int64_t iy) { return x + iy * s.W; }, rows);
    float* y = stem_out + oy * s.Wo * s.cout;
    k.conv3x3(rows, s.W, s.cin, 1, s.H * s.W, s.stride, s.pad_left, s.Wo, s.cout, stem_.w.data(), stem_.b.data(),
              y, 0.f, 6.f);
    observe_rows(obs, 1, y, s.Wo, s.cout);
  }
  for (size_t i = 0; i < net_.blocks.size(); ++i) {
    const FoldedBlock& fb = net_.blocks[i];
    const MobileNetV2Plan::Step& st = plan_.steps[i];
    const FoldedConv &e = fb.expand, &d = fb.dw, &p = fb.project;
    const int64_t pt = 2 + 3 * static_cast<int64_t>(i);
    const float* in = buf_[st.src].data() + st.src_off;
    float* out = buf_[st.dst].data() + st.dst_off;
    const int64_t cin = e.defined() ? e.cin : d.cin, E = d.cout;
    int64_t next = 0;  // next input row to expand into the ring (row iy lives in slot iy % 3)
    auto row = [&](int64_t iy) -> const float* {
      if (!e.defined()) return in + iy * d.W * cin;
      for (; next <= iy; ++next) {
        float* r = ring_.data() + (next % 3) * d.W * E;
        k.pwconv(d.W, cin, E, in + next * d.W * cin, cin, expand_[i].w.data(), expand_[i].b.data(), nullptr, r, 0.f,
                 6.f);
        observe_rows(obs, pt, r, d.W, E);
      }
      return ring_.data() + (iy % 3) * d.W * E;
    };
    for (int64_t oy = 0; oy < d.Ho; ++oy) {
      const float* rows[3];
      dw_input_rows<float>(d, oy, row, rows);
      k.dwconv3x3(rows, d.W, E, d.stride, d.pad_left, d.Wo, dw_[i].w.data(), dw_[i].b.data(), row_.data(), 0.f, 6.f);
      observe_rows(obs, pt + 1, row_.data(), d.Wo, E);
      // The residual is input row oy; in place it is the very row being written.
      float* y = out + oy * p.Wo * p.cout;
      k.pwconv(d.Wo, E, p.cout, row_.data(), E, project_[i].w.data(), project_[i].b.data(),
               fb.residual ? in + oy * d.W * cin : nullptr, y, -kInf, kInf);
      observe_rows(obs, pt + 2, y, p.Wo, p.cout);
    }
  }
  // Conv_1 + ReLU6 fused with the global pooling sums: its 1280-wide output is never stored.
  // Calibration needs the values, so observing runs it row by row into head_row_ instead.
  const FoldedConv& h = net_.head;
  const float* in = buf_[plan_.final_buf].data() + plan_.final_off;
  std::fill(pool_.begin(), pool_.end(), 0.f);
  if (!obs) {
    k.pwconv_sum(h.H * h.W, h.cin, h.cout, in, h.cin, head_.w.data(), head_.b.data(), pool_.data(), 0.f, 6.f);
    return;
  }
  for (int64_t y = 0; y < h.H; ++y) {
    float* r = head_row_.data();
    k.pwconv(h.W, h.cin, h.cout, in + y * h.W * h.cin, h.cin, head_.w.data(), head_.b.data(), nullptr, r, 0.f, 6.f);
    observe_rows(obs, activation_points() - 1, r, h.W, h.cout);
    for (int64_t i = 0; i < h.W * h.cout; ++i) pool_[i % h.cout] += r[i];
  }
}

float MobileNetV2Infer::run_one(const float* x, const Observer* obs) {
  run_pool(x, obs);
  const FoldedConv& h = net_.head;
  double acc = 0;
  for (int64_t c = 0; c < h.cout; ++c) acc += static_cast<double>(pool_[c]) * net_.dense_w[c];
  return static_cast<float>(acc / static_cast<double>(h.H * h.W)) + net_.dense_b;
}

void MobileNetV2Infer::features(const float* x, int64_t n, float* out) {
  const FoldedConv& h = net_.head;
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) {
    run_pool(x + i * per, nullptr);
    for (int64_t c = 0; c < h.cout; ++c) out[i * h.cout + c] = pool_[c] / static_cast<float>(h.H * h.W);
  }
}

void MobileNetV2Infer::logits(const float* x, int64_t n, float* out) {
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) out[i] = run_one(x + i * per, nullptr);
}

void MobileNetV2Infer::predict(const float* x, int64_t n, float* out) {
  logits(x, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-out[i]));
}

void MobileNetV2Infer::observe(const float* x, int64_t n, const Observer& obs) {
  head_row_.resize(net_.head.W * net_.head.cout);  // calibration only, not in the inference plan
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) run_one(x + i * per, &obs);
}

Tensor MobileNetV2Infer::forward(const Tensor& x) {
  const Shape want{net_.C, net_.H, net_.W};
  if (x.dim() != 4 || Shape(x.shape().begin() + 1, x.shape().end()) != want)
    fail("MobileNetV2Infer: expected input [N, " + std::to_string(net_.C) + ", " + std::to_string(net_.H) + ", " +
         std::to_string(net_.W) + "], got " + shape_str(x.shape()));
  Tensor y = Tensor::zeros({x.shape()[0], 1});
  predict(x.data(), x.shape()[0], y.data());
  return y;
}

}  // namespace fas
