// PyTorch golden tests: every op of autograd/ops.h, a small conv net through three Adam steps,
// and SGD-momentum / Nesterov / AdamW / Adam-L2 steps, against the fixtures that
// tools/make_golden.py writes with PyTorch 1.13 (float64 computation on float32 inputs, so the
// differences seen here are fas' own float32 rounding).
// Every comparison is |fas - torch| <= atol + rtol * |torch| per element; each case names its
// tolerance below. A case fails if any fixture in its directory goes unused, and a directory
// without a test fails EveryFixtureDirectoryHasATest, so a fixture cannot be silently skipped.
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "autograd/graph.h"
#include "autograd/zero_pad.h"
#include "layers/conv.h"
#include "layers/layers.h"
#include "optim/optim.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;
namespace fs = std::filesystem;

namespace {

struct Tol {
  float atol, rtol;
};
// One or a few roundings per element: elementwise ops, activations, shape ops, gathers, pools,
// softmax rows, and losses/reductions over fewer than ~30 terms.
constexpr Tol kElem{1e-5f, 1e-4f};
// Dot products and sums of up to a few hundred float32 terms: matmul, linear, conv and
// conv-transpose outputs and gradients (weight gradients sum over N*OH*OW), whole-tensor
// reductions, batch norm (its backward subtracts two batch means from gy: cancellation), and the
// three-step training runs (errors compound through forward, backward and update; Adam divides
// by sqrt(v)). Measured worst case when written: 2 % of this bound (dilated conv2d dx).
constexpr Tol kSum{3e-5f, 3e-4f};

// tools/make_golden.py writes its cases under tests/golden/pytorch/ (other generators use
// other subdirectories of tests/golden/).
const std::string kSet = "pytorch/";
fs::path golden_dir(const std::string& c) { return fs::path(FAS_SOURCE_DIR) / "tests" / "golden" / (kSet + c); }
bool has_fixture(const std::string& c, const std::string& n) { return has_golden(kSet + c, n); }

// The tensors of one golden case, loaded on use. An input that has a gradient fixture
// g<name> is loaded with requires_grad, and its gradient is compared by check_input_grads().
class Golden {
 public:
  explicit Golden(std::string c) : case_(std::move(c)) {}
  const std::string& name() const { return case_; }

  Tensor& operator[](const std::string& n) {
    auto it = inputs_.find(n);
    if (it != inputs_.end()) return it->second;
    Tensor t = load(n);
    if (has_fixture(case_, "g" + n)) t.set_requires_grad(true);
    return inputs_.emplace(n, t).first->second;
  }
  std::vector<int64_t> ids(const std::string& n) {
    std::vector<int64_t> v;
    for (float f : load(n).to_vector()) v.push_back((int64_t)f);
    return v;
  }
  Tensor load(const std::string& n) {
    used_.insert(n);
    return load_golden(kSet + case_, n);
  }
  // Compares t to fixture n (a scalar may be stored as shape [1]).
  void expect(const std::string& n, const Tensor& t, Tol tol) {
    SCOPED_TRACE(case_ + "/" + n);
    ASSERT_TRUE(t.defined()) << "no tensor to compare with " << n;
    Tensor want = load(n);
    if (want.numel() != 1 || t.numel() != 1) {
      EXPECT_EQ(t.shape(), want.shape());
    }
    EXPECT_TRUE(allclose(t, want, tol.atol, tol.rtol));
  }
  void check_input_grads(Tol tol) {
    for (auto& [n, t] : inputs_) {
      if (!t.requires_grad()) continue;
      ASSERT_TRUE(t.grad().defined()) << case_ << ": input " << n << " received no gradient";
      expect("g" + n, t.grad(), tol);
    }
  }
  // Every file of the case directory was read and compared.
  void expect_all_used() const {
    for (auto& e : fs::directory_iterator(golden_dir(case_))) {
      if (e.path().extension() != ".bin") continue;
      EXPECT_TRUE(used_.count(e.path().stem().string())) << case_ << ": fixture " << e.path().filename() << " unused";
    }
  }

