#include "models/mobilenetv2_int8.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/nhwc.h"
#include "kernels/qs8_nhwc.h"
#include "models/mobilenetv2_infer.h"

namespace fas {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
float scale_of(float amax) { return amax > 0 ? amax / 127.f : 1.f; }
}  // namespace

MobileNetV2Int8::Conv MobileNetV2Int8::make_conv(const FoldedConv& c, const std::vector<float>& s_in,
                                                const std::vector<float>& s_out) {
  Conv q;
  if (!c.defined()) return q;
  const int64_t K = c.depthwise ? 9 : c.cin;  // 1x1 or depthwise 3x3 only
  std::vector<float> w = c.w;                 // fold the input scales into the weights
  for (int64_t o = 0; o < c.cout; ++o)
    for (int64_t k = 0; k < K; ++k) w[o * K + k] *= s_in[c.depthwise ? o : k];
  const Qs8Weights qw = qs8_quantize_weights(w.data(), c.cout, K);
  q.w = c.depthwise ? qs8_pack_dw3x3(qw, c.cout) : qs8_pack_pw(qw, c.cout, K);
  q.scale.assign(nhwc_pad_ch(c.cout), 0.f);
  q.bias.assign(nhwc_pad_ch(c.cout), 0.f);
  for (int64_t o = 0; o < c.cout; ++o) {
    q.scale[o] = qw.scale[o] / s_out[o];
    q.bias[o] = c.b[o] / s_out[o];
  }
  q.lo = c.relu6 ? 0.f : -kInf;
  q.hi = kInf;  // ReLU6's 6 is at or beyond saturation (see header)
  return q;
}

namespace {

// Per quantisation point: the clipping threshold T of |a| over the calibration images.
std::vector<float> calibrate(MobileNetV2Infer& f32, const float* x, int64_t n, const Int8Options& opt) {
  const size_t points = f32.activation_points();
  std::vector<float> amax(points, 0.f);
  f32.observe(x, n, [&](size_t p, const float* v, int64_t pixels, int64_t channels) {
    for (int64_t i = 0; i < pixels * channels; ++i) amax[p] = std::max(amax[p], std::fabs(v[i]));
  });
  if (opt.calibration == Int8Calibration::MaxAbs) return amax;
  if (!(opt.percentile > 0 && opt.percentile <= 100))
    fail("MobileNetV2Int8: percentile must be in (0, 100], got " + std::to_string(opt.percentile));
  // Second pass: a histogram of |a| on [0, max] per point, then the percentile's bin edge.
  constexpr int kBins = 4096;
  std::vector<std::vector<int64_t>> hist(points, std::vector<int64_t>(kBins, 0));
  f32.observe(x, n, [&](size_t p, const float* v, int64_t pixels, int64_t channels) {
    if (amax[p] <= 0) return;
    const float to_bin = kBins / amax[p];
    for (int64_t i = 0; i < pixels * channels; ++i)
      ++hist[p][std::min(kBins - 1, static_cast<int>(std::fabs(v[i]) * to_bin))];
  });
  std::vector<float> t(points, 0.f);
  for (size_t p = 0; p < points; ++p) {
    int64_t total = 0, cum = 0;
    for (int64_t c : hist[p]) total += c;
    int b = 0;
    for (; b < kBins; ++b)
      if ((cum += hist[p][b]) >= opt.percentile / 100.0 * total) break;
    t[p] = amax[p] * std::min(kBins, b + 1) / kBins;
  }
  return t;
}

}  // namespace

