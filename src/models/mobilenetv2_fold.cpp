#include "models/mobilenetv2_fold.h"

#include <cmath>
#include <map>

#include "models/mobilenetv2_lite.h"

namespace fas {

namespace {

const Tensor& get(const std::map<std::string, Tensor>& sd, const std::string& name, const Shape& shape) {
  auto it = sd.find(name);
  if (it == sd.end()) fail("fold_mobilenetv2: the model has no tensor '" + name + "'");
  if (it->second.shape() != shape)
    fail("fold_mobilenetv2: '" + name + "' has shape " + shape_str(it->second.shape()) + ", expected " +
         shape_str(shape));
  return it->second;
}

// TF "same" for a k x k conv: total padding max((out-1)*stride + k - in, 0), the smaller half
// first. For 3x3 stride 2 this is exactly Keras' correct_pad (tested in test_mobilenet).
int same_pad_before(int64_t in, int64_t out, int k, int stride) {
  return static_cast<int>(std::max<int64_t>((out - 1) * stride + k - in, 0) / 2);
}

FoldedConv fold(const std::map<std::string, Tensor>& sd, const std::string& conv, const std::string& bn,
                int64_t cin, int64_t cout, int k, int stride, bool depthwise, bool relu6, int64_t H, int64_t W,
                float eps) {
  FoldedConv f;
  f.cin = cin, f.cout = cout, f.k = k, f.stride = stride, f.depthwise = depthwise, f.relu6 = relu6;
  f.H = H, f.W = W;
  f.Ho = (H + stride - 1) / stride, f.Wo = (W + stride - 1) / stride;  // "same"
  f.pad_top = same_pad_before(H, f.Ho, k, stride);
  f.pad_left = same_pad_before(W, f.Wo, k, stride);
  const int64_t cpg = depthwise ? 1 : cin;
  const Tensor& w = get(sd, conv + ".weight", {cout, cpg, k, k});
  const float* g = get(sd, bn + ".weight", {cout}).data();
  const float* beta = get(sd, bn + ".bias", {cout}).data();
  const float* mean = get(sd, bn + ".running_mean", {cout}).data();
  const float* var = get(sd, bn + ".running_var", {cout}).data();
  const int64_t per = cpg * k * k;
  f.w.resize(cout * per);
  f.b.resize(cout);
  for (int64_t o = 0; o < cout; ++o) {
    const double s = g[o] / std::sqrt(static_cast<double>(var[o]) + eps);
    for (int64_t i = 0; i < per; ++i) f.w[o * per + i] = static_cast<float>(w.data()[o * per + i] * s);
    f.b[o] = static_cast<float>(beta[o] - mean[o] * s);
  }
  return f;
}

}  // namespace

FoldedMobileNetV2 fold_mobilenetv2(const MobileNetV2Lite& model) {
  const auto& cfg = model.config();
  const auto sd = model.state_dict();
  const float eps = cfg.bn_eps;
  FoldedMobileNetV2 net;
  net.C = cfg.in_channels, net.H = cfg.height, net.W = cfg.width;
  const int64_t stem_ch = make_divisible(32 * cfg.alpha, 8);
  net.stem = fold(sd, "Conv1", "bn_Conv1", net.C, stem_ch, 3, 2, false, true, net.H, net.W, eps);
  int64_t h = net.stem.Ho, w = net.stem.Wo;
  for (const auto& s : mobilenetv2_blocks(cfg.alpha)) {
    const std::string p = s.id == 0 ? "expanded_conv_" : "block_" + std::to_string(s.id) + "_";
    FoldedBlock b;
    if (s.expansion != 1) b.expand = fold(sd, p + "expand", p + "expand_BN", s.in_ch, s.expanded, 1, 1, false, true, h, w, eps);
    b.dw = fold(sd, p + "depthwise", p + "depthwise_BN", s.expanded, s.expanded, 3, s.stride, true, true, h, w, eps);
    b.project = fold(sd, p + "project", p + "project_BN", s.expanded, s.out_ch, 1, 1, false, false, b.dw.Ho,
                     b.dw.Wo, eps);
    b.residual = s.residual;
    h = b.dw.Ho, w = b.dw.Wo;
    net.blocks.push_back(std::move(b));
  }
  const int64_t last_in = net.blocks.back().project.cout;
  const int64_t last_ch = cfg.alpha > 1.0 ? make_divisible(1280 * cfg.alpha, 8) : 1280;
  net.head = fold(sd, "Conv_1", "Conv_1_bn", last_in, last_ch, 1, 1, false, true, h, w, eps);
  const Tensor& dw = get(sd, "Logits.weight", {1, last_ch});
  net.dense_w.assign(dw.data(), dw.data() + last_ch);
  net.dense_b = get(sd, "Logits.bias", {1}).data()[0];
  return net;
}

size_t folded_bytes(const FoldedMobileNetV2& net) {
  size_t n = net.dense_w.size() + 1;
  auto add = [&](const FoldedConv& c) { n += c.w.size() + c.b.size(); };
  add(net.stem), add(net.head);
  for (const FoldedBlock& b : net.blocks) add(b.expand), add(b.dw), add(b.project);
  return n * sizeof(float);
}

}  // namespace fas
