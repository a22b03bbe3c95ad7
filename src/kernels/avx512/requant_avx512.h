// kernels/quant.h's requantize on 16 int32 lanes, for the AVX-512 files (the int8 GEMM
// tile in avx512_vnni/, depthwise in avx512/). Internal linkage and always inlined: each
// including file compiles its own copy with its own flags, and none reaches generic code.
// Conversions, min and max use their zero-masked forms with every lane set: GCC 12 flags
// the plain forms' undefined pass-through source as maybe-uninitialized.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xcept {
namespace {

constexpr __mmask16 kAll16 = 0xFFFF;

// The output side of an int8 epilogue, broadcast once per tile.
struct RequantAvx512 {
  __m512 lo, hi;  // y_min - zp, y_max - zp
  __m512i zp;
  RequantAvx512(int32_t zero_point, int32_t y_min, int32_t y_max)
      : lo(_mm512_set1_ps(float(y_min - zero_point))),
        hi(_mm512_set1_ps(float(y_max - zero_point))),
        zp(_mm512_set1_epi32(zero_point)) {}

  // int32 -> float, times the multiplier, clamped, rounded half to even (vcvtps2dq under
  // the default MXCSR), plus the zero point; the lanes in `mask` stored as bytes.
  __attribute__((always_inline)) void store(__m512i sum, __m512 multiplier, __mmask16 mask,
                                            uint8_t* y) const {
    const __m512 f = _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll16, sum), multiplier);
    const __m512 c = _mm512_maskz_min_ps(kAll16, _mm512_maskz_max_ps(kAll16, f, lo), hi);
    const __m512i q = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(kAll16, c), zp);
    _mm512_mask_cvtepi32_storeu_epi8(y, mask, q);
  }
};

// dequantize_acc: the float output of a last layer.
inline __attribute__((always_inline)) void dequant_store_avx512(__m512i sum, __m512 multiplier,
                                                                __mmask16 mask, float* y) {
  _mm512_mask_storeu_ps(y, mask, _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll16, sum), multiplier));
}

// The first `count` lanes (clamped to 0..16).
inline __mmask16 lanes_mask16(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1);
}

}  // namespace
}  // namespace xcept
