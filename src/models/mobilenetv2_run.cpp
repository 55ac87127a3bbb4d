#include "models/mobilenetv2_run.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/nhwc.h"
#include "kernels/qs8_nhwc.h"

namespace fas {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();

inline void observe_rows(const Mnv2Observer* obs, size_t point, const float* v, int64_t pixels, int64_t channels) {
  if (obs) (*obs)(point, v, pixels, channels);
}
}  // namespace

void mnv2_f32_pool(const Mnv2F32View& v, const float* x, const Mnv2Observer* obs, const Mnv2Split& sp) {
  const FoldedMobileNetV2& net = *v.net;
  const MobileNetV2Plan& plan = *v.plan;
  const NhwcKernels k = nhwc_kernels(active_isa());
  // This part's share [lo, hi) of n rows (or pixels), and the barrier between layers.
  auto share = [&](int64_t n, int64_t& lo, int64_t& hi) {
    lo = n * sp.part / sp.parts, hi = n * (sp.part + 1) / sp.parts;
  };
  auto sync = [&] {
    if (sp.sync) (*sp.sync)();
  };
  int64_t lo, hi;
  observe_rows(obs, 0, x, net.C * net.H * net.W, 1);
  // Stem: reads the NCHW image directly (element (ix, c) of a row at ix + c*H*W).
  const FoldedConv& s = net.stem;
  float* stem_out = v.buf[0] + plan.stem_off;
  share(s.Ho, lo, hi);
  for (int64_t oy = lo; oy < hi; ++oy) {
    const float* rows[3];
    dw_input_rows<float>(s, oy, [&](int64_t iy) { return x + iy * s.W; }, rows);
    float* y = stem_out + oy * s.Wo * s.cout;
    k.conv3x3(rows, s.W, s.cin, 1, s.H * s.W, s.stride, s.pad_left, s.Wo, s.cout, v.stem.w, v.stem.b, y, 0.f, 6.f);
    observe_rows(obs, 1, y, s.Wo, s.cout);
  }
  sync();
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const FoldedBlock& fb = net.blocks[i];
    const MobileNetV2Plan::Step& st = plan.steps[i];
    const FoldedConv &e = fb.expand, &d = fb.dw, &p = fb.project;
    const size_t pt = 2 + 3 * i;
    const float* in = v.buf[st.src] + st.src_off;
    float* out = v.buf[st.dst] + st.dst_off;
    const int64_t cin = e.defined() ? e.cin : d.cin, E = d.cout;
    share(d.Ho, lo, hi);
    auto expand = [&](int64_t iy, float* r) {
      k.pwconv(d.W, cin, E, in + iy * d.W * cin, cin, v.expand[i].w, v.expand[i].b, nullptr, r, 0.f, 6.f);
      observe_rows(obs, pt, r, d.W, E);
    };
    // In place and split (stride 1, expand, residual): input rows lo - 1 and hi are the other
    // part's output rows; expand them into the halo before anyone writes.
    const bool halo = sp.parts > 1 && st.src == st.dst && lo < hi;
    float* halo_lo = halo && lo > 0 ? v.halo : nullptr;
    float* halo_hi = halo && hi < d.H ? v.halo + d.W * E : nullptr;
    if (halo_lo) expand(lo - 1, halo_lo);
    if (halo_hi) expand(hi, halo_hi);
    if (sp.parts > 1 && st.src == st.dst) sync();
    // Next input row to expand into the ring (row iy lives in slot iy % 3).
    int64_t next = halo ? lo : std::max<int64_t>(0, lo * d.stride - d.pad_top);
    auto row = [&](int64_t iy) -> const float* {
      if (!e.defined()) return in + iy * d.W * cin;
      if (halo && iy == lo - 1) return halo_lo;
      if (halo && iy == hi) return halo_hi;
      for (; next <= iy; ++next) expand(next, v.ring + (next % 3) * d.W * E);
      return v.ring + (iy % 3) * d.W * E;
    };
    for (int64_t oy = lo; oy < hi; ++oy) {
      const float* rows[3];
      dw_input_rows<float>(d, oy, row, rows);
      k.dwconv3x3(rows, d.W, E, d.stride, d.pad_left, d.Wo, v.dw[i].w, v.dw[i].b, v.row, 0.f, 6.f);
      observe_rows(obs, pt + 1, v.row, d.Wo, E);
      // The residual is input row oy; in place it is the very row being written.
      float* y = out + oy * p.Wo * p.cout;
      k.pwconv(d.Wo, E, p.cout, v.row, E, v.project[i].w, v.project[i].b, fb.residual ? in + oy * d.W * cin : nullptr,
               y, -kInf, kInf);
      observe_rows(obs, pt + 2, y, p.Wo, p.cout);
    }
    sync();
  }
  // Conv_1 + ReLU6 fused with the global pooling sums: its 1280-wide output is never stored.
  // Calibration needs the values, so observing runs it row by row into head_row instead.
  const FoldedConv& h = net.head;
  const float* in = v.buf[plan.final_buf] + plan.final_off;
  std::fill(v.pool, v.pool + h.cout, 0.f);
  if (!obs) {
    share(h.H * h.W, lo, hi);
    if (lo < hi) k.pwconv_sum(hi - lo, h.cin, h.cout, in + lo * h.cin, h.cin, v.head.w, v.head.b, v.pool, 0.f, 6.f);
    return;
  }
  for (int64_t y = 0; y < h.H; ++y) {
    float* r = v.head_row;
    k.pwconv(h.W, h.cin, h.cout, in + y * h.W * h.cin, h.cin, v.head.w, v.head.b, nullptr, r, 0.f, 6.f);
    observe_rows(obs, 2 + 3 * net.blocks.size(), r, h.W, h.cout);
    for (int64_t i = 0; i < h.W * h.cout; ++i) v.pool[i % h.cout] += r[i];
  }
}

