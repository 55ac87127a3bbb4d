// Hot loops of src/iqa/ are compiled three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA)
// and the baseline, and the loader picks one per CPU (GCC target_clones): the metrics are float64
// streams where AVX2 + FMA quadruple the throughput (AVX-512 doubles it again on CPUs with two
// 512-bit FMA units), and the library itself is built without -march. v4 and v3 both contract
// a * b + c into an FMA, so the two give the same values. Not in the minimal
// build's FAS_SCALAR_ONLY variant (no run-time CPU detection there).
#pragma once
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(FAS_SCALAR_ONLY)
#define FAS_IQA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FAS_IQA_CLONES
#endif

#include <cstring>

namespace fas::iqa {
// Four doubles as one GCC/clang vector: lowered to what the clone's ISA has (one AVX2 register,
// two SSE2 ones, two NEON ones). Lane order is fixed, so sums over lanes do not depend on the CPU.
typedef double V4d __attribute__((vector_size(32)));
typedef long long V4l __attribute__((vector_size(32)));
// Eight doubles: one AVX-512 register in the v4 clone, two AVX2 ones in the v3 clone. Memory that
// holds them must be aligned to 64 explicitly (alignas(sizeof)): GCC caps a vector type's natural
// alignment at the widest register of the ISA being compiled (16 bytes in the baseline), so an
// array allocated by baseline code was read with the v4 clone's aligned 64-byte moves and faulted.
typedef double V8d __attribute__((vector_size(64)));
typedef long long V8l __attribute__((vector_size(64)));
// Lanes of two 8-vectors picked by constant indices (0-7 from a, 8-15 from b): GCC and clang
// spell it differently.
#if defined(__clang__)
#define FAS_SHUFFLE8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define FAS_SHUFFLE8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shuffle(a, b, V8l{i0, i1, i2, i3, i4, i5, i6, i7})
#endif
// By reference: a vector returned or passed by value warns that the ABI differs with AVX.
inline void load4(V4d& v, const double* p) { std::memcpy(&v, p, sizeof v); }
inline void store4(double* p, const V4d& v) { std::memcpy(p, &v, sizeof v); }
inline void load8(V8d& v, const double* p) { std::memcpy(&v, p, sizeof v); }
inline void store8(double* p, const V8d& v) { std::memcpy(p, &v, sizeof v); }
}  // namespace fas::iqa
