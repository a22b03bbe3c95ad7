// The bf16 probe's loop: 16 independent vdpbf16ps chains, as the f32 FMA probe has, so
// the two peaks compare like for like (see bf16_gemm_pays in kernels/gemm_bf16.h).
#include <immintrin.h>

#include "kernels/fma_peak.h"

namespace xcept {

int64_t bf16_dot_loop_avx512bf16(int64_t iterations, float* sink) {
  constexpr int kChains = 16;
  __m512 acc[kChains];
#pragma GCC unroll 16
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_ps(1.0f + 0.0625f * float(j));
  // Tiny products: the sums stay finite however long the loop runs.
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3c00);  // bf16 2^-7
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3c00);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
#pragma GCC unroll 16
  for (int j = 1; j < kChains; ++j) s = _mm512_add_ps(s, acc[j]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  *sink = total;
  return iterations * kChains * 16 * 4;  // per lane: two products, two additions
}

}  // namespace xcept
