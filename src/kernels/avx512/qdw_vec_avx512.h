// The AVX-512 vector type of the int8 depthwise kernel
// (kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h), for the avx512/ file and, with vpdpwssd
// (multiply and add in one instruction), the avx512_vnni/ one. Each includes it under its
// own flags; internal linkage, as in requant_avx512.h.
#pragma once

#include "kernels/avx512/requant_avx512.h"

namespace xcept {
namespace {

template <bool kVnni>
struct QVecAvx512 {
  static constexpr int W = 16;
  static constexpr int P = 8;  // 9 weights + 8 accumulators + loads fit the 32 registers
  using R = __m512i;
  static R load_x(const uint8_t* p, int64_t count) {
    return _mm512_maskz_cvtepu8_epi32(kAll16, _mm_maskz_loadu_epi8(lanes_mask16(count), p));
  }
  static R load_i32(const int32_t* p) { return _mm512_loadu_si512(p); }
  static R set1(int32_t v) { return _mm512_set1_epi32(v); }
  static R sub(R a, R b) { return _mm512_sub_epi32(a, b); }
  static R madd_acc(R acc, R x, R w) {
    if constexpr (kVnni)
      return _mm512_dpwssd_epi32(acc, x, w);
    else
      return _mm512_add_epi32(acc, _mm512_maskz_madd_epi16(kAll16, x, w));
  }
  struct Requant {
    RequantAvx512 r;
    Requant(int32_t zp, int32_t y_min, int32_t y_max) : r(zp, y_min, y_max) {}
    void store(R sum, const float* mult, int64_t count, uint8_t* y) const {
      r.store(sum, _mm512_loadu_ps(mult), lanes_mask16(count), y);
    }
  };
};

}  // namespace
}  // namespace xcept
