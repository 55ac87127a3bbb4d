// Conv2d / ConvTranspose2d modules over autograd/ops.h. Parameter names and layouts follow
// PyTorch ("weight" [out, in/groups, kh, kw] resp. [in, out/groups, kh, kw], "bias" [out]),
// so PyTorch state dicts load one to one; padding follows Keras ("same"/"valid").
#pragma once
#include "autograd/ops.h"
#include "layers/module.h"
#include "tensor/random.h"

namespace fas {

// Everything conv2d takes (Conv2dArgs): `stride`, `dilation` and `pad` set both axes / all four
// sides; the per-axis and per-side fields, when set, override them for their axis or side.
struct Conv2dOptions {
  int kh = 3, kw = 3, stride = 1;
  Padding padding = Padding::Same;  // Same: TF rule from the actual input size (asymmetric when odd)
  int pad = 0;                      // symmetric padding, when Explicit
  int groups = 1, dilation = 1;
  bool bias = true;
  Init init = Init::Keras;
  int stride_h = 0, stride_w = 0, dil_h = 0, dil_w = 0;        // 0: `stride` / `dilation`
  int pad_top = -1, pad_bottom = -1, pad_left = -1, pad_right = -1;  // Explicit; -1: `pad`
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_ch, int64_t out_ch, Conv2dOptions o, Rng& rng);
  Tensor forward(const Tensor& x) override;
  // "DepthwiseConv2D" when groups == in == out channels (> 1), else "Conv2D" (Keras names).
  std::string type_name() const override;
  Conv2dArgs args_for(int64_t in_h, int64_t in_w) const;  // the padding used for this input size

  Tensor weight /*[out, in/groups, kh, kw]*/, bias /*[out] or undefined*/;
  Conv2dOptions opts;
  int64_t in_ch, out_ch;
};

struct ConvT2dOptions {
  int kh = 3, kw = 3, stride = 1;
  // Same: out = in*stride, Valid: out = in*stride + max(k - stride, 0) (Keras rules, see
  // convt_args_keras). Explicit: `pad` cropped on every side plus output_padding at bottom/right
  // (PyTorch). output_padding must be 0 with Same/Valid (the Keras rule fixes the size).
  Padding padding = Padding::Same;
  int pad = 0;
  int output_padding = 0, groups = 1;
  bool bias = true;
  Init init = Init::Keras;
  // Everything conv_transpose2d takes (ConvT2dArgs), overriding the fields above per axis/side
  // when set. Dilation needs Explicit padding (the Keras rules assume none).
  int stride_h = 0, stride_w = 0, dilation = 1;                      // 0: `stride`
  int pad_top = -1, pad_bottom = -1, pad_left = -1, pad_right = -1;  // Explicit; -1: `pad`
  int out_pad_h = -1, out_pad_w = -1;                                // Explicit; -1: `output_padding`
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_ch, int64_t out_ch, ConvT2dOptions o, Rng& rng);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2DTranspose"; }
  ConvT2dArgs args_for(int64_t in_h, int64_t in_w) const;

  Tensor weight /*[in, out/groups, kh, kw]*/, bias /*[out] or undefined*/;
  ConvT2dOptions opts;
  int64_t in_ch, out_ch;
};

}  // namespace fas
