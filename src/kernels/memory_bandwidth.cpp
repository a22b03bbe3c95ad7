#include "kernels/memory_bandwidth.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/threadpool.h"

namespace xcept {

CacheSizes cache_sizes() {
  CacheSizes c;
  c.l2 = std::max<long>(sysconf(_SC_LEVEL2_CACHE_SIZE), 0);
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  c.llc = l3 > 0 ? l3 : c.l2;
  return c;
}

double measure_copy_bandwidth_gbs(int threads, int64_t working_set) {
  threads = std::clamp(threads, 1, num_threads());
  // Each thread's slice: at least a few pages per side.
  const size_t side = size_t(std::max<int64_t>(working_set / 2, (int64_t{16} << 10) * threads));
  std::vector<char> a(side, 1), b(side, 0);  // touched now: no page faults in the timing
  const int passes = int(std::clamp<int64_t>((int64_t{128} << 20) / int64_t(side), 1, 4096));
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    parallel_run_each(threads, [&](int t) {
      const size_t begin = side * size_t(t) / size_t(threads);
      const size_t end = side * size_t(t + 1) / size_t(threads);
      for (int p = 0; p < passes; ++p) {
        char* src = (p % 2 ? b : a).data();
        char* dst = (p % 2 ? a : b).data();
        std::memcpy(dst + begin, src + begin, end - begin);
      }
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, 2.0 * double(side) * passes / s * 1e-9);
  }
  return best;
}

}  // namespace xcept
