// The .fasm runtime (deploy/fasm.h): checks a file, lays its arrays and the planned arena out in
// one allocation, and runs the shared engine loops (models/mobilenetv2_run.h) or the LBP
// features (kernels/lbp.h) on it. Part of the minimal build: no tensors, no JSON, no OpenMP.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "deploy/fasm.h"
#include "kernels/lbp.h"
#include "kernels/nhwc.h"
#include "models/mobilenetv2_run.h"
#ifndef FAS_NO_WIQA
#include "iqa/iqa.h"
#endif

namespace fas::fasm {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Mnv2Float: return "mobilenetv2-lite float";
    case Kind::Mnv2Int8: return "mobilenetv2-lite int8";
    case Kind::LbpLr: return "lbp-lr";
    case Kind::WiqaLda: return "wiqa-lda";
  }
  return "?";
}

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

namespace {

[[noreturn]] void bad(const std::string& why) { fail("not a valid .fasm model: " + why); }

template <class T>
T rd(const uint8_t* p) {  // little-endian host (fasm.h)
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Reads the arrays in order, checking tag, type and count (count < 0: any; returns it).
struct Reader {
  const uint8_t* data;
  size_t size, pos = kHeaderBytes;
  uint32_t left;
  template <class T>
  const T* take(const char* tag, DType dt, int64_t want, int64_t* got = nullptr) {
    if (left == 0) bad(std::string("array ") + tag + " missing");
    if (size - pos < 16) bad("truncated array header");
    const uint8_t* h = data + pos;
    char t[4] = {};  // tags shorter than 4 are zero-padded
    std::memcpy(t, tag, std::min<size_t>(4, std::strlen(tag)));
    if (std::memcmp(h, t, 4) != 0) bad(std::string("expected array ") + tag + ", found '" + std::string((const char*)h, strnlen((const char*)h, 4)) + "'");
    const uint64_t count = rd<uint64_t>(h + 8);
    if (rd<uint32_t>(h + 4) != (uint32_t)dt) bad(std::string("array ") + tag + " has the wrong element type");
    if (want >= 0 && count != (uint64_t)want)
      bad(std::string("array ") + tag + " has " + std::to_string(count) + " elements, expected " + std::to_string(want));
    if (count > (size - pos - 16) / sizeof(T)) bad(std::string("array ") + tag + " runs past the end of the file");
    if (got) *got = (int64_t)count;
    pos += 16 + (count * sizeof(T) + 15) / 16 * 16;
    if (pos > size) bad(std::string("array ") + tag + " runs past the end of the file");
    --left;
    return reinterpret_cast<const T*>(h + 16);
  }
};

constexpr int64_t kMaxDim = 1 << 14;  // bounds every size before any product is formed

// ---------------------------------------------------------------- MobileNetV2-lite geometry
constexpr int kConvFields = 12;

void read_conv(const int64_t*& g, FoldedConv& c) {
  c.cin = g[0], c.cout = g[1], c.k = (int)g[2], c.stride = (int)g[3], c.depthwise = g[4] != 0, c.relu6 = g[5] != 0;
  c.pad_top = (int)g[6], c.pad_left = (int)g[7], c.H = g[8], c.W = g[9], c.Ho = g[10], c.Wo = g[11];
  g += kConvFields;
}

// The shapes must chain and stay in range: with the CRC this guards the kernels against a
// crafted file (every array's count is then derived from these shapes).
void check_conv(const FoldedConv& c, int64_t cin, int64_t H, int64_t W, int k, bool dw, const char* what) {
  const std::string w = what;
  for (int64_t v : {c.cin, c.cout, c.H, c.W, c.Ho, c.Wo})
    if (v < 1 || v > kMaxDim) bad(w + ": size out of range");
  if (c.cin != cin || c.H != H || c.W != W) bad(w + ": input shape does not follow the previous layer");
  if (c.k != k || c.depthwise != dw || (dw && c.cout != c.cin)) bad(w + ": unexpected kernel");
  if (c.stride != 1 && c.stride != 2) bad(w + ": stride must be 1 or 2");
  if (c.Ho != (c.H + c.stride - 1) / c.stride || c.Wo != (c.W + c.stride - 1) / c.stride) bad(w + ": output size");
  if (c.pad_top < 0 || c.pad_top >= k || c.pad_left < 0 || c.pad_left >= k) bad(w + ": padding");
}

void read_geometry(Reader& r, FoldedMobileNetV2& net) {
  int64_t n = 0;
  const int64_t* g = r.take<int64_t>("GEOM", DType::I64, -1, &n);
  if (n < 4) bad("GEOM too short");
  const int64_t blocks = g[3];
  if (blocks < 0 || blocks > 256 || n != 4 + kConvFields * (2 + 3 * blocks) + blocks) bad("GEOM size");
  net.C = g[0], net.H = g[1], net.W = g[2];
  for (int64_t v : {net.C, net.H, net.W})
    if (v < 1 || v > kMaxDim) bad("input size out of range");
  g += 4;
  read_conv(g, net.stem);
  check_conv(net.stem, net.C, net.H, net.W, 3, false, "stem");
  net.blocks.resize(blocks);
  int64_t c = net.stem.cout, H = net.stem.Ho, W = net.stem.Wo;
  for (FoldedBlock& b : net.blocks) {
    read_conv(g, b.expand);
    read_conv(g, b.dw);
    read_conv(g, b.project);
    if (b.expand.cout != 0) {
      check_conv(b.expand, c, H, W, 1, false, "expand conv");
      if (b.expand.stride != 1) bad("expand conv: stride");
      c = b.expand.cout;
    }
    check_conv(b.dw, c, H, W, 3, true, "depthwise conv");
    check_conv(b.project, c, b.dw.Ho, b.dw.Wo, 1, false, "project conv");
    if (b.project.stride != 1) bad("project conv: stride");
    c = b.project.cout, H = b.project.Ho, W = b.project.Wo;
  }
  read_conv(g, net.head);
  check_conv(net.head, c, H, W, 1, false, "head conv");
  if (net.head.stride != 1) bad("head conv: stride");
  int64_t cin = net.stem.cout;
  for (FoldedBlock& b : net.blocks) {
    b.residual = *g++ != 0;
    if (b.residual && (b.dw.stride != 1 || b.project.cout != cin)) bad("residual block changes shape");
    cin = b.project.cout;
  }
}

void read_plan(Reader& r, const FoldedMobileNetV2& net, MobileNetV2Plan& plan) {
  const size_t blocks = net.blocks.size();
  const int64_t* p = r.take<int64_t>("PLAN", DType::I64, 7 + 4 * (int64_t)blocks);
  plan = plan_mobilenetv2(net);  // the stored plan must be the one these shapes give
  bool same = (size_t)p[0] == plan.buf[0] && (size_t)p[1] == plan.buf[1] && (size_t)p[2] == plan.ring &&
              (size_t)p[3] == plan.row && (size_t)p[4] == plan.stem_off && p[5] == plan.final_buf &&
              (size_t)p[6] == plan.final_off;
  for (size_t i = 0; i < blocks; ++i) {
    const auto& s = plan.steps[i];
    const int64_t* q = p + 7 + 4 * i;
    same = same && q[0] == s.src && q[1] == s.dst && (size_t)q[2] == s.src_off && (size_t)q[3] == s.dst_off;
  }
  if (!same) bad("the memory plan does not match the model's shapes");
}

// Element counts of the packed weights (kernels/nhwc.h, qs8_nhwc.h).
int64_t pw_count(const FoldedConv& c) { return c.cin * nhwc_pad_ch(c.cout); }
int64_t q8_pw_count(const FoldedConv& c) { return (c.cin + 1) / 2 * 2 * nhwc_pad_ch(c.cout); }
int64_t dw_count(const FoldedConv& c) { return 9 * nhwc_pad_ch(c.cout); }

void carve_lbp(Carver& a, int64_t C, int64_t H, int64_t W, int64_t F, float*& levels, float*& plane, float*& feat) {
  levels = a.take<float>(C * H * W);
  plane = a.take<float>(H * W);
  feat = a.take<float>(F);
}

// The bytes of the file copy (16-aligned inside) and the arena (64-aligned) in one block.
struct Memory {
  std::unique_ptr<uint8_t[]> raw;
  uint8_t *file = nullptr, *arena = nullptr;
  size_t bytes = 0;
  void allocate(const uint8_t* data, size_t n, size_t arena_bytes) {
    const size_t file_room = (n + 63) / 64 * 64;
    bytes = 64 + file_room + arena_bytes;
    raw.reset(new uint8_t[bytes]);
    uint8_t* base = raw.get() + (64 - reinterpret_cast<uintptr_t>(raw.get()) % 64) % 64;
    file = base;
    arena = base + file_room;
    std::memcpy(file, data, n);
    std::memset(arena, 0, arena_bytes);
  }
};

class Mnv2Runtime : public Runtime {
 public:
  Mnv2Runtime(Kind kind, Memory mem, Reader r) : mem_(std::move(mem)) {
    kind_ = kind;
    r.data = mem_.file;  // the copy: arrays are used in place
    read_geometry(r, net_);
    read_plan(r, net_, plan_);
    C = net_.C, H = net_.H, W = net_.W;
    const size_t nb = net_.blocks.size();
    auto f32 = [&](const char* tag, int64_t n) { return r.take<float>(tag, DType::F32, n); };
    auto conv_f32 = [&](const FoldedConv& c, const char* wt, const char* bt, bool dw) {
      const float* w = f32(wt, dw ? dw_count(c) : pw_count(c));
      return F32ConvView{w, f32(bt, nhwc_pad_ch(c.cout))};
    };
    F32ConvView stem{f32("SW", 9 * net_.stem.cin * nhwc_pad_ch(net_.stem.cout)), f32("SB", nhwc_pad_ch(net_.stem.cout))};
    if (kind == Kind::Mnv2Float) {
      f32c_.resize(3 * nb);
      for (size_t i = 0; i < nb; ++i) {
        const FoldedBlock& b = net_.blocks[i];
        if (b.expand.defined()) f32c_[i] = conv_f32(b.expand, "EW", "EB", false);
        f32c_[nb + i] = conv_f32(b.dw, "DW", "DB", true);
        f32c_[2 * nb + i] = conv_f32(b.project, "PW", "PB", false);
      }
      f.net = &net_, f.plan = &plan_, f.stem = stem;
      f.expand = f32c_.data(), f.dw = f32c_.data() + nb, f.project = f32c_.data() + 2 * nb;
      f.head = conv_f32(net_.head, "HW", "HB", false);
      f.dense_w = f32("DENS", net_.head.cout);
      f.dense_b = *f32("DNSB", 1);
    } else {
      q.stem = stem;
      q.stem_scale = *f32("SSCL", 1);
      auto conv_q8 = [&](const FoldedConv& c, bool dw) {
        Q8ConvView v;
        v.w = r.take<int16_t>("QW", DType::I16, dw ? dw_count(c) : q8_pw_count(c));
        v.scale = f32("QS", nhwc_pad_ch(c.cout));
        v.bias = f32("QB", nhwc_pad_ch(c.cout));
        const float* lh = f32("QL", 2);
        v.lo = lh[0], v.hi = lh[1];
        return v;
      };
      q8c_.resize(3 * nb);
      for (size_t i = 0; i < nb; ++i) {
        const FoldedBlock& b = net_.blocks[i];
        if (b.expand.defined()) q8c_[i] = conv_q8(b.expand, false);
        q8c_[nb + i] = conv_q8(b.dw, true);
        q8c_[2 * nb + i] = conv_q8(b.project, false);
      }
      q.net = &net_, q.plan = &plan_;
      q.expand = q8c_.data(), q.dw = q8c_.data() + nb, q.project = q8c_.data() + 2 * nb;
      q.res_scale = f32("RSCL", (int64_t)nb);
      q.head = conv_q8(net_.head, false);
      q.head_scale = f32("HSCL", net_.head.cout);
      q.dense_w = f32("DENS", net_.head.cout);
      q.dense_b = *f32("DNSB", 1);
    }
    if (r.left != 0) bad("unexpected arrays after the model");
    Carver a{mem_.arena};
    if (kind == Kind::Mnv2Float) mnv2_carve_f32(a, net_, plan_, &f);
    else mnv2_carve_q8(a, net_, plan_, q);
    if (a.used != rd<uint64_t>(mem_.file + 32)) bad("arena size does not match the model");
    arena_bytes = a.used;
    memory_bytes = mem_.bytes + sizeof(*this) + nb * sizeof(FoldedBlock) + plan_.steps.size() * sizeof(plan_.steps[0]) +
                   f32c_.size() * sizeof(F32ConvView) + q8c_.size() * sizeof(Q8ConvView);
  }
  float logit(const float* x) override {
    return kind_ == Kind::Mnv2Float ? mnv2_f32_logit(f, x) : mnv2_q8_logit(q, x);
  }

 private:
  Memory mem_;
  FoldedMobileNetV2 net_;  // shapes only (the weight vectors stay empty)
  MobileNetV2Plan plan_;
  std::vector<F32ConvView> f32c_;
  std::vector<Q8ConvView> q8c_;
  Mnv2F32View f;
  Mnv2Q8View q;
};

class LbpRuntime : public Runtime {
 public:
  LbpRuntime(Memory mem, Reader r) : mem_(std::move(mem)) {
    kind_ = Kind::LbpLr;
    r.data = mem_.file;
    int64_t n = 0;
    const int64_t* g = r.take<int64_t>("GEOM", DType::I64, -1, &n);
    if (n < 6 || n != 6 + g[5]) bad("GEOM size");
    C = g[0], H = g[1], W = g[2], ycc_ = g[3] != 0, grid_ = (int)g[4];
    for (int64_t v : {C, H, W})
      if (v < 1 || v > kMaxDim) bad("input size out of range");
    if (ycc_ ? C != 3 : (C != 1 && C != 3)) bad("channel count does not fit the colour space");
    if (g[4] < 1 || g[4] > 16 || g[5] < 1 || g[5] > 16) bad("grid or radii out of range");
    int rmax = 0;
    for (int64_t i = 0; i < g[5]; ++i) {
      if (g[6 + i] < 1 || g[6 + i] > 16) bad("radius out of range");
      radii_[i] = (int)g[6 + i];
      rmax = std::max(rmax, radii_[i]);
    }
    nradii_ = (int)g[5];
    if (std::min(H, W) - 2 * rmax < grid_) bad("input too small for the radii and grid");
    F_ = (ycc_ ? 3 : 1) * nradii_ * grid_ * grid_ * kLbpBins;
    const float* p = r.take<float>("PARM", DType::F32, 3);
    scale_ = p[0], offset_ = p[1], bias_ = p[2];
    w_ = r.take<float>("DENS", DType::F32, F_);
    if (r.left != 0) bad("unexpected arrays after the model");
    Carver a{mem_.arena};
    carve_lbp(a, C, H, W, F_, levels_, plane_, feat_);
    if (a.used != rd<uint64_t>(mem_.file + 32)) bad("arena size does not match the model");
    arena_bytes = a.used;
    memory_bytes = mem_.bytes + sizeof(*this);
  }
  // The graph adds the offset in float, then the Dense layer; here the dot product is summed in
  // double (the full build's GEMM order differs: equal within float rounding, tested to 1e-5).
  float logit(const float* x) override {
    lbp_image_features(x, C, H, W, ycc_, radii_, nradii_, grid_, scale_, levels_, plane_, feat_);
    double acc = 0;
    for (int64_t i = 0; i < F_; ++i) acc += static_cast<double>(feat_[i] + offset_) * w_[i];
    return static_cast<float>(acc) + bias_;
  }

 private:
  Memory mem_;
  bool ycc_ = true;
  int grid_ = 0, nradii_ = 0, radii_[16] = {};
  int64_t F_ = 0;
  float scale_ = 0, offset_ = 0, bias_ = 0;
  const float* w_ = nullptr;
  float *levels_ = nullptr, *plane_ = nullptr, *feat_ = nullptr;
};

#ifndef FAS_NO_WIQA
// W-IQA: the 24 metrics of the grey frame (src/iqa/, float64, allocating their planes per run --
// this kind alone does not run allocation-free) and the LDA on the selected, standardised ones.
class WiqaRuntime : public Runtime {
 public:
  WiqaRuntime(Memory mem, Reader r) : mem_(std::move(mem)) {
    kind_ = Kind::WiqaLda;
    r.data = mem_.file;
    int64_t n = 0;
    const int64_t* g = r.take<int64_t>("GEOM", DType::I64, -1, &n);
    if (n < 5 || g[4] < 1 || g[4] > iqa::kNumMetrics || n != 5 + g[4]) bad("GEOM size");
    C = g[0], H = g[1], W = g[2], slog_ = g[3] != 0, p_ = (int)g[4];
    if (C != 1) bad("wiqa-lda takes one (grey) channel");
    if (H < 96 || W < 96 || H > kMaxDim || W > kMaxDim) bad("input size out of range (96 to 16384, one NIQE block)");
    if (g[3] != 0 && g[3] != 1) bad("transform flag must be 0 or 1");
    for (int k = 0; k < p_; ++k) {
      if (g[5 + k] < 0 || g[5 + k] >= iqa::kNumMetrics) bad("metric index out of range");
      cols_[k] = (int)g[5 + k];
    }
    shift_ = r.take<float>("SHFT", DType::F32, p_);
    scale_ = r.take<float>("SCAL", DType::F32, p_);
    w_ = r.take<float>("DENS", DType::F32, p_);
    bias_ = *r.take<float>("DNSB", DType::F32, 1);
    if (r.left != 0) bad("unexpected arrays after the model");
    if (rd<uint64_t>(mem_.file + 32) != 0) bad("arena size does not match the model");
    memory_bytes = mem_.bytes + sizeof(*this);
  }
  // The module's forward (models/wiqa_lda.cpp): z rounded to float as the graph stores it; the
  // dot product summed in double (the graph's Linear sums in float: equal within float rounding).
  float logit(const float* x) override {
    const iqa::Features f = iqa::compute_features(iqa::plane_from_unit(x, (int)H, (int)W));
    double acc = 0;
    for (int k = 0; k < p_; ++k) {
      const double v = f[cols_[k]], in = slog_ ? std::copysign(std::log1p(std::abs(v)), v) : v;
      acc += (double)(float)((in - shift_[k]) / scale_[k]) * w_[k];
    }
    return static_cast<float>(acc) + bias_;
  }

 private:
  Memory mem_;
  bool slog_ = false;
  int p_ = 0, cols_[iqa::kNumMetrics] = {};
  const float *shift_ = nullptr, *scale_ = nullptr, *w_ = nullptr;
  float bias_ = 0;
};
#endif

}  // namespace

size_t mnv2_arena_bytes(const FoldedMobileNetV2& net, const MobileNetV2Plan& plan, bool int8) {
  Carver a;
  if (int8) {
    Mnv2Q8View v;
    mnv2_carve_q8(a, net, plan, v);
  } else {
    Mnv2F32View v;
    mnv2_carve_f32(a, net, plan, &v);
  }
  return a.used;
}

size_t lbp_arena_bytes(int64_t C, int64_t H, int64_t W, int64_t features) {
  Carver a;
  float *l, *p, *f;
  carve_lbp(a, C, H, W, features, l, p, f);
  return a.used;
}

std::unique_ptr<Runtime> Runtime::load(const uint8_t* data, size_t n) {
  if (!data || n < kHeaderBytes) bad("shorter than the 64-byte header");
  if (std::memcmp(data, "FASM", 4) != 0) bad("no FASM magic (not a model exported by fas export)");
  const uint32_t version = rd<uint32_t>(data + 4);
  if (version != kVersion)
    bad("format version " + std::to_string(version) + ", this build reads version " + std::to_string(kVersion));
  if (rd<uint64_t>(data + 8) != n)
    bad("file size " + std::to_string(n) + " bytes, the header says " + std::to_string(rd<uint64_t>(data + 8)));
  if (crc32(data + 20, n - 20) != rd<uint32_t>(data + 16)) bad("checksum mismatch (corrupt file)");
  const uint32_t kind = rd<uint32_t>(data + 20);
  const uint64_t arena = rd<uint64_t>(data + 32);
  // Checked before the allocation (the shapes are checked after it): 1 GiB is far beyond any
  // model meant for this runtime (the face models need 64-214 KB).
  if (arena > (uint64_t(1) << 30)) bad("arena size out of range");
  Memory mem;
  mem.allocate(data, n, (size_t)arena);
  Reader r{mem.file, n, kHeaderBytes, rd<uint32_t>(data + 24)};
  std::unique_ptr<Runtime> rt;
  if (kind == (uint32_t)Kind::Mnv2Float || kind == (uint32_t)Kind::Mnv2Int8)
    rt = std::make_unique<Mnv2Runtime>((Kind)kind, std::move(mem), r);
  else if (kind == (uint32_t)Kind::LbpLr)
    rt = std::make_unique<LbpRuntime>(std::move(mem), r);
  else if (kind == (uint32_t)Kind::WiqaLda)
#ifndef FAS_NO_WIQA
    rt = std::make_unique<WiqaRuntime>(std::move(mem), r);
#else
    bad("a wiqa-lda model, which this build leaves out (configure with -DFAS_MINIMAL_WIQA=ON)");
#endif
  else
    bad("unknown model kind " + std::to_string(kind));
  if ((int64_t)rd<uint32_t>(data + 40) != rt->C || (int64_t)rd<uint32_t>(data + 44) != rt->H ||
      (int64_t)rd<uint32_t>(data + 48) != rt->W)
    bad("header input shape does not match the model");
  return rt;
}

}  // namespace fas::fasm