MobileNetV2Int8::MobileNetV2Int8(FoldedMobileNetV2 net, const float* calib, int64_t n, Int8Options opt)
    : net_(std::move(net)), plan_(plan_mobilenetv2(net_)) {
  if (n < 1) fail("MobileNetV2Int8: calibration needs at least one image");
  {
    MobileNetV2Infer f32(net_);
    const std::vector<float> t = calibrate(f32, calib, n, opt);
    // Channel counts per point (the scale vectors are indexed by channel when folding).
    std::vector<int64_t> ch{1, net_.stem.cout};
    for (const auto& b : net_.blocks) ch.insert(ch.end(), {b.expand.cout, b.dw.cout, b.project.cout});
    ch.push_back(net_.head.cout);
    for (size_t p = 0; p < t.size(); ++p) act_scale_.push_back(std::vector<float>(ch[p], scale_of(t[p])));
  }
  stem_w_ = pack_conv3x3_weights(net_.stem.w.data(), net_.stem.cout, net_.stem.cin, nullptr);
  stem_b_ = pack_bias(net_.stem.b.data(), net_.stem.cout);
  const std::vector<float>* s_in = &act_scale_[1];
  for (size_t i = 0; i < net_.blocks.size(); ++i) {
    const FoldedBlock& fb = net_.blocks[i];
    const auto &s_e = act_scale_[2 + 3 * i], &s_d = act_scale_[3 + 3 * i], &s_o = act_scale_[4 + 3 * i];
    expand_.push_back(make_conv(fb.expand, *s_in, s_e));
    dw_.push_back(make_conv(fb.dw, fb.expand.defined() ? s_e : *s_in, s_d));
    project_.push_back(make_conv(fb.project, s_d, s_o));
    res_scale_.push_back((*s_in)[0] / s_o[0]);  // per-tensor scales
    s_in = &s_o;
  }
  head_ = make_conv(net_.head, *s_in, act_scale_.back());
  auto view = [](const Conv& c) {
    return Q8ConvView{c.w.empty() ? nullptr : c.w.data(), c.scale.empty() ? nullptr : c.scale.data(),
                      c.bias.empty() ? nullptr : c.bias.data(), c.lo, c.hi};
  };
  for (size_t i = 0; i < net_.blocks.size(); ++i) {
    expand_v_.push_back(view(expand_[i]));
    dw_v_.push_back(view(dw_[i]));
    project_v_.push_back(view(project_[i]));
  }
  Mnv2Q8View& v = view_;
  v.net = &net_, v.plan = &plan_;
  v.stem = {stem_w_.data(), stem_b_.data()};
  v.stem_scale = act_scale_[1][0];
  v.expand = expand_v_.data(), v.dw = dw_v_.data(), v.project = project_v_.data();
  v.res_scale = res_scale_.data();
  v.head = view(head_);
  v.head_scale = act_scale_.back().data();
  v.dense_w = net_.dense_w.data(), v.dense_b = net_.dense_b;
  Carver count;
  mnv2_carve_q8(count, net_, plan_, v);
  arena_ = AlignedBlock(count.used);
  Carver carve{arena_.data()};
  mnv2_carve_q8(carve, net_, plan_, v);
}

size_t MobileNetV2Int8::weight_bytes() const {
  size_t n = sizeof(float) * (stem_w_.size() + stem_b_.size() + res_scale_.size()) + folded_bytes(net_);
  auto add = [&](const Conv& c) { n += sizeof(int16_t) * c.w.size() + sizeof(float) * (c.scale.size() + c.bias.size()); };
  for (const auto* v : {&expand_, &dw_, &project_})
    for (const Conv& c : *v) add(c);
  add(head_);
  return n;
}

size_t MobileNetV2Int8::activation_bytes() const {
  return plan_.buf[0] + plan_.buf[1] + plan_.ring + plan_.row + net_.head.W * net_.head.cout +
         sizeof(float) * net_.stem.Wo * net_.stem.cout + sizeof(int32_t) * net_.head.cout;
}

void MobileNetV2Int8::logits(const float* x, int64_t n, float* out) {
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) out[i] = mnv2_q8_logit(view_, x + i * per);
}

void MobileNetV2Int8::features(const float* x, int64_t n, float* out) {
  const FoldedConv& h = net_.head;
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) {
    mnv2_q8_pool(view_, x + i * per);
    for (int64_t c = 0; c < h.cout; ++c)
      out[i * h.cout + c] = view_.pool[c] * act_scale_.back()[c] / static_cast<float>(h.H * h.W);
  }
}

void MobileNetV2Int8::predict(const float* x, int64_t n, float* out) {
  logits(x, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-out[i]));
}

Int8Agreement int8_agreement(MobileNetV2Infer& f32, MobileNetV2Int8& q8, const float* x, int64_t n, float threshold) {
  Int8Agreement a;
  a.n = n;
  if (n < 1) return a;
  const auto& net = f32.folded();
  const int64_t per = net.C * net.H * net.W;
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) {
    float lf, lq;
    f32.logits(x + i * per, 1, &lf);
    q8.logits(x + i * per, 1, &lq);
    const double pf = 1 / (1 + std::exp(-double(lf))), pq = 1 / (1 + std::exp(-double(lq)));
    same += (pf >= threshold) == (pq >= threshold);
    a.max_abs_prob_diff = std::max(a.max_abs_prob_diff, std::fabs(pf - pq));
    a.mean_abs_prob_diff += std::fabs(pf - pq) / n;
    a.max_abs_logit_diff = std::max(a.max_abs_logit_diff, std::fabs(double(lf) - lq));
  }
  a.decision_agreement = double(same) / n;
  return a;
}

}  // namespace fas
