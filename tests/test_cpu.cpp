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
  EXPECT_THROW(set_num_threads(0), Error);
}
