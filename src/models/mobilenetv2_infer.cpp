#include "models/mobilenetv2_infer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/nhwc.h"
#include "tensor/tensor.h"

namespace fas {

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
  auto view = [](const Packed& p) { return F32ConvView{p.w.empty() ? nullptr : p.w.data(), p.b.empty() ? nullptr : p.b.data()}; };
  for (size_t i = 0; i < net_.blocks.size(); ++i) {
    expand_v_.push_back(view(expand_[i]));
    dw_v_.push_back(view(dw_[i]));
    project_v_.push_back(view(project_[i]));
  }
  view_.net = &net_;
  view_.plan = &plan_;
  view_.stem = view(stem_);
  view_.head = view(head_);
  view_.expand = expand_v_.data(), view_.dw = dw_v_.data(), view_.project = project_v_.data();
  view_.dense_w = net_.dense_w.data();
  view_.dense_b = net_.dense_b;
  view_.buf[0] = buf_[0].data(), view_.buf[1] = buf_[1].data();
  view_.ring = ring_.data(), view_.row = row_.data(), view_.pool = pool_.data();
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

void MobileNetV2Infer::features(const float* x, int64_t n, float* out) {
  const FoldedConv& h = net_.head;
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) {
    mnv2_f32_pool(view_, x + i * per, nullptr);
    for (int64_t c = 0; c < h.cout; ++c) out[i * h.cout + c] = pool_[c] / static_cast<float>(h.H * h.W);
  }
}

void MobileNetV2Infer::logits(const float* x, int64_t n, float* out) {
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) out[i] = mnv2_f32_logit(view_, x + i * per);
}

void MobileNetV2Infer::predict(const float* x, int64_t n, float* out) {
  logits(x, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-out[i]));
}

void MobileNetV2Infer::observe(const float* x, int64_t n, const Observer& obs) {
  head_row_.resize(net_.head.W * net_.head.cout);  // calibration only, not in the inference plan
  view_.head_row = head_row_.data();
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) mnv2_f32_pool(view_, x + i * per, &obs);
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
