// The project's generator (core/rng.h): its stream is SplitMix64's published one, so a
// seed gives the same numbers, hence the same initial weights, on every platform.
#include <gtest/gtest.h>

#include "core/rng.h"
#include "layers/conv2d.h"

using namespace xcept;

TEST(SplitMix64, IsTheReferenceStream) {
  // The first outputs for seed 0 of the reference implementation (Vigna's splitmix64.c).
  SplitMix64 r(0);
  EXPECT_EQ(r.next_u64(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(r.next_u64(), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(r.next_u64(), 0x06c45d188009454full);
}

TEST(SplitMix64, ConversionsStayInRange) {
  SplitMix64 r(7);
  double sum = 0, sq = 0;
  for (int i = 0; i < 20000; ++i) {
    const double u = r.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const double v = r.uniform(-2.0, 3.0);
    ASSERT_GE(v, -2.0);
    ASSERT_LT(v, 3.0);
    ASSERT_LT(r.below(5), 5u);
    const double z = r.normal();
    ASSERT_TRUE(std::isfinite(z));
    sum += z, sq += z * z;
  }
  EXPECT_NEAR(sum / 20000, 0.0, 0.03);
  EXPECT_NEAR(sq / 20000, 1.0, 0.05);
}

// Glorot initialization draws u in [0, 1) from the top 53 bits and scales it to
// [-limit, limit): every value follows from the seed by exact arithmetic.
TEST(SplitMix64, GlorotFillFollowsFromTheSeedAlone) {
  Tensor t({4, 3});
  glorot_uniform_fill(t, 4, 3, 11);
  SplitMix64 r(11);
  const double limit = std::sqrt(6.0 / 7.0);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double u = double(r.next_u64() >> 11) * 0x1.0p-53;
    EXPECT_EQ(t[i], float(-limit + 2 * limit * u)) << i;
  }
}