float mnv2_f32_dense(const Mnv2F32View& v, const float* pool) {
  const FoldedConv& h = v.net->head;
  double acc = 0;
  for (int64_t c = 0; c < h.cout; ++c) acc += static_cast<double>(pool[c]) * v.dense_w[c];
  return static_cast<float>(acc / static_cast<double>(h.H * h.W)) + v.dense_b;
}

float mnv2_f32_logit(const Mnv2F32View& v, const float* x) {
  mnv2_f32_pool(v, x, nullptr);
  return mnv2_f32_dense(v, v.pool);
}

void mnv2_q8_pool(const Mnv2Q8View& v, const float* x) {
  const FoldedMobileNetV2& net = *v.net;
  const MobileNetV2Plan& plan = *v.plan;
  const Isa isa = active_isa();
  const NhwcKernels kf = nhwc_kernels(isa);
  const Qs8Kernels k = qs8_kernels(isa);
  const FoldedConv& s = net.stem;
  int8_t* stem_out = v.buf[0] + plan.stem_off;
  for (int64_t oy = 0; oy < s.Ho; ++oy) {
    const float* rows[3];
    dw_input_rows<float>(s, oy, [&](int64_t iy) { return x + iy * s.W; }, rows);
    kf.conv3x3(rows, s.W, s.cin, 1, s.H * s.W, s.stride, s.pad_left, s.Wo, s.cout, v.stem.w, v.stem.b, v.stem_row,
               0.f, 6.f);
    k.quantize(s.Wo * s.cout, v.stem_row, 1.f / v.stem_scale, stem_out + oy * s.Wo * s.cout);
  }
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const FoldedBlock& fb = net.blocks[i];
    const MobileNetV2Plan::Step& st = plan.steps[i];
    const FoldedConv &e = fb.expand, &d = fb.dw, &p = fb.project;
    const Q8ConvView &qe = v.expand[i], &qd = v.dw[i], &qp = v.project[i];
    const int8_t* in = v.buf[st.src] + st.src_off;
    int8_t* out = v.buf[st.dst] + st.dst_off;
    const int64_t cin = e.defined() ? e.cin : d.cin, E = d.cout;
    int64_t next = 0;
    auto row = [&](int64_t iy) -> const int8_t* {
      if (!e.defined()) return in + iy * d.W * cin;
      for (; next <= iy; ++next)
        k.pwconv(d.W, cin, E, in + next * d.W * cin, cin, qe.w, qe.scale, qe.bias, nullptr, 0.f,
                 v.ring + (next % 3) * d.W * E, qe.lo, qe.hi);
      return v.ring + (iy % 3) * d.W * E;
    };
    for (int64_t oy = 0; oy < d.Ho; ++oy) {
      const int8_t* rows[3];
      dw_input_rows<int8_t>(d, oy, row, rows);
      k.dwconv3x3(rows, d.W, E, d.stride, d.pad_left, d.Wo, qd.w, qd.scale, qd.bias, v.row, qd.lo, qd.hi);
      k.pwconv(d.Wo, E, p.cout, v.row, E, qp.w, qp.scale, qp.bias, fb.residual ? in + oy * d.W * cin : nullptr,
               v.res_scale[i], out + oy * p.Wo * p.cout, qp.lo, qp.hi);
    }
  }
  const FoldedConv& h = net.head;
  const int8_t* in = v.buf[plan.final_buf] + plan.final_off;
  std::fill(v.pool, v.pool + h.cout, 0);
  for (int64_t y = 0; y < h.H; ++y) {
    k.pwconv(h.W, h.cin, h.cout, in + y * h.W * h.cin, h.cin, v.head.w, v.head.scale, v.head.bias, nullptr, 0.f,
             v.head_row, v.head.lo, v.head.hi);
    for (int64_t xx = 0; xx < h.W; ++xx) {
      const int8_t* r = v.head_row + xx * h.cout;
      for (int64_t c = 0; c < h.cout; ++c) v.pool[c] += r[c];
    }
  }
}

