// Max and average pooling over NHWC windows, forward written once over a vector type V and
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

// The taps of one output row (or column) o along an axis: first input index i0 and the
// valid taps [lo, hi).
struct PoolAxisTaps {
  int64_t i0, lo, hi;
};
inline PoolAxisTaps pool_axis_taps(int64_t o, int64_t stride, int64_t pad, int64_t d, int64_t k,
                                   int64_t n) {
  PoolAxisTaps t{o * stride - pad, 0, 0};
  pool_tap_range(t.i0, d, k, n, t.lo, t.hi);
  return t;
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
        const PoolAxisTaps ty = pool_axis_taps(oy, s.stride_h, s.pad_top, s.dilation_h, s.kh, s.h);
        for (int64_t ox = 0; ox < s.wo; ++ox) {
          const PoolAxisTaps tx =
              pool_axis_taps(ox, s.stride_w, s.pad_left, s.dilation_w, s.kw, s.w);
          Window win;
          win.rows = ty.hi - ty.lo;
          win.cols = tx.hi - tx.lo;
          win.row_step = s.dilation_h * s.w * c;
          win.col_step = s.dilation_w * c;
          const int64_t iy = ty.i0 + ty.lo * s.dilation_h, ix = tx.i0 + tx.lo * s.dilation_w;
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

// Backward of both modes, in plain loops over a block of channels that each ISA file
// compiles with its own flags (the compiler vectorizes them: no vector type needed).
// Max sends each window's gradient to its first tap, in (ky, kx) order, whose value
// equals the window's output, as the forward's strict '>' picks the first maximum: a
// per-channel "still to place" value is cleared at the winning tap, so the taps need no
// argmax pass. Windows overlap inside an image, so tasks are (image, channel block):
// disjoint parts of dx whatever the batch size.
struct Pool2dBwdNhwc {
  static constexpr int64_t kBlock = 256;  // channels per task

  // One tap of a max window: the channels still to place whose input equals the output
  // get their gradient here. Separate functions with restrict pointers, so the compiler
  // vectorizes them (inside the lambda below it did not).
  static void max_tap(int64_t n, const float* __restrict x, const float* __restrict y,
                      float* __restrict rem, float* __restrict dx) {
    for (int64_t j = 0; j < n; ++j) {
      const float r = rem[j];
      const bool win = x[j] == y[j];
      const float add = win ? r : 0.f, keep = win ? 0.f : r;
      dx[j] = dx[j] + add;
      rem[j] = keep;
    }
  }
  static void avg_tap(int64_t n, const float* __restrict dy, float scale, float* __restrict dx) {
    for (int64_t j = 0; j < n; ++j) dx[j] += dy[j] * scale;
  }

  static void run(const ConvShape& s, PoolMode mode, const float* x, const float* y,
                  const float* dy, float* dx) {
    const int64_t c = s.c, blocks = (c + kBlock - 1) / kBlock;
    parallel_for(s.n * blocks, 1, [&](int64_t t0, int64_t t1) {
      alignas(64) float rem[kBlock];
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t img = t / blocks, c0 = t % blocks * kBlock, cn = std::min(kBlock, c - c0);
        float* dxi = dx + img * s.h * s.w * c + c0;
        for (int64_t p = 0; p < s.h * s.w; ++p) std::fill_n(dxi + p * c, cn, 0.f);
        for (int64_t oy = 0; oy < s.ho; ++oy) {
          const PoolAxisTaps ty =
              pool_axis_taps(oy, s.stride_h, s.pad_top, s.dilation_h, s.kh, s.h);
          for (int64_t ox = 0; ox < s.wo; ++ox) {
            const PoolAxisTaps tx =
                pool_axis_taps(ox, s.stride_w, s.pad_left, s.dilation_w, s.kw, s.w);
            const int64_t at = ((img * s.ho + oy) * s.wo + ox) * c + c0;
            const float* yv = y + at;
            const float* g = dy + at;
            const int64_t inside = (ty.hi - ty.lo) * (tx.hi - tx.lo);
            const int64_t count = mode == PoolMode::avg_include_pad ? s.kh * s.kw : inside;
            const float scale = 1.0f / float(std::max<int64_t>(count, 1));
            if (mode == PoolMode::max) std::copy(g, g + cn, rem);
            for (int64_t ky = ty.lo; ky < ty.hi; ++ky)
              for (int64_t kx = tx.lo; kx < tx.hi; ++kx) {
                const int64_t iy = ty.i0 + ky * s.dilation_h, ix = tx.i0 + kx * s.dilation_w;
                const float* xp = x + ((img * s.h + iy) * s.w + ix) * c + c0;
                float* d = dxi + (iy * s.w + ix) * c;
                if (mode == PoolMode::max) max_tap(cn, xp, yv, rem, d);
                else avg_tap(cn, g, scale, d);
              }
          }
        }
      }
    });
  }
};

}  // namespace
}  // namespace xcept
