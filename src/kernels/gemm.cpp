#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/error.h"
#include "kernels/gemm_impl.h"
#include "kernels/simd/vec_scalar.h"

// The portable microkernel: the packed driver's reference in tests (never dispatched: on CPUs
// without a fas microkernel OpenBLAS is faster).
FAS_DEFINE_GEMM_UKERNEL(scalar, VecScalar, 4, 8, 8)
FAS_DEFINE_GEMM_UKERNEL_EDGE(scalar, VecScalar, 2, 4, 8, 8)

namespace fas {

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

namespace {
struct BlasSingleThread {
  BlasSingleThread() { openblas_set_num_threads(1); }
} g_blas_single_thread;

// Blocking: a B micro-panel (KC x NR = 32 KB at NR 32) stays in L1 while the microkernel walks
// the MC rows of the packed A block (MC x KC = 96 KB at MR 12) held in L2; a packed B block
// (KC x NC, up to 1 MB: a transposed B) is reused for every A block of its column block.
constexpr int64_t kKC = 256, kMCPanels = 8, kNC = 1024;  // KC: the most; K is split evenly
constexpr int kMaxMR = 16, kMaxNR = 64;

struct PackBuffers {
  std::unique_ptr<float[], decltype(&std::free)> a{nullptr, &std::free}, b{nullptr, &std::free};
};

float* aligned_floats(size_t n) {
  void* p = std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

PackBuffers& pack_buffers() {
  thread_local PackBuffers buf;
  if (!buf.a) {
    buf.a.reset(aligned_floats((size_t)(kMaxMR * kMCPanels * kKC)));
    buf.b.reset(aligned_floats((size_t)(kKC * kNC)));
  }
  return buf;
}

// The two packing moves; A and B each need one or the other depending on their transpose flag.
// Across: dst[k * width + c] = src[k * ld + c] (c < cols; zero up to width): rows of src already
// run along the panel.
void pack_across(const float* src, int64_t ld, int64_t cols, int64_t kc, float* dst, int64_t width) {
  for (int64_t k = 0; k < kc; ++k, dst += width) {
    std::memcpy(dst, src + k * ld, sizeof(float) * cols);
    std::fill(dst + cols, dst + width, 0.f);
  }
}

// op(A)[i0 .. i0+mc, k0 .. k0+kc] into MR-row panels, k-major, rows past mc zero.
void pack_a(const GemmUkernel& uk, bool ta, const float* A, int64_t lda, int64_t i0, int64_t k0, int64_t mc,
            int64_t kc, float* ap) {
  for (int64_t ir = 0; ir < mc; ir += uk.mr, ap += uk.mr * kc) {
    const int64_t mr = std::min<int64_t>(uk.mr, mc - ir);
    if (ta)  // op(A)(i, k) = A[k][i]
      pack_across(A + k0 * lda + i0 + ir, lda, mr, kc, ap, uk.mr);
    else
      uk.pack_t(A + (i0 + ir) * lda + k0, lda, mr, kc, ap, uk.mr);
  }
}

// op(B)[k0 .. k0+kc, j0 .. j0+nc] into NR-column panels, k-major, columns past nc zero.
void pack_b(const GemmUkernel& uk, bool tb, const float* B, int64_t ldb, int64_t k0, int64_t j0, int64_t kc,
            int64_t nc, float* bp) {
  for (int64_t jr = 0; jr < nc; jr += uk.nr, bp += uk.nr * kc) {
    const int64_t nr = std::min<int64_t>(uk.nr, nc - jr);
    if (tb)  // op(B)(k, j) = B[j][k]
      uk.pack_t(B + (j0 + jr) * ldb + k0, ldb, nr, kc, bp, uk.nr);
    else
      pack_across(B + k0 * ldb + j0 + jr, ldb, nr, kc, bp, uk.nr);
  }
}

// K in equal blocks of at most kKC (576 = 3 x 192, not 256 + 256 + 64: a short block pays C's
// load and store for few FMAs).
int64_t k_block(int64_t K) {
  const int64_t kblocks = (K + kKC - 1) / kKC;
  return (K + kblocks - 1) / kblocks;
}

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// One edge tile (mr < MR rows or nr < NR columns): the edge kernel when it covers the rows,
// straight into C when it covers them exactly at full width, else into a scratch tile of which
// only the valid part is added into C.
void edge_tile(const GemmUkernel& uk, int64_t mr, int64_t nr, int64_t kc, const float* a, const float* b,
               int64_t bstride, float* c, int64_t ldc, float alpha, float bb) {
  const bool edge = uk.edge && mr <= uk.edge_mr;
  if (edge && mr == uk.edge_mr && nr == uk.nr) return uk.edge(kc, a, b, bstride, c, ldc, alpha, bb);
  alignas(64) float tile[kMaxMR * kMaxNR];
  (edge ? uk.edge : uk.fn)(kc, a, b, bstride, tile, uk.nr, alpha, 0.f);
  for (int64_t i = 0; i < mr; ++i) {
    float* r = c + i * ldc;
    const float* t = tile + i * uk.nr;
    if (bb == 0.f)
      for (int64_t j = 0; j < nr; ++j) r[j] = t[j];
    else
      for (int64_t j = 0; j < nr; ++j) r[j] = t[j] + bb * r[j];
  }
}

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.f ? 0.f : beta * C[m * ldc + n];
}
}  // namespace

// The portable transposed packing move: dst[k * width + r] = src[r * ld + k] (r < rows; zero
// up to width).
void f32_gemm_pack_t__scalar(const float* src, int64_t ld, int64_t rows, int64_t kc, float* dst, int64_t width) {
  for (int64_t r = 0; r < width; ++r)
    for (int64_t k = 0; k < kc; ++k) dst[k * width + r] = r < rows ? src[r * ld + k] : 0.f;
}

void f32_gemm_packed(const GemmUkernel& uk, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                     const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                     const float* a_packed) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0.f) return scale_c(M, N, beta, C, ldc);  // as BLAS: A and B are not read
  const int MR = uk.mr, NR = uk.nr;
  if (MR > kMaxMR || NR > kMaxNR) fail("f32_gemm_packed: microkernel tile larger than the driver's buffers");
  const int64_t MC = MR * kMCPanels, NC = kNC / NR * NR, KC = k_block(K), Mp = round_up(M, MR);
  PackBuffers& buf = pack_buffers();
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float bb = pc == 0 ? beta : 1.f;  // later K blocks add onto the first one's result
      // A row-major op(B) is read in place by full panels; only its ragged last panel is packed.
      const int64_t packed_from = tb ? 0 : nc / NR * NR;
      if (packed_from < nc)
        pack_b(uk, tb, B, ldb, pc, jc + packed_from, kc, nc - packed_from, buf.b.get() + packed_from * kc);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        const float* ap = a_packed ? a_packed + pc * Mp + ic * kc : buf.a.get();  // f32_gemm_pack_a's layout
        if (!a_packed) pack_a(uk, ta, A, lda, ic, pc, mc, kc, buf.a.get());
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min<int64_t>(NR, nc - jr);
          const bool in_place = jr < packed_from;
          const float* b = in_place ? B + pc * ldb + jc + jr : buf.b.get() + jr * kc;
          const int64_t bstride = in_place ? ldb : NR;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min<int64_t>(MR, mc - ir);
            float* c = C + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR)
              uk.fn(kc, ap + ir * kc, b, bstride, c, ldc, alpha, bb);
            else
              edge_tile(uk, mr, nr, kc, ap + ir * kc, b, bstride, c, ldc, alpha, bb);
          }
        }
      }
    }
  }
}

