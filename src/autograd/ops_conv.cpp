// conv2d and conv_transpose2d with TF/Keras padding rules. Kernel choice: depthwise
// (groups == C == OC) -> direct kernel (3x3 with stride 1 or 2: the SIMD kernels/dwconv3x3.h,
// other sizes: kernels/dwconv.h); narrow stride-1 convs -> direct SIMD kernels
// (kernels/conv_direct.h); everything else -> im2col/col2im + OpenBLAS GEMM (kernels/conv.h).
// The op owns the workspaces; kernels never allocate.
// A transposed conv is the input gradient of the conv whose input is the transposed conv's
// output, so both ops share the same three conv passes with the roles swapped.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "autograd/graph.h"
#include "autograd/mutation.h"
#include "autograd/ops.h"
#include "kernels/conv.h"
#include "kernels/conv1x1.h"
#include "kernels/conv_direct.h"
#include "kernels/cpu.h"
#include "kernels/dwconv.h"
#include "kernels/dwconv3x3.h"
#include "kernels/gemm.h"

namespace fas {

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
// 64-byte aligned scratch for the GEMM passes, uninitialised (kernels write before they read).
// One grow-only buffer per calling thread, reused across calls: re-allocating tens of MB of
// im2col space per call would page-fault it in every time. Costs the largest workspace seen so
// far, kept until the thread exits. Passes never nest, so one buffer per thread suffices.
float* workspace(size_t floats) {
  thread_local std::unique_ptr<float, FreeDeleter> buf;
  thread_local size_t cap = 0;
  if (floats == 0) return nullptr;
  if (floats > cap) {
    buf.reset();
    cap = 0;
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) fail("conv2d: cannot allocate " + std::to_string(bytes) + " bytes of workspace");
    buf.reset(p);
    cap = floats;
  }
  return buf.get();
}

// Threads for one pass: small convs stay on one thread, where waking a team costs more than the
// work (and much more when the cores are oversubscribed).
int threads_for(const ConvDims& d) {
  const int64_t macs = d.N * d.OC * d.OHW() * d.K();
  return macs < (int64_t(1) << 18) ? 1 : std::max(1, omp_get_max_threads());
}

// Depthwise 3x3, stride 1 or 2 (same both ways), no dilation: the SIMD kernels of
// kernels/dwconv3x3.h (MobileNet's hot spot). Other depthwise shapes keep the generic kernel.
constexpr int64_t kPointwiseMaxC = 128;

bool is_dw3x3(const ConvDims& d) {
  return conv2d_is_depthwise(d) && d.KH == 3 && d.KW == 3 && d.dh == 1 && d.dw == 1 && d.sh == d.sw &&
         (d.sh == 1 || d.sh == 2);
}
DwConv3x3Geom dw3x3_geom(const ConvDims& d) { return DwConv3x3Geom{d.H, d.W, d.OH, d.OW, d.pt, d.pl}; }

// The code a conv pass runs, decided in this one place for the passes below and for
// conv2d_kernels() (benchmark labels name the code they timed).
enum class ConvKernel { Dw3x3, DwGeneric, Pointwise, Direct, Gemm };

ConvKernel conv_kernel(const ConvDims& d, ConvPass pass, bool acc) {
  if (is_dw3x3(d)) return ConvKernel::Dw3x3;
  if (conv2d_is_depthwise(d)) return ConvKernel::DwGeneric;
  // Narrow pointwise convs (MobileNet's expand/project), forward: the fused SIMD kernel, one image
  // per thread. Wider ones go to OpenBLAS, whose packing pays off there.
  if (pass == ConvPass::Fwd && conv2d_is_pointwise(d) && d.groups == 1 && !acc && d.C <= kPointwiseMaxC)
    return ConvKernel::Pointwise;
  if (conv2d_direct_suits(d)) return ConvKernel::Direct;
  return ConvKernel::Gemm;
}

