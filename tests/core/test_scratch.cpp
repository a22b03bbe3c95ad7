// Kernel scratch (core/scratch.h): every buffer's bytes counted in one process-wide
// total, and a limit that refuses growth past it with a clear error.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "core/error.h"
#include "core/scratch.h"

using namespace xcept;

namespace {

// Restores the process's scratch limit when a test ends, however it ends.
struct LimitGuard {
  int64_t previous = set_scratch_limit_bytes(0);
  ~LimitGuard() { set_scratch_limit_bytes(previous); }
};

TEST(Scratch, BuffersAreCountedWhileTheyHoldMemory) {
  LimitGuard guard;
  const int64_t before = scratch_bytes_held();
  {
    ScratchArray<double> a;
    a.get(1000);
    EXPECT_EQ(scratch_bytes_held(), before + 8000);
    a.get(10);  // grow-only: no change
    EXPECT_EQ(scratch_bytes_held(), before + 8000);
    a.get(3000);  // grows: the old block is released, the new one counted
    EXPECT_EQ(scratch_bytes_held(), before + 24000);
    ScratchArray<uint8_t> b;
    b.get(5);
    EXPECT_EQ(scratch_bytes_held(), before + 24005);
  }
  EXPECT_EQ(scratch_bytes_held(), before);
}

TEST(Scratch, GrowthPastTheLimitFailsNamingTheSizesAndLeavesTheTotal) {
  LimitGuard guard;
  const int64_t before = scratch_bytes_held();
  set_scratch_limit_bytes(before + (int64_t{3} << 20));
  EXPECT_EQ(scratch_limit_bytes(), before + (int64_t{3} << 20));
  ScratchBuffer buf;
  float* small = buf.get(1 << 18);  // 1 MiB: fits
  ASSERT_NE(small, nullptr);
  try {
    buf.get(int64_t{1} << 22);  // 16 MiB more
    ADD_FAILURE() << "16 MiB of scratch passed a 3 MiB limit";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("kernel scratch: 16 MiB more"), std::string::npos) << what;
    EXPECT_NE(what.find("over the limit"), std::string::npos) << what;
  }
  // The failed growth released the old block and counted nothing new; the buffer works.
  EXPECT_EQ(scratch_bytes_held(), before);
  EXPECT_NE(buf.get(16), nullptr);
  EXPECT_EQ(scratch_bytes_held(), before + 64);
}

TEST(Scratch, ThreadLocalBuffersOfEveryThreadAddUp) {
  LimitGuard guard;
  const int64_t before = scratch_bytes_held();
  int64_t during = 0;
  std::thread t([&] {
    thread_local ScratchArray<int32_t> buf;
    buf.get(250);
    during = scratch_bytes_held();
  });
  t.join();
  EXPECT_EQ(during, before + 1000);
  EXPECT_EQ(scratch_bytes_held(), before);  // the thread's buffer died with it
}

}  // namespace
