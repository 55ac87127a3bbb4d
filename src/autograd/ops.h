// Differentiable operations. Each computes eagerly and records its backward (graph.h).
// Shape errors throw fas::Error naming the op and the shapes involved.
// Implementations: ops_elementwise.cpp, ops_shape.cpp, ops_dense.cpp, ops_conv.cpp,
// ops_pool.cpp, ops_norm.cpp, ops_loss.cpp. Heavy loops live in src/kernels/.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace fas {

// ---------------------------------------------------------------- elementwise
// Binary ops take equal shapes, or b with one element (broadcast scalar tensor).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& a, float s);
Tensor mul_scalar(const Tensor& a, float s);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor square(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
// Per-channel bias add on dim 1: x [N, C, ...] + b [C].
Tensor add_channel_bias(const Tensor& x, const Tensor& b);

// ---------------------------------------------------------------- reductions
Tensor sum(const Tensor& a);   // shape {} (one element)
Tensor mean(const Tensor& a);  // shape {}
Tensor sum_dim(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor mean_dim(const Tensor& a, int64_t dim, bool keepdim = false);

// ---------------------------------------------------------------- activations
Tensor relu(const Tensor& a);
Tensor relu6(const Tensor& a);
Tensor leaky_relu(const Tensor& a, float slope);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor softmax(const Tensor& a, int64_t dim = -1);
Tensor log_softmax(const Tensor& a, int64_t dim = -1);

// ---------------------------------------------------------------- shape
Tensor reshape(const Tensor& a, const Shape& shape);  // = a.reshape(shape)
Tensor flatten(const Tensor& a, int64_t start_dim = 1);
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> split(const Tensor& a, const std::vector<int64_t>& sizes, int64_t dim);
std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim);

// ---------------------------------------------------------------- dense
Tensor matmul(const Tensor& a, const Tensor& b);  // [M,K] x [K,N] -> [M,N]
// x [N, in], w [out, in] (PyTorch layout), b [out] or undefined -> [N, out]
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);
// Rows of weight [V, D] picked by ids -> [ids.size(), D]; backward scatter-adds.
Tensor embedding(const std::vector<int64_t>& ids, const Tensor& weight);
// Inverted dropout: in training, zero with probability p and scale kept values by 1/(1-p).
Tensor dropout(const Tensor& x, float p, bool training, Rng& rng);
// Training-mode dropout with a given mask: y = x * keep / (1 - p), keep of x's shape holding 0
// (drop) or 1 (keep). dropout() draws keep[i] = (u_i >= p) from rng and applies it here.
Tensor dropout_masked(const Tensor& x, const Tensor& keep, float p);

// ---------------------------------------------------------------- convolution
struct Conv2dArgs {
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int dil_h = 1, dil_w = 1;
  int groups = 1;
};
// TF/Keras padding rules. "same": out = ceil(in / stride), the odd pixel of padding goes to
// the bottom/right (asymmetric for stride 2 on even inputs). "valid": no padding.
enum class Padding { Explicit, Same, Valid };
Conv2dArgs conv_args_same(int64_t in_h, int64_t in_w, int kh, int kw, int stride_h, int stride_w,
                          int dil_h = 1, int dil_w = 1);
int64_t conv_out_size(int64_t in, int k, int stride, int pad_before, int pad_after, int dil = 1);

// x [N, C, H, W], w [OC, C/groups, KH, KW], b [OC] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args);

struct ConvT2dArgs {
  int stride_h = 1, stride_w = 1;
  // Rows/cols cropped from the full output (in-1)*s + dil*(k-1) + 1 (PyTorch "padding").
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int out_pad_h = 0, out_pad_w = 0;  // extra rows/cols added at the bottom/right
  int dil_h = 1, dil_w = 1;
  int groups = 1;
};
// TF/Keras Conv2DTranspose: "same" gives out = in * stride, "valid" out = (in-1)*s + k.
ConvT2dArgs convt_args_keras(Padding mode, int64_t in_h, int64_t in_w, int kh, int kw,
                             int stride_h, int stride_w);
