#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cpu.h"
#include "testutil.h"

using namespace fas;

TEST(Cpu, DispatchChoosesSupportedAndCanBeForced) {
  auto v = available_isas();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front(), Isa::Scalar);
  EXPECT_TRUE(isa_supported(active_isa()));
  Isa before = active_isa();
  for (Isa i : v) {
    set_active_isa(i);
    EXPECT_EQ(active_isa(), i);
  }
  set_active_isa(before);
  EXPECT_THROW(parse_isa("sse9"), Error);
  EXPECT_EQ(parse_isa("avx2"), Isa::Avx2);
#if defined(__x86_64__)
  EXPECT_FALSE(isa_supported(Isa::Neon));
  EXPECT_THROW(set_active_isa(Isa::Neon), Error);
#endif
#if defined(__aarch64__)
  // Advanced SIMD is mandatory in ARMv8-A, so every aarch64 CPU (qemu-aarch64 too) runs the
  // NEON kernels, and the per-ISA kernel tests check them against the scalar references.
  EXPECT_TRUE(isa_supported(Isa::Neon));
  EXPECT_EQ(v.back(), Isa::Neon);
  EXPECT_FALSE(isa_supported(Isa::Avx2));
#endif
  EXPECT_THROW(set_num_threads(0), Error);
}

// The thread counts the kernel tests use: all of them natively, capped (repeats dropped) when
// FAS_TEST_MAX_THREADS is set, as tools/cross_aarch64.sh does for qemu-user; a bad value throws.
TEST(TestUtil, ThreadCountsCappedByEnv) {
  const char* prev = std::getenv("FAS_TEST_MAX_THREADS");
  const std::string saved = prev ? prev : "";
  unsetenv("FAS_TEST_MAX_THREADS");
  EXPECT_EQ(fas::test::test_thread_counts({1, 2, 3}), (std::vector<int>{1, 2, 3}));
  setenv("FAS_TEST_MAX_THREADS", "2", 1);
  EXPECT_EQ(fas::test::test_thread_counts({1, 2, 3}), (std::vector<int>{1, 2}));
  EXPECT_EQ(fas::test::test_thread_counts({3, 1}), (std::vector<int>{2, 1}));
  setenv("FAS_TEST_MAX_THREADS", "1", 1);
  EXPECT_EQ(fas::test::test_thread_counts({1, 2, 3}), (std::vector<int>{1}));
  EXPECT_EQ(fas::test::test_thread_counts({2}), (std::vector<int>{1}));
  for (const char* bad : {"0", "-1", "2x", "x"}) {
    setenv("FAS_TEST_MAX_THREADS", bad, 1);
    EXPECT_THROW(fas::test::test_thread_counts({1, 2}), Error) << bad;
  }
  if (prev)
    setenv("FAS_TEST_MAX_THREADS", saved.c_str(), 1);
  else
    unsetenv("FAS_TEST_MAX_THREADS");
}
