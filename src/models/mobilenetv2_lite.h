// MobileNetV2 with width multiplier alpha = 0.1, built exactly like Keras'
// applications.MobileNetV2 (keras-applications 1.0.7/1.0.8, the version with explicit
// Conv1_pad / block_N_pad layers) as used by spec 003 (§4): stem conv 3x3/2, 17 inverted
// residual blocks, Conv_1 1x1 to 1280, global average pooling, Dense(1) + sigmoid.
//
// Output: P(live). Spec 003 §2.5/§4.3: label 1 = live (bona fide), 0 = spoof (print, mask);
// the sigmoid gives "0 (input classified as spoof) to 1 (input classified as real)".
// The NUAA lists use the same convention (1 = live).
//
// Layer names are Keras' (Conv1, bn_Conv1, expanded_conv_depthwise, block_1_expand, ...), all
// registered flat on the model, so parameters are "Conv1.weight", "bn_Conv1.running_mean", ... and
// the summary reads like Keras'. Weight layouts are PyTorch's (OIHW); a Keras HWIO kernel maps by
// transposition.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "layers/add.h"
#include "layers/conv.h"
#include "layers/layers.h"
#include "layers/zero_pad.h"
#include "tensor/random.h"

namespace fas {

struct MobileNetV2LiteConfig {
  int64_t in_channels = 3;  // thesis: 2 (two NIR frames); NUAA RGB crops: 3; greyscale: 1
  int64_t height = 128;     // thesis face 250x200, eye 48x48. The net is size-agnostic
  int64_t width = 128;      // (global pooling); the size is fixed so inputs are checked.
  double alpha = 0.1;       // width multiplier
  // Keras BatchNormalization(epsilon=1e-3, momentum=0.999): moving = 0.999 moving + 0.001 batch.
  float bn_momentum = 0.999f;
  float bn_eps = 1e-3f;
  // true: Keras' ZeroPadding2D(correct_pad) + "valid" conv before every stride-2 conv (the
  // summary then lists Conv1_pad / block_N_pad like Keras). false: the conv pads itself with
  // TF "same", which is the identical computation for 3x3 stride 2 (keras_correct_pad test)
  // without the padded copy.
  bool pad_layers = true;
  Init init = Init::Keras;  // glorot_uniform kernels, zero Dense bias (Keras defaults, §4.5)
  // > 0: in training mode the input is a train_patch x train_patch window of the image (patch
  // training: the loader crops, io/dataset.h LoaderOptions::patch); evaluation still takes the
  // whole height x width image, which the global pooling allows. 0: every input is checked
  // against height x width.
  int64_t train_patch = 0;
  // With train_patch > 0: evaluation scores an image by the mean logit of its non-overlapping
  // train_patch tiles (a floor(H/P) x floor(W/P) grid from the top-left corner), i.e. on inputs
  // like the training ones, instead of the whole image at once. Close to the training inputs,
  // not equal: the loader normalises the whole image here (e.g. band's standardisation) but
  // each patch in training. Graph only (the deployment engines refuse it).
  bool eval_tiles = false;
  // > 0: MixStyle (layers.h) with this probability after the last block of each of the first
  // three resolution stages (blocks 0, 2, 5), as the paper places it after a ResNet's first
  // three stages. Training only; no parameters, so inference, checkpoints and engines are
  // unchanged. mixstyle_by_label: partners share the label (forward_logits' labels).
  float mixstyle = 0.f;
  float mixstyle_alpha = 0.1f;
  bool mixstyle_by_label = true;
};

// keras.applications _make_divisible: round v to the nearest multiple of divisor (at least
// min_value, default divisor), adding one divisor if that lost more than 10 %.
int make_divisible(double v, int divisor = 8, int min_value = -1);

// One inverted-residual block as Keras builds it for the given alpha.
struct InvertedResidualSpec {
  int id;              // 0..16; Keras prefix "expanded_conv_" for 0, "block_<id>_" otherwise
  int64_t in_ch, expanded, out_ch;
  int stride, expansion;
  bool residual;       // in_ch == out_ch && stride == 1 (block 0 included at alpha = 0.1)
};
std::vector<InvertedResidualSpec> mobilenetv2_blocks(double alpha);

class MobileNetV2Lite : public Module {
 public:
  MobileNetV2Lite(const MobileNetV2LiteConfig& cfg, Rng& rng);
  // x [N, in_channels, height, width] -> P(live) [N, 1].
  Tensor forward(const Tensor& x) override;
  // The Dense output before the sigmoid, [N, 1]: train with bce_with_logits on this (the same
  // loss as Keras' clipped BCE on the sigmoid, without the clipping).
  // labels [N] (1 live): the groups of label-preserving MixStyle; null = partners from the batch.
  Tensor forward_logits(const Tensor& x, const std::vector<float>* labels = nullptr);
  std::string type_name() const override { return "MobileNetV2Lite"; }
  const MobileNetV2LiteConfig& config() const { return cfg_; }

 private:
  struct ConvBn {  // conv -> BN [-> ReLU6]
    std::shared_ptr<ZeroPadding2D> pad;  // only before stride-2 convs when cfg.pad_layers
    std::shared_ptr<Conv2d> conv;
    std::shared_ptr<BatchNorm> bn;
    std::shared_ptr<Activation> relu;  // null for the linear bottleneck (project)
    Tensor operator()(const Tensor& x) const;
  };
  struct Block {
    InvertedResidualSpec spec;
    ConvBn expand, depthwise, project;  // expand.conv is null in block 0 (expansion 1)
    std::shared_ptr<Add> add;           // null without residual
  };
  Tensor body_logits(const Tensor& x, const std::vector<float>* labels);  // stem .. Dense, checked input
  ConvBn make_conv_bn(const std::string& conv_name, const std::string& bn_name, const std::string& relu_name,
                      int64_t in_ch, int64_t out_ch, int k, int stride, bool depthwise, int64_t in_h,
                      int64_t in_w, const std::string& pad_name, Rng& rng);

  MobileNetV2LiteConfig cfg_;
  ConvBn stem_, head_;
  std::vector<Block> blocks_;
  std::vector<std::shared_ptr<MixStyle>> mix_after_;  // per block; null where there is none
  std::shared_ptr<GlobalAvgPool2d> pool_;
  std::shared_ptr<Linear> logits_;
};

}  // namespace fas