 private:
  std::string case_;
  std::map<std::string, Tensor> inputs_;
  std::set<std::string> used_;
};

using Outs = std::vector<Tensor>;
struct OpCase {
  const char* name;
  Tol tol;
  std::function<Outs(Golden&)> f;
};
std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.name; }

// Compares the outputs with y (or y0, y1, ...) and back-propagates the saved upstream gradients.
void compare_and_backward(Golden& g, Outs ys, Tol tol) {
  if (ys.size() == 1) {
    g.expect("y", ys[0], tol);
    ys[0].backward(g.load("gy").reshape(ys[0].shape()));  // a scalar's gy is stored as [1]
    return;
  }
  // Several outputs: backward of sum_i <y_i, gy_i> seeds each y_i with gy_i.
  Tensor root;
  for (size_t i = 0; i < ys.size(); ++i) {
    std::string k = std::to_string(i);
    g.expect("y" + k, ys[i], tol);
    Tensor term = sum(mul(ys[i], g.load("gy" + k)));
    root = root.defined() ? add(root, term) : term;
  }
  root.backward();
}

void run_op_case(const OpCase& c) {
  Golden g(c.name);
  compare_and_backward(g, c.f(g), c.tol);
  g.check_input_grads(c.tol);
  g.expect_all_used();
}

Conv2dArgs pads(int t, int b, int l, int r) {
  Conv2dArgs a;
  a.pad_top = t, a.pad_bottom = b, a.pad_left = l, a.pad_right = r;
  return a;
}
ConvT2dArgs convt(int stride, int pad, int out_pad, int groups = 1) {
  ConvT2dArgs a;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = pad;
  a.out_pad_h = a.out_pad_w = out_pad;
  a.groups = groups;
  return a;
}
Pool2dArgs pool(int k, int s, int pad, bool include_pad = true) {
  Pool2dArgs a;
  a.kh = a.kw = k, a.stride_h = a.stride_w = s;
  a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = pad;
  a.count_include_pad = include_pad;
  return a;
}
// Batch norm case: running stats are inputs, and their updated values are compared too.
Outs bn_case(Golden& g, BatchNormArgs args, Tol tol) {
  Tensor rm = g.load("running_mean"), rv = g.load("running_var");
  Tensor y = batch_norm(g["x"], has_fixture(g.name(), "gamma") ? g["gamma"] : Tensor(),
                        has_fixture(g.name(), "beta") ? g["beta"] : Tensor(), rm, rv, args);
  g.expect("running_mean_out", rm, tol);
  g.expect("running_var_out", rv, tol);
  return {y};
}
BatchNormArgs bn_args(bool training, float momentum = 0.1f, MomentumConvention conv = MomentumConvention::Torch,
                      float eps = 1e-5f) {
  BatchNormArgs a;
  a.training = training, a.momentum = momentum, a.convention = conv, a.eps = eps;
  return a;
}

