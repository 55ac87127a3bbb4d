#include "layers/conv.h"

#include <string>

namespace fas {

namespace {
void check_channels(const char* layer, int64_t in_ch, int64_t out_ch, int groups, int kh, int kw, int stride) {
  if (in_ch < 1 || out_ch < 1 || groups < 1 || in_ch % groups || out_ch % groups)
    fail(std::string(layer) + ": groups " + std::to_string(groups) + " must divide in_ch " + std::to_string(in_ch) +
         " and out_ch " + std::to_string(out_ch) + " (all >= 1)");
  if (kh < 1 || kw < 1 || stride < 1)
    fail(std::string(layer) + ": kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " and stride " +
         std::to_string(stride) + " must be >= 1");
}

// Keras: glorot_uniform weight, zero bias. Torch: U(+-1/sqrt(fan_in)) for both (kaiming_uniform
// with a = sqrt(5)); fan_in from fans(), which uses PyTorch's convention for either layout.
void init_weights(Tensor& w, Tensor& b, Init init, Rng& rng) {
  if (init == Init::Keras) {
    init_glorot_uniform(w, rng);
    return;  // bias stays zero
  }
  int64_t fan_in, fan_out;
  fans(w.shape(), &fan_in, &fan_out);
  init_torch_default(w, fan_in, rng);
  if (b.defined()) init_torch_default(b, fan_in, rng);
}

void check_input(const char* layer, const Tensor& x) {
  if (x.dim() != 4) fail(std::string(layer) + ": expected input [N, C, H, W], got " + shape_str(x.shape()));
}
}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, Conv2dOptions o, Rng& rng) : opts(o), in_ch(in), out_ch(out) {
  check_channels("Conv2d", in, out, o.groups, o.kh, o.kw, o.stride);
  if (o.dilation < 1 || o.pad < 0) fail("Conv2d: dilation must be >= 1 and pad >= 0");
  weight = register_parameter("weight", Tensor::zeros({out, in / o.groups, o.kh, o.kw}));
  if (o.bias) bias = register_parameter("bias", Tensor::zeros({out}));
  init_weights(weight, bias, o.init, rng);
}

std::string Conv2d::type_name() const {
  return opts.groups > 1 && opts.groups == in_ch && in_ch == out_ch ? "DepthwiseConv2D" : "Conv2D";
}

Conv2dArgs Conv2d::args_for(int64_t in_h, int64_t in_w) const {
  Conv2dArgs a;
  if (opts.padding == Padding::Same)
    a = conv_args_same(in_h, in_w, opts.kh, opts.kw, opts.stride, opts.stride, opts.dilation, opts.dilation);
  else if (opts.padding == Padding::Explicit)
    a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = opts.pad;
  a.stride_h = a.stride_w = opts.stride;
  a.dil_h = a.dil_w = opts.dilation;
  a.groups = opts.groups;
  return a;
}

Tensor Conv2d::forward(const Tensor& x) {
  check_input("Conv2d", x);
  return conv2d(x, weight, bias, args_for(x.size(2), x.size(3)));
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, ConvT2dOptions o, Rng& rng)
    : opts(o), in_ch(in), out_ch(out) {
  check_channels("ConvTranspose2d", in, out, o.groups, o.kh, o.kw, o.stride);
  if (o.pad < 0 || o.output_padding < 0) fail("ConvTranspose2d: pad and output_padding must be >= 0");
  if (o.padding != Padding::Explicit && o.output_padding != 0)
    fail("ConvTranspose2d: output_padding needs Padding::Explicit (Same/Valid fix the output size)");
  weight = register_parameter("weight", Tensor::zeros({in, out / o.groups, o.kh, o.kw}));
  if (o.bias) bias = register_parameter("bias", Tensor::zeros({out}));
  init_weights(weight, bias, o.init, rng);
}

ConvT2dArgs ConvTranspose2d::args_for(int64_t in_h, int64_t in_w) const {
  ConvT2dArgs a;
  if (opts.padding == Padding::Explicit) {
    a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = opts.pad;
    a.out_pad_h = a.out_pad_w = opts.output_padding;
  } else {
    a = convt_args_keras(opts.padding, in_h, in_w, opts.kh, opts.kw, opts.stride, opts.stride);
  }
  a.stride_h = a.stride_w = opts.stride;
  a.groups = opts.groups;
  return a;
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x);
  return conv_transpose2d(x, weight, bias, args_for(x.size(2), x.size(3)));
}

}  // namespace fas
