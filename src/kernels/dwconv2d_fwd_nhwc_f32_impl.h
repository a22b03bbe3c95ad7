// Depthwise convolution forward, NHWC f32, over a vector type V (see
// dwconv2d_nhwc_f32_common.h).
//
// A task is a range of output rows. A row splits into a left border, an interior where
// every tap is inside the input (no bounds checks), and a right border. The interior
// goes in tiles of P pixels; for each tile every channel block in turn, so memory is
// walked nearly in address order and the next tile finds its first input columns in L1.
// A 3x3 window with dilation 1 and stride_w 1 or 2 has its own tile, which loads each
// input vector once and keeps the nine weight vectors in registers for the tile.
// The bias seeds the accumulators; addend and activation (the rest of the epilogue) run
// over each output row right after it is written, while it is in L1.
#pragma once

#include "kernels/dwconv2d_nhwc_f32_common.h"
#include "kernels/epilogue_impl.h"

namespace xcept {
namespace {

template <typename V>
struct DwForward : DwBlocks<V> {
  using typename DwBlocks<V>::R;
  using typename DwBlocks<V>::M;
  using DwBlocks<V>::for_blocks;
  using DwBlocks<V>::ld_bias;

  // One pixel, one channel block, with per-tap bounds checks (the borders).
  template <bool MASK>
  static void fwd_pixel_checked(const DwGeom& g, const float* const* rows, const float* w,
                                R acc, float* yp, int64_t ox, int64_t c0, M mk) {
    const int64_t ix0 = ox * g.sw - g.pl;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      if (!rows[ky]) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = ix0 + kx * g.dw;
        if (ix < 0 || ix >= g.in_w) continue;
        acc = V::fma(V::template ld<MASK>(rows[ky] + ix * g.xs + c0, mk),
                     V::template ld<MASK>(w + (ky * g.kw + kx) * g.ch + c0, mk), acc);
      }
    }
    V::template st<MASK>(yp + c0, acc, mk);
  }

