// The loops of kernels/quant_elementwise, written once and compiled by each ISA's file
// (generic/, avx2/, avx512/) with its own flags, where the compiler vectorizes them
// 16, 32 or 64 bytes at a time. Like every ISA-compiled header they use nothing inline
// from a shared header (kernels/quant.h's functions are restated here, operation for
// operation) and have internal linkage, so no AVX-512 copy can reach generic code. The
// files are built with -ffp-contract=off (CMakeLists.txt): a fused multiply-add would
// round add's two products once instead of twice, and the ISAs would disagree.
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"
#include "kernels/quant_elementwise.h"

namespace xcept {
namespace {

// kernels/quant.h's round_half_even_small, clamp and requantize_real.
inline float qe_round(float f) {
  constexpr float kMagic = 12582912.f;
  return (f + kMagic) - kMagic;
}
inline float qe_clamp(float f, float lo, float hi) {
  f = f < lo ? lo : f;
  return hi < f ? hi : f;
}
inline uint8_t qe_code(float f, int32_t zp, float lo, float hi) {
  return uint8_t(int32_t(qe_round(qe_clamp(f, lo, hi))) + zp);
}

void qe_quantize(int64_t n, const float* __restrict x, QuantParams q, uint8_t* __restrict y) {
  const float scale = q.scale, lo = float(-q.zero_point), hi = float(255 - q.zero_point);
  const int32_t zp = q.zero_point;
  for (int64_t i = 0; i < n; ++i) {
    float f = x[i] / scale;
    f = f == f ? f : 0.f;  // NaN: the zero point
    y[i] = qe_code(f, zp, lo, hi);
  }
}

void qe_dequantize(int64_t n, const uint8_t* __restrict x, QuantParams q, float* __restrict y) {
  const float scale = q.scale;
  const int32_t zp = q.zero_point;
  for (int64_t i = 0; i < n; ++i) y[i] = scale * float(int32_t(x[i]) - zp);
}

// May run in place (x == y): no __restrict.
void qe_requantize(int64_t n, const uint8_t* x, float mult, int32_t zp_in, int32_t zp_out,
                   int32_t y_min, int32_t y_max, uint8_t* y) {
  const float lo = float(y_min - zp_out), hi = float(y_max - zp_out);
  for (int64_t i = 0; i < n; ++i) y[i] = qe_code(float(int32_t(x[i]) - zp_in) * mult, zp_out, lo, hi);
}

void qe_add(int64_t n, const uint8_t* a, float ma, int32_t za, const uint8_t* b, float mb,
            int32_t zb, int32_t zp_out, int32_t y_min, int32_t y_max, uint8_t* y) {
  const float lo = float(y_min - zp_out), hi = float(y_max - zp_out);
  for (int64_t i = 0; i < n; ++i) {
    const float f = ma * float(int32_t(a[i]) - za) + mb * float(int32_t(b[i]) - zb);
    y[i] = qe_code(f, zp_out, lo, hi);
  }
}

// Output rows [r0, r1) (over n * ho) of max pooling; see maxpool_u8.
void qe_maxpool(const ConvShape& s, const uint8_t* __restrict x, uint8_t* __restrict y,
                int64_t r0, int64_t r1) {
  const int64_t c = s.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.ho, oy = r % s.ho;
    for (int64_t ox = 0; ox < s.wo; ++ox) {
      uint8_t* __restrict yp = y + (r * s.wo + ox) * c;
      for (int64_t ch = 0; ch < c; ++ch) yp[ch] = 0;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
        if (iy < 0 || iy >= s.h) continue;
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
          if (ix < 0 || ix >= s.w) continue;
          const uint8_t* __restrict xp = x + ((n * s.h + iy) * s.w + ix) * c;
          for (int64_t ch = 0; ch < c; ++ch) yp[ch] = xp[ch] > yp[ch] ? xp[ch] : yp[ch];
        }
      }
    }
  }
}

constexpr QuantElementwiseKernels qe_kernels(const char* name, Isa isa) {
  return {name, isa, qe_quantize, qe_dequantize, qe_requantize, qe_add, qe_maxpool};
}

}  // namespace
}  // namespace xcept
