// Run-time ISA choice. One binary carries every kernel variant its target can run; the best one
// the CPU supports is picked at start-up (cpuid / hwcaps), never by a build flag. FAS_ISA
// (scalar|avx2|avx512|neon) forces a path; forcing one the CPU lacks is an error.
#pragma once
#include <string>
#include <vector>

// The SIMD variants a build carries: x86-64 AVX2/AVX-512 files or aarch64 NEON files, unless
// FAS_SCALAR_ONLY (the minimal build's FAS_MINIMAL_SCALAR, for bare targets): then only the
// scalar kernels, and no CPU detection (cpuid, getauxval) at all.
#if defined(__x86_64__) && !defined(FAS_SCALAR_ONLY)
#define FAS_X86_KERNELS 1
#endif
#if defined(__aarch64__) && !defined(FAS_SCALAR_ONLY)
#define FAS_NEON_KERNELS 1
#endif

namespace fas {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isa_name(Isa isa);
Isa parse_isa(const std::string& name);  // throws fas::Error on an unknown name
bool isa_supported(Isa isa);             // compiled in and supported by this CPU
std::vector<Isa> available_isas();       // always includes Scalar
Isa active_isa();                        // FAS_ISA if set, else the best available
void set_active_isa(Isa isa);            // tests iterate over available_isas()
// "avx512 (available: scalar avx2 avx512)": the kernel path that runs and the alternatives, for
// `fas --version` and benchmark headers (timings mean little without it).
std::string isa_report();

// Threads used by fas's OpenMP loops: FAS_NUM_THREADS if set, else OpenMP's default.
void set_num_threads(int n);
int num_threads();

}  // namespace fas
