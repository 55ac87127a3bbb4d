#include "models/mobilenetv2_infer.h"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <functional>
#include <limits>
#include <thread>

#include <omp.h>

#include "kernels/nhwc.h"
#include "tensor/tensor.h"

namespace fas {

namespace {

// The barrier between layers of an image split over a team: a sense-reversing spin barrier.
// libgomp's barrier costs about 2 us per wait on a 2-core VM, against 5-10 us per half of a small
// layer (EXP-123); this one costs one cache-line round trip. After a while it yields, so an
// oversubscribed machine is not burnt.
class SpinBarrier {
 public:
  void reset(int n) { n_ = n, count_.store(0, std::memory_order_relaxed); }
  void wait() {
    const unsigned g = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      gen_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spins = 0; gen_.load(std::memory_order_acquire) == g; ++spins) {
      if (spins < 100000) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  int n_ = 1;
  alignas(64) std::atomic<int> count_{0};
  alignas(64) std::atomic<unsigned> gen_{0};
};

template <class Packed>
F32ConvView conv_view(const Packed& p) {
  return F32ConvView{p.w.empty() ? nullptr : p.w.data(), p.b.empty() ? nullptr : p.b.data()};
}
}  // namespace

MobileNetV2Infer::MobileNetV2Infer(const MobileNetV2Lite& model) : MobileNetV2Infer(fold_mobilenetv2(model)) {}

MobileNetV2Infer::MobileNetV2Infer(FoldedMobileNetV2 net) : net_(std::move(net)) {  // plan_: allocate()
  auto pack_pw = [](const FoldedConv& c) {
    if (!c.defined()) return Packed{};
    return Packed{pack_pw_weights(c.w.data(), c.cout, c.cin, nullptr), pack_bias(c.b.data(), c.cout)};
  };
  stem_ = {pack_conv3x3_weights(net_.stem.w.data(), net_.stem.cout, net_.stem.cin, nullptr),
           pack_bias(net_.stem.b.data(), net_.stem.cout)};
  for (const auto& fb : net_.blocks) {
    expand_.push_back(pack_pw(fb.expand));
    dw_.push_back({pack_dw3x3_weights(fb.dw.w.data(), fb.dw.cout, nullptr), pack_bias(fb.dw.b.data(), fb.dw.cout)});
    project_.push_back(pack_pw(fb.project));
  }
  head_ = pack_pw(net_.head);
  for (size_t i = 0; i < net_.blocks.size(); ++i) {
    expand_v_.push_back(conv_view(expand_[i]));
    dw_v_.push_back(conv_view(dw_[i]));
    project_v_.push_back(conv_view(project_[i]));
  }
  allocate(1);
}

void MobileNetV2Infer::allocate(int parts) {
  parts_ = parts;
  plan_ = plan_mobilenetv2(net_, parts == 1);
  views_.assign(parts, Mnv2F32View{});
  Carver count;
  mnv2_carve_f32(count, net_, plan_, views_.data(), parts);
  arena_ = AlignedBlock(count.used);
  Carver carve{arena_.data()};
  mnv2_carve_f32(carve, net_, plan_, views_.data(), parts);
  activation_bytes_ = sizeof(float) * (plan_.buf[0] + plan_.buf[1] +
                                       parts * (plan_.ring + plan_.row + net_.head.cout + mnv2_halo_floats(plan_, parts)));
  for (Mnv2F32View& v : views_) {
    v.net = &net_;
    v.plan = &plan_;
    v.stem = conv_view(stem_);
    v.head = conv_view(head_);
    v.expand = expand_v_.data(), v.dw = dw_v_.data(), v.project = project_v_.data();
    v.dense_w = net_.dense_w.data();
    v.dense_b = net_.dense_b;
  }
}

int MobileNetV2Infer::set_threads(int threads) {
  const int parts = std::max(1, threads);
  if (parts != parts_) allocate(parts);
  return parts_;
}

template <class Done>
void MobileNetV2Infer::run_images(const float* x, int64_t n, Done&& done) {
  const int64_t per = net_.C * net_.H * net_.W;
  if (parts_ == 1) {
    for (int64_t i = 0; i < n; ++i) {
      mnv2_f32_pool(views_[0], x + i * per, nullptr);
      done(i, views_[0].pool);
    }
    return;
  }
  // One team for all n images; a spin barrier between layers (Mnv2Split), then one thread adds
  // the parts' pool sums. The team may be smaller than asked (nested, OMP_THREAD_LIMIT): the rows
  // are split over the threads it has.
  SpinBarrier barrier;
#pragma omp parallel num_threads(parts_)
  {
    const int P = omp_get_num_threads(), p = omp_get_thread_num();
#pragma omp single
    barrier.reset(P);  // (the single's own barrier publishes it)
    const std::function<void()> sync = [&barrier] { barrier.wait(); };
    for (int64_t i = 0; i < n; ++i) {
      mnv2_f32_pool(views_[p], x + i * per, nullptr, Mnv2Split{p, P, &sync});
#pragma omp barrier
#pragma omp single
      {
        float* pool = views_[0].pool;
        for (int q = 1; q < P; ++q)
          for (int64_t c = 0; c < net_.head.cout; ++c) pool[c] += views_[q].pool[c];
        done(i, pool);
      }
    }
  }
}

size_t MobileNetV2Infer::activation_bytes() const { return activation_bytes_; }

size_t MobileNetV2Infer::weight_bytes() const {
  size_t n = stem_.w.size() + stem_.b.size() + head_.w.size() + head_.b.size();
  for (const auto* v : {&expand_, &dw_, &project_})
    for (const Packed& p : *v) n += p.w.size() + p.b.size();
  return n * sizeof(float) + folded_bytes(net_);
}

std::vector<const float*> MobileNetV2Infer::buffer_addresses() const {
  std::vector<const float*> a;
  for (const Mnv2F32View& v : views_) a.insert(a.end(), {v.buf[0], v.buf[1], v.ring, v.row, v.pool, v.halo});
  return a;
}

void MobileNetV2Infer::features(const float* x, int64_t n, float* out) {
  const FoldedConv& h = net_.head;
  run_images(x, n, [&](int64_t i, const float* pool) {
    for (int64_t c = 0; c < h.cout; ++c) out[i * h.cout + c] = pool[c] / static_cast<float>(h.H * h.W);
  });
}

void MobileNetV2Infer::logits(const float* x, int64_t n, float* out) {
  run_images(x, n, [&](int64_t i, const float* pool) { out[i] = mnv2_f32_dense(views_[0], pool); });
}

void MobileNetV2Infer::predict(const float* x, int64_t n, float* out) {
  logits(x, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-out[i]));
}

void MobileNetV2Infer::observe(const float* x, int64_t n, const Observer& obs) {
  head_row_.resize(net_.head.W * net_.head.cout);  // calibration only, not in the inference plan
  views_[0].head_row = head_row_.data();
  const int64_t per = net_.C * net_.H * net_.W;
  for (int64_t i = 0; i < n; ++i) mnv2_f32_pool(views_[0], x + i * per, &obs);  // one thread
}

Tensor MobileNetV2Infer::forward(const Tensor& x) {
  const Shape want{net_.C, net_.H, net_.W};
  if (x.dim() != 4 || Shape(x.shape().begin() + 1, x.shape().end()) != want)
    fail("MobileNetV2Infer: expected input [N, " + std::to_string(net_.C) + ", " + std::to_string(net_.H) + ", " +
         std::to_string(net_.W) + "], got " + shape_str(x.shape()));
  Tensor y = Tensor::zeros({x.shape()[0], 1});
  predict(x.data(), x.shape()[0], y.data());
  return y;
}

}  // namespace fas
