// Depthwise 3x3 forward, NHWC uint8 activations x int8 weights (kernels/quant.h),
// channel multiplier 1, dilation 1, stride_w 1 or 2, any stride_h and padding, over a
// vector type V of V::W int32 lanes (one channel per lane). Each ISA file includes this
// with its own V; everything here has internal linkage.
//
// Each lane sums (x - x_zero_point) * w over the taps inside the input (padding is real
// 0: it adds nothing) in int32, exactly: vpmaddwd (or VNNI's vpdpwssd, which adds too)
// multiplies the low int16 halves of x and of the weight (widened once per call with a
// zero high half, so the high halves add nothing). Interior tiles multiply the raw codes
// and start from bias - zp * (the weights of the rows inside), per channel; border
// pixels subtract zp from each input. Like the f32 kernel (dwconv2d_fwd_nhwc_f32_impl.h), a row splits
// into borders with per-tap checks and an interior walked in tiles of V::P pixels, every
// channel block of a tile before the next, each input vector loaded once per tile and
// fed to every accumulator it reaches.
#pragma once

#include <algorithm>

#include "core/threadpool.h"
#include "kernels/conv_shape.h"
#include "kernels/quant.h"
#include "core/scratch.h"

namespace xcept {
namespace {

thread_local ScratchArray<int32_t> t_qdw_w, t_qdw_bias, t_qdw_zp_rows;
thread_local ScratchArray<float> t_qdw_mult;

template <typename V>
struct QDwConv3x3 {
  using R = typename V::R;
  static constexpr int W = V::W;

  struct Params {
    const ConvShape* s;
    const int32_t* w;  // [9][cp]: weights, int16 in the low half of each int32
    const int32_t* bias;  // [cp]
    const int32_t* zp_rows;  // [3][cp]: zp * the sum of kernel row r's three weights
    const float* mult;    // [cp]
    int64_t cp;           // channels padded to whole vectors
    typename V::Requant rq;
    R zp;
  };

  // P interior pixels (stride S) of one channel block: xr[r] points at the tile's first
  // input column of row r (null: the row is padding), y at its first output pixel.
  template <int S, int P>
  static void tile(const Params& p, const uint8_t* const* xr, int64_t c0, int64_t count,
                   uint8_t* y) {
    constexpr int kCols = (P - 1) * S + 3;
    const int64_t xs = p.s->c;
    R wv[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) wv[t] = V::load_i32(p.w + t * p.cp + c0);
    R acc[P];
    R b = V::load_i32(p.bias + c0);
    for (int r = 0; r < 3; ++r)
      if (xr[r]) b = V::sub(b, V::load_i32(p.zp_rows + r * p.cp + c0));
#pragma GCC unroll 16
    for (int q = 0; q < P; ++q) acc[q] = b;
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      if (!xr[r]) continue;
#pragma GCC unroll 20
      for (int j = 0; j < kCols; ++j) {
        const R v = V::load_x(xr[r] + j * xs + c0, count);
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          const int q = j - kx;
          if (q >= 0 && q % S == 0 && q / S < P) acc[q / S] = V::madd_acc(acc[q / S], v, wv[r * 3 + kx]);
        }
      }
    }
#pragma GCC unroll 16
    for (int q = 0; q < P; ++q) p.rq.store(acc[q], p.mult + c0, count, y + q * p.s->m + c0);
  }

