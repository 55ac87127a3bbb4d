#include "models/stacked_ae.h"

#include <map>

#include "autograd/graph.h"
#include "autograd/ops.h"

namespace fas {

namespace {

// Keras' per-type layer counters ("conv2d_3"), per model.
class KerasNames {
 public:
  std::string operator()(const std::string& base) { return base + "_" + std::to_string(++n_[base]); }

 private:
  std::map<std::string, int> n_;
};

// Channel plan of layer-wise AE k (1-based): input, encoder conv 1, encoder conv 2 (= code).
struct AePlan {
  int64_t in, e1, e2;
};
AePlan ae_plan(int k) {
  static const AePlan plans[4] = {{3, 8, 16}, {16, 32, 64}, {64, 128, 256}, {256, 512, 1024}};
  if (k < 1 || k > 4) fail("LayerAE: stage must be 1..4, got " + std::to_string(k));
  return plans[k - 1];
}

// Spatial size after n Keras "same" 2x2 poolings.
int64_t pooled(int64_t s, int n) {
  for (int i = 0; i < n; ++i) s = keras_same_pool_out(s);
  return s;
}

void check_input(const StackedAEConfig& cfg, const char* who) {
  if (cfg.channels <= 0 || cfg.height <= 0 || cfg.width <= 0)
    fail(std::string(who) + ": input must be positive, got " + std::to_string(cfg.channels) + "x" +
         std::to_string(cfg.height) + "x" + std::to_string(cfg.width));
}

std::shared_ptr<MaxPool2d> same_pool() { return std::make_shared<MaxPool2d>(2, 2, Padding::Same); }

Conv2dOptions conv3x3_same(Init init) {
  Conv2dOptions o;
  o.kh = o.kw = 3;
  o.stride = 1;
  o.padding = Padding::Same;
  o.bias = true;
  o.init = init;
  return o;
}

}  // namespace

int64_t keras_same_pool_out(int64_t n) { return (n + 1) / 2; }

ActConv2d::ActConv2d(int64_t in_ch, int64_t out_ch, Act a, Init init, Rng& rng)
    : Conv2d(in_ch, out_ch, conv3x3_same(init), rng), act(a) {}

Tensor ActConv2d::forward(const Tensor& x) {
  Tensor y = Conv2d::forward(x);
  switch (act) {
    case Act::Tanh: return tanh(y);
    case Act::Sigmoid: return sigmoid(y);
    default: fail("ActConv2d: only tanh and sigmoid are used by spec 000");
  }
}

UpSampleTo::UpSampleTo(int64_t h, int64_t w) : UpsampleNearest2d(2), out_h(h), out_w(w) {}

Tensor UpSampleTo::forward(const Tensor& x) {
  Tensor y = UpsampleNearest2d::forward(x);
  if (y.dim() != 4 || y.size(2) < out_h || y.size(3) < out_w)
    fail("UpSampling2D: input " + shape_str(x.shape()) + " does not upsample to " +
         std::to_string(out_h) + "x" + std::to_string(out_w));
  if (y.size(2) > out_h) y = split(y, {out_h, y.size(2) - out_h}, 2)[0];
  if (y.size(3) > out_w) y = split(y, {out_w, y.size(3) - out_w}, 3)[0];
  return y;
}

// ------------------------------------------------------------------------------------ CNN8

CNN8::CNN8(const StackedAEConfig& c) : cfg(c) {
  check_input(cfg, "CNN8");
  Rng rng(cfg.seed);
  KerasNames name;
  uint64_t drop_seed = cfg.seed * 1000003 + 17;
  int64_t in = cfg.channels;
  for (int64_t f : kCnn8Filters) {
    convs.push_back(add(name("conv2d"), std::make_shared<Conv2d>(in, f, conv3x3_same(cfg.init), rng)));
    add(name("activation"), std::make_shared<Activation>(Act::Tanh));
    add(name("dropout"), std::make_shared<Dropout>(cfg.dropout, drop_seed++));
    add(name("max_pooling2d"), same_pool());
    in = f;
  }
  const int64_t flat = in * pooled(cfg.height, 8) * pooled(cfg.width, 8);
  add(name("flatten"), std::make_shared<Flatten>());
  add(name("activation"), std::make_shared<Activation>(Act::Tanh));
  add(name("dropout"), std::make_shared<Dropout>(cfg.dropout, drop_seed++));
  dense = add(name("dense"), std::make_shared<Linear>(flat, 2, rng, true, cfg.init));
  add(name("activation"), std::make_shared<Activation>(Act::Softmax));
}

Tensor CNN8::logits(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i + 1 < size(); ++i) h = (*at(i))(h);
  return h;
}

// ---------------------------------------------------------------------------- layer-wise AE

LayerAE::LayerAE(int stage, const StackedAEConfig& cfg) : k(stage) {
  check_input(cfg, "LayerAE");
  const AePlan p = ae_plan(k);
  // AE k sees the image after 2(k-1) poolings (AE1: the image itself).
  in_c = k == 1 ? cfg.channels : p.in;
  in_h = pooled(cfg.height, 2 * (k - 1));
  in_w = pooled(cfg.width, 2 * (k - 1));
  Rng rng(cfg.seed + 7919 * k);
  KerasNames name;
  enc1 = add(name("conv2d"), std::make_shared<ActConv2d>(in_c, p.e1, Act::Tanh, cfg.init, rng));
  add(name("max_pooling2d"), same_pool());
  enc2 = add(name("conv2d"), std::make_shared<ActConv2d>(p.e1, p.e2, Act::Tanh, cfg.init, rng));
  add(name("max_pooling2d"), same_pool());
  add(name("up_sampling2d"), std::make_shared<UpSampleTo>(pooled(in_h, 1), pooled(in_w, 1)));
  dec1 = add(name("conv2d"), std::make_shared<ActConv2d>(p.e2, p.e2, Act::Tanh, cfg.init, rng));
  add(name("up_sampling2d"), std::make_shared<UpSampleTo>(in_h, in_w));
  dec2 = add(name("conv2d"), std::make_shared<ActConv2d>(p.e2, in_c, k == 1 ? Act::Sigmoid : Act::Tanh,
                                                         cfg.init, rng));
}