// "fas <kernel>/<isa>" for fas's own kernels (all but the generic depthwise follow active_isa());
// the GEMM path is fas's im2col/col2im around sgemm (fas's GEMM or OpenBLAS's, kernels/gemm.h).
std::string conv_kernel_name(ConvKernel k, const ConvDims& d, ConvPass pass) {
  const std::string isa = isa_name(active_isa());
  switch (k) {
    case ConvKernel::Dw3x3: return "fas dwconv3x3/" + isa;
    case ConvKernel::DwGeneric: return "fas dwconv/scalar";
    case ConvKernel::Pointwise: return "fas conv1x1/" + isa;
    case ConvKernel::Direct: return "fas direct/" + isa;
    case ConvKernel::Gemm: break;
  }
  return f32_conv2d_gemm_name(d, pass);
}
// The passes' names joined: one name when they all run the same code. Passes in the order
// forward, input gradient, weight gradient (a transposed conv's are BwdInput, Fwd, BwdWeight).
std::string pass_kernel_names(const ConvDims& d, const ConvPass (&passes)[3], const bool (&acc)[3], bool grad) {
  std::string n[3];
  for (int i = 0; i < 3; ++i) n[i] = conv_kernel_name(conv_kernel(d, passes[i], acc[i]), d, passes[i]);
  if (!grad || (n[1] == n[0] && n[2] == n[0])) return n[0];
  return "fwd " + n[0] + ", dx " + n[1] + ", dw " + n[2];
}

void pass_fwd(const ConvDims& d, const float* x, const float* w, const float* b, float* y, bool acc) {
  const int T = threads_for(d);
  switch (conv_kernel(d, ConvPass::Fwd, acc)) {
    case ConvKernel::Dw3x3:
      return dwconv3x3_forward(x, w, b, y, d.N, d.C, dw3x3_geom(d), d.sh, -INFINITY, INFINITY, acc, T);
    case ConvKernel::DwGeneric: return f32_dwconv2d_fwd__scalar(d, x, w, b, y, acc, T);
    case ConvKernel::Pointwise: {
      const Conv1x1Fn f = conv1x1_kernel();
#pragma omp parallel for num_threads(std::min<int64_t>(T, d.N)) schedule(static)
      for (int64_t n = 0; n < d.N; ++n)
        f(x + n * d.C * d.HW(), w, b, y + n * d.OC * d.OHW(), d.C, d.OC, d.HW(), -INFINITY, INFINITY);
      return;
    }
    case ConvKernel::Direct:
      return f32_conv2d_fwd__direct(d, x, w, b, y, acc, workspace(f32_conv2d_direct_workspace(d, ConvPass::Fwd, T)), T);
    case ConvKernel::Gemm: break;
  }
  float* ws = workspace(f32_conv2d_gemm_workspace(d, ConvPass::Fwd, T));
  f32_conv2d_fwd__gemm(d, x, w, b, y, acc, ws, T);
}

// gx += (acc) or = (!acc: gx is uninitialised, every element gets written) the input gradient.
void pass_bwd_input(const ConvDims& d, const float* gy, const float* w, float* gx, bool acc) {
  const int T = threads_for(d);
  switch (conv_kernel(d, ConvPass::BwdInput, acc)) {
    case ConvKernel::Dw3x3: return dwconv3x3_backward_input(gy, w, gx, d.N, d.C, dw3x3_geom(d), d.sh, T, acc);
    case ConvKernel::DwGeneric:  // generic depthwise: rare, only accumulates
      if (!acc) std::fill(gx, gx + d.N * d.C * d.HW(), 0.f);
      return f32_dwconv2d_bwd_input__scalar(d, gy, w, gx, T);
    case ConvKernel::Direct:
      return f32_conv2d_bwd_input__direct(d, gy, w, gx,
                                          workspace(f32_conv2d_direct_workspace(d, ConvPass::BwdInput, T)), T, acc);
    case ConvKernel::Pointwise:  // forward only
    case ConvKernel::Gemm: break;
  }
  float* ws = workspace(f32_conv2d_gemm_workspace(d, ConvPass::BwdInput, T));
  f32_conv2d_bwd_input__gemm(d, gy, w, gx, ws, T, acc);
}