// Block pc (its kc = min(KC, K - pc) values per row) starts at pc * Mp, its MR-row panels one
// after another: the K blocks and panels f32_gemm_packed walks, so block (pc, ic) is at
// pc * Mp + ic * kc.
size_t f32_gemm_packed_a_floats(const GemmUkernel& uk, int64_t M, int64_t K) {
  return uk.fn ? (size_t)(round_up(M, uk.mr) * K) : 0;
}

void f32_gemm_pack_a(const GemmUkernel& uk, bool ta, int64_t M, int64_t K, const float* A, int64_t lda, float* dst) {
  const int64_t KC = k_block(K), Mp = round_up(M, uk.mr);
  for (int64_t pc = 0; pc < K; pc += KC) pack_a(uk, ta, A, lda, 0, pc, M, std::min(KC, K - pc), dst + pc * Mp);
}

GemmUkernel gemm_ukernel(Isa isa) {
#if defined(FAS_X86_KERNELS)
  if (isa == Isa::Avx512 && isa_supported(isa))
    return {f32_gemm_ukernel_12x32__avx512, f32_gemm_pack_t__avx512, 12, 32, f32_gemm_ukernel_8x32_a12__avx512, 8};
#endif
  (void)isa;
  return {};
}

namespace {
// FAS_GEMM=openblas runs OpenBLAS where fas has a microkernel too (side-by-side timing);
// FAS_GEMM=fas or unset: fas's where it has one.
bool openblas_forced() {
  static const bool forced = [] {
    const char* e = std::getenv("FAS_GEMM");
    if (!e || !*e || std::string(e) == "fas") return false;
    if (std::string(e) == "openblas") return true;
    fail(std::string("FAS_GEMM=") + e + " is not one of: fas, openblas");
  }();
  return forced;
}

GemmUkernel active_gemm_ukernel() { return openblas_forced() ? GemmUkernel{} : gemm_ukernel(active_isa()); }

// Share of a tile row (or column) that holds real values: n / (n rounded up to the tile).
double tile_fill(int64_t n, int tile) { return (double)n / (double)((n + tile - 1) / tile * tile); }

std::string gemm_name_of(const GemmUkernel& uk) {
  if (uk.fn) return std::string("fas gemm/") + isa_name(active_isa());
  return std::string("OpenBLAS sgemm (") + blas_core_name() + ")";
}

}  // namespace