Tensor LayerAE::encode(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < 4; ++i) h = (*at(i))(h);  // conv, pool, conv, pool
  return h;
}

Tensor LayerAE::decode(const Tensor& code) {
  Tensor h = code;
  for (size_t i = 4; i < size(); ++i) h = (*at(i))(h);  // up, conv, up, conv
  return h;
}

// -------------------------------------------------------------------------------- deep AE

DeepAE::DeepAE(const StackedAEConfig& cfg) {
  check_input(cfg, "DeepAE");
  Rng rng(cfg.seed);
  KerasNames name;
  int64_t in = cfg.channels;
  for (int64_t f : kCnn8Filters) {
    encoder_convs.push_back(add(name("conv2d"), std::make_shared<Conv2d>(in, f, conv3x3_same(cfg.init), rng)));
    add(name("activation"), std::make_shared<Activation>(Act::Tanh));
    add(name("max_pooling2d"), same_pool());
    in = f;
  }
  encoder_layers_ = size();
  // Decoders of AE4, AE3, AE2, AE1: [up -> conv(c2 -> c2) -> act -> up -> conv(c2 -> c_in) -> act],
  // c2 = AE k's code channels = AE k+1's input channels.
  for (int k = 4; k >= 1; --k) {
    const AePlan p = ae_plan(k);
    const int64_t out_c = k == 1 ? cfg.channels : p.in;
    for (int j = 0; j < 2; ++j) {
      const int pools = 2 * (k - 1) + (j == 0 ? 1 : 0);  // mirrored encoder size
      add(name("up_sampling2d"), std::make_shared<UpSampleTo>(pooled(cfg.height, pools), pooled(cfg.width, pools)));
      const int64_t co = j == 0 ? p.e2 : out_c;
      decoder_convs.push_back(
          add(name("conv2d"), std::make_shared<Conv2d>(p.e2, co, conv3x3_same(cfg.init), rng)));
      add(name("activation"), std::make_shared<Activation>(k == 1 && j == 1 ? Act::Sigmoid : Act::Tanh));
    }
  }
}

Tensor DeepAE::encode(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < encoder_layers_; ++i) h = (*at(i))(h);
  return h;
}

// ------------------------------------------------------------------------- greedy stage

GreedyStage::GreedyStage(int stage, const StackedAEConfig& cfg) : k(stage) {
  ae_plan(k);  // validates k
  for (int i = 1; i <= k; ++i) {
    aes[i - 1] = register_module("ae" + std::to_string(i), std::make_shared<LayerAE>(i, cfg));
    if (i < k) aes[i - 1]->freeze();
  }
}

Tensor GreedyStage::stage_input(const Tensor& x) {
  NoGradGuard ng;
  Tensor h = x;
  for (int i = 0; i + 1 < k; ++i) {
    aes[i]->eval();  // frozen encoders: never in training mode
    h = aes[i]->encode(h);
  }
  return h;
}

Tensor GreedyStage::reconstruct_input(const Tensor& x) { return (*aes[k - 1])(stage_input(x)); }

Tensor GreedyStage::forward(const Tensor& x) {
  Tensor h = reconstruct_input(x);
  for (int i = k - 2; i >= 0; --i) h = aes[i]->decode(h);
  return h;
}

Tensor GreedyStage::loss(const Tensor& x) {
  Tensor in = stage_input(x);
  return mse_loss((*aes[k - 1])(in), in);
}

void GreedyStage::load_lower(const std::map<std::string, Tensor>& sd) {
  for (int i = 0; i + 1 < k; ++i) {
    const std::string prefix = "ae" + std::to_string(i + 1) + ".";
    std::map<std::string, Tensor> mine;
    for (auto& [n, t] : sd)
      if (n.compare(0, prefix.size(), prefix) == 0) mine[n.substr(prefix.size())] = t;
    if (mine.empty()) fail("GreedyStage " + std::to_string(k) + ": the previous stage has no AE" + std::to_string(i + 1));
    aes[i]->load_state_dict(mine);
  }
}

// -------------------------------------------------------------------------- weight transfer

void transfer_encoders(const std::array<std::shared_ptr<LayerAE>, 4>& aes, CNN8& cnn) {
  for (int k = 0; k < 4; ++k) {
    if (!aes[k]) fail("transfer_encoders: AE" + std::to_string(k + 1) + " is missing");
    const std::shared_ptr<ActConv2d> src[2] = {aes[k]->enc1, aes[k]->enc2};
    for (int j = 0; j < 2; ++j) {
      Conv2d& dst = *cnn.convs[2 * k + j];
      if (dst.weight.shape() != src[j]->weight.shape())
        fail("transfer_encoders: AE" + std::to_string(k + 1) + " conv " + std::to_string(j + 1) + " weight " +
             shape_str(src[j]->weight.shape()) + " does not fit CNN8 conv2d_" + std::to_string(2 * k + j + 1) +
             " " + shape_str(dst.weight.shape()));
      copy_into(dst.weight, src[j]->weight);
      copy_into(dst.bias, src[j]->bias);
    }
  }
}

}  // namespace fas
