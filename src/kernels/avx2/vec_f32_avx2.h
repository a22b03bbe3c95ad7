// 8 float lanes of AVX2 + FMA and a lane mask: the vector type the NHWC loop templates
// (kernels/*_impl.h) are instantiated with. Include only from files built for AVX2.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xcept {

struct VecF32Avx2 {
  using R = __m256;
  using M = __m256i;
  static constexpr int64_t W = 8;

  // Lanes below n set (the sign bit is what maskload/maskstore read).
  static M mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  template <bool MASK>
  static R ld(const float* p, M m) {
    if constexpr (MASK) return _mm256_maskload_ps(p, m);
    (void)m;
    return _mm256_loadu_ps(p);
  }
  template <bool MASK>
  static void st(float* p, R v, M m) {
    if constexpr (MASK) _mm256_maskstore_ps(p, m, v);
    else (void)m, _mm256_storeu_ps(p, v);
  }
  static R set1(float f) { return _mm256_set1_ps(f); }
  static R zero() { return _mm256_setzero_ps(); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R max(R a, R b) { return _mm256_max_ps(a, b); }  // a > b ? a : b
};

}  // namespace xcept