GemmUkernel gemm_ukernel_for(int64_t M, int64_t N, int64_t K) {
  const GemmUkernel uk = active_gemm_ukernel();
  // Mostly-empty tiles (MobileNet's 8- and 16-channel GEMMs against a 12 x 32 tile) and short K
  // waste the microkernel; OpenBLAS's smaller tiles do better there (EXP-124).
  if (!uk.fn || tile_fill(M, uk.mr) < 0.75 || tile_fill(N, uk.nr) < 0.75 || K < 16) return {};
  return uk;
}

size_t sgemm_packed_a_floats(int64_t M, int64_t N, int64_t K) {
  return f32_gemm_packed_a_floats(gemm_ukernel_for(M, N, K), M, K);
}

void sgemm_pack_a(bool ta, int64_t M, int64_t K, const float* A, int64_t lda, float* dst) {
  f32_gemm_pack_a(active_gemm_ukernel(), ta, M, K, A, lda, dst);
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* a_packed) {
  if (M == 0 || N == 0) return;
  if (const GemmUkernel uk = gemm_ukernel_for(M, N, K); uk.fn)
    return f32_gemm_packed(uk, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, a_packed);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
              (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

const char* blas_core_name() { return openblas_get_corename(); }

std::string gemm_name() { return gemm_name_of(active_gemm_ukernel()); }
std::string gemm_name(int64_t M, int64_t N, int64_t K) { return gemm_name_of(gemm_ukernel_for(M, N, K)); }

void sgemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += (double)(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
      C[m * ldc + n] = alpha * (float)s + (beta == 0.f ? 0.f : beta * C[m * ldc + n]);
    }
}

}  // namespace fas
