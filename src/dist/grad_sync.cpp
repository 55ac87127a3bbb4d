#include "dist/grad_sync.h"

#include <vector>

#include "dist/dist.h"

namespace fas::dist {

namespace {
bool g_step = false, g_sync_bn = false;
double g_share = 1.0;
constexpr size_t kBucket = size_t(1) << 20;  // floats per allreduce (4 MB)
}  // namespace

void begin_step(size_t local, size_t global) {
  g_step = parallel();
  g_share = g_step && global > 0 ? (double)local / (double)global : 1.0;
}
void end_step() { g_step = false, g_share = 1.0; }
double batch_share() { return g_share; }
bool step_active() { return g_step; }

void average_gradients(const NamedTensors& params) {
  if (!g_step) return;
  const float w = (float)g_share;
  std::vector<float> buf;
  std::vector<Tensor> held;  // the gradients packed in buf, to unpack after the sum
  auto flush = [&] {
    if (buf.empty()) return;
    allreduce_sum(buf.data(), buf.size());
    size_t off = 0;
    for (Tensor& g : held) {
      float* d = g.data();
      for (int64_t k = 0; k < g.numel(); ++k) d[k] = buf[off + k];
      off += (size_t)g.numel();
    }
    buf.clear(), held.clear();
  };
  for (const auto& [name, p] : params) {
    if (!p.requires_grad() || !p.grad().defined()) continue;
    Tensor g = p.grad();
    const float* d = g.data();
    for (int64_t k = 0; k < g.numel(); ++k) buf.push_back(w * d[k]);
    held.push_back(g);
    if (buf.size() >= kBucket) flush();
  }
  flush();
}

void set_sync_bn(bool on) { g_sync_bn = on; }
bool sync_bn_requested() { return g_sync_bn; }
bool sync_bn_active() { return g_sync_bn && g_step; }

int64_t sync_bn_stats(int64_t M, float* mean, float* var, int64_t C) {
  // Sums of x and x^2 in double: [count, sum_c..., sumsq_c...]. E[x^2] - E[x]^2 in double keeps
  // the float statistics' precision for activations of ordinary scale.
  std::vector<double> s(1 + 2 * (size_t)C);
  s[0] = (double)M;
  for (int64_t c = 0; c < C; ++c) {
    s[1 + c] = (double)M * mean[c];
    s[1 + C + c] = (double)M * ((double)var[c] + (double)mean[c] * mean[c]);
  }
  allreduce_sum(s.data(), s.size());
  const double Mt = s[0];
  for (int64_t c = 0; c < C; ++c) {
    const double m = s[1 + c] / Mt;
    const double v = s[1 + C + c] / Mt - m * m;
    mean[c] = (float)m;
    var[c] = (float)(v > 0 ? v : 0);
  }
  return (int64_t)Mt;
}

// Rank r's gradient is kept at its own loss's scale (the mean over its items); the true global
// gradient of y on rank r is share_r * gy_r. The global sums are therefore sum_r share_r * S_r,
// and the input gradient at rank r's scale needs them divided by share_r again (for an even
// split: the plain sum over ranks, as PyTorch's SyncBatchNorm).
void sync_bn_grad_sums(float* sum_g, float* sum_gxc, int64_t C) {
  std::vector<double> s(2 * (size_t)C);
  for (int64_t c = 0; c < C; ++c) s[c] = g_share * sum_g[c], s[C + c] = g_share * sum_gxc[c];
  allreduce_sum(s.data(), s.size());
  for (int64_t c = 0; c < C; ++c) sum_g[c] = (float)(s[c] / g_share), sum_gxc[c] = (float)(s[C + c] / g_share);
}

}  // namespace fas::dist