#define OP(name, tol, ...) \
  OpCase { name, tol, [](Golden & g) -> Outs { return __VA_ARGS__; } }

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = {
      // ---- elementwise (b with one element broadcasts)
      OP("add", kElem, {add(g["a"], g["b"])}),
      OP("sub", kElem, {sub(g["a"], g["b"])}),
      OP("mul", kElem, {mul(g["a"], g["b"])}),
      OP("div", kElem, {div(g["a"], g["b"])}),
      OP("add_bcast", kSum, {add(g["a"], g["b"])}),  // gb sums 24 terms
      OP("sub_bcast", kSum, {sub(g["a"], g["b"])}),
      OP("mul_bcast", kSum, {mul(g["a"], g["b"])}),
      OP("div_bcast", kSum, {div(g["a"], g["b"])}),
      OP("add_scalar", kElem, {add_scalar(g["a"], 0.7f)}),
      OP("mul_scalar", kElem, {mul_scalar(g["a"], -1.3f)}),
      OP("neg", kElem, {neg(g["a"])}),
      OP("exp", kElem, {fas::exp(g["a"])}),
      OP("log", kElem, {fas::log(g["a"])}),
      OP("square", kElem, {square(g["a"])}),
      OP("sqrt", kElem, {fas::sqrt(g["a"])}),
      OP("abs", kElem, {fas::abs(g["a"])}),
      OP("add_channel_bias_4d", kSum, {add_channel_bias(g["x"], g["b"])}),
      OP("add_channel_bias_2d", kElem, {add_channel_bias(g["x"], g["b"])}),
      // ---- reductions
      OP("sum", kSum, {sum(g["a"])}),
      OP("mean", kSum, {mean(g["a"])}),
      OP("sum_dim1", kElem, {sum_dim(g["a"], 1)}),
      OP("sum_dim0_keep", kElem, {sum_dim(g["a"], 0, true)}),
      OP("mean_dimlast_keep", kElem, {mean_dim(g["a"], -1, true)}),
      OP("mean_dim1", kElem, {mean_dim(g["a"], 1)}),
      // ---- activations (inputs kept >= 0.05 from the ReLU kinks by the generator)
      OP("relu", kElem, {relu(g["a"])}),
      OP("relu6", kElem, {relu6(g["a"])}),
      OP("leaky_relu", kElem, {leaky_relu(g["a"], 0.2f)}),
      OP("tanh", kElem, {fas::tanh(g["a"])}),
      OP("sigmoid", kElem, {sigmoid(g["a"])}),
      OP("softmax_last", kElem, {softmax(g["a"], -1)}),
      OP("softmax_dim1", kElem, {softmax(g["a"], 1)}),
      OP("log_softmax_last", kElem, {log_softmax(g["a"], -1)}),
      OP("log_softmax_dim1", kElem, {log_softmax(g["a"], 1)}),
      // ---- shape
      OP("reshape", kElem, {reshape(g["a"], {6, 4})}),
      OP("flatten", kElem, {flatten(g["a"], 1)}),
      OP("flatten_from2", kElem, {flatten(g["a"], 2)}),
      OP("concat_dim1", kElem, {concat({g["a"], g["b"], g["c"]}, 1)}),
      OP("concat_dim0", kElem, {concat({g["a"], g["b"]}, 0)}),
      OP("split_dim1", kElem, split(g["a"], {1, 2, 3}, 1)),
      OP("chunk_ragged", kElem, chunk(g["a"], 3, 1)),  // 7 columns -> 3, 3, 1 like torch.chunk
      // ---- dense
      OP("matmul", kSum, {matmul(g["a"], g["b"])}),
      OP("linear", kSum, {linear(g["x"], g["w"], g["b"])}),
      OP("linear_nobias", kSum, {linear(g["x"], g["w"], Tensor())}),
      OP("embedding", kElem, {embedding(g.ids("ids"), g["w"])}),  // repeated ids: scatter-add
      OP("dropout_eval", kElem, ([&g] { Rng rng(1); return Outs{dropout(g["x"], 0.3f, false, rng)}; }())),
      OP("dropout_train", kElem, {dropout_masked(g["x"], g.load("keep"), 0.3f)}),  // PyTorch's own mask
      OP("zero_pad2d", kElem, {zero_pad2d(g["x"], 1, 2, 0, 1)}),
      // Statistics over 30 pixels, detached (the authors' MixStyle): the gradient is s_mix / s_n gy.
      OP("mix_style", kSum, ([&g] {
           std::vector<float> lam = g.load("lam").to_vector();
           return Outs{mix_style(g["x"], g.ids("partner"), lam)};
         }())),
      // ---- convolution
      OP("conv2d_pad1", kSum, {conv2d(g["x"], g["w"], g["b"], pads(1, 1, 1, 1))}),
      OP("conv2d_s2_same", kSum, {conv2d(g["x"], g["w"], g["b"], conv_args_same(8, 7, 3, 3, 2, 2))}),
      OP("conv2d_dilation2", kSum, ([&g] {
           Conv2dArgs a = pads(2, 2, 2, 2);
           a.dil_h = a.dil_w = 2;
           return Outs{conv2d(g["x"], g["w"], g["b"], a)};
         }())),
      OP("conv2d_groups2", kSum, ([&g] {
           Conv2dArgs a = pads(1, 1, 1, 1);
           a.groups = 2;
           return Outs{conv2d(g["x"], g["w"], Tensor(), a)};
         }())),
      OP("conv2d_depthwise_s2_same", kSum, ([&g] {
           Conv2dArgs a = conv_args_same(8, 8, 3, 3, 2, 2);
           a.groups = 3;
           return Outs{conv2d(g["x"], g["w"], g["b"], a)};
         }())),
      OP("conv2d_k5s2_same", kSum, {conv2d(g["x"], g["w"], g["b"], conv_args_same(9, 10, 5, 5, 2, 2))}),
      OP("conv2d_1x1", kSum, {conv2d(g["x"], g["w"], g["b"], Conv2dArgs{})}),
      OP("conv2d_rect_pads", kSum, ([&g] {
           Conv2dArgs a = pads(1, 0, 2, 1);
           a.stride_w = 2;
           return Outs{conv2d(g["x"], g["w"], g["b"], a)};
         }())),
      OP("convt_s2_pad1_outpad1", kSum, {conv_transpose2d(g["x"], g["w"], g["b"], convt(2, 1, 1))}),
      OP("convt_groups2_s2", kSum, {conv_transpose2d(g["x"], g["w"], Tensor(), convt(2, 0, 0, 2))}),
      OP("convt_s1_pad1", kSum, {conv_transpose2d(g["x"], g["w"], g["b"], convt(1, 1, 0))}),
      OP("convt_keras_same_k3s2", kSum,
         {conv_transpose2d(g["x"], g["w"], g["b"], convt_args_keras(Padding::Same, 4, 5, 3, 3, 2, 2))}),
      OP("convt_keras_same_k4s2", kSum,
         {conv_transpose2d(g["x"], g["w"], g["b"], convt_args_keras(Padding::Same, 3, 4, 4, 4, 2, 2))}),
      OP("convt_dilation2", kSum, ([&g] {
           ConvT2dArgs a;
           a.dil_h = a.dil_w = 2;
           return Outs{conv_transpose2d(g["x"], g["w"], g["b"], a)};
         }())),
      OP("convt_keras_valid_k3s2", kSum,
         {conv_transpose2d(g["x"], g["w"], g["b"], convt_args_keras(Padding::Valid, 3, 4, 3, 3, 2, 2))}),
      // ---- pooling / resampling (random inputs: no max-pool ties; padded max pools see only
      // negative inputs, so a padding value of 0 would show)
      OP("maxpool_k2", kElem, {max_pool2d(g["x"], pool(2, 2, 0))}),
      OP("maxpool_k3s2_pad1", kElem, {max_pool2d(g["x"], pool(3, 2, 1))}),
      OP("maxpool_same_k2", kElem, {max_pool2d(g["x"], pool_args_same(5, 7, 2, 2, 2, 2))}),
      OP("avgpool_k2", kElem, {avg_pool2d(g["x"], pool(2, 2, 0))}),
      OP("avgpool_k3s2_pad1_incl", kElem, {avg_pool2d(g["x"], pool(3, 2, 1, true))}),
      OP("avgpool_k3s2_pad1_excl", kElem, {avg_pool2d(g["x"], pool(3, 2, 1, false))}),
      // pool_args_same must give Keras semantics: asymmetric pads, padding not counted.
      OP("avgpool_same_k2", kElem, {avg_pool2d(g["x"], pool_args_same(5, 7, 2, 2, 2, 2))}),
      OP("global_avg_pool", kElem, {global_avg_pool2d(g["x"])}),
      OP("upsample_nearest_2", kElem, {upsample_nearest2d(g["x"], 2, 2)}),
      OP("upsample_nearest_2x3", kElem, {upsample_nearest2d(g["x"], 2, 3)}),
      // ---- batch norm (PyTorch momentum 0.1; the Keras case uses momentum 0.99 == torch 0.01)
      OP("bn2d_train", kSum, bn_case(g, bn_args(true), kSum)),
      OP("bn4d_train", kSum, bn_case(g, bn_args(true), kSum)),
      OP("bn4d_eval", kSum, bn_case(g, bn_args(false), kSum)),
      OP("bn2d_eval", kSum, bn_case(g, bn_args(false), kSum)),
      OP("bn4d_train_noaffine", kSum, bn_case(g, bn_args(true), kSum)),
      OP("bn4d_train_keras", kSum, bn_case(g, bn_args(true, 0.99f, MomentumConvention::Keras, 1e-3f), kSum)),
      // ---- losses, mean and sum reductions
      OP("mse_mean", kElem, {mse_loss(g["p"], g["t"], Reduction::Mean)}),
      OP("mse_sum", kSum, {mse_loss(g["p"], g["t"], Reduction::Sum)}),
      OP("l1_mean", kElem, {l1_loss(g["p"], g["t"], Reduction::Mean)}),
      OP("l1_sum", kSum, {l1_loss(g["p"], g["t"], Reduction::Sum)}),
      OP("bce_mean", kElem, {bce_loss(g["p"], g["t"], Reduction::Mean)}),
      OP("bce_sum", kSum, {bce_loss(g["p"], g["t"], Reduction::Sum)}),
      OP("bce_logits_mean", kElem, {bce_with_logits(g["z"], g["t"], Reduction::Mean)}),
      OP("bce_logits_sum", kSum, {bce_with_logits(g["z"], g["t"], Reduction::Sum)}),
      OP("cross_entropy_mean", kElem, {cross_entropy(g["z"], g.ids("labels"), Reduction::Mean)}),
      OP("cross_entropy_sum", kSum, {cross_entropy(g["z"], g.ids("labels"), Reduction::Sum)}),
      OP("gaussian_kl_batchmean", kSum, {gaussian_kl(g["mu"], g["logvar"], Reduction::BatchMean)}),
      OP("gaussian_kl_mean", kElem, {gaussian_kl(g["mu"], g["logvar"], Reduction::Mean)}),
      OP("mse_batchmean", kSum, {mse_loss(g["p"], g["t"], Reduction::BatchMean)}),
      OP("gaussian_kl_sum", kSum, {gaussian_kl(g["mu"], g["logvar"], Reduction::Sum)}),
      // ---- numerically hard inputs: p = 0 / 1 (log clamped at -100, dp divides by max(p(1-p), 1e-12)),
      // logits up to |80|, softmax over logits of scale 60
      OP("bce_clamped_sum", kSum, {bce_loss(g["p"], g["t"], Reduction::Sum)}),
      OP("bce_logits_large_mean", kElem, {bce_with_logits(g["z"], g["t"], Reduction::Mean)}),
      OP("cross_entropy_large_logits", kElem, {cross_entropy(g["z"], g.ids("labels"), Reduction::Mean)}),
      OP("softmax_large", kElem, {softmax(g["a"], -1)}),
  };
  return cases;
}
#undef OP