  // P interior pixels, any window, one channel block: P accumulator chains overlap.
  template <bool MASK, int P>
  static void fwd_tile_kxk(const DwGeom& g, const float* const* rows, const float* w, R b,
                           float* yp, int64_t ix0, int64_t c0, M mk) {
    const int64_t xs = g.xs, step = g.sw * xs;
    R acc[P];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[p] = b;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      if (!rows[ky]) continue;
      const float* xr = rows[ky] + ix0 * xs + c0;
      const float* wr = w + ky * g.kw * g.ch + c0;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const R wv = V::template ld<MASK>(wr + kx * g.ch, mk);
        const float* xp = xr + kx * g.dw * xs;
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p)
          acc[p] = V::fma(V::template ld<MASK>(xp + p * step, mk), wv, acc[p]);
      }
    }
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) V::template st<MASK>(yp + p * g.ch + c0, acc[p], mk);
  }

  // P interior pixels of a 3x3, dilation-1 window, one channel block. Each input vector
  // is loaded once and feeds every accumulator it reaches (pin stops the compiler from
  // re-loading it for each FMA); xp points at the tile's first input column per row.
  template <bool MASK, int S, int P>
  static inline void fwd_tile_3x3(const float* const* xp, int64_t xs, const R* wv, R b,
                                  float* yp, int64_t ys, M mk) {
    constexpr int kCols = (P - 1) * S + 3;
    R acc[P];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[p] = b;
#pragma GCC unroll 40
    for (int j = 0; j < kCols; ++j) {
#pragma GCC unroll 3
      for (int r = 0; r < 3; ++r) {
        const R v = V::pin(V::template ld<MASK>(xp[r] + j * xs, mk));
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          const int q = j - kx;
          if (q >= 0 && q % S == 0 && q / S < P) acc[q / S] = V::fma(v, wv[r * 3 + kx], acc[q / S]);
        }
      }
    }
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) V::template st<MASK>(yp + p * ys, acc[p], mk);
  }

  template <int S>
  static void fwd_interior_3x3(const DwGeom& g, const float* const* rows, const float* w,
                               const float* bias, float* y, DwRange in) {
    const int64_t ch = g.ch, xs = g.xs;
    auto tile = [&](int64_t ox, auto pixels) {
      constexpr int P = decltype(pixels)::value;
      const int64_t off = (ox * S - g.pl) * xs;
      for_blocks(ch, [&](auto masked, int64_t c0, M mk) {
        constexpr bool MASK = decltype(masked)::value;
        R wv[9];
#pragma GCC unroll 9
        for (int t = 0; t < 9; ++t) wv[t] = V::template ld<MASK>(w + t * ch + c0, mk);
        const float* xp[3] = {rows[0] + off + c0, rows[1] + off + c0, rows[2] + off + c0};
        fwd_tile_3x3<MASK, S, P>(xp, xs, wv, ld_bias(bias, c0, mk, masked), y + ox * ch + c0,
                                 ch, mk);
      });
    };
    DwBlocks<V>::template for_tiles<V::P3>(in.lo, in.hi, tile);
  }

  static void fwd_interior_kxk(const DwGeom& g, const float* const* rows, const float* w,
                               const float* bias, float* y, DwRange in) {
    auto tile = [&](int64_t ox, auto pixels) {
      constexpr int P = decltype(pixels)::value;
      for_blocks(g.ch, [&](auto masked, int64_t c0, M mk) {
        fwd_tile_kxk<decltype(masked)::value, P>(g, rows, w, ld_bias(bias, c0, mk, masked),
                                                 y + ox * g.ch, ox * g.sw - g.pl, c0, mk);
      });
    };
    DwBlocks<V>::template for_tiles<V::P>(in.lo, in.hi, tile);
  }

  static void fwd_row(const DwGeom& g, const float* const* rows, const float* w,
                      const float* bias, float* y, bool use_3x3) {
    const DwRange first = dw_axis_range(-g.pl, g.in_w, g.sw, g.out_w);
    const DwRange last = dw_axis_range(-g.pl + (g.kw - 1) * g.dw, g.in_w, g.sw, g.out_w);
    const DwRange in{first.lo, std::max(first.lo, last.hi)};
    auto checked = [&](int64_t ox) {
      for_blocks(g.ch, [&](auto masked, int64_t c0, M mk) {
        fwd_pixel_checked<decltype(masked)::value>(g, rows, w, ld_bias(bias, c0, mk, masked),
                                                   y + ox * g.ch, ox, c0, mk);
      });
    };
    for (int64_t ox = 0; ox < in.lo; ++ox) checked(ox);
    if (use_3x3 && rows[0] && rows[1] && rows[2]) {
      if (g.sw == 1) fwd_interior_3x3<1>(g, rows, w, bias, y, in);
      else fwd_interior_3x3<2>(g, rows, w, bias, y, in);
    } else {
      fwd_interior_kxk(g, rows, w, bias, y, in);
    }
    for (int64_t ox = in.hi; ox < g.out_w; ++ox) checked(ox);
  }

  // use_3x3 requires kh == kw == 3, dilation 1 and sw in {1, 2}.
  static void forward(const DwGeom& g, const float* src, const float* w, const ConvEpilogue& ep,
                      float* y, bool use_3x3) {
    const int64_t grain = dw_grain(g.out_w * g.ch * g.kh * g.kw);
    const int64_t row_len = g.out_w * g.ch;
    const bool post = ep.has_post();
    parallel_for(g.n * g.out_h, grain, [&](int64_t r0, int64_t r1) {
      DwRowCache cache(g);
      DwGeom gs = g;
      gs.xs = cache.pixel_stride();
      for (int64_t r = r0; r < r1; ++r) {
        const float* const* rows = cache.rows(src, r / g.out_h, r % g.out_h);
        float* yr = y + r * row_len;
        fwd_row(gs, rows, w, ep.bias, yr, use_3x3);
        if (post)
          epi_row(nullptr, ep.addend ? ep.addend + r * row_len : nullptr, ep.act, ep.a, ep.b, yr,
                  row_len);
      }
    });
  }

};

}  // namespace
}  // namespace xcept
