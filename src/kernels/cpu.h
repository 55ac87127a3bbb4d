// Run-time ISA choice. One binary carries every kernel variant its target can run; the best one
// the CPU supports is picked at start-up (cpuid / hwcaps), never by a build flag. FAS_ISA
// (scalar|avx2|avx512|neon) forces a path; forcing one the CPU lacks is an error.
#pragma once
#include <string>
#include <vector>

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