class GoldenOp : public ::testing::TestWithParam<OpCase> {};
TEST_P(GoldenOp, OutputAndGradientsMatchPyTorch) { run_op_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Ops, GoldenOp, ::testing::ValuesIn(op_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& i) { return std::string(i.param.name); });

// ---------------------------------------------------------------- layers
// The layer modules on the op fixtures: the module computes its own padding from the input size
// (Keras same/valid), loads the PyTorch tensors by state-dict name, and its parameter gradients
// must equal PyTorch's. Same tolerances as the op case.
struct LayerCase {
  const char* name;  // op fixture case
  Tol tol;
  bool training;
  std::function<std::shared_ptr<Module>()> make;
};
std::ostream& operator<<(std::ostream& os, const LayerCase& c) { return os << c.name; }

// Fixture names of module tensors: the generator's argument names (w/b, or gamma/beta for BN).
std::string fixture_name(const std::string& c, const std::string& n) {
  if (n == "weight") return has_fixture(c, "w") ? "w" : "gamma";
  if (n == "bias") return has_fixture(c, "b") ? "b" : "beta";
  return n;  // running_mean / running_var
}

void run_layer_case(const LayerCase& c) {
  Golden g(c.name);
  std::shared_ptr<Module> m = c.make();
  m->train(c.training);
  std::map<std::string, Tensor> sd;
  for (auto& [n, t] : m->state_dict()) sd[n] = g.load(fixture_name(c.name, n));
  m->load_state_dict(sd);
  const char* in = has_fixture(c.name, "x") ? "x" : has_fixture(c.name, "a") ? "a" : "ids";
  compare_and_backward(g, {(*m)(g[in])}, c.tol);
  g.check_input_grads(c.tol);
  for (auto& [n, p] : m->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << c.name << ": parameter " << n << " received no gradient";
    g.expect("g" + fixture_name(c.name, n), p.grad(), c.tol);
  }
  for (auto& [n, b] : m->named_buffers()) g.expect(fixture_name(c.name, n) + "_out", b, c.tol);
  g.expect_all_used();
}

