#include "deploy/fasm_write.h"

#include <cstring>

#include "base/error.h"
#include "deploy/fasm.h"
#include "kernels/lbp.h"
#include "kernels/nhwc.h"
#include "models/mobilenetv2_infer.h"
#include "models/mobilenetv2_int8.h"

namespace fas::fasm {

namespace {

// Appends arrays (fasm.h: 16-byte header, data, zero padding to 16) and finishes the header.
class Writer {
 public:
  Writer() : out_(kHeaderBytes, '\0') {}
  template <class T>
  void array(const char* tag, DType dt, const T* p, size_t n) {
    if (n > 0 && !p) fail(std::string("fasm export: array ") + tag + " has no data");
    char h[16] = {};
    std::memcpy(h, tag, std::min<size_t>(4, std::strlen(tag)));
    put(h + 4, (uint32_t)dt);
    put(h + 8, (uint64_t)n);
    out_.append(h, 16);
    out_.append(reinterpret_cast<const char*>(p), n * sizeof(T));
    out_.append((16 - out_.size() % 16) % 16, '\0');
    ++arrays_;
  }
  void i64(const char* tag, const std::vector<int64_t>& v) { array(tag, DType::I64, v.data(), v.size()); }
  void f32(const char* tag, const float* p, size_t n) { array(tag, DType::F32, p, n); }
  void f32(const char* tag, float v) { f32(tag, &v, 1); }
  void i16(const char* tag, const int16_t* p, size_t n) { array(tag, DType::I16, p, n); }

  std::string finish(Kind kind, int64_t C, int64_t H, int64_t W, size_t arena) {
    char* h = out_.data();
    std::memcpy(h, "FASM", 4);
    put(h + 4, kVersion);
    put(h + 8, (uint64_t)out_.size());
    put(h + 20, (uint32_t)kind);
    put(h + 24, arrays_);
    put(h + 32, (uint64_t)arena);
    put(h + 40, (uint32_t)C), put(h + 44, (uint32_t)H), put(h + 48, (uint32_t)W);
    put(h + 16, crc32(reinterpret_cast<const uint8_t*>(h) + 20, out_.size() - 20));
    return std::move(out_);
  }

 private:
  template <class T>
  static void put(char* at, T v) { std::memcpy(at, &v, sizeof v); }  // little-endian host
  std::string out_;
  uint32_t arrays_ = 0;
};

void conv_fields(std::vector<int64_t>& g, const FoldedConv& c) {
  g.insert(g.end(), {c.cin, c.cout, c.k, c.stride, c.depthwise, c.relu6, c.pad_top, c.pad_left, c.H, c.W, c.Ho, c.Wo});
}

void geometry_and_plan(Writer& w, const FoldedMobileNetV2& net, const MobileNetV2Plan& plan) {
  std::vector<int64_t> g{net.C, net.H, net.W, (int64_t)net.blocks.size()};
  conv_fields(g, net.stem);
  for (const FoldedBlock& b : net.blocks) {
    conv_fields(g, b.expand.defined() ? b.expand : FoldedConv{});
    conv_fields(g, b.dw);
    conv_fields(g, b.project);
  }
  conv_fields(g, net.head);
  for (const FoldedBlock& b : net.blocks) g.push_back(b.residual);
  w.i64("GEOM", g);
  std::vector<int64_t> p{(int64_t)plan.buf[0], (int64_t)plan.buf[1], (int64_t)plan.ring, (int64_t)plan.row,
                         (int64_t)plan.stem_off, plan.final_buf, (int64_t)plan.final_off};
  for (const auto& s : plan.steps) p.insert(p.end(), {s.src, s.dst, (int64_t)s.src_off, (int64_t)s.dst_off});
  w.i64("PLAN", p);
}

int64_t pw_count(const FoldedConv& c) { return c.cin * nhwc_pad_ch(c.cout); }
int64_t dw_count(const FoldedConv& c) { return 9 * nhwc_pad_ch(c.cout); }

}  // namespace

std::string export_mobilenetv2(const MobileNetV2Infer& e) {
  const Mnv2F32View& v = e.view();
  const FoldedMobileNetV2& net = e.folded();
  Writer w;
  geometry_and_plan(w, net, e.plan());
  w.f32("SW", v.stem.w, 9 * net.stem.cin * nhwc_pad_ch(net.stem.cout));
  w.f32("SB", v.stem.b, nhwc_pad_ch(net.stem.cout));
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const FoldedBlock& b = net.blocks[i];
    if (b.expand.defined()) {
      w.f32("EW", v.expand[i].w, pw_count(b.expand));
      w.f32("EB", v.expand[i].b, nhwc_pad_ch(b.expand.cout));
    }
    w.f32("DW", v.dw[i].w, dw_count(b.dw));
    w.f32("DB", v.dw[i].b, nhwc_pad_ch(b.dw.cout));
    w.f32("PW", v.project[i].w, pw_count(b.project));
    w.f32("PB", v.project[i].b, nhwc_pad_ch(b.project.cout));
  }
  w.f32("HW", v.head.w, pw_count(net.head));
  w.f32("HB", v.head.b, nhwc_pad_ch(net.head.cout));
  w.f32("DENS", v.dense_w, net.head.cout);
  w.f32("DNSB", v.dense_b);
  return w.finish(Kind::Mnv2Float, net.C, net.H, net.W, mnv2_arena_bytes(net, e.plan(), false));
}

