// Hot loops of src/iqa/ are compiled twice, for x86-64-v3 (AVX2 + FMA) and the baseline, and the
// loader picks one per CPU (GCC target_clones): the metrics are float64 streams where AVX2 + FMA
// quadruple the throughput, and the library itself is built without -march. Not in the minimal
// build's FAS_SCALAR_ONLY variant (no run-time CPU detection there).
#pragma once
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(FAS_SCALAR_ONLY)
#define FAS_IQA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FAS_IQA_CLONES
#endif

#include <cstring>

namespace fas::iqa {
// Four doubles as one GCC/clang vector: lowered to what the clone's ISA has (one AVX2 register,
// two SSE2 ones, two NEON ones). Lane order is fixed, so sums over lanes do not depend on the CPU.
typedef double V4d __attribute__((vector_size(32)));
typedef long long V4l __attribute__((vector_size(32)));
// By reference: a vector returned or passed by value warns that the ABI differs with AVX.
inline void load4(V4d& v, const double* p) { std::memcpy(&v, p, sizeof v); }
inline void store4(double* p, const V4d& v) { std::memcpy(p, &v, sizeof v); }
}  // namespace fas::iqa