template <class M, class... A>
std::function<std::shared_ptr<Module>()> layer(A... a) {
  return [=] { return std::shared_ptr<Module>(std::make_shared<M>(a...)); };
}
Conv2dOptions conv_opts(int k, int stride, Padding p, int pad = 0, int groups = 1, int dil = 1, bool bias = true) {
  Conv2dOptions o;
  o.kh = o.kw = k, o.stride = stride, o.padding = p, o.pad = pad, o.groups = groups, o.dilation = dil, o.bias = bias;
  return o;
}
ConvT2dOptions convt_opts(int k, int stride, Padding p, int pad = 0, int out_pad = 0, int groups = 1, bool bias = true) {
  ConvT2dOptions o;
  o.kh = o.kw = k, o.stride = stride, o.padding = p, o.pad = pad, o.output_padding = out_pad, o.groups = groups;
  o.bias = bias;
  return o;
}

const std::vector<LayerCase>& layer_cases() {
  static Rng rng(0);  // initial weights are overwritten by the fixtures
  static const std::vector<LayerCase> cases = {
      {"conv2d_s2_same", kSum, true, layer<Conv2d>(2, 3, conv_opts(3, 2, Padding::Same), std::ref(rng))},
      {"conv2d_depthwise_s2_same", kSum, true, layer<Conv2d>(3, 3, conv_opts(3, 2, Padding::Same, 0, 3), std::ref(rng))},
      {"conv2d_dilation2", kSum, true, layer<Conv2d>(2, 3, conv_opts(3, 1, Padding::Explicit, 2, 1, 2), std::ref(rng))},
      {"conv2d_groups2", kSum, true,
       layer<Conv2d>(4, 6, conv_opts(3, 1, Padding::Explicit, 1, 2, 1, false), std::ref(rng))},
      {"convt_keras_same_k3s2", kSum, true, layer<ConvTranspose2d>(3, 2, convt_opts(3, 2, Padding::Same), std::ref(rng))},
      {"conv2d_k5s2_same", kSum, true, layer<Conv2d>(3, 2, conv_opts(5, 2, Padding::Same), std::ref(rng))},
      {"convt_keras_same_k4s2", kSum, true, layer<ConvTranspose2d>(2, 3, convt_opts(4, 2, Padding::Same), std::ref(rng))},
      {"convt_keras_valid_k3s2", kSum, true, layer<ConvTranspose2d>(2, 2, convt_opts(3, 2, Padding::Valid), std::ref(rng))},
      {"convt_s2_pad1_outpad1", kSum, true,
       layer<ConvTranspose2d>(3, 2, convt_opts(3, 2, Padding::Explicit, 1, 1), std::ref(rng))},
      {"convt_groups2_s2", kSum, true,
       layer<ConvTranspose2d>(4, 6, convt_opts(3, 2, Padding::Explicit, 0, 0, 2, false), std::ref(rng))},
      {"linear", kSum, true, layer<Linear>(5, 3, std::ref(rng))},
      {"embedding", kElem, true, layer<Embedding>(7, 4, std::ref(rng))},
      {"bn2d_train", kSum, true, layer<BatchNorm>(4)},
      {"bn4d_train", kSum, true, layer<BatchNorm>(4)},
      {"bn4d_eval", kSum, false, layer<BatchNorm>(4)},
      {"bn4d_train_noaffine", kSum, true, layer<BatchNorm>(3, BatchNormArgs{}, false)},
      {"bn4d_train_keras", kSum, true, layer<BatchNorm>(3, bn_args(true, 0.99f, MomentumConvention::Keras, 1e-3f))},
      {"maxpool_same_k2", kElem, true, layer<MaxPool2d>(2, -1, Padding::Same)},
      {"maxpool_k3s2_pad1", kElem, true, layer<MaxPool2d>(3, 2, Padding::Explicit, 1)},
      {"avgpool_same_k2", kElem, true, layer<AvgPool2d>(2, -1, Padding::Same)},
      {"avgpool_k3s2_pad1_incl", kElem, true, layer<AvgPool2d>(3, 2, Padding::Explicit, 1)},
      {"global_avg_pool", kElem, true, layer<GlobalAvgPool2d>()},
      {"upsample_nearest_2", kElem, true, layer<UpsampleNearest2d>(2)},
      {"flatten", kElem, true, layer<Flatten>()},
      {"relu", kElem, true, layer<Activation>(Act::ReLU)},
      {"relu6", kElem, true, layer<Activation>(Act::ReLU6)},
      {"leaky_relu", kElem, true, layer<Activation>(Act::LeakyReLU, 0.2f)},
      {"tanh", kElem, true, layer<Activation>(Act::Tanh)},
      {"sigmoid", kElem, true, layer<Activation>(Act::Sigmoid)},
      {"softmax_last", kElem, true, layer<Activation>(Act::Softmax)},  // [4, 7]: dim 1 is the last
  };
  return cases;
}