// The input-gradient buffer of x and whether to accumulate into it (Tensor::grad_for_write).
float* input_grad(Tensor& x, bool* acc) {
  bool fresh;
  float* g = x.grad_for_write(&fresh);
  *acc = !fresh;
  return g;
}

void pass_bwd_weight(const ConvDims& d, const float* x, const float* gy, float* gw) {
  const int T = threads_for(d);
  switch (conv_kernel(d, ConvPass::BwdWeight, true)) {
    case ConvKernel::Dw3x3: return dwconv3x3_backward_weight(x, gy, gw, d.N, d.C, dw3x3_geom(d), d.sh, T);
    case ConvKernel::DwGeneric: return f32_dwconv2d_bwd_weight__scalar(d, x, gy, gw, T);
    case ConvKernel::Direct:
      return f32_conv2d_bwd_weight__direct(d, x, gy, gw,
                                           workspace(f32_conv2d_direct_workspace(d, ConvPass::BwdWeight, T)), T);
    case ConvKernel::Pointwise:
    case ConvKernel::Gemm: break;
  }
  float* ws = workspace(f32_conv2d_gemm_workspace(d, ConvPass::BwdWeight, T));
  f32_conv2d_bwd_weight__gemm(d, x, gy, gw, ws, T);
}

std::string geometry(int sh, int sw, int pt, int pb, int pl, int pr, int dh, int dw, int g) {
  auto s = [](int v) { return std::to_string(v); };
  return " (stride " + s(sh) + "x" + s(sw) + ", padding t/b/l/r " + s(pt) + "/" + s(pb) + "/" + s(pl) + "/" +
         s(pr) + ", dilation " + s(dh) + "x" + s(dw) + ", groups " + s(g) + ")";
}

// Checks shared by both ops; `op` names the op in the message.
void check_common(const char* op, const Tensor& x, const Tensor& w, const std::string& geo, int sh, int sw,
                  int pt, int pb, int pl, int pr, int dh, int dw, int groups) {
  const std::string shapes = "input " + shape_str(x.shape()) + ", weight " + shape_str(w.shape());
  if (x.dim() != 4 || w.dim() != 4)
    fail(std::string(op) + ": expected 4-D input [N, C, H, W] and weight, got " + shapes);
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || groups < 1 || pt < 0 || pb < 0 || pl < 0 || pr < 0)
    fail(std::string(op) + ": stride, dilation and groups must be >= 1 and padding >= 0" + geo + ", " + shapes);
  if (w.size(2) < 1 || w.size(3) < 1) fail(std::string(op) + ": empty kernel, " + shapes);
}

}  // namespace

// ---------------------------------------------------------------- output-size rules

