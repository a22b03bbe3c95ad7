#include "kernels/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/threadpool.h"

namespace xcept {

double measure_memory_bandwidth_gbs(int threads, int64_t bytes) {
  threads = std::clamp(threads, 1, num_threads());
  const size_t n = size_t(std::max<int64_t>(bytes, 1 << 20));
  // Touched before timing, so page faults are not counted as bandwidth.
  std::vector<char> a(n, 1), b(n, 0);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    parallel_run_each(threads, [&](int t) {
      const size_t begin = n * size_t(t) / size_t(threads), end = n * size_t(t + 1) / size_t(threads);
      std::memcpy(b.data() + begin, a.data() + begin, end - begin);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, 2.0 * double(n) / s * 1e-9);
    a.swap(b);
  }
  return best;
}

}  // namespace xcept
