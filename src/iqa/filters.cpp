#include "iqa/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <new>

#include "iqa/simd.h"

#include "base/error.h"

namespace fas::iqa {

namespace {
// Set when this thread's cache is destroyed. A Plane can outlive it: a thread's cache goes before
// the program's static objects at exit, and a static Plane freed then must not touch the
// destroyed map (it did: heap corruption, or a hang in the map's insert). A bool has no
// destructor, so it stays readable.
thread_local bool cache_gone = false;
// 64-byte aligned, the size of an AVX-512 register and of a cache line: from malloc's 16 bytes,
// every 64-byte load of a row crossed two cache lines.
double* plane_malloc(size_t n) {
  void* p = std::aligned_alloc(64, (std::max<size_t>(n, 1) * sizeof(double) + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return static_cast<double*>(p);
}
struct BlockCache {
  std::multimap<size_t, double*> blocks;
  size_t bytes = 0;
  ~BlockCache() {
    cache_gone = true;
    for (auto& b : blocks) std::free(b.second);
  }
};
thread_local BlockCache cache;
constexpr size_t kCacheBytes = size_t(256) << 20;
}  // namespace

double* plane_alloc(size_t n) {
  if (cache_gone) return plane_malloc(n);
  auto it = cache.blocks.find(n);
  if (it != cache.blocks.end()) {
    double* p = it->second;
    cache.blocks.erase(it);
    cache.bytes -= n * sizeof(double);
    return p;
  }
  return plane_malloc(n);
}

void plane_free(double* p, size_t n) {
  if (cache_gone || cache.bytes + n * sizeof(double) > kCacheBytes) return std::free(p);
  cache.blocks.emplace(n, p);
  cache.bytes += n * sizeof(double);
}

namespace {
int border_index(int i, int n, Border b) {
  if (i >= 0 && i < n) return i;
  if (b == Border::Replicate) return i < 0 ? 0 : n - 1;
  if (b == Border::Zero) return -1;
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

// One padded row: pad[k] = in(k - r) under the border rule.
void pad_row(const double* in, int n, int r, Border b, double* pad) {
  std::copy_n(in, n, pad + r);
  for (int k = 0; k < r; ++k) {
    const int lo = border_index(k - r, n, b), hi = border_index(n + k, n, b);
    pad[k] = lo < 0 ? 0.0 : in[lo];
    pad[n + r + k] = hi < 0 ? 0.0 : in[hi];
  }
}

// Outputs are made 32 at a time in eight vector registers, all taps accumulated before the store
// (a pass over the row per tap loaded and stored every output once per tap; plain arrays were
// spilled to the stack). Eight sums rather than four hide the FMA latency, though the two
// measured alike (EXP-094). Sums run over the taps in order: the block position changes no value.
struct Acc32 {
  V8d a[4];
  void set(double k, const double* p) {
    V8d v;
    for (int i = 0; i < 4; ++i) load8(v, p + 8 * i), a[i] = k * v;
  }
  void add(double k, const double* p) {
    V8d v;
    for (int i = 0; i < 4; ++i) load8(v, p + 8 * i), a[i] += k * v;
  }
  void store(double* o) const {
    for (int i = 0; i < 4; ++i) store8(o + 8 * i, a[i]);
  }
};

// t[x] = sum_j k[j] p[x + j], x < n, nk >= 1.
FAS_IQA_CLONES void row_correlate(const double* p, int n, const double* k, int nk, double* t) {
  int x = 0;
  for (; x + 32 <= n; x += 32) {
    Acc32 acc;
    acc.set(k[0], p + x);
    for (int j = 1; j < nk; ++j) acc.add(k[j], p + x + j);
    acc.store(t + x);
  }
  for (; x < n; ++x) {
    double s = k[0] * p[x];
    for (int j = 1; j < nk; ++j) s += k[j] * p[x + j];
    t[x] = s;
  }
}

// o[x] = sum_i k[i] t[i][x0 + x], x < n (0 when nk = 0).
FAS_IQA_CLONES void rows_combine(double* o, const double* const* t, int x0, const double* k, int nk, int n) {
  if (nk == 0) {
    std::fill_n(o, n, 0.0);
    return;
  }
  int x = 0;
  for (; x + 32 <= n; x += 32) {
    Acc32 acc;
    acc.set(k[0], t[0] + x0 + x);
    for (int j = 1; j < nk; ++j) acc.add(k[j], t[j] + x0 + x);
    acc.store(o + x);
  }
  for (; x < n; ++x) {
    double s = k[0] * t[0][x0 + x];
    for (int j = 1; j < nk; ++j) s += k[j] * t[j][x0 + x];
    o[x] = s;
  }
}

// Two neighbouring output rows from one walk over their nk + 1 source rows: o0[x] = sum_i k[i]
// t[i][x0 + x], o1[x] = sum_i k[i] t[i + 1][x0 + x]. Each load feeds two FMAs (one per row; one
// load per FMA bounded rows_combine). 16 columns per block: four accumulators, which AVX2 holds
// in eight registers. Per output the same sums in the same order as rows_combine.
FAS_IQA_CLONES void rows_combine2(double* o0, double* o1, const double* const* t, int x0, const double* k, int nk,
                                  int n) {
  int x = 0;
  for (; x + 16 <= n; x += 16) {
    V8d a0[2], a1[2], v[2];
    const size_t c = (size_t)x0 + x;
    for (int i = 0; i < 2; ++i) load8(v[i], t[0] + c + 8 * i), a0[i] = k[0] * v[i];
    for (int i = 0; i < 2; ++i) load8(v[i], t[1] + c + 8 * i), a1[i] = k[0] * v[i];
    for (int j = 1; j < nk; ++j)
      for (int i = 0; i < 2; ++i) a0[i] += k[j] * v[i], load8(v[i], t[j + 1] + c + 8 * i), a1[i] += k[j] * v[i];
    for (int i = 0; i < 2; ++i) store8(o0 + x + 8 * i, a0[i]), store8(o1 + x + 8 * i, a1[i]);
  }
  for (; x < n; ++x) {
    const size_t c = (size_t)x0 + x;
    double s0 = k[0] * t[0][c], s1 = k[0] * t[1][c];
    for (int j = 1; j < nk; ++j) s0 += k[j] * t[j][c], s1 += k[j] * t[j + 1][c];
    o0[x] = s0, o1[x] = s1;
  }
}
}  // namespace

namespace {
// The row pass's rows, made when the column pass first asks for them, in a ring of `slots` rows:
// the output rows being made read source rows within a window of `slots` consecutive ones
// (borders reflect or replicate into that window), so they never share a slot. It replaces a whole intermediate
// plane, written out and read back from memory, by a few rows that stay in cache (the time
// measured alike, EXP-094; the memory is the gain).
template <class MakeRow>
class RowRing {
 public:
  RowRing(int slots, int w, MakeRow make) : buf_(slots, (w + 7) / 8 * 8, Uninit{}),  // rows 64-byte aligned
         owner_((size_t)slots, -1), make_(make) {}
  const double* row(int yy) {
    const int s = yy % buf_.h;
    if (owner_[s] != yy) make_(yy, buf_.row(s)), owner_[s] = yy;
    return buf_.row(s);
  }

 private:
  Plane buf_;
  std::vector<int> owner_;
  MakeRow make_;
};

// The column pass, kRows output rows at a time (a group) in strips of kStrip columns: the strip of the
// kRows + taps - 1 source rows they read stays in L1 (24 KB for 17 taps) while each output row
// takes its taps from it. Row by row over the full width, the taps (5 KB a row) came from L2 for
// every output: the loads, not the FMAs, bounded the filters. sources(y, rows, k) lists output
// row y's source rows and weights and returns how many.
constexpr int kRows = 8, kStrip = 128, kMaxTaps = 64;
struct ColumnScratch {
  std::vector<const double*> rows;
  std::vector<double> k;
  explicit ColumnScratch(int taps) : rows((size_t)kRows * taps), k((size_t)kRows * taps) {
    FAS_CHECK(taps <= kMaxTaps, "iqa: filter longer than 64 taps");
  }
};
// Output rows y0 .. y0 + g - 1 (g <= kRows) of width w, row r written to out_row(r).
template <class Sources, class OutRow>
void column_group(int y0, int g, int w, int taps, Sources sources, OutRow out_row, ColumnScratch& sc) {
  const double** rows = sc.rows.data();
  double* k = sc.k.data();
  int nk[kRows];
  for (int r = 0; r < g; ++r) nk[r] = sources(y0 + r, rows + r * taps, k + r * taps);
  // Pairs of rows whose sources are one window shifted by a row (all but near a zero border)
  // go through rows_combine2.
  const auto shifted = [&](int r) {
    if (r + 1 >= g || nk[r] != nk[r + 1] || nk[r] == 0) return false;
    const double** a = rows + r * taps;
    for (int j = 0; j < nk[r]; ++j)
      if (k[r * taps + j] != k[(r + 1) * taps + j] || (j + 1 < nk[r] && a[j + 1] != a[taps + j])) return false;
    return true;
  };
  bool pair[kRows];
  for (int r = 0; r < g; ++r) pair[r] = shifted(r);
  for (int x0 = 0; x0 < w; x0 += kStrip) {
    const int n = std::min(kStrip, w - x0);
    for (int r = 0; r < g; ++r) {
      const double* const* t = rows + r * taps;
      if (pair[r]) {
        // sources of row r + 1: rows r's shifted by one, its last one appended
        const double* tt[kMaxTaps + 1];
        std::copy_n(t, nk[r], tt);
        tt[nk[r]] = rows[(r + 1) * taps + nk[r] - 1];
        rows_combine2(out_row(r) + x0, out_row(r + 1) + x0, tt, x0, k + r * taps, nk[r], n);
        ++r;
      } else {
        rows_combine(out_row(r) + x0, t, x0, k + r * taps, nk[r], n);
      }
    }
  }
}
template <class Sources>
void column_pass(Plane& out, int taps, Sources sources) {
  ColumnScratch sc(taps);
  for (int y0 = 0; y0 < out.h; y0 += kRows)
    column_group(y0, std::min(kRows, out.h - y0), out.w, taps, sources, [&](int r) { return out.row(y0 + r); }, sc);
}
}  // namespace

namespace {
// One row pass under a border rule: the interior outputs read the row in place, and only the r
// outputs at each end go through a padded copy of 3r values (padding the whole row first was a
// copy of every plane filtered, most of a frame's memmove time).
void correlate_row(const double* in, int w, const std::vector<double>& kx, Border b, double* edge, double* t) {
  const int r = (int)kx.size() / 2, nk = (int)kx.size();
  if (w < 2 * r + 1) {  // edge has room for w + 2r values then
    pad_row(in, w, r, b, edge);
    return row_correlate(edge, w, kx.data(), nk, t);
  }
  const auto fill = [&](int from) {  // edge[k] = in(from + k) under the border rule, k < 3r
    for (int k = 0; k < 3 * r; ++k) {
      const int i = border_index(from + k, w, b);
      edge[k] = i < 0 ? 0.0 : in[i];
    }
  };
  fill(-r);
  row_correlate(edge, r, kx.data(), nk, t);
  row_correlate(in, w - 2 * r, kx.data(), nk, t + r);
  fill(w - 2 * r);
  row_correlate(edge, r, kx.data(), nk, t + w - r);
}
}  // namespace

void correlate_sep(const Plane& in, const std::vector<double>& ky, const std::vector<double>& kx, Border b,
                   Plane& out) {
  FAS_CHECK(ky.size() % 2 == 1 && kx.size() % 2 == 1, "iqa: kernels must have odd length");
  const int h = in.h, w = in.w, taps = (int)ky.size(), ry = taps / 2;
  std::vector<double> edge(std::max<size_t>((size_t)w + kx.size(), 3 * kx.size()));
  RowRing ring(taps + kRows - 1, w, [&](int y, double* t) { correlate_row(in.row(y), w, kx, b, edge.data(), t); });
  out = Plane(h, w, Uninit{});
  column_pass(out, taps, [&](int y, const double** rows, double* k) {
    int nk = 0;
    for (int i = 0; i < taps; ++i) {
      const int yy = border_index(y + i - ry, h, b);
      if (yy >= 0) rows[nk] = ring.row(yy), k[nk++] = ky[i];  // yy < 0: zero border
    }
    return nk;
  });
}

void correlate_sep_valid(const Plane& in, const std::vector<double>& ky, const std::vector<double>& kx, Plane& out) {
  const int oh = in.h - (int)ky.size() + 1, ow = in.w - (int)kx.size() + 1, taps = (int)ky.size();
  FAS_CHECK(oh > 0 && ow > 0, "iqa: image smaller than the filter");
  RowRing ring(taps + kRows - 1, ow, [&](int y, double* t) { row_correlate(in.row(y), ow, kx.data(), (int)kx.size(), t); });
  out = Plane(oh, ow, Uninit{});
  column_pass(out, taps, [&](int y, const double** rows, double* k) {
    for (int i = 0; i < taps; ++i) rows[i] = ring.row(y + i), k[i] = ky[i];
    return taps;
  });
}

void correlate_sep_valid_even(const Plane& in, const std::vector<double>& ky, const std::vector<double>& kx,
                              Plane& out) {
  const int taps = (int)ky.size(), oh = in.h - taps + 1, ow = in.w - (int)kx.size() + 1;
  FAS_CHECK(oh > 0 && ow > 0, "iqa: image smaller than the filter");
  out = Plane((oh + 1) / 2, (ow + 1) / 2, Uninit{});
  Plane col(1, in.w, Uninit{}), full(1, ow, Uninit{});
  std::vector<const double*> rows((size_t)taps);
  for (int y = 0; y < out.h; ++y) {
    for (int i = 0; i < taps; ++i) rows[i] = in.row(2 * y + i);
    rows_combine(col.row(0), rows.data(), 0, ky.data(), taps, in.w);
    row_correlate(col.row(0), ow, kx.data(), (int)kx.size(), full.row(0));
    for (int x = 0; x < out.w; ++x) out.row(y)[x] = full.v[2 * (size_t)x];
  }
}

FAS_IQA_CLONES void multiply(const double* a, const double* b, size_t n, double* o) {
  for (size_t i = 0; i < n; ++i) o[i] = a[i] * b[i];
}

void filter_rows(int h, int w, int channels, const RowSource& source, const std::vector<double>& k, bool valid, Border b,
                 const RowSink& f) {
  const int taps = (int)k.size(), r = taps / 2, slots = taps + kRows - 1;
  FAS_CHECK(taps % 2 == 1, "iqa: kernels must have odd length");
  const int oh = valid ? h - taps + 1 : h, ow = valid ? w - taps + 1 : w;
  FAS_CHECK(oh > 0 && ow > 0, "iqa: image smaller than the filter");
  std::vector<double> src((size_t)w), edge(std::max<size_t>((size_t)w + k.size(), 3 * k.size()));
  using Make = std::function<void(int, double*)>;
  std::vector<RowRing<Make>> rings;
  rings.reserve((size_t)channels);
  for (int q = 0; q < channels; ++q)
    rings.emplace_back(slots, ow, Make([&, q](int y, double* t) {
      const double* row = source(q, y, src.data());
      if (valid) row_correlate(row, ow, k.data(), taps, t);
      else correlate_row(row, w, k, b, edge.data(), t);
    }));
  std::vector<Plane> grp((size_t)channels);
  for (auto& g : grp) g = Plane(kRows, (ow + 7) / 8 * 8, Uninit{});
  ColumnScratch sc(taps);
  std::vector<const double*> m((size_t)channels);
  for (int y0 = 0; y0 < oh; y0 += kRows) {
    const int g = std::min(kRows, oh - y0);
    for (int q = 0; q < channels; ++q) {
      RowRing<Make>& ring = rings[q];
      column_group(y0, g, ow, taps, [&](int y, const double** rows, double* kk) {
        int nk = 0;
        for (int i = 0; i < taps; ++i) {
          const int yy = valid ? y + i : border_index(y + i - r, h, b);
          if (yy >= 0) rows[nk] = ring.row(yy), kk[nk++] = k[i];  // yy < 0: zero border
        }
        return nk;
      }, [&](int rr) { return grp[q].row(rr); }, sc);
    }
    for (int rr = 0; rr < g; ++rr) {
      for (int q = 0; q < channels; ++q) m[q] = grp[q].row(rr);
      f(y0 + rr, m.data(), ow);
    }
  }
}

void local_moment_rows(const Plane& a, const Plane& b, const std::vector<double>& k,
                       const std::function<void(const double* const* m, int w)>& f) {
  FAS_CHECK(a.h == b.h && a.w == b.w, "iqa: local moments of planes of different sizes");
  filter_rows(a.h, a.w, 5, [&](int q, int y, double* scratch) -> const double* {
    if (q < 2) return (q ? b : a).row(y);
    multiply(q == 3 ? b.row(y) : a.row(y), q == 2 ? a.row(y) : b.row(y), (size_t)a.w, scratch);  // a a, b b, a b
    return scratch;
  }, k, true, Border::Zero, [&](int, const double* const* m, int w) { f(m, w); });
}

FAS_IQA_CLONES double sum_lanes(const double* x, size_t n) {
  double acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) acc[j] += x[i + j];
  for (; i < n; ++i) acc[0] += x[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

std::vector<double> gaussian_kernel(int n, double sigma) {
  std::vector<double> k((size_t)n);
  double s = 0;
  for (int i = 0; i < n; ++i) {
    const double x = i - (n - 1) / 2.0;
    s += k[i] = std::exp(-x * x / (2 * sigma * sigma));
  }
  for (auto& v : k) v /= s;
  return k;
}

const std::vector<double>& sobel5_smooth() {
  static const std::vector<double> k{1, 4, 6, 4, 1};
  return k;
}
const std::vector<double>& sobel5_deriv() {
  static const std::vector<double> k{-1, -2, 0, 2, 1};
  return k;
}

Plane blur_reference(const Plane& img) {
  static const std::vector<double> g = gaussian_kernel(5, 1.1);
  Plane out;
  correlate_sep(img, g, g, Border::Reflect101, out);
  return out;
}

}  // namespace fas::iqa
