#include "layers/conv.h"

#include <string>

namespace fas {

namespace {
void check_channels(const char* layer, int64_t in_ch, int64_t out_ch, int groups, int kh, int kw, int sh, int sw) {
  if (in_ch < 1 || out_ch < 1 || groups < 1 || in_ch % groups || out_ch % groups)
    fail(std::string(layer) + ": groups " + std::to_string(groups) + " must divide in_ch " + std::to_string(in_ch) +
         " and out_ch " + std::to_string(out_ch) + " (all >= 1)");
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1)
    fail(std::string(layer) + ": kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " and stride " +
         std::to_string(sh) + "x" + std::to_string(sw) + " must be >= 1");
}

// A per-axis/per-side option when set (> unset), else the shared value.
int or_shared(int v, int unset, int shared) { return v > unset ? v : shared; }

// The four explicit pads (top, bottom, left, right) of options with `pad` and per-side fields.
template <class O>
void explicit_pads(const O& o, int* t, int* b, int* l, int* r) {
  *t = or_shared(o.pad_top, -1, o.pad), *b = or_shared(o.pad_bottom, -1, o.pad);
  *l = or_shared(o.pad_left, -1, o.pad), *r = or_shared(o.pad_right, -1, o.pad);
}
template <class O>
void check_pads(const char* layer, const O& o) {
  int t, b, l, r;
  explicit_pads(o, &t, &b, &l, &r);
  if (t < 0 || b < 0 || l < 0 || r < 0 || o.pad_top < -1 || o.pad_bottom < -1 || o.pad_left < -1 || o.pad_right < -1)
    fail(std::string(layer) + ": padding must be >= 0, got top " + std::to_string(t) + ", bottom " + std::to_string(b) +
         ", left " + std::to_string(l) + ", right " + std::to_string(r));
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
  check_channels("Conv2d", in, out, o.groups, o.kh, o.kw, or_shared(o.stride_h, 0, o.stride), or_shared(o.stride_w, 0, o.stride));
  if (o.stride_h < 0 || o.stride_w < 0)
    fail("Conv2d: stride must be >= 1, got " + std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w));
  if (o.dil_h < 0 || o.dil_w < 0 || o.dilation < 1)
    fail("Conv2d: dilation must be >= 1, got dilation " + std::to_string(o.dilation) + ", dil_h " +
         std::to_string(o.dil_h) + ", dil_w " + std::to_string(o.dil_w));
  check_pads("Conv2d", o);
  weight = register_parameter("weight", Tensor::zeros({out, in / o.groups, o.kh, o.kw}));
  if (o.bias) bias = register_parameter("bias", Tensor::zeros({out}));
  init_weights(weight, bias, o.init, rng);
}

std::string Conv2d::type_name() const {
  return opts.groups > 1 && opts.groups == in_ch && in_ch == out_ch ? "DepthwiseConv2D" : "Conv2D";
}

Conv2dArgs Conv2d::args_for(int64_t in_h, int64_t in_w) const {
  const int sh = or_shared(opts.stride_h, 0, opts.stride), sw = or_shared(opts.stride_w, 0, opts.stride);
  const int dh = or_shared(opts.dil_h, 0, opts.dilation), dw = or_shared(opts.dil_w, 0, opts.dilation);
  Conv2dArgs a;
  if (opts.padding == Padding::Same) a = conv_args_same(in_h, in_w, opts.kh, opts.kw, sh, sw, dh, dw);
  else if (opts.padding == Padding::Explicit) explicit_pads(opts, &a.pad_top, &a.pad_bottom, &a.pad_left, &a.pad_right);
  a.stride_h = sh, a.stride_w = sw;
  a.dil_h = dh, a.dil_w = dw;
  a.groups = opts.groups;
  return a;
}

Tensor Conv2d::forward(const Tensor& x) {
  check_input("Conv2d", x);
  return conv2d(x, weight, bias, args_for(x.size(2), x.size(3)));
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, ConvT2dOptions o, Rng& rng)
    : opts(o), in_ch(in), out_ch(out) {
  check_channels("ConvTranspose2d", in, out, o.groups, o.kh, o.kw, or_shared(o.stride_h, 0, o.stride),
                 or_shared(o.stride_w, 0, o.stride));
  if (o.stride_h < 0 || o.stride_w < 0)
    fail("ConvTranspose2d: stride must be >= 1, got " + std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w));
  check_pads("ConvTranspose2d", o);
  const int oph = or_shared(o.out_pad_h, -1, o.output_padding), opw = or_shared(o.out_pad_w, -1, o.output_padding);
  if (oph < 0 || opw < 0 || o.out_pad_h < -1 || o.out_pad_w < -1) fail("ConvTranspose2d: output_padding must be >= 0");
  if (o.dilation < 1) fail("ConvTranspose2d: dilation must be >= 1, got " + std::to_string(o.dilation));
  if (o.padding != Padding::Explicit && (oph != 0 || opw != 0))
    fail("ConvTranspose2d: output_padding needs Padding::Explicit (Same/Valid fix the output size)");
  if (o.padding != Padding::Explicit && o.dilation != 1)
    fail("ConvTranspose2d: dilation needs Padding::Explicit (the Keras Same/Valid rules assume none)");
  weight = register_parameter("weight", Tensor::zeros({in, out / o.groups, o.kh, o.kw}));
  if (o.bias) bias = register_parameter("bias", Tensor::zeros({out}));
  init_weights(weight, bias, o.init, rng);
}

ConvT2dArgs ConvTranspose2d::args_for(int64_t in_h, int64_t in_w) const {
  const int sh = or_shared(opts.stride_h, 0, opts.stride), sw = or_shared(opts.stride_w, 0, opts.stride);
  ConvT2dArgs a;
  if (opts.padding == Padding::Explicit) {
    explicit_pads(opts, &a.pad_top, &a.pad_bottom, &a.pad_left, &a.pad_right);
    a.out_pad_h = or_shared(opts.out_pad_h, -1, opts.output_padding);
    a.out_pad_w = or_shared(opts.out_pad_w, -1, opts.output_padding);
    a.dil_h = a.dil_w = opts.dilation;
  } else {
    a = convt_args_keras(opts.padding, in_h, in_w, opts.kh, opts.kw, sh, sw);
  }
  a.stride_h = sh, a.stride_w = sw;
  a.groups = opts.groups;
  return a;
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x);
  return conv_transpose2d(x, weight, bias, args_for(x.size(2), x.size(3)));
}

}  // namespace fas
