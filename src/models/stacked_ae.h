// Spec 000 (Watman Outon 2019): the CNN8 classifier, the four layer-wise convolutional
// autoencoders AE1..AE4 and the full deep autoencoder, exactly per the spec's layer tables (§1).
// Layers carry Keras names (conv2d_1, activation_1, dropout_1, max_pooling2d_1, up_sampling2d_1,
// flatten_1, dense_1), numbered per model as a fresh Keras session would, so `fas summary`
// prints the thesis' tables. Parameter names are "<keras name>.weight" / ".bias".
//
// Choices where the spec is silent (documented in the spec's ambiguity list):
//   - CNN8 conv activations tanh (weights come from tanh AEs), activation_9 tanh, activation_10
//     softmax; dropout rate is configuration (0 keeps the dropout layers as identities: E1, E2).
//   - AE2..AE4 decoder outputs use tanh: their targets are tanh codes in [-1, 1], which a sigmoid
//     (the thesis' likely copy of AE1, §4.3 Fig 23) cannot reach. AE1 ends in sigmoid (spec).
//   - Deep AE: every conv has its own Activation layer (tanh; sigmoid after the last conv).
//   - Input sizes whose halvings are odd (e.g. 128x128: AE4 sees 2x2 and Keras "same" pooling
//     gives 2 -> 1 -> 1) make x2 upsampling overshoot; each UpSampling2D crops bottom/right to the
//     mirrored encoder size, so every AE reconstructs its own input shape. At 256x256 all sizes are
//     even and no crop happens (the spec's model exactly).
#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv.h"
#include "layers/layers.h"
#include "layers/module.h"

namespace fas {

struct StackedAEConfig {
  int64_t channels = 3, height = 256, width = 256;
  float dropout = 0.25f;  // CNN8 dropout rate (all nine dropout layers); not given in the spec
  Init init = Init::Keras;
  uint64_t seed = 0;
};

// CNN8 filter counts; layer-wise AE k (0-based) owns CNN8 convs 2k and 2k+1.
constexpr std::array<int64_t, 8> kCnn8Filters = {8, 16, 32, 64, 128, 256, 512, 1024};
int64_t keras_same_pool_out(int64_t n);  // ceil(n / 2): MaxPooling2D(2, padding="same")

// Conv2D with the activation inline (Keras Conv2D(..., activation=...)): one summary row, as in
// the spec's AE tables.
class ActConv2d : public Conv2d {
 public:
  ActConv2d(int64_t in_ch, int64_t out_ch, Act act, Init init, Rng& rng);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2D"; }
  Act act;
};

// UpSampling2D((2, 2)), nearest; crops bottom/right to (out_h, out_w) when x2 overshoots.
class UpSampleTo : public UpsampleNearest2d {
 public:
  UpSampleTo(int64_t out_h, int64_t out_w);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "UpSampling2D"; }
  int64_t out_h, out_w;
};

// 8 x [Conv 3x3 same -> tanh -> Dropout -> MaxPool 2x2 same], Flatten, tanh, Dropout, Dense 2,
// softmax. forward() returns probabilities; logits() stops before the softmax (for the loss).
class CNN8 : public Sequential {
 public:
  explicit CNN8(const StackedAEConfig& cfg);
  Tensor logits(const Tensor& x);
  std::string type_name() const override { return "CNN8"; }
  std::vector<std::shared_ptr<Conv2d>> convs;  // conv2d_1..conv2d_8
  std::shared_ptr<Linear> dense;               // dense_1
  StackedAEConfig cfg;
};

// Layer-wise AE k in 1..4: [conv(tanh) -> pool] x2 = code, then [upsample -> conv] x2.
// Its input is the image (k = 1) or the code of AE k-1, whose shape is derived from cfg.
class LayerAE : public Sequential {
 public:
  LayerAE(int k, const StackedAEConfig& cfg);
  Tensor encode(const Tensor& x);     // the "final code": output of the second max-pool
  Tensor decode(const Tensor& code);  // the decoder half: forward(x) = decode(encode(x))
  std::string type_name() const override { return "LayerAE" + std::to_string(k); }
  Shape input_shape(int64_t batch) const { return {batch, in_c, in_h, in_w}; }
  std::shared_ptr<ActConv2d> enc1, enc2, dec1, dec2;
  int k;
  int64_t in_c, in_h, in_w;
};

// Full deep AE (18,877,603 params): CNN8's conv part without dropout, then the decoders of AE4,
// AE3, AE2, AE1 in that order, each conv followed by an Activation layer.
class DeepAE : public Sequential {
 public:
  explicit DeepAE(const StackedAEConfig& cfg);
  Tensor encode(const Tensor& x);  // 1x1x1024 bottleneck (at 256x256 and 128x128 input)
  std::string type_name() const override { return "DeepAE"; }
  std::vector<std::shared_ptr<Conv2d>> encoder_convs, decoder_convs;

 private:
  size_t encoder_layers_ = 0;
};

// Stage k (1..4) of the greedy procedure as one module, the unit `fas train --model stacked-ae
// --set stage=k` trains: AE1..AEk as children "ae1".."aek" with AE1..AE(k-1) frozen (their
// weights come from stage k-1, see load_lower). loss(x) is the MSE of AE k's reconstruction of its
// input (the frozen encoders' code of x) against that input. forward(x) maps AE k's reconstruction
// back to image space through the frozen decoders AE(k-1)..AE1, so a stage is viewable as
// images (and at stage 4 it has the deep AE's layers).
class GreedyStage : public Module {
 public:
  GreedyStage(int k, const StackedAEConfig& cfg);
  Tensor forward(const Tensor& x) override;
  Tensor stage_input(const Tensor& x);  // no gradient
  Tensor reconstruct_input(const Tensor& x);  // AE k's output for stage_input(x)
  Tensor loss(const Tensor& x);
  std::string type_name() const override { return "GreedyStage" + std::to_string(k); }
  // Fills AE1..AE(k-1) from the state dict of a stage >= k-1 (keys "ae<i>.<param>").
  void load_lower(const std::map<std::string, Tensor>& sd);
  std::array<std::shared_ptr<LayerAE>, 4> aes;  // aes[k..3] empty
  int k;
};

// Copies AE k's two encoder convs into CNN8's convs 2k and 2k+1 (§2 weight transfer); the
// decoders are discarded and the dense layer is left as is (new). Shapes are checked.
void transfer_encoders(const std::array<std::shared_ptr<LayerAE>, 4>& aes, CNN8& cnn);

}  // namespace fas
