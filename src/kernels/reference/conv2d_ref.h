// Plain direct-loop convolution, forward and backward: the oracle every fast kernel is
// tested against. Templated on the element type so gradient checks can run in double.
// Single-threaded on purpose: nothing here should be clever.
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"

namespace xcept::ref {

// Calls f(input_index, weight_index, output_index) for every multiply-accumulate of the
// convolution, skipping taps that fall in the padding. All three passes share it, so
// they cannot disagree about which input a tap reads.
template <typename F>
void for_each_tap(const ConvShape& s, F&& f) {
  const int64_t cg = s.cg(), mg = s.mg();
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t oy = 0; oy < s.ho; ++oy)
      for (int64_t ox = 0; ox < s.wo; ++ox)
        for (int64_t o = 0; o < s.m; ++o) {
          const int64_t g = o / mg;
          const int64_t y_idx = ((b * s.ho + oy) * s.wo + ox) * s.m + o;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
            if (iy < 0 || iy >= s.h) continue;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
              if (ix < 0 || ix >= s.w) continue;
              for (int64_t ci = 0; ci < cg; ++ci) {
                const int64_t x_idx = ((b * s.h + iy) * s.w + ix) * s.c + g * cg + ci;
                const int64_t w_idx = ((ky * s.kw + kx) * cg + ci) * s.m + o;
                f(x_idx, w_idx, y_idx);
              }
            }
          }
        }
}

template <typename T>
void conv2d_fwd(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t npix = s.n * s.ho * s.wo;
  for (int64_t p = 0; p < npix; ++p)
    for (int64_t o = 0; o < s.m; ++o) y[p * s.m + o] = bias ? bias[o] : T(0);
  for_each_tap(s, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
}

template <typename T>
void conv2d_bwd_data(const ConvShape& s, const T* dy, const T* w, T* dx) {
  for (int64_t i = 0; i < s.input_numel(); ++i) dx[i] = T(0);
  for_each_tap(s, [&](int64_t xi, int64_t wi, int64_t yi) { dx[xi] += dy[yi] * w[wi]; });
}

// With `accumulate`, adds to dw and dbias instead of overwriting them.
template <typename T>
void conv2d_bwd_filter(const ConvShape& s, const T* x, const T* dy, T* dw, T* dbias,
                       bool accumulate = false) {
  if (!accumulate)
    for (int64_t i = 0; i < s.weight_numel(); ++i) dw[i] = T(0);
  for_each_tap(s, [&](int64_t xi, int64_t wi, int64_t yi) { dw[wi] += x[xi] * dy[yi]; });
  if (dbias) {
    if (!accumulate)
      for (int64_t o = 0; o < s.m; ++o) dbias[o] = T(0);
    const int64_t npix = s.n * s.ho * s.wo;
    for (int64_t p = 0; p < npix; ++p)
      for (int64_t o = 0; o < s.m; ++o) dbias[o] += dy[p * s.m + o];
  }
}

}  // namespace xcept::ref
