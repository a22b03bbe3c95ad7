// The patch rows of an im2col convolution, written once for every element type: float
// (conv2d_im2col_nhwc_f32.cpp, padding 0) and uint8 codes (conv2d_gemm_nhwc_u8s8.cpp,
// padding the input's zero point, i.e. real 0). Portable code, included only by
// generic/ files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/conv_shape.h"

namespace xcept {
namespace {

// Patch runs are often short (kw*c = 9 values on the RGB stem), where a libc memcpy
// call costs more than the copy; fixed-size memcpy pieces compile to plain moves.
template <typename T>
inline void copy_elems(T* dst, const T* src, int64_t n) {
  if (n > 64) {
    std::memcpy(dst, src, sizeof(T) * size_t(n));
    return;
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(T));
  if (n - i >= 4) std::memcpy(dst + i, src + i, 4 * sizeof(T)), i += 4;
  if (n - i >= 2) std::memcpy(dst + i, src + i, 2 * sizeof(T)), i += 2;
  if (n - i >= 1) dst[i] = src[i];
}

template <typename T>
inline void fill_elems(T* dst, T value, int64_t n) {
  std::fill(dst, dst + n, value);
}

// Writes the patch rows of output pixels [p0, p1) (flat over n*ho*wo) into col, each
// row groups*kh*kw*cg values laid out [groups][kh][kw][cg], taps in the padding `pad`.
template <typename T>
void im2col_rows(const ConvShape& s, const T* x, T pad, int64_t p0, int64_t p1, T* col) {
  const int64_t cg = s.cg(), kk = s.kh * s.kw, row_len = s.groups * kk * cg;
  const int64_t per_image = s.ho * s.wo;
  // Stride-free window columns over a dense channel axis are one contiguous run of
  // kw*c values in NHWC: copy it at once (matters when c is tiny, as in the stem).
  const bool contiguous_kx = s.groups == 1 && s.dilation_w == 1;
  int64_t b = p0 / per_image, oy = (p0 % per_image) / s.wo, ox = p0 % s.wo;
  for (int64_t p = p0; p < p1; ++p, ++ox) {
    if (ox == s.wo) {  // counters, not divisions: a division per pixel shows on the stem
      ox = 0;
      if (++oy == s.ho) oy = 0, ++b;
    }
    T* row = col + (p - p0) * row_len;
    const int64_t iy0 = oy * s.stride_h - s.pad_top, ix0 = ox * s.stride_w - s.pad_left;
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      const int64_t iy = iy0 + ky * s.dilation_h;
      if (iy < 0 || iy >= s.h) {
        for (int64_t g = 0; g < s.groups; ++g)
          fill_elems(row + g * kk * cg + ky * s.kw * cg, pad, s.kw * cg);
        continue;
      }
      const T* xrow = x + (b * s.h + iy) * s.w * s.c;
      if (contiguous_kx) {
        const int64_t kx_lo = std::clamp<int64_t>(-ix0, 0, s.kw);
        const int64_t kx_hi = std::clamp<int64_t>(s.w - ix0, kx_lo, s.kw);
        T* dst = row + ky * s.kw * s.c;
        fill_elems(dst, pad, kx_lo * s.c);
        copy_elems(dst + kx_lo * s.c, xrow + (ix0 + kx_lo) * s.c, (kx_hi - kx_lo) * s.c);
        fill_elems(dst + kx_hi * s.c, pad, (s.kw - kx_hi) * s.c);
        continue;
      }
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        const int64_t ix = ix0 + kx * s.dilation_w;
        const int64_t tap = (ky * s.kw + kx) * cg;
        const bool inside = ix >= 0 && ix < s.w;
        for (int64_t g = 0; g < s.groups; ++g) {
          T* dst = row + g * kk * cg + tap;
          if (inside) copy_elems(dst, xrow + ix * s.c + g * cg, cg);
          else fill_elems(dst, pad, cg);
        }
      }
    }
  }
}

}  // namespace
}  // namespace xcept