  // One pixel anywhere, each tap checked against the input's columns.
  static void pixel_checked(const Params& p, const uint8_t* const* rows, int64_t ix0, uint8_t* y) {
    const ConvShape& s = *p.s;
    for (int64_t c0 = 0; c0 < s.c; c0 += W) {
      const int64_t count = std::min<int64_t>(W, s.c - c0);
      R acc = V::load_i32(p.bias + c0);
      for (int ky = 0; ky < 3; ++ky) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ix0 + kx;
          if (ix < 0 || ix >= s.w) continue;
          const R v = V::sub(V::load_x(rows[ky] + ix * s.c + c0, count), p.zp);
          acc = V::madd_acc(acc, v, V::load_i32(p.w + (ky * 3 + kx) * p.cp + c0));
        }
      }
      p.rq.store(acc, p.mult + c0, count, y + c0);
    }
  }

  template <int S>
  static void output_row(const Params& p, const uint8_t* const* rows, uint8_t* y) {
    const ConvShape& s = *p.s;
    // Interior: every column tap inside the input, 0 <= ox*S - pl and ox*S - pl + 2 < w.
    const int64_t lo = std::min(s.wo, (s.pad_left + S - 1) / S);
    const int64_t hi = std::max(lo, std::min(s.wo, s.w - 3 + s.pad_left >= 0
                                                       ? (s.w - 3 + s.pad_left) / S + 1
                                                       : int64_t(0)));
    for (int64_t ox = 0; ox < lo; ++ox) pixel_checked(p, rows, ox * S - s.pad_left, y + ox * s.m);
    auto run_tile = [&](int64_t ox, auto pixels) {
      constexpr int P = decltype(pixels)::value;
      const int64_t off = (ox * S - s.pad_left) * s.c;
      const uint8_t* xr[3] = {rows[0] ? rows[0] + off : nullptr, rows[1] ? rows[1] + off : nullptr,
                              rows[2] ? rows[2] + off : nullptr};
      for (int64_t c0 = 0; c0 < s.c; c0 += W)
        tile<S, P>(p, xr, c0, std::min<int64_t>(W, s.c - c0), y + ox * s.m);
    };
    int64_t ox = lo;
    for (; ox + V::P <= hi; ox += V::P) run_tile(ox, std::integral_constant<int, V::P>());
    for (; ox < hi; ++ox) run_tile(ox, std::integral_constant<int, 1>());
    for (ox = hi; ox < s.wo; ++ox) pixel_checked(p, rows, ox * S - s.pad_left, y + ox * s.m);
  }

  static void forward(const ConvShape& s, const uint8_t* x, const int8_t* w,
                      const QuantEpilogue& ep, uint8_t* y) {
    const int64_t cp = (s.c + W - 1) / W * W;
    int32_t* w32 = t_qdw_w.get(9 * cp);
    int32_t* bias = t_qdw_bias.get(cp);
    int32_t* zp_rows = t_qdw_zp_rows.get(3 * cp);
    float* mult = t_qdw_mult.get(cp);
    for (int64_t t = 0; t < 9; ++t)
      for (int64_t ch = 0; ch < cp; ++ch)
        w32[t * cp + ch] = ch < s.c ? int32_t(uint16_t(int16_t(w[t * s.c + ch]))) : 0;
    for (int64_t ch = 0; ch < cp; ++ch) {
      bias[ch] = ch < s.c && ep.bias ? ep.bias[ch] : 0;
      mult[ch] = ch < s.c ? ep.multiplier[ch] : 0.f;
      for (int64_t r = 0; r < 3; ++r) {
        int32_t sum = 0;
        for (int64_t kx = 0; kx < 3 && ch < s.c; ++kx) sum += w[(r * 3 + kx) * s.c + ch];
        zp_rows[r * cp + ch] = ep.x_zero_point * sum;
      }
    }
    const Params p{&s, w32, bias, zp_rows, mult, cp,
                   typename V::Requant{ep.y_zero_point, ep.y_min, ep.y_max},
                   V::set1(ep.x_zero_point)};
    const int64_t row_bytes = s.w * s.c;
    parallel_for(s.n * s.ho, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / s.ho, oy = r % s.ho;
        const uint8_t* rows[3];
        for (int ky = 0; ky < 3; ++ky) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky;
          rows[ky] = iy >= 0 && iy < s.h ? x + (n * s.h + iy) * row_bytes : nullptr;
        }
        uint8_t* yr = y + r * s.wo * s.m;
        if (s.stride_w == 1)
          output_row<1>(p, rows, yr);
        else
          output_row<2>(p, rows, yr);
      }
    });
  }
};

}  // namespace
}  // namespace xcept
