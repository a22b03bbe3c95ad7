// Max and average pooling over NHWC windows, written once over a vector type V and
// instantiated by the generic, avx2 and avx512 kernel files (like the depthwise kernels:
// internal linkage, so each ISA file keeps its own copy compiled with its own flags).
//
// Per output pixel the window's valid taps are found once as ranges (no per-tap bounds
// checks), and each block of up to 4 vectors of channels is reduced over the taps in
// registers and stored once. The generic op this replaced reloaded and stored the output
// row at every tap and ran 4 lanes wide (Xception's block2_pool 147x147x128: most of its
// time). Taps are visited in (ky, kx) order and averages multiply the sum by 1/count,
// as the reference does, so results are bit-identical to it.
//
// V supplies: W (floats per vector), R, M (remainder mask), mask(n), ld<MASK>(p, m),
// st<MASK>(p, v, m), set1(f), max(a, b) = a > b ? a : b, add(a, b), mul(a, b).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/threadpool.h"
#include "kernels/conv_shape.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

// Taps k in [lo, hi) of a window starting at i0 with dilation d that land in [0, n).
inline void pool_tap_range(int64_t i0, int64_t d, int64_t k, int64_t n, int64_t& lo,
                           int64_t& hi) {
  lo = i0 >= 0 ? 0 : (-i0 + d - 1) / d;
  hi = i0 >= n ? 0 : std::min(k, (n - 1 - i0) / d + 1);
  if (hi < lo) hi = lo;
}

template <typename V>
struct Pool2dNhwc {
  using R = typename V::R;
  using M = typename V::M;

  // Where one output pixel reads: the first valid tap's address and the tap ranges.
  struct Window {
    const float* x;  // input pixel at (ky_lo, kx_lo), channel 0
    int64_t rows, cols, row_step, col_step;
    float scale;  // 1/count for averages
  };

  // U vectors of channels starting at c0 (MASK: the last, partial vector).
  template <bool MAX, int U, bool MASK>
  static void block(const Window& win, int64_t c0, float* y, M m) {
    R acc[U];
    for (int u = 0; u < U; ++u)
      acc[u] = MAX ? V::set1(-std::numeric_limits<float>::infinity()) : V::set1(0.f);
    const float* row = win.x + c0;
    for (int64_t i = 0; i < win.rows; ++i, row += win.row_step) {
      const float* p = row;
      for (int64_t j = 0; j < win.cols; ++j, p += win.col_step)
        for (int u = 0; u < U; ++u) {
          const R v = V::template ld<MASK>(p + u * V::W, m);
          acc[u] = MAX ? V::max(v, acc[u]) : V::add(acc[u], v);
        }
    }
    if (!MAX) {
      const R sc = V::set1(win.scale);
      for (int u = 0; u < U; ++u) acc[u] = V::mul(acc[u], sc);
    }
    for (int u = 0; u < U; ++u) V::template st<MASK>(y + c0 + u * V::W, acc[u], m);
  }

  template <bool MAX>
  static void pixel(const Window& win, int64_t c, float* y) {
    int64_t c0 = 0;
    for (; c0 + 4 * V::W <= c; c0 += 4 * V::W) block<MAX, 4, false>(win, c0, y, V::mask(V::W));
    for (; c0 + V::W <= c; c0 += V::W) block<MAX, 1, false>(win, c0, y, V::mask(V::W));
    if (c0 < c) block<MAX, 1, true>(win, c0, y, V::mask(c - c0));
  }

  static void run(const ConvShape& s, PoolMode mode, const float* x, float* y) {
    const int64_t c = s.c;
    // One output row (wo pixels of c channels) per task.
    parallel_for(s.n * s.ho, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t img = r / s.ho, oy = r % s.ho;
        const int64_t iy0 = oy * s.stride_h - s.pad_top;
        int64_t ky_lo, ky_hi;
        pool_tap_range(iy0, s.dilation_h, s.kh, s.h, ky_lo, ky_hi);
        for (int64_t ox = 0; ox < s.wo; ++ox) {
          const int64_t ix0 = ox * s.stride_w - s.pad_left;
          int64_t kx_lo, kx_hi;
          pool_tap_range(ix0, s.dilation_w, s.kw, s.w, kx_lo, kx_hi);
          Window win;
          win.rows = ky_hi - ky_lo;
          win.cols = kx_hi - kx_lo;
          win.row_step = s.dilation_h * s.w * c;
          win.col_step = s.dilation_w * c;
          const int64_t iy = iy0 + ky_lo * s.dilation_h, ix = ix0 + kx_lo * s.dilation_w;
          // An empty window reads nothing; point it at the image start.
          win.x = win.rows > 0 && win.cols > 0 ? x + ((img * s.h + iy) * s.w + ix) * c : x;
          const int64_t inside = std::max<int64_t>(win.rows * win.cols, 1);
          const int64_t count = mode == PoolMode::avg_include_pad ? s.kh * s.kw : inside;
          win.scale = 1.0f / float(count);
          float* yp = y + (r * s.wo + ox) * c;
          if (mode == PoolMode::max) pixel<true>(win, c, yp);
          else pixel<false>(win, c, yp);
        }
      }
    });
  }
};

}  // namespace
}  // namespace xcept
