#include "core/scratch.h"

#include <atomic>
#include <cstdint>

#include "core/cpu_features.h"
#include "core/error.h"

namespace xcept {

namespace {

std::atomic<int64_t> g_held{0};
std::atomic<int64_t> g_limit{0};  // 0: physical memory

int64_t effective_limit(int64_t limit) {
  if (limit > 0) return limit;
  const long long physical = physical_memory_bytes();  // 0 when the OS does not say
  return physical > 0 ? static_cast<int64_t>(physical) : INT64_MAX;
}

}  // namespace

int64_t scratch_bytes_held() { return g_held.load(std::memory_order_relaxed); }
int64_t scratch_limit_bytes() { return effective_limit(g_limit.load(std::memory_order_relaxed)); }
int64_t set_scratch_limit_bytes(int64_t bytes) { return g_limit.exchange(bytes > 0 ? bytes : 0); }

namespace detail {

void scratch_reserve(size_t bytes) {
  const int64_t b = static_cast<int64_t>(bytes);
  const int64_t held = g_held.fetch_add(b, std::memory_order_relaxed) + b;
  const int64_t limit = scratch_limit_bytes();
  if (held > limit) {
    g_held.fetch_sub(b, std::memory_order_relaxed);
    constexpr double kMiB = 1 << 20;
    fail("kernel scratch: {:.3g} MiB more would make {:.3g} MiB, over the limit of {:.3g} MiB",
         double(b) / kMiB, double(held) / kMiB, double(limit) / kMiB);
  }
}

void scratch_release(size_t bytes) {
  g_held.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace xcept
