// 16 float lanes of AVX-512 and a lane mask: the vector type the NHWC loop templates
// (kernels/*_impl.h) are instantiated with. Include only from files built for AVX-512.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xcept {

struct VecF32Avx512 {
  using R = __m512;
  using M = __mmask16;
  static constexpr int64_t W = 16;

  static M mask(int64_t n) { return static_cast<M>((1u << n) - 1u); }  // lanes below n
  template <bool MASK>
  static R ld(const float* p, M m) {
    if constexpr (MASK) return _mm512_maskz_loadu_ps(m, p);
    (void)m;
    return _mm512_loadu_ps(p);
  }
  template <bool MASK>
  static void st(float* p, R v, M m) {
    if constexpr (MASK) _mm512_mask_storeu_ps(p, m, v);
    else (void)m, _mm512_storeu_ps(p, v);
  }
  static R set1(float f) { return _mm512_set1_ps(f); }
  static R zero() { return _mm512_setzero_ps(); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  // a > b ? a : b. The masked form: GCC 12 flags _mm512_max_ps's undefined pass-through
  // source as maybe-uninitialized.
  static R max(R a, R b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
};

}  // namespace xcept
