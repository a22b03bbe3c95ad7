// The int8 oracles: plain loops, the zero point subtracted from every activation, sums
// in int64 (equal to the kernels' int32 sums within kernels/quant.h's bounds), and
// kernels/quant.h's scalar requantize.
#include "kernels/kernels.h"

namespace xcept {

void gemm_u8s8_ref(const QGemmShape& s, const uint8_t* a, const int8_t* b,
                    const QuantEpilogue& ep, QGemmOut c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      int64_t acc = ep.bias ? ep.bias[j] : 0;
      for (int64_t p = 0; p < s.k; ++p)
        acc += int64_t(int32_t(a[i * s.lda + p]) - ep.x_zero_point) * b[p * s.ldb + j];
      if (c.f32)
        c.f32[i * s.ldc + j] = dequantize_acc(int32_t(acc), ep.multiplier[j]);
      else
        c.u8[i * s.ldc + j] = uint8_t(
            requantize(int32_t(acc), ep.multiplier[j], ep.y_zero_point, ep.y_min, ep.y_max));
    }
}

void conv2d_fwd_direct_nhwc_u8s8_ref(const ConvShape& s, const uint8_t* x, const int8_t* w,
                                      const QuantEpilogue& ep, uint8_t* y) {
  const int64_t cg = s.cg(), mg = s.m / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oy = 0; oy < s.ho; ++oy)
      for (int64_t ox = 0; ox < s.wo; ++ox)
        for (int64_t o = 0; o < s.m; ++o) {
          const int64_t g = o / mg;
          int64_t acc = ep.bias ? ep.bias[o] : 0;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
            if (iy < 0 || iy >= s.h) continue;  // padding: real 0, i.e. x - zp = 0
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
              if (ix < 0 || ix >= s.w) continue;
              const uint8_t* xp = x + ((n * s.h + iy) * s.w + ix) * s.c + g * cg;
              const int8_t* wp = w + ((ky * s.kw + kx) * cg) * s.m + o;
              for (int64_t ci = 0; ci < cg; ++ci)
                acc += int64_t(int32_t(xp[ci]) - ep.x_zero_point) * wp[ci * s.m];
            }
          }
          y[((n * s.ho + oy) * s.wo + ox) * s.m + o] = uint8_t(
              requantize(int32_t(acc), ep.multiplier[o], ep.y_zero_point, ep.y_min, ep.y_max));
        }
}

}  // namespace xcept
