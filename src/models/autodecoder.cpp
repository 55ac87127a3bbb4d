#include "models/autodecoder.h"

#include <cmath>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "optim/optim.h"

namespace fas {

namespace {
struct Stage {
  int out, k, stride;
};
// Spec 004 §1.1: kernel sizes follow from the parameter counts, strides from the shapes.
const Stage kStages[] = {{64, 3, 1}, {64, 3, 1}, {32, 3, 1}, {32, 3, 2}, {16, 3, 2}, {16, 3, 2}, {8, 3, 2}, {3, 4, 2}};
}  // namespace

AutoDecoder::AutoDecoder(int64_t images, int64_t latent, Rng& rng) {
  if (images < 1 || latent < 1)
    fail("autodecoder: images and latent must be positive, got images=" + std::to_string(images) +
         " latent=" + std::to_string(latent));
  codes = register_module("codes", std::make_shared<Embedding>(images, latent, rng));
  init_uniform(codes->weight, -0.05f, 0.05f, rng);  // Keras Embedding default
  decoder = register_module("decoder", std::make_shared<Sequential>());
  int64_t in = latent;
  const size_t n = sizeof kStages / sizeof kStages[0];
  for (size_t i = 0; i < n; ++i) {
    ConvT2dOptions o;
    o.kh = o.kw = kStages[i].k;
    o.stride = kStages[i].stride;
    o.padding = Padding::Valid;
    o.init = Init::Keras;
    decoder->add("convt" + std::to_string(i + 1), std::make_shared<ConvTranspose2d>(in, kStages[i].out, o, rng));
    decoder->add("act" + std::to_string(i + 1), std::make_shared<Activation>(i + 1 < n ? Act::ReLU : Act::Sigmoid));
    in = kStages[i].out;
  }
}

Tensor AutoDecoder::decode(const Tensor& z) {
  if (z.dim() != 2 || z.size(1) != latent())
    fail("autodecoder: a code must have " + std::to_string(latent()) + " values, got shape " + shape_str(z.shape()));
  return (*decoder)(reshape(z, {z.size(0), latent(), 1, 1}));
}

Tensor AutoDecoder::forward(const Tensor& ids) {
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const float f = ids.data()[i];
    if (!(f >= 0 && f < (float)images()))
      fail("autodecoder: image id " + std::to_string(f) + " outside the code table [0, " + std::to_string(images()) + ")");
  }
  Tensor z = (*codes)(ids);  // [N, 1, z] as Keras' Embedding(input_length=1)
  return decode(reshape(z, {ids.size(0), latent()}));
}

LatentStats latent_stats(const AutoDecoder& m, const std::vector<int>& groups, int group) {
  const int64_t n = m.images(), d = m.latent();
  const float* w = m.codes->weight.data();
  if (!groups.empty() && (int64_t)groups.size() != n)
    fail("autodecoder: " + std::to_string(groups.size()) + " group labels for " + std::to_string(n) + " codes");
  auto skip = [&](int64_t i) { return !groups.empty() && (groups[i] < 0 || (group >= 0 && groups[i] != group)); };
  LatentStats st;
  std::vector<double> sum(d, 0.0), sq(d, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    if (skip(i)) continue;
    ++st.count;
    for (int64_t j = 0; j < d; ++j) sum[j] += w[i * d + j];
  }
  if (st.count == 0)
    fail(group < 0 ? std::string("autodecoder: the checkpoint has no trained codes")
                   : "autodecoder: no trained code belongs to group " + std::to_string(group));
  for (int64_t i = 0; i < n; ++i) {
    if (skip(i)) continue;
    for (int64_t j = 0; j < d; ++j) {
      const double e = w[i * d + j] - sum[j] / (double)st.count;
      sq[j] += e * e;
    }
  }
  for (int64_t j = 0; j < d; ++j) {
    st.mean.push_back((float)(sum[j] / (double)st.count));
    st.sd.push_back((float)std::sqrt(sq[j] / (double)st.count));
  }
  return st;
}

std::vector<float> code_from_sd(const LatentStats& st, const std::vector<float>& s) {
  if (s.size() != st.mean.size())
    fail("autodecoder: a code needs " + std::to_string(st.mean.size()) + " values, got " + std::to_string(s.size()));
  std::vector<float> z(s.size());
  for (size_t j = 0; j < s.size(); ++j) z[j] = st.mean[j] + s[j] * st.sd[j];
  return z;
}

std::vector<float> code_to_sd(const LatentStats& st, const std::vector<float>& z) {
  if (z.size() != st.mean.size())
    fail("autodecoder: a code needs " + std::to_string(st.mean.size()) + " values, got " + std::to_string(z.size()));
  std::vector<float> s(z.size());
  for (size_t j = 0; j < z.size(); ++j) s[j] = st.sd[j] > 0 ? (z[j] - st.mean[j]) / st.sd[j] : 0.f;
  return s;
}

Projection project_codes(AutoDecoder& m, const Tensor& x, const std::vector<float>& start, const ProjectOptions& o) {
  const int64_t n = x.size(0), d = m.latent();
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) != 256 || x.size(3) != 256)
    fail("autodecoder: projection needs images [N, 3, 256, 256], got " + shape_str(x.shape()));
  if ((int64_t)start.size() != d) fail("autodecoder: the start code needs " + std::to_string(d) + " values");
  if (o.steps < 0 || !(o.lr > 0)) fail("autodecoder: projection needs steps >= 0 and lr > 0");
  EnableGradGuard eg;
  // The decoder's weights are left out of the graph (frozen); only the codes get gradients.
  struct Frozen {
    std::vector<std::pair<Tensor, bool>> saved;
    explicit Frozen(Module& d) {
      for (auto& [name, t] : d.named_parameters()) saved.emplace_back(t, t.requires_grad());
      for (auto& [t, on] : saved) t.set_requires_grad(false);
    }
    ~Frozen() {
      for (auto& [t, on] : saved) t.set_requires_grad(on);
    }
  } frozen(*m.decoder);
  Tensor z = Tensor::zeros({n, d});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) z.data()[i * d + j] = start[j];
  z.set_requires_grad(true);
  AdamConfig ac;
  ac.lr = o.lr;
  Adam opt({{"codes", z}}, ac);
  Projection p;
  // Summed over images (mean within each image), so each image's code sees its own MSE gradient
  // whatever the batch size.
  auto loss_of = [&](Tensor* per_image) {
    Tensor out = m.decode(z);
    Tensor e = mean_dim(reshape(square(sub(out, x)), {n, 3 * 256 * 256}), 1);
    if (per_image) *per_image = e.detach();
    return sum(e);
  };
  for (int s = 0; s < o.steps; ++s) {
    opt.zero_grad();
    Tensor l = loss_of(nullptr);
    p.curve.push_back(l.item() / (float)n);
    l.backward();
    opt.step();
  }
  Tensor per;
  {
    NoGradGuard ng;
    loss_of(&per);
  }
  p.mse = per.to_vector();
  p.codes = z.detach().clone();
  return p;
}

}  // namespace fas