float mnv2_q8_logit(const Mnv2Q8View& v, const float* x) {
  mnv2_q8_pool(v, x);
  const FoldedConv& h = v.net->head;
  double acc = 0;
  for (int64_t c = 0; c < h.cout; ++c) acc += static_cast<double>(v.pool[c]) * v.head_scale[c] * v.dense_w[c];
  return static_cast<float>(acc / static_cast<double>(h.H * h.W)) + v.dense_b;
}

AlignedBlock::AlignedBlock(size_t bytes) : raw_(new uint8_t[bytes + 64]) {
  base_ = raw_.get() + (64 - reinterpret_cast<uintptr_t>(raw_.get()) % 64) % 64;
  std::memset(base_, 0, bytes);
}

namespace {
template <class Buf>
void carve_pair_ring_row(Carver& a, const MobileNetV2Plan& plan, Buf* buf[2], Buf*& ring, Buf*& row) {
  buf[0] = a.take<Buf>(plan.buf[0]);
  buf[1] = a.take<Buf>(plan.buf[1]);
  ring = a.take<Buf>(plan.ring);
  row = a.take<Buf>(plan.row);
}
}  // namespace

void mnv2_carve_f32(Carver& a, const FoldedMobileNetV2& net, const MobileNetV2Plan& plan, Mnv2F32View* v, int parts) {
  carve_pair_ring_row(a, plan, v[0].buf, v[0].ring, v[0].row);
  v[0].pool = a.take<float>(net.head.cout);
  const size_t halo = mnv2_halo_floats(plan, parts);
  v[0].halo = halo ? a.take<float>(halo) : nullptr;
  for (int p = 1; p < parts; ++p) {
    v[p].buf[0] = v[0].buf[0], v[p].buf[1] = v[0].buf[1];
    v[p].ring = a.take<float>(plan.ring);
    v[p].row = a.take<float>(plan.row);
    v[p].pool = a.take<float>(net.head.cout);
    v[p].halo = a.take<float>(halo);
  }
}

void mnv2_carve_q8(Carver& a, const FoldedMobileNetV2& net, const MobileNetV2Plan& plan, Mnv2Q8View& v) {
  carve_pair_ring_row(a, plan, v.buf, v.ring, v.row);
  v.head_row = a.take<int8_t>(net.head.W * net.head.cout);
  v.stem_row = a.take<float>(net.stem.Wo * net.stem.cout);
  v.pool = a.take<int32_t>(net.head.cout);
}

}  // namespace fas
