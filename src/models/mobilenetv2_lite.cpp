#include "models/mobilenetv2_lite.h"

#include <cmath>

namespace fas {

int make_divisible(double v, int divisor, int min_value) {
  if (min_value < 0) min_value = divisor;
  int new_v = std::max(min_value, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;
  return new_v;
}

std::vector<InvertedResidualSpec> mobilenetv2_blocks(double alpha) {
  // (filters, stride, expansion) of keras.applications MobileNetV2, blocks 0..16.
  static const int table[17][3] = {{16, 1, 1},  {24, 2, 6},  {24, 1, 6},  {32, 2, 6},  {32, 1, 6},  {32, 1, 6},
                                   {64, 2, 6},  {64, 1, 6},  {64, 1, 6},  {64, 1, 6},  {96, 1, 6},  {96, 1, 6},
                                   {96, 1, 6},  {160, 2, 6}, {160, 1, 6}, {160, 1, 6}, {320, 1, 6}};
  std::vector<InvertedResidualSpec> out;
  int64_t in_ch = make_divisible(32 * alpha, 8);  // stem filters
  for (int i = 0; i < 17; ++i) {
    // Keras: pointwise_filters = _make_divisible(int(filters * alpha), 8).
    const int64_t out_ch = make_divisible(static_cast<int>(table[i][0] * alpha), 8);
    const int stride = table[i][1], t = table[i][2];
    out.push_back({i, in_ch, in_ch * t, out_ch, stride, t, in_ch == out_ch && stride == 1});
    in_ch = out_ch;
  }
  return out;
}

Tensor MobileNetV2Lite::ConvBn::operator()(const Tensor& x) const {
  Tensor h = (*conv)(pad ? (*pad)(x) : x);
  if (relu && !SummaryTrace::active()) {
    // BN + ReLU6 as one op (ops.h batch_norm's fused clamp): the same numbers, one pass and one
    // tensor fewer. A summary trace still sees the two layers separately.
    BatchNormArgs a = bn->args;
    a.training = bn->is_training();
    a.clamp_lo = 0.f, a.clamp_hi = 6.f;
    return batch_norm(h, bn->weight, bn->bias, bn->running_mean, bn->running_var, a);
  }
  h = (*bn)(h);
  return relu ? (*relu)(h) : h;
}

MobileNetV2Lite::ConvBn MobileNetV2Lite::make_conv_bn(const std::string& conv_name, const std::string& bn_name,
                                                     const std::string& relu_name, int64_t in_ch, int64_t out_ch,
                                                     int k, int stride, bool depthwise, int64_t in_h,
                                                     int64_t in_w, const std::string& pad_name, Rng& rng) {
  ConvBn cb;
  Conv2dOptions o;
  o.kh = o.kw = k;
  o.stride = stride;
  o.groups = depthwise ? static_cast<int>(in_ch) : 1;
  o.bias = false;
  o.init = cfg_.init;
  // Stride 2 (3x3 only in this net): Keras pads with correct_pad then runs a "valid" conv.
  // Stride 1: "same" (pad 1 all round for 3x3, nothing for 1x1).
  o.padding = Padding::Same;
  if (stride == 2 && cfg_.pad_layers) {
    cb.pad = register_module(pad_name, std::make_shared<ZeroPadding2D>(keras_correct_pad(in_h, in_w, k, k)));
    o.padding = Padding::Valid;
  }
  cb.conv = register_module(conv_name, std::make_shared<Conv2d>(in_ch, out_ch, o, rng));
  BatchNormArgs bn;
  bn.momentum = cfg_.bn_momentum;
  bn.convention = MomentumConvention::Keras;
  bn.eps = cfg_.bn_eps;
  cb.bn = register_module(bn_name, std::make_shared<BatchNorm>(out_ch, bn));
  if (!relu_name.empty()) cb.relu = register_module(relu_name, std::make_shared<Activation>(Act::ReLU6));
  return cb;
}

MobileNetV2Lite::MobileNetV2Lite(const MobileNetV2LiteConfig& cfg, Rng& rng) : cfg_(cfg) {
  if (cfg.in_channels < 1 || cfg.height < 1 || cfg.width < 1 || !(cfg.alpha > 0))
    fail("MobileNetV2Lite: bad config: in_channels " + std::to_string(cfg.in_channels) + ", size " +
         std::to_string(cfg.height) + "x" + std::to_string(cfg.width) + ", alpha " + std::to_string(cfg.alpha));
  // Spatial size after a 3x3 conv: stride 2 with correct_pad / "same" gives ceil(n / 2).
  int64_t h = cfg.height, w = cfg.width;
  auto down = [](int64_t n, int stride) { return stride == 2 ? (n + 1) / 2 : n; };

  const int64_t stem_ch = make_divisible(32 * cfg.alpha, 8);
  stem_ = make_conv_bn("Conv1", "bn_Conv1", "Conv1_relu", cfg.in_channels, stem_ch, 3, 2, false, h, w,
                       "Conv1_pad", rng);
  h = down(h, 2), w = down(w, 2);

  for (const auto& s : mobilenetv2_blocks(cfg.alpha)) {
    const std::string p = s.id == 0 ? "expanded_conv_" : "block_" + std::to_string(s.id) + "_";
    Block b;
    b.spec = s;
    if (s.expansion != 1)
      b.expand = make_conv_bn(p + "expand", p + "expand_BN", p + "expand_relu", s.in_ch, s.expanded, 1, 1, false,
                              h, w, "", rng);
    b.depthwise = make_conv_bn(p + "depthwise", p + "depthwise_BN", p + "depthwise_relu", s.expanded, s.expanded, 3,
                               s.stride, true, h, w, p + "pad", rng);
    b.project = make_conv_bn(p + "project", p + "project_BN", "", s.expanded, s.out_ch, 1, 1, false, h, w, "", rng);
    if (s.residual) b.add = register_module(p + "add", std::make_shared<Add>());
    h = down(h, s.stride), w = down(w, s.stride);
    blocks_.push_back(std::move(b));
  }
  // MixStyle after each block that ends a resolution stage (the next block has stride 2), first three.
  mix_after_.assign(blocks_.size(), nullptr);
  if (cfg.mixstyle > 0)
    for (size_t i = 0, k = 0; i + 1 < blocks_.size() && k < 3; ++i)
      if (blocks_[i + 1].spec.stride == 2) {
        ++k;
        mix_after_[i] = register_module("mixstyle_" + std::to_string(k),
                                        std::make_shared<MixStyle>(cfg.mixstyle, cfg.mixstyle_alpha, 0x5717E + k));
      }

  // Keras scales the last conv only for alpha > 1.
  const int64_t last_ch = cfg.alpha > 1.0 ? make_divisible(1280 * cfg.alpha, 8) : 1280;
  head_ = make_conv_bn("Conv_1", "Conv_1_bn", "out_relu", blocks_.back().spec.out_ch, last_ch, 1, 1, false, h, w,
                       "", rng);
  pool_ = register_module("global_average_pooling2d", std::make_shared<GlobalAvgPool2d>());
  logits_ = register_module("Logits", std::make_shared<Linear>(last_ch, 1, rng, true, cfg.init));
}

Tensor MobileNetV2Lite::forward_logits(const Tensor& x, const std::vector<float>* labels) {
  const bool patch = is_training() && cfg_.train_patch > 0;
  const Shape want{cfg_.in_channels, patch ? cfg_.train_patch : cfg_.height, patch ? cfg_.train_patch : cfg_.width};
  if (x.dim() != 4 || Shape(x.shape().begin() + 1, x.shape().end()) != want)
    fail("MobileNetV2Lite: expected input [N, " + std::to_string(want[0]) + ", " + std::to_string(want[1]) + ", " +
         std::to_string(want[2]) + "]" + (patch ? " (training patches)" : "") + ", got " + shape_str(x.shape()));
  if (is_training() || !cfg_.eval_tiles || cfg_.train_patch <= 0) return body_logits(x, labels);
  // Tiled evaluation: [N, C, H, W] -> [N*T, C, P, P] tiles -> logits -> mean over each image's T.
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), P = cfg_.train_patch;
  const int64_t ty = H / P, tx = W / P, T = ty * tx;
  Tensor tiles = Tensor::uninit({N * T, C, P, P});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t r = 0; r < P; ++r) {
          const float* src = x.data() + ((n * C + c) * H + (t / tx) * P + r) * W + (t % tx) * P;
          std::copy(src, src + P, tiles.data() + (((n * T + t) * C + c) * P + r) * P);
        }
  return mul_scalar(sum_dim(body_logits(tiles, nullptr).reshape({N, T}), 1, true), 1.f / (float)T);
}

Tensor MobileNetV2Lite::body_logits(const Tensor& x, const std::vector<float>* labels) {
  Tensor h = stem_(x);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    Tensor y = b.expand.conv ? b.expand(h) : h;
    y = b.project(b.depthwise(y));
    h = b.add ? (*b.add)(h, y) : y;  // Keras: Add()([inputs, x])
    if (mix_after_[i]) h = mix_after_[i]->forward(h, cfg_.mixstyle_by_label ? labels : nullptr);
  }
  return (*logits_)((*pool_)(head_(h)));
}

// The sigmoid belongs to the Keras "Logits" Dense layer (activation='sigmoid'), so it is not a
// row of its own in the summary.
Tensor MobileNetV2Lite::forward(const Tensor& x) { return sigmoid(forward_logits(x)); }

}  // namespace fas
