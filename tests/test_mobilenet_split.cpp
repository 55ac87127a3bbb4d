// The float engine with each image split over threads by rows (MobileNetV2Infer::set_threads,
// models/mobilenetv2_run.h Mnv2Split). Its own executable so tools/tsan.sh can run it under
// ThreadSanitizer (test_mobilenet_infer replaces operator new to count allocations, which
// TSan's static runtime also defines).
#include <cmath>
#include <string>
#include <vector>

#include "mobilenet_infer_util.h"
#include "models/mobilenetv2_infer.h"

namespace fas::test {

// One image split over 2-4 threads by rows (set_threads) equals one thread: every body row is
// computed by the same kernel from the same inputs, including the boundary rows of the in-place
// blocks (expanded into each part's halo); only the head's pool sums are added in another order.
// Sizes whose late layers have fewer rows than threads (5x3: 1x1 by block 6) are included, and
// alpha 1 (block 0 without residual).
TEST(MobileNetV2Infer, ImageSplitOverThreadsEqualsOneThread) {
  struct Case {
    int64_t c, h, w;
    double alpha;
  };
  for (const Case& k : {Case{2, 250, 200, 0.1}, Case{3, 37, 45, 0.1}, Case{3, 5, 3, 0.1}, Case{3, 32, 29, 1.0}}) {
    SCOPED_TRACE(std::to_string(k.c) + "x" + std::to_string(k.h) + "x" + std::to_string(k.w));
    auto model = random_mobilenet(k.c, k.h, k.w, 51, k.alpha);
    MobileNetV2Infer one(*model), split(*model);
    Rng rng(7);
    Tensor x = randu({3, k.c, k.h, k.w}, rng, -1.f, 1.f);
    const int64_t F = one.folded().head.cout;
    std::vector<float> want(3), fwant(3 * F), got(3), fgot(3 * F);
    one.logits(x.data(), 3, want.data());
    one.features(x.data(), 3, fwant.data());
    for (int t : test_thread_counts({2, 3, 4})) {
      ASSERT_EQ(split.set_threads(t), t);
      split.logits(x.data(), 3, got.data());
      split.features(x.data(), 3, fgot.data());
      for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], want[i], 1e-5f * std::max(1.f, std::fabs(want[i]))) << t << " threads";
      for (int64_t i = 0; i < 3 * F; ++i)
        ASSERT_NEAR(fgot[i], fwant[i], 1e-5f * std::max(1.f, std::fabs(fwant[i]))) << t << " threads, feature " << i;
    }
    ASSERT_EQ(split.set_threads(1), 1);
    split.logits(x.data(), 3, got.data());
    EXPECT_EQ(got, want);  // one thread again: the unsplit plan, bit for bit
  }
}

}  // namespace fas::test
