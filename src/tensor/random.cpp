#include "tensor/random.h"

#include <cmath>
#include <string>

namespace fas {

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void Rng::reseed(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
  has_spare_ = false;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::next_u64() {
  uint64_t r = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return r;
}

float Rng::uniform() { return (float)(next_u64() >> 40) * (1.0f / 16777216.0f); }
float Rng::uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

float Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = ((next_u64() >> 11) + 1.0) * (1.0 / 9007199254740993.0);  // (0, 1]
  double u2 = (next_u64() >> 11) * (1.0 / 9007199254740992.0);
  double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = (float)(r * std::sin(2 * M_PI * u2));
  has_spare_ = true;
  return (float)(r * std::cos(2 * M_PI * u2));
}

uint64_t Rng::below(uint64_t n) { return n ? next_u64() % n : 0; }

// Marsaglia & Tsang (2000) for shape >= 1; shape < 1 by Gamma(shape + 1) * U^(1/shape), in log
// space so tiny shapes (Beta(0.1, 0.1)) do not underflow to 0 before the ratio is taken.
static double log_gamma_sample(Rng& r, double k) {
  double boost = 0;
  if (k < 1) {
    double u = ((r.next_u64() >> 11) + 1.0) * (1.0 / 9007199254740993.0);  // (0, 1]
    boost = std::log(u) / k;
    k += 1;
  }
  const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = r.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = ((r.next_u64() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return std::log(d * v) + boost;
  }
}

float Rng::gamma(float shape) {
  if (!(shape > 0)) fail("Rng::gamma: shape must be positive, got " + std::to_string(shape));
  return (float)std::exp(log_gamma_sample(*this, shape));
}

float Rng::beta(float a, float b) {
  if (!(a > 0 && b > 0)) fail("Rng::beta: parameters must be positive, got " + std::to_string(a) + ", " + std::to_string(b));
  const double la = log_gamma_sample(*this, a), lb = log_gamma_sample(*this, b);
  return (float)(1 / (1 + std::exp(lb - la)));  // X / (X + Y) from the logs
}

void fans(const Shape& w, int64_t* fan_in, int64_t* fan_out) {
  if (w.size() < 2) {
    *fan_in = *fan_out = w.empty() ? 1 : w[0];
    return;
  }
  int64_t rf = 1;
  for (size_t i = 2; i < w.size(); ++i) rf *= w[i];
  *fan_in = w[1] * rf;
  *fan_out = w[0] * rf;
}

namespace {
thread_local bool skip_init = false;
}
SkipInit::SkipInit() : prev_(skip_init) { skip_init = true; }
SkipInit::~SkipInit() { skip_init = prev_; }
bool SkipInit::active() { return skip_init; }

void init_uniform(Tensor& t, float lo, float hi, Rng& rng) {
  if (skip_init) return;
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform(lo, hi);
}

void init_normal(Tensor& t, float mean, float std, Rng& rng) {
  if (skip_init) return;
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = mean + std * rng.normal();
}

void init_constant(Tensor& t, float v) {
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = v;
}

void init_glorot_uniform(Tensor& t, Rng& rng) {
  int64_t fi, fo;
  fans(t.shape(), &fi, &fo);
  float lim = std::sqrt(6.0f / (float)(fi + fo));
  init_uniform(t, -lim, lim, rng);
}

void init_he_normal(Tensor& t, Rng& rng) {
  int64_t fi, fo;
  fans(t.shape(), &fi, &fo);
  init_normal(t, 0.f, std::sqrt(2.0f / (float)fi), rng);
}

void init_he_uniform(Tensor& t, Rng& rng) {
  int64_t fi, fo;
  fans(t.shape(), &fi, &fo);
  float lim = std::sqrt(6.0f / (float)fi);
  init_uniform(t, -lim, lim, rng);
}

void init_torch_default(Tensor& t, int64_t fan_in, Rng& rng) {
  float lim = fan_in > 0 ? 1.0f / std::sqrt((float)fan_in) : 0.f;
  init_uniform(t, -lim, lim, rng);
}

}  // namespace fas