std::string export_mobilenetv2(const MobileNetV2Int8& e) {
  const Mnv2Q8View& v = e.view();
  const FoldedMobileNetV2& net = e.folded();
  Writer w;
  geometry_and_plan(w, net, e.plan());
  w.f32("SW", v.stem.w, 9 * net.stem.cin * nhwc_pad_ch(net.stem.cout));
  w.f32("SB", v.stem.b, nhwc_pad_ch(net.stem.cout));
  w.f32("SSCL", v.stem_scale);
  auto conv = [&](const FoldedConv& c, const Q8ConvView& q, bool dw) {
    w.i16("QW", q.w, dw ? dw_count(c) : (c.cin + 1) / 2 * 2 * nhwc_pad_ch(c.cout));
    w.f32("QS", q.scale, nhwc_pad_ch(c.cout));
    w.f32("QB", q.bias, nhwc_pad_ch(c.cout));
    const float lohi[2] = {q.lo, q.hi};
    w.f32("QL", lohi, 2);
  };
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const FoldedBlock& b = net.blocks[i];
    if (b.expand.defined()) conv(b.expand, v.expand[i], false);
    conv(b.dw, v.dw[i], true);
    conv(b.project, v.project[i], false);
  }
  w.f32("RSCL", v.res_scale, net.blocks.size());
  conv(net.head, v.head, false);
  w.f32("HSCL", v.head_scale, net.head.cout);
  w.f32("DENS", v.dense_w, net.head.cout);
  w.f32("DNSB", v.dense_b);
  return w.finish(Kind::Mnv2Int8, net.C, net.H, net.W, mnv2_arena_bytes(net, e.plan(), true));
}

std::string export_lbp_lr(const LbpLrModel& m) {
  const int64_t F = (m.ycc ? 3 : 1) * (int64_t)m.radii.size() * m.grid * m.grid * kLbpBins;
  if ((int64_t)m.w.size() != F)
    fail("fasm export: lbp-lr has " + std::to_string(m.w.size()) + " weights, expected " + std::to_string(F));
  Writer w;
  std::vector<int64_t> g{m.C, m.H, m.W, m.ycc, m.grid, (int64_t)m.radii.size()};
  g.insert(g.end(), m.radii.begin(), m.radii.end());
  w.i64("GEOM", g);
  const float parm[3] = {m.scale, m.offset, m.bias};
  w.f32("PARM", parm, 3);
  w.f32("DENS", m.w.data(), m.w.size());
  return w.finish(Kind::LbpLr, m.C, m.H, m.W, lbp_arena_bytes(m.C, m.H, m.W, F));
}

std::string export_wiqa_lda(const WiqaLdaModel& m) {
  const size_t p = m.cols.size();
  if (p == 0 || m.shift.size() != p || m.scale.size() != p || m.w.size() != p)
    fail("fasm export: wiqa-lda needs one shift, scale and weight per selected metric");
  Writer w;
  std::vector<int64_t> g{1, m.H, m.W, m.slog, (int64_t)p};
  g.insert(g.end(), m.cols.begin(), m.cols.end());
  w.i64("GEOM", g);
  w.f32("SHFT", m.shift.data(), p);
  w.f32("SCAL", m.scale.data(), p);
  w.f32("DENS", m.w.data(), p);
  w.f32("DNSB", m.bias);
  return w.finish(Kind::WiqaLda, 1, m.H, m.W, 0);
}

}  // namespace fas::fasm