// x [N, IC, H, W], w [IC, OC/groups, KH, KW] (PyTorch layout), b [OC] or undefined.
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvT2dArgs& args);
// Whose code runs the op for these operands: "fas <kernel>/<isa>" (fas's own kernels) or
// im2col + sgemm's name (kernels/gemm.h gemm_name: "fas gemm/<isa>" or "OpenBLAS sgemm (<core>)"), for the forward pass and, with grad,
// the input and weight gradients ("fwd A, dx B, dw C" when they differ). Benchmark labels:
// a timing says whose code it measured.
std::string conv2d_kernels(const Tensor& x, const Tensor& w, const Conv2dArgs& args, bool grad);
std::string conv_transpose2d_kernels(const Tensor& x, const Tensor& w, const ConvT2dArgs& args, bool grad);

// ---------------------------------------------------------------- pooling / resampling
struct Pool2dArgs {
  int kh = 2, kw = 2, stride_h = 2, stride_w = 2;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool count_include_pad = true;  // avg pool only; Keras "same" excludes padding (false)
};
Pool2dArgs pool_args_same(int64_t in_h, int64_t in_w, int kh, int kw, int stride_h, int stride_w);
Tensor max_pool2d(const Tensor& x, const Pool2dArgs& args);  // padding never wins the max
Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& args);
Tensor global_avg_pool2d(const Tensor& x);  // [N, C, H, W] -> [N, C]
Tensor upsample_nearest2d(const Tensor& x, int scale_h, int scale_w);

// ---------------------------------------------------------------- normalisation
// Running-statistics update convention:
//   Torch: running = (1 - m) * running + m * batch   (PyTorch momentum, default m = 0.1)
//   Keras: running = m * running + (1 - m) * batch   (Keras momentum, default m = 0.99)
// Both store the unbiased batch variance in running_var (PyTorch and TF/Keras agree on that).
enum class MomentumConvention { Torch, Keras };
struct BatchNormArgs {
  bool training = true;
  float momentum = 0.1f;
  MomentumConvention convention = MomentumConvention::Torch;
  float eps = 1e-5f;
  // A clamp fused into the output, y = clamp(bn(x), lo, hi) (ReLU6: 0, 6; default: none): one
  // pass and one tensor fewer than batch_norm + relu6, equal values and gradients.
  float clamp_lo = -INFINITY, clamp_hi = INFINITY;
};
// x [N, C] or [N, C, H, W]. gamma/beta [C] or undefined (no affine). running_mean/var [C]
// buffers, updated in place in training (no gradient). Inference uses the running stats.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, const BatchNormArgs& args);

// MixStyle (Zhou et al., ICLR 2021): instance n's per-channel feature statistics are replaced by
// a mix with those of instance partner[n]:
//   y = s_mix (x - mu_n) / s_n + mu_mix,  mu_mix = l mu_n + (1 - l) mu_p,  s_mix = l s_n + (1 - l) s_p
// with l = lambda[n], mu/s the mean and std (unbiased variance + eps, as torch.var) over H x W.
// As in the paper the statistics are constants to the backward (detached), so dx = s_mix/s_n dy:
// the gradient of the frozen-statistics map, not of the full one (tests/test_mixstyle.cpp).
// x [N, C, H, W] with H*W >= 2; partner[n] in [0, N); lambda[n] in [0, 1].
Tensor mix_style(const Tensor& x, const std::vector<int64_t>& partner, const std::vector<float>& lambda,
                 float eps = 1e-6f);

// ---------------------------------------------------------------- losses
// One meaning per name, for every loss:
//   Mean       the sum of the per-element terms / their number (PyTorch reduction='mean');
//   Sum        the sum;
//   BatchMean  the sum / the batch size N = dim 0: the per-sample sum averaged over the batch
//              (PyTorch kl_div's 'batchmean'; the VAE convention for the KL term).
// cross_entropy has one term per sample, so its Mean and BatchMean agree.
enum class Reduction { Mean, Sum, BatchMean };
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction r = Reduction::Mean);
Tensor l1_loss(const Tensor& pred, const Tensor& target, Reduction r = Reduction::Mean);
// pred are probabilities; log terms are clamped at -100 like PyTorch.
Tensor bce_loss(const Tensor& prob, const Tensor& target, Reduction r = Reduction::Mean);
Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction r = Reduction::Mean);
// logits [N, C], labels in [0, C).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels,
                     Reduction r = Reduction::Mean);
// KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) over the
// elements of mu [N, ...]. The default, BatchMean, is the per-sample KL averaged over the batch.
Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar, Reduction r = Reduction::BatchMean);

}  // namespace fas
