#include "kernels/cpu.h"

// Without OpenMP (the minimal deployment build, FAS_MINIMAL) everything runs on the caller's
// thread: num_threads() is 1.
#if defined(_OPENMP)
#include <omp.h>
#else
namespace {
int omp_get_max_threads() { return 1; }
void omp_set_num_threads(int) {}
}  // namespace
#endif

#include <atomic>
#include <cstdlib>

#include "base/error.h"

#if defined(FAS_NEON_KERNELS)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace fas {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "?";
}

std::string isa_report() {
  std::string s = std::string(isa_name(active_isa())) + " (available:";
  for (Isa i : available_isas()) s += std::string(" ") + isa_name(i);
  return s + ")";
}

Isa parse_isa(const std::string& s) {
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (s == isa_name(i)) return i;
  fail("unknown ISA '" + s + "' (expected scalar, avx2, avx512 or neon)");
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if defined(FAS_X86_KERNELS)
    case Isa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#if defined(FAS_AVX512_EMULATE)
    case Isa::Avx512: return isa_supported(Isa::Avx2);  // SIMDe emulation over AVX2 (testing build)
#else
    case Isa::Avx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
#endif
#if defined(FAS_NEON_KERNELS)
    case Isa::Neon: return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
    default: return false;
  }
}

std::vector<Isa> available_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (isa_supported(i)) v.push_back(i);
  return v;
}

namespace {
Isa detect() {
  if (const char* e = std::getenv("FAS_ISA"); e && *e) {
    Isa want = parse_isa(e);
    if (!isa_supported(want)) fail(std::string("FAS_ISA=") + e + " is not supported by this CPU or build");
    return want;
  }
  auto v = available_isas();
  // AVX-512 first where present: wider vectors; AVX2 otherwise.
  for (Isa i : {Isa::Avx512, Isa::Avx2, Isa::Neon})
    for (Isa a : v)
      if (a == i) return i;
  return Isa::Scalar;
}
std::atomic<int> g_isa{-1};

// Apply FAS_NUM_THREADS when the library loads, so ops that ask OpenMP directly see it even if
// nothing calls num_threads(). Invalid values are left for num_threads() to report.
struct EnvThreads {
  EnvThreads() {
    if (const char* e = std::getenv("FAS_NUM_THREADS"); e && std::atoi(e) >= 1) omp_set_num_threads(std::atoi(e));
  }
} g_env_threads;
}  // namespace

Isa active_isa() {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v < 0) {
    v = (int)detect();
    g_isa.store(v);
  }
  return (Isa)v;
}

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) fail(std::string("ISA ") + isa_name(isa) + " is not supported by this CPU or build");
  g_isa.store((int)isa);
}

void set_num_threads(int n) {
  if (n < 1) fail("thread count must be at least 1, got " + std::to_string(n));
  omp_set_num_threads(n);
}

int num_threads() {
  static bool init = [] {
    if (const char* e = std::getenv("FAS_NUM_THREADS"); e && *e) set_num_threads(std::atoi(e));
    return true;
  }();
  (void)init;
  return omp_get_max_threads();
}

}  // namespace fas
