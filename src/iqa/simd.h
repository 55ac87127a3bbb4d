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