class GoldenLayer : public ::testing::TestWithParam<LayerCase> {};
TEST_P(GoldenLayer, OutputAndGradientsMatchPyTorch) { run_layer_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Layers, GoldenLayer, ::testing::ValuesIn(layer_cases()),
                         [](const ::testing::TestParamInfo<LayerCase>& i) { return std::string(i.param.name); });

// Training-run cases, tested below.
const char* const kRunCases[] = {"convnet_adam", "sgd_momentum", "sgd_nesterov", "adamw", "adam_l2", "adam_keras"};

TEST(Golden, EveryFixtureDirectoryHasATest) {
  std::set<std::string> known(std::begin(kRunCases), std::end(kRunCases));
  for (auto& c : op_cases()) EXPECT_TRUE(known.insert(c.name).second) << "duplicate case " << c.name;
  int dirs = 0;
  for (auto& e : fs::directory_iterator(golden_dir(""))) {
    ++dirs;
    EXPECT_TRUE(known.count(e.path().filename().string())) << "no test for " << e.path();
  }
  EXPECT_EQ(dirs, (int)known.size()) << "a tested case has no fixture directory";
}

// Training-mode dropout is golden with PyTorch's mask (dropout_train); with fas' own draws, check
// the same relation y = x * keep / (1 - p) and dx = gy * keep / (1 - p) on the mask it drew.
TEST(Golden, DropoutTrainingRelation) {
  Golden g("dropout_eval");
  Tensor x = g["x"].detach().clone().set_requires_grad(true);
  Rng rng(5);
  Tensor y = dropout(x, 0.3f, true, rng);
  Tensor gy = g.load("gy");
  y.backward(gy);
  int kept = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    bool keep = y.data()[i] != 0.f;
    kept += keep;
    float s = keep ? 1.f / 0.7f : 0.f;
    EXPECT_FLOAT_EQ(y.data()[i], x.data()[i] * s);
    EXPECT_FLOAT_EQ(x.grad().data()[i], gy.data()[i] * s);
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, x.numel());
}

