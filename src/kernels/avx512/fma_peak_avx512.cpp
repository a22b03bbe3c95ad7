// The peak probe's AVX-512 loop: 16 independent zmm chains, enough for two FMA pipes
// with a latency of up to 8 cycles.
#include <immintrin.h>

#include "kernels/fma_peak.h"

namespace xcept {

int64_t fma_loop_f32_avx512(int64_t iterations, float* sink) {
  constexpr int kChains = 16;
  __m512 acc[kChains];
#pragma GCC unroll 16
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_ps(1.0f + 0.0625f * float(j));
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
#pragma GCC unroll 16
  for (int j = 1; j < kChains; ++j) s = _mm512_add_ps(s, acc[j]);
  float lanes[16];  // not _mm512_reduce_add_ps: GCC 12 warns inside it
  _mm512_storeu_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  *sink = total;
  return iterations * kChains * 16 * 2;
}

}  // namespace xcept
