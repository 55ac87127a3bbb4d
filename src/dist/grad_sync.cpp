#include "dist/grad_sync.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "dist/dist.h"

namespace fas::dist {

namespace {
bool g_step = false, g_sync_bn = false;
double g_share = 1.0;
// Floats per allreduce: 4 MB (a few large messages, not one per tensor); FAS_GRAD_BUCKET_KB
// sets another size (the MPI checks use small buckets so that many start during one pass).
size_t bucket_floats() {
  static const size_t n = bucket_floats_from(std::getenv("FAS_GRAD_BUCKET_KB"));
  return n;
}

// Gradients packed (scaled by the batch share) into one buffer that is summed over the ranks.
struct Bucket {
  std::vector<float> buf;
  std::vector<Tensor> grads;  // in packing order
  void add(const Tensor& g, float w) {
    const float* d = g.data();
    const size_t off = buf.size(), n = (size_t)g.numel();
    buf.resize(off + n);  // one growth per tensor, then a loop the compiler vectorises
    float* o = buf.data() + off;
    for (size_t k = 0; k < n; ++k) o[k] = w * d[k];
    grads.push_back(g);
  }
  void unpack() {
    size_t off = 0;
    for (Tensor& g : grads) {
      const size_t n = (size_t)g.numel();
      std::copy_n(buf.data() + off, n, g.data());
      off += n;
    }
  }
};

// The overlapped pass's state: buckets whose sums have started (a list: their buffers must not
// move while MPI writes them), the one filling, and the parameters already taken.
std::list<Bucket> g_started;
Bucket g_filling;
std::unordered_set<const TensorImpl*> g_taken;

// A gradient of at least one bucket is summed on its own memory: scaled in place, no copy into a
// bucket and back (DCVAE's 134 MB FC weight gradient: two passes over it saved per step). The
// backward pass no longer touches a finished leaf gradient, and the trainer reads it only after
// the optimizer's wait.
bool sums_in_place(const Tensor& g) { return (size_t)g.numel() >= bucket_floats(); }
void scale_for_sum(Tensor g, float w) {
  float* d = g.data();
  const int64_t n = g.numel();
  if (w != 1.f)
    for (int64_t k = 0; k < n; ++k) d[k] = w * d[k];
}

void start_filling() {
  if (g_filling.buf.empty()) return;
  g_started.push_back(std::move(g_filling));
  g_filling = Bucket{};
  iallreduce_sum(g_started.back().buf.data(), g_started.back().buf.size());
}
}  // namespace

size_t bucket_floats_from(const char* kb) {
  if (!kb) return size_t(1) << 20;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(kb, &end, 10);
  if (end == kb || *end != '\0' || errno != 0 || v < 1 || v > (1L << 20))
    fail(std::string("FAS_GRAD_BUCKET_KB must be a whole number of KB from 1 to 1048576, got '") + kb + "'");
  return (size_t)v * 256;  // 256 floats a KB
}

void begin_step(size_t local, size_t global) {
  g_step = parallel();
  g_share = g_step && global > 0 ? (double)local / (double)global : 1.0;
}
void end_step() { g_step = false, g_share = 1.0; }
double batch_share() { return g_share; }
bool step_active() { return g_step; }

void average_gradients(const NamedTensors& params) {
  if (!g_step) return;
  // First the overlapped pass's sums, if one ran.
  start_filling();
  wait_all();
  for (Bucket& b : g_started) b.unpack();
  g_started.clear();
  const auto taken = std::move(g_taken);
  g_taken.clear();
  // Then every gradient no bucket took, in the parameters' order.
  const float w = (float)g_share;
  Bucket b;
  auto flush = [&] {
    if (b.buf.empty()) return;
    allreduce_sum(b.buf.data(), b.buf.size());
    b.unpack();
    b = Bucket{};
  };
  for (const auto& [name, p] : params) {
    if (!p.requires_grad() || !p.grad().defined() || taken.count(p.impl())) continue;
    if (sums_in_place(p.grad())) {
      scale_for_sum(p.grad(), w);
      allreduce_sum(p.grad().data(), (size_t)p.grad().numel());
      continue;
    }
    b.add(p.grad(), w);
    if (b.buf.size() >= bucket_floats()) flush();
  }
  flush();
}

OverlappedBackward::OverlappedBackward(const NamedTensors& params) {
  if (!g_step) return;
  auto mine = std::make_shared<std::unordered_map<const TensorImpl*, Tensor>>();
  for (const auto& [name, p] : params) mine->emplace(p.impl(), p);
  hook_.emplace([mine](TensorImpl* leaf) {
    auto it = mine->find(leaf);
    if (it == mine->end() || g_taken.count(leaf) || !it->second.grad().defined()) return;
    Tensor g = it->second.grad();
    g_taken.insert(leaf);
    if (sums_in_place(g)) {
      scale_for_sum(g, (float)g_share);
      iallreduce_sum(g.data(), (size_t)g.numel());
    } else {
      g_filling.add(g, (float)g_share);
      if (g_filling.buf.size() >= bucket_floats()) start_filling();
    }
    progress();
  });
}

OverlappedBackward::~OverlappedBackward() {
  if (hook_) start_filling();
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
