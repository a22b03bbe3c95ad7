// kernels/quant.h's requantize on 8 int32 lanes, for the AVX2 files (the int8 GEMM tile
// and depthwise). Internal linkage and always inlined, as in avx512/requant_avx512.h.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace xcept {
namespace {

struct RequantAvx2 {
  __m256 lo, hi;  // y_min - zp, y_max - zp
  __m256i zp;
  RequantAvx2(int32_t zero_point, int32_t y_min, int32_t y_max)
      : lo(_mm256_set1_ps(float(y_min - zero_point))),
        hi(_mm256_set1_ps(float(y_max - zero_point))),
        zp(_mm256_set1_epi32(zero_point)) {}

  // The first `count` (1..8) lanes stored as bytes.
  __attribute__((always_inline)) void store(__m256i sum, __m256 multiplier, int64_t count,
                                            uint8_t* y) const {
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), multiplier);
    const __m256i q =
        _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(f, lo), hi)), zp);
    // Codes are in [0, 255] after the clamp: the saturating packs only narrow them.
    const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    const __m128i b8 = _mm_packus_epi16(w16, w16);
    if (count >= 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(y), b8);
    } else {
      alignas(16) uint8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b8);
      std::memcpy(y, tmp, size_t(count));
    }
  }
};

inline __attribute__((always_inline)) void dequant_store_avx2(__m256i sum, __m256 multiplier,
                                                              int64_t count, float* y) {
  const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), multiplier);
  if (count >= 8) {
    _mm256_storeu_ps(y, f);
  } else {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, f);
    std::memcpy(y, tmp, size_t(count) * sizeof(float));
  }
}

}  // namespace
}  // namespace xcept
