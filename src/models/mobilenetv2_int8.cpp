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
  buf_[0].assign(plan_.buf[0], 0);
  buf_[1].assign(plan_.buf[1], 0);
  ring_.assign(plan_.ring, 0);
  row_.assign(plan_.row, 0);
  head_row_.assign(net_.head.W * net_.head.cout, 0);
  stem_row_.assign(net_.stem.Wo * net_.stem.cout, 0.f);
  pool_.assign(net_.head.cout, 0);
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
  return buf_[0].size() + buf_[1].size() + ring_.size() + row_.size() + head_row_.size() +
         sizeof(float) * stem_row_.size() + sizeof(int32_t) * pool_.size();
}

void MobileNetV2Int8::run_pool(const float* x) {
  const Isa isa = active_isa();
  const NhwcKernels kf = nhwc_kernels(isa);
  const Qs8Kernels k = qs8_kernels(isa);
  const FoldedConv& s = net_.stem;
  int8_t* stem_out = buf_[0].data() + plan_.stem_off;
  for (int64_t oy = 0; oy < s.Ho; ++oy) {
    const float* rows[3];
    dw_input_rows<float>(s, oy, [&](int64_t iy) { return x + iy * s.W; }, rows);
    kf.conv3x3(rows, s.W, s.cin, 1, s.H * s.W, s.stride, s.pad_left, s.Wo, s.cout, stem_w_.data(), stem_b_.data(),
               stem_row_.data(), 0.f, 6.f);
    k.quantize(s.Wo * s.cout, stem_row_.data(), 1.f / act_scale_[1][0], stem_out + oy * s.Wo * s.cout);
  }
  for (size_t i = 0; i < net_.blocks.size(); ++i) {
    const FoldedBlock& fb = net_.blocks[i];
    const MobileNetV2Plan::Step& st = plan_.steps[i];
    const FoldedConv &e = fb.expand, &d = fb.dw, &p = fb.project;
    const Conv &qe = expand_[i], &qd = dw_[i], &qp = project_[i];
    const int8_t* in = buf_[st.src].data() + st.src_off;
    int8_t* out = buf_[st.dst].data() + st.dst_off;
    const int64_t cin = e.defined() ? e.cin : d.cin, E = d.cout;
    int64_t next = 0;
    auto row = [&](int64_t iy) -> const int8_t* {
      if (!e.defined()) return in + iy * d.W * cin;
      for (; next <= iy; ++next)
        k.pwconv(d.W, cin, E, in + next * d.W * cin, cin, qe.w.data(), qe.scale.data(), qe.bias.data(), nullptr, 0.f,
                 ring_.data() + (next % 3) * d.W * E, qe.lo, qe.hi);
      return ring_.data() + (iy % 3) * d.W * E;
    };
    for (int64_t oy = 0; oy < d.Ho; ++oy) {
      const int8_t* rows[3];
      dw_input_rows<int8_t>(d, oy, row, rows);
      k.dwconv3x3(rows, d.W, E, d.stride, d.pad_left, d.Wo, qd.w.data(), qd.scale.data(), qd.bias.data(), row_.data(),
                  qd.lo, qd.hi);
      k.pwconv(d.Wo, E, p.cout, row_.data(), E, qp.w.data(), qp.scale.data(), qp.bias.data(),
               fb.residual ? in + oy * d.W * cin : nullptr, res_scale_[i], out + oy * p.Wo * p.cout, qp.lo, qp.hi);
    }
  }
  const FoldedConv& h = net_.head;
  const int8_t* in = buf_[plan_.final_buf].data() + plan_.final_off;
  std::fill(pool_.begin(), pool_.end(), 0);
  for (int64_t y = 0; y < h.H; ++y) {
    k.pwconv(h.W, h.cin, h.cout, in + y * h.W * h.cin, h.cin, head_.w.data(), head_.scale.data(), head_.bias.data(),
             nullptr, 0.f, head_row_.data(), head_.lo, head_.hi);
    for (int64_t xx = 0; xx < h.W; ++xx) {
      const int8_t* r = head_row_.data() + xx * h.cout;
      for (int64_t c = 0; c < h.cout; ++c) pool_[c] += r[c];
    }
  }
}

float MobileNetV2Int8::run_one(const float* x) {
  run_pool(x);
  const FoldedConv& h = net_.head;
  double acc = 0;
  const std::vector<float>& s_head = act_scale_.back();
  for (int64_t c = 0; c < h.cout; ++c) acc += static_cast<double>(pool_[c]) * s_head[c] * net_.dense_w[c];
  return static_cast<float>(acc / static_cast<double>(h.H * h.W)) + net_.dense_b;
}

void MobileNetV2Int8::logits(const float* x, int64_t n, float* out) {
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) out[i] = run_one(x + i * per);
}

void MobileNetV2Int8::features(const float* x, int64_t n, float* out) {
  const FoldedConv& h = net_.head;
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) {
    run_pool(x + i * per);
    for (int64_t c = 0; c < h.cout; ++c)
      out[i * h.cout + c] = pool_[c] * act_scale_.back()[c] / static_cast<float>(h.H * h.W);
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
