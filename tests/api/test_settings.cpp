// The process-wide settings a caller controls (xcept/settings.h): threads and the ISA cap.
#include <gtest/gtest.h>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

using namespace xcept;

TEST(Settings, IsaCapFollowsTheCallerAndNeverExceedsTheCpu) {
  const Isa before = max_isa();
  set_max_isa(Isa::generic);
  EXPECT_EQ(max_isa(), Isa::generic);
  EXPECT_FALSE(isa_available(Isa::avx2));
  GemmShape g{.m = 64, .n = 64, .k = 64, .lda = 64, .ldb = 64, .ldc = 64};
  EXPECT_EQ(pick_gemm(g).isa, Isa::generic);  // dispatch follows the cap at once
  set_max_isa(Isa::avx512);
  EXPECT_EQ(max_isa(), cpu_isa());  // a cap above the CPU leaves the CPU's
  set_max_isa(before);
  EXPECT_EQ(max_isa(), before);
  EXPECT_EQ(parse_isa("avx2"), Isa::avx2);
  EXPECT_THROW(parse_isa("sse9"), Error);
}

TEST(Settings, ThreadCountZeroMeansAllCores) {
  const int before = num_threads();
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(0);
  EXPECT_GE(num_threads(), 1);
  set_num_threads(before);
  EXPECT_EQ(num_threads(), before);
}
