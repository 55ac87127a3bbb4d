// FMA-throughput probe: the measured single-core float peak that the kernel rows' GFLOP/s are a
// share of. Measured rather than computed from a clock because neither the clock under a given
// vector width nor the number of FMA units per core is known from /proc/cpuinfo (its "cpu MHz"
// is a nominal or momentary value, and some Xeons have one 512-bit FMA unit, others two).
//
// Each variant runs kChains independent accumulator chains acc = acc * m + c. A chain issues one
// FMA per latency (4-5 cycles), so it takes latency x FMA ports chains (2 x 5 = 10) to keep every
// port busy each cycle; 12 (AVX2, 16 registers) / 24 (AVX-512 and NEON, 32 registers) cover it
// with room to spare while staying in registers. m < 1 keeps the values near c / (1 - m) = 1:
// no overflow and no denormals (which would slow the FMAs down).
#pragma once
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace fas_bench {

struct FmaProbe {
  const char* isa;               // the fas ISA name whose kernels this peak applies to
  double flops_per_rep;          // 2 x multiply-adds per rep (lanes x chains, x 2-4 for dot products)
  float (*run)(int64_t reps);    // reps x flops_per_rep FLOPs; returns a sum to keep the work live
};

#if defined(__x86_64__)
constexpr int kChainsAvx2 = 12, kChainsAvx512 = 24, kChainsDot = 12;

__attribute__((target("avx2,fma"))) inline float fma_probe_avx2(int64_t reps) {
  __m256 acc[kChainsAvx2];
  for (int i = 0; i < kChainsAvx2; ++i) acc[i] = _mm256_set1_ps((float)i);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  for (int64_t r = 0; r < reps; ++r)
#pragma GCC unroll 32  // unrolled, the chains live in registers (else in memory, latency-bound)
    for (int i = 0; i < kChainsAvx2; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  for (int i = 1; i < kChainsAvx2; ++i) acc[0] = _mm256_add_ps(acc[0], acc[i]);
  float out[8];
  _mm256_storeu_ps(out, acc[0]);
  return out[0] + out[7];
}

__attribute__((target("avx512f"))) inline float fma_probe_avx512(int64_t reps) {
  __m512 acc[kChainsAvx512];
  for (int i = 0; i < kChainsAvx512; ++i) acc[i] = _mm512_set1_ps((float)i);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  for (int64_t r = 0; r < reps; ++r)
#pragma GCC unroll 32  // unrolled, the chains live in registers (else in memory, latency-bound)
    for (int i = 0; i < kChainsAvx512; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  for (int i = 1; i < kChainsAvx512; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  float out[16];  // not _mm512_reduce_add_ps: GCC 12 warns inside its own header for it
  _mm512_storeu_ps(out, acc[0]);
  return out[0] + out[15];
}

// Int8 dot-product peaks (the int8 engine's kernels, EXP-139): chains acc += a . b of vpdpwssd
// (2 int16 products per 32-bit lane) and vpdpbusd (4 u8 x s8 products), 12 chains (2 ports x
// latency 5 = 10 needed). flops_per_rep counts 2 ops per multiply-add, so the rows compare with
// the FMA rows (int32 wrap-around is defined for these instructions and harmless here). The
// whole loop is one asm statement with the chains as register operands: GCC keeps an array of
// chains in memory between asm statements (a load and a store per op), and intrinsics copy
// accumulators through spare registers (as in the kernels).
#define FAS_DOT_OPS(OP) \
  OP " %[b], %[a], %0\n\t" OP " %[b], %[a], %1\n\t" OP " %[b], %[a], %2\n\t" OP " %[b], %[a], %3\n\t" \
  OP " %[b], %[a], %4\n\t" OP " %[b], %[a], %5\n\t" OP " %[b], %[a], %6\n\t" OP " %[b], %[a], %7\n\t" \
  OP " %[b], %[a], %8\n\t" OP " %[b], %[a], %9\n\t" OP " %[b], %[a], %10\n\t" OP " %[b], %[a], %11\n\t"
#define FAS_DOT_CHAINS \
  "+v"(c[0]), "+v"(c[1]), "+v"(c[2]), "+v"(c[3]), "+v"(c[4]), "+v"(c[5]), \
  "+v"(c[6]), "+v"(c[7]), "+v"(c[8]), "+v"(c[9]), "+v"(c[10]), "+v"(c[11])
#define FAS_DOT_PROBE(name, OP)                                                   \
  __attribute__((target("avx512f,avx512vnni"))) inline float name(int64_t reps) { \
    __m512i c[kChainsDot];                                                       \
    for (int i = 0; i < kChainsDot; ++i) c[i] = _mm512_set1_epi32(i);           \
    const __m512i a = _mm512_set1_epi32(0x01010101), b = a;                      \
    if (reps > 0)                                                                \
      asm volatile("1:\n\t" FAS_DOT_OPS(OP) "dec %[n]\n\tjnz 1b"                \
                   : FAS_DOT_CHAINS, [n] "+r"(reps)                              \
                   : [a] "v"(a), [b] "v"(b));                                    \
    for (int i = 1; i < kChainsDot; ++i) c[0] = _mm512_add_epi32(c[0], c[i]);    \
    alignas(64) int32_t lanes[16];                                               \
    _mm512_store_si512(lanes, c[0]);                                             \
    return (float)lanes[0];                                                      \
  }
FAS_DOT_PROBE(dot_probe_vpdpwssd, "vpdpwssd")
FAS_DOT_PROBE(dot_probe_vpdpbusd, "vpdpbusd")
#undef FAS_DOT_PROBE
#undef FAS_DOT_CHAINS
#undef FAS_DOT_OPS

inline int dot_probes(FmaProbe* out) {
  if (!__builtin_cpu_supports("avx512vnni")) return 0;
  out[0] = {"avx512vnni-vpdpwssd", 2.0 * 16 * 2 * kChainsDot, dot_probe_vpdpwssd};
  out[1] = {"avx512vnni-vpdpbusd", 2.0 * 16 * 4 * kChainsDot, dot_probe_vpdpbusd};
  return 2;
}

// The probes this CPU can run (cpuid, not fas's ISA choice: a build that emulates AVX-512 for
// testing reports it available on CPUs that cannot execute it).
inline int fma_probes(FmaProbe* out) {
  int n = 0;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    out[n++] = {"avx2", 2.0 * 8 * kChainsAvx2, fma_probe_avx2};
  if (__builtin_cpu_supports("avx512f")) out[n++] = {"avx512", 2.0 * 16 * kChainsAvx512, fma_probe_avx512};
  return n;
}

#elif defined(__aarch64__)
constexpr int kChainsNeon = 24;

inline float fma_probe_neon(int64_t reps) {
  float32x4_t acc[kChainsNeon];
  for (int i = 0; i < kChainsNeon; ++i) acc[i] = vdupq_n_f32((float)i);
  const float32x4_t m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-6f);
  for (int64_t r = 0; r < reps; ++r)
#pragma GCC unroll 32  // unrolled, the chains live in registers (else in memory, latency-bound)
    for (int i = 0; i < kChainsNeon; ++i) acc[i] = vfmaq_f32(c, acc[i], m);  // c + acc * m
  for (int i = 1; i < kChainsNeon; ++i) acc[0] = vaddq_f32(acc[0], acc[i]);
  return vaddvq_f32(acc[0]);
}

inline int dot_probes(FmaProbe*) { return 0; }

inline int fma_probes(FmaProbe* out) {
  out[0] = {"neon", 2.0 * 4 * kChainsNeon, fma_probe_neon};
  return 1;
}

#else
inline int fma_probes(FmaProbe*) { return 0; }
inline int dot_probes(FmaProbe*) { return 0; }
#endif

}  // namespace fas_bench
