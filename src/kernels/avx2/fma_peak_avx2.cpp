// The peak probe's AVX2 loop: 12 independent ymm chains (of 16 registers), enough for
// two FMA pipes with a latency of up to 6 cycles.
#include <immintrin.h>

#include "kernels/fma_peak.h"

namespace xcept {

int64_t fma_loop_f32_avx2(int64_t iterations, float* sink) {
  constexpr int kChains = 12;
  __m256 acc[kChains];
#pragma GCC unroll 12
  for (int j = 0; j < kChains; ++j) acc[j] = _mm256_set1_ps(1.0f + 0.0625f * float(j));
  const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-4f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  __m256 s = acc[0];
#pragma GCC unroll 12
  for (int j = 1; j < kChains; ++j) s = _mm256_add_ps(s, acc[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  *sink = total;
  return iterations * kChains * 8 * 2;
}

}  // namespace xcept