// Compares loss, every parameter gradient, and the state (parameters and buffers) after
// each of three optimizer steps. loss_of("stepK.") computes step K's loss from that step's batch.
void run_training(Golden& g, const NamedTensors& params, const std::function<NamedTensors()>& state,
                  Optimizer& opt, const std::function<Tensor(const std::string&)>& loss_of, Tol tol) {
  for (int step = 1; step <= 3; ++step) {
    const std::string s = "step" + std::to_string(step) + ".";
    opt.zero_grad();
    Tensor loss = loss_of(s);
    g.expect(s + "loss", loss, tol);
    loss.backward();
    for (auto& [n, p] : params) g.expect(s + "grad." + n, p.grad(), tol);
    opt.step();
    for (auto& [n, t] : state()) g.expect(s + "param." + n, t, tol);
  }
}

// conv(3->4, 3x3, Keras same, no bias) -> BN -> ReLU -> maxpool 2 -> flatten -> linear(64 -> 3)
// -> cross-entropy, built from layers, weights loaded from PyTorch's state dict, Adam lr 1e-2.
// Tolerance kSum. The conv has no bias (see make_golden.py: ahead of training-mode BN its
// gradient is rounding noise, which Adam's sign-like first step would amplify).
TEST(Golden, ConvNetThreeAdamSteps) {
  Golden g("convnet_adam");
  Rng rng(0);
  Sequential net;
  Conv2dOptions co;
  co.kh = co.kw = 3, co.stride = 1, co.padding = Padding::Same, co.bias = false;
  net.add("conv", std::make_shared<Conv2d>(3, 4, co, rng));
  net.add("bn", std::make_shared<BatchNorm>(4));
  net.add("relu", std::make_shared<Activation>(Act::ReLU));
  net.add("pool", std::make_shared<MaxPool2d>(2));
  net.add("flatten", std::make_shared<Flatten>());
  net.add("fc", std::make_shared<Linear>(64, 3, rng));
  std::map<std::string, Tensor> init;
  for (auto& [n, t] : net.state_dict()) init[n] = g.load("init." + n);
  net.load_state_dict(init);
  for (auto& [n, t] : net.state_dict()) EXPECT_EQ(max_abs_diff(t, init[n]), 0.f) << n;

  AdamConfig cfg;
  cfg.lr = 1e-2f;
  Adam opt(net.named_parameters(), cfg);
  auto state = [&] {
    NamedTensors all;
    for (auto& [n, t] : net.state_dict()) all.emplace_back(n, t);
    return all;
  };
  run_training(g, net.named_parameters(), state, opt,
               [&](const std::string& s) { return cross_entropy(net(g.load(s + "x")), g.ids(s + "labels")); }, kSum);
  net.eval();
  NoGradGuard ng;
  g.expect("eval.logits", net(g.load("eval.x")), kSum);
  g.expect_all_used();
}