int64_t conv_out_size(int64_t in, int k, int stride, int pad_before, int pad_after, int dil) {
  if (stride < 1 || dil < 1 || k < 1)
    fail("conv_out_size: kernel " + std::to_string(k) + ", stride " + std::to_string(stride) + " and dilation " +
         std::to_string(dil) + " must be >= 1");
  const int64_t span = in + pad_before + pad_after - (int64_t)dil * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// TF "SAME" (tf.nn.convolution docs): out = ceil(in / s); pad_total = max((out-1)*s + eff_k - in, 0);
// pad_before = pad_total / 2, pad_after gets the odd pixel. E.g. 224, k3, s2 -> 112 with pads (0, 1).
static void same_pads(int64_t in, int k, int s, int dil, int* before, int* after) {
  const int64_t out = (in + s - 1) / s, eff = (int64_t)dil * (k - 1) + 1;
  const int64_t total = std::max<int64_t>((out - 1) * s + eff - in, 0);
  *before = (int)(total / 2);
  *after = (int)(total - total / 2);
}

Conv2dArgs conv_args_same(int64_t in_h, int64_t in_w, int kh, int kw, int stride_h, int stride_w, int dil_h,
                          int dil_w) {
  if (in_h < 1 || in_w < 1 || kh < 1 || kw < 1 || stride_h < 1 || stride_w < 1 || dil_h < 1 || dil_w < 1)
    fail("conv_args_same: sizes, kernel, stride and dilation must be >= 1 (input " + std::to_string(in_h) + "x" +
         std::to_string(in_w) + ", kernel " + std::to_string(kh) + "x" + std::to_string(kw) + ")");
  Conv2dArgs a;
  a.stride_h = stride_h, a.stride_w = stride_w, a.dil_h = dil_h, a.dil_w = dil_w;
  same_pads(in_h, kh, stride_h, dil_h, &a.pad_top, &a.pad_bottom);
  same_pads(in_w, kw, stride_w, dil_w, &a.pad_left, &a.pad_right);
  return a;
}

// Keras Conv2DTranspose (conv_utils.deconv_output_length without output_padding):
//   "same":  L = in * s;   "valid": L = in * s + max(k - s, 0)   (= (in-1)*s + k when k >= s).
// TF computes it as the gradient of conv2d(input length L, same padding mode), so the rows kept
// from the full transposed output (in-1)*s + k are those TF's forward conv padding implies: the
// top crop is TF's pad_before = total/2 with total = max((in-1)*s + k - L, 0) (smaller half at
// top/left; for "same" total = max(k - s, 0)), "valid" crops nothing. Rows still missing at the
// bottom (k < s) are output_padding: no input reaches them. This differs from PyTorch's
// symmetric padding=1/output_padding=1 idiom for k3 s2, which crops the top row instead.
static void keras_convt_dim(Padding mode, int64_t in, int k, int s, int* before, int* after, int* outpad) {
  const int64_t full = (in - 1) * s + k;
  const int64_t L = mode == Padding::Same ? in * s : in * s + std::max(k - s, 0);
  const int64_t total = mode == Padding::Same ? std::max<int64_t>(full - L, 0) : 0;
  *before = (int)(total / 2);
  const int64_t rest = full - *before - L;  // > 0: crop at bottom; < 0: pad at bottom
  *after = (int)std::max<int64_t>(rest, 0);
  *outpad = (int)std::max<int64_t>(-rest, 0);
}

ConvT2dArgs convt_args_keras(Padding mode, int64_t in_h, int64_t in_w, int kh, int kw, int stride_h,
                             int stride_w) {
  if (mode == Padding::Explicit) fail("convt_args_keras: mode must be Padding::Same or Padding::Valid");
  if (in_h < 1 || in_w < 1 || kh < 1 || kw < 1 || stride_h < 1 || stride_w < 1)
    fail("convt_args_keras: sizes, kernel and stride must be >= 1 (input " + std::to_string(in_h) + "x" +
         std::to_string(in_w) + ", kernel " + std::to_string(kh) + "x" + std::to_string(kw) + ")");
  ConvT2dArgs a;
  a.stride_h = stride_h, a.stride_w = stride_w;
  keras_convt_dim(mode, in_h, kh, stride_h, &a.pad_top, &a.pad_bottom, &a.out_pad_h);
  keras_convt_dim(mode, in_w, kw, stride_w, &a.pad_left, &a.pad_right, &a.out_pad_w);
  return a;
}

// ---------------------------------------------------------------- conv2d

// conv2d's checked geometry.
static ConvDims conv2d_dims(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& a) {
  const std::string geo = geometry(a.stride_h, a.stride_w, a.pad_top, a.pad_bottom, a.pad_left, a.pad_right,
                                   a.dil_h, a.dil_w, a.groups);
  check_common("conv2d", x, w, geo, a.stride_h, a.stride_w, a.pad_top, a.pad_bottom, a.pad_left, a.pad_right,
               a.dil_h, a.dil_w, a.groups);
  const std::string shapes = "input " + shape_str(x.shape()) + ", weight " + shape_str(w.shape());
  ConvDims d;
  d.N = x.size(0), d.C = x.size(1), d.H = x.size(2), d.W = x.size(3);
  d.OC = w.size(0), d.KH = (int)w.size(2), d.KW = (int)w.size(3);
  d.sh = a.stride_h, d.sw = a.stride_w, d.pt = a.pad_top, d.pl = a.pad_left;
  d.dh = a.dil_h, d.dw = a.dil_w, d.groups = a.groups;
  if (d.C % d.groups != 0 || d.OC % d.groups != 0)
    fail("conv2d: groups " + std::to_string(d.groups) + " must divide input channels " + std::to_string(d.C) +
         " and output channels " + std::to_string(d.OC) + "; " + shapes);
  if (w.size(1) * d.groups != d.C)
    fail("conv2d: input channels " + std::to_string(d.C) + " do not match weight in-channels " +
         std::to_string(w.size(1)) + " x groups " + std::to_string(d.groups) + "; " + shapes);
  if (b.defined() && (b.dim() != 1 || b.size(0) != d.OC))
    fail("conv2d: bias " + shape_str(b.shape()) + " does not fit weight " + shape_str(w.shape()));
  d.OH = conv_out_size(d.H, d.KH, d.sh, a.pad_top, a.pad_bottom, d.dh);
  d.OW = conv_out_size(d.W, d.KW, d.sw, a.pad_left, a.pad_right, d.dw);
  if (d.OH < 1 || d.OW < 1) fail("conv2d: kernel larger than padded input; " + shapes + geo);

  return d;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& a) {
  const ConvDims d = conv2d_dims(x, w, b, a);
  Tensor y = Tensor::uninit({d.N, d.OC, d.OH, d.OW});
  pass_fwd(d, x.data(), w.data(), b.defined() ? b.data() : nullptr, y.data(), false);
  std::vector<Tensor> ins = {x, w};
  if (b.defined()) ins.push_back(b);
  Tensor cx = x, cw = w, cb = b;
  record(y, "conv2d", ins, [cx, cw, cb, d](const Tensor& gy) mutable {
    if (cx.requires_grad()) {
      bool acc;
      float* gx = input_grad(cx, &acc);
      pass_bwd_input(d, gy.data(), cw.data(), gx, acc);
      if (kMutant != 1.f)
        for (int64_t i = 0; i < cx.numel(); ++i) gx[i] *= kMutant;
    }
    if (cw.requires_grad()) pass_bwd_weight(d, cx.data(), gy.data(), cw.grad_data());
    if (cb.defined() && cb.requires_grad())
      f32_conv2d_bwd_bias(d.N, d.OC, d.OHW(), gy.data(), cb.grad_data(), omp_get_max_threads());
  });
  return y;
}

// ---------------------------------------------------------------- conv_transpose2d

// conv_transpose2d's checked geometry: the dims of the conv whose input gradient it is.
static ConvDims convt2d_dims(const Tensor& x, const Tensor& w, const Tensor& b, const ConvT2dArgs& a) {
  const std::string geo = geometry(a.stride_h, a.stride_w, a.pad_top, a.pad_bottom, a.pad_left, a.pad_right,
                                   a.dil_h, a.dil_w, a.groups) +
                          ", output_padding " + std::to_string(a.out_pad_h) + "x" + std::to_string(a.out_pad_w);
  check_common("conv_transpose2d", x, w, geo, a.stride_h, a.stride_w, a.pad_top, a.pad_bottom, a.pad_left,
               a.pad_right, a.dil_h, a.dil_w, a.groups);
  const std::string shapes = "input " + shape_str(x.shape()) + ", weight " + shape_str(w.shape());
  if (a.out_pad_h < 0 || a.out_pad_w < 0) fail("conv_transpose2d: output_padding must be >= 0" + geo);
  const int64_t IC = x.size(1);
  if (IC % a.groups != 0)
    fail("conv_transpose2d: groups " + std::to_string(a.groups) + " must divide input channels " +
         std::to_string(IC) + "; " + shapes);
  if (w.size(0) != IC)
    fail("conv_transpose2d: input channels " + std::to_string(IC) + " do not match weight dim 0 " +
         std::to_string(w.size(0)) + " (weight is [in, out/groups, kh, kw]); " + shapes);
  // Dims of the conv whose input gradient this is: its input is our output and vice versa.
  ConvDims d;
  d.N = x.size(0), d.OC = IC, d.OH = x.size(2), d.OW = x.size(3);
  d.C = w.size(1) * a.groups, d.KH = (int)w.size(2), d.KW = (int)w.size(3);
  d.sh = a.stride_h, d.sw = a.stride_w, d.pt = a.pad_top, d.pl = a.pad_left;
  d.dh = a.dil_h, d.dw = a.dil_w, d.groups = a.groups;
  d.H = (d.OH - 1) * d.sh - a.pad_top - a.pad_bottom + (int64_t)d.dh * (d.KH - 1) + 1 + a.out_pad_h;
  d.W = (d.OW - 1) * d.sw - a.pad_left - a.pad_right + (int64_t)d.dw * (d.KW - 1) + 1 + a.out_pad_w;
  if (b.defined() && (b.dim() != 1 || b.size(0) != d.C))
    fail("conv_transpose2d: bias " + shape_str(b.shape()) + " does not fit weight " + shape_str(w.shape()) +
         " (expected [" + std::to_string(d.C) + "])");
  if (d.H < 1 || d.W < 1) fail("conv_transpose2d: padding crops the whole output; " + shapes + geo);

  return d;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvT2dArgs& a) {
  const ConvDims d = convt2d_dims(x, w, b, a);
  Tensor y = Tensor::uninit({d.N, d.C, d.H, d.W});
  pass_bwd_input(d, x.data(), w.data(), y.data(), false);
  if (b.defined()) {
    float* p = y.data();
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t c = 0; c < d.C; ++c)
        for (int64_t i = 0; i < d.HW(); ++i) p[(n * d.C + c) * d.HW() + i] += b.data()[c];
  }
  std::vector<Tensor> ins = {x, w};
  if (b.defined()) ins.push_back(b);
  Tensor cx = x, cw = w, cb = b;
  record(y, "conv_transpose2d", ins, [cx, cw, cb, d](const Tensor& gy) mutable {
    if (cx.requires_grad()) {
      bool acc;
      float* gx = input_grad(cx, &acc);
      pass_fwd(d, gy.data(), cw.data(), nullptr, gx, acc);
      if (kMutantOneElement != 1.f) gx[0] *= kMutantOneElement;
    }
    if (cw.requires_grad()) pass_bwd_weight(d, gy.data(), cx.data(), cw.grad_data());
    if (cb.defined() && cb.requires_grad())
      f32_conv2d_bwd_bias(d.N, d.C, d.HW(), gy.data(), cb.grad_data(), omp_get_max_threads());
  });
  return y;
}

// ---------------------------------------------------------------- which code runs

std::string conv2d_kernels(const Tensor& x, const Tensor& w, const Conv2dArgs& a, bool grad) {
  // A fresh input gradient (the first consumer writes it): no accumulation.
  return pass_kernel_names(conv2d_dims(x, w, Tensor(), a), {ConvPass::Fwd, ConvPass::BwdInput, ConvPass::BwdWeight},
                           {false, false, true}, grad);
}

std::string conv_transpose2d_kernels(const Tensor& x, const Tensor& w, const ConvT2dArgs& a, bool grad) {
  return pass_kernel_names(convt2d_dims(x, w, Tensor(), a), {ConvPass::BwdInput, ConvPass::Fwd, ConvPass::BwdWeight},
                           {false, false, true}, grad);
}

}  // namespace fas