// Linear(5 -> 3) + MSE through three steps of the given optimizer, on PyTorch's initial weights.
template <class Opt, class Cfg>
void run_tiny_linear(const std::string& c, Cfg cfg, Tol tol) {
  Golden g(c);
  Tensor w = g.load("init.weight").set_requires_grad(true), b = g.load("init.bias").set_requires_grad(true);
  NamedTensors params{{"weight", w}, {"bias", b}};
  Opt opt(params, cfg);
  run_training(g, params, [&] { return params; }, opt,
               [&](const std::string& s) { return mse_loss(linear(g.load(s + "x"), w, b), g.load(s + "t")); }, tol);
  g.expect_all_used();
}

// Tolerance kSum for all five (weight decay 1e-2 / 0.1 as in PyTorch's configs).
TEST(Golden, SgdMomentumThreeSteps) {
  SgdConfig c;
  c.lr = 0.1f, c.momentum = 0.9f, c.weight_decay = 1e-2f;
  run_tiny_linear<Sgd>("sgd_momentum", c, kSum);
}
TEST(Golden, SgdNesterovThreeSteps) {
  SgdConfig c;
  c.lr = 0.1f, c.momentum = 0.9f, c.nesterov = true;
  run_tiny_linear<Sgd>("sgd_nesterov", c, kSum);
}
TEST(Golden, AdamWThreeSteps) {
  AdamConfig c;
  c.lr = 1e-2f, c.weight_decay = 0.1f, c.decoupled = true;
  run_tiny_linear<Adam>("adamw", c, kSum);
}
TEST(Golden, AdamL2ThreeSteps) {
  AdamConfig c;
  c.lr = 1e-2f, c.weight_decay = 0.1f;
  run_tiny_linear<Adam>("adam_l2", c, kSum);
}
// Keras form (eps 1e-7 added to the uncorrected sqrt(v)); the generator writes it out in torch.
TEST(Golden, AdamKerasFormThreeSteps) {
  AdamConfig c;
  c.lr = 1e-2f, c.eps = 1e-7f, c.keras = true;
  run_tiny_linear<Adam>("adam_keras", c, kSum);
}

}  // namespace
