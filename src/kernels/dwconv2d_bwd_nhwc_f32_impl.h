// Depthwise convolution backward (data and filter), NHWC f32, over a vector type V (see
// dwconv2d_nhwc_f32_common.h). Both are race-free and deterministic: every dx row is
// written by one task, and the filter gradient sums per-split partials in split order
// over a split that does not depend on the thread count.
#pragma once

#include <cstring>
#include <utility>

#include "kernels/dwconv2d_fwd_nhwc_f32_impl.h"

namespace xcept {
namespace {

template <typename V>
struct DwBackwardData : DwBlocks<V> {
  using typename DwBlocks<V>::R;
  using typename DwBlocks<V>::M;
  using DwBlocks<V>::for_blocks;

  // Gather: each dx pixel sums dy * w over the taps that reach it, so every dx row is
  // written by one task, in a fixed order. Column ix is in phase (ix + pl) % sw; tap kx
  // reaches only the columns of phase (kx * dw) % sw, at dy column u + delta for
  // ix = u * sw + phase - pl. Within a phase the taps are the same for every column, so
  // the interior runs in tiles of P columns like the forward kxk loop.
  struct DwDyRows {
    const float* const* rows;  // dy rows reaching this dx row
    const int64_t* ky;         // their kernel rows
    int64_t n;
  };
  struct DwPhase {
    const int64_t* kx;
    const int64_t* delta;
    int64_t taps;
    int64_t first, end;  // u of the phase's columns inside dx
    int64_t lo, hi;      // u whose taps all land inside dy
  };

  template <bool MASK>
  static void bwd_data_pixel_checked(const DwGeom& g, const DwDyRows& dr, const DwPhase& ph,
                                     const float* w, float* op, int64_t u, int64_t c0, M mk) {
    const int64_t ch = g.ch;
    R acc = V::zero();
    for (int64_t r = 0; r < dr.n; ++r) {
      const float* wr = w + dr.ky[r] * g.kw * ch + c0;
      for (int64_t t = 0; t < ph.taps; ++t) {
        const int64_t ox = u + ph.delta[t];
        if (ox < 0 || ox >= g.out_w) continue;
        acc = V::fma(V::template ld<MASK>(dr.rows[r] + ox * ch + c0, mk),
                     V::template ld<MASK>(wr + ph.kx[t] * ch, mk), acc);
      }
    }
    V::template st<MASK>(op + c0, acc, mk);
  }

  template <bool MASK, int P>
  static void bwd_data_tile(const DwGeom& g, const DwDyRows& dr, const DwPhase& ph,
                            const float* w, float* op, int64_t u, int64_t c0, M mk) {
    const int64_t ch = g.ch, ostep = g.sw * ch;
    R acc[P];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[p] = V::zero();
    for (int64_t r = 0; r < dr.n; ++r) {
      const float* yr = dr.rows[r] + c0;
      const float* wr = w + dr.ky[r] * g.kw * ch + c0;
      for (int64_t t = 0; t < ph.taps; ++t) {
        const R wv = V::template ld<MASK>(wr + ph.kx[t] * ch, mk);
        const float* yp = yr + (u + ph.delta[t]) * ch;
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p)
          acc[p] = V::fma(V::template ld<MASK>(yp + p * ch, mk), wv, acc[p]);
      }
    }
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) V::template st<MASK>(op + p * ostep + c0, acc[p], mk);
  }

  // One dx row into out (pixel stride ch).
  static void bwd_data_row(const DwGeom& g, const DwDyRows& dr, const DwPhase* phases,
                           const float* w, float* out) {
    for (int64_t phase = 0; phase < g.sw; ++phase) {
      const DwPhase& ph = phases[phase];
      auto at = [&](int64_t u) { return out + (u * g.sw + phase - g.pl) * g.ch; };
      auto checked = [&](int64_t u) {
        for_blocks(g.ch, [&](auto masked, int64_t c0, M mk) {
          bwd_data_pixel_checked<decltype(masked)::value>(g, dr, ph, w, at(u), u, c0, mk);
        });
      };
      auto tile = [&](int64_t u, auto pixels) {
        for_blocks(g.ch, [&](auto masked, int64_t c0, M mk) {
          bwd_data_tile<decltype(masked)::value, decltype(pixels)::value>(g, dr, ph, w, at(u), u,
                                                                          c0, mk);
        });
      };
      for (int64_t u = ph.first; u < ph.lo; ++u) checked(u);
      DwBlocks<V>::template for_tiles<V::P>(ph.lo, ph.hi, tile);
      for (int64_t u = ph.hi; u < ph.end; ++u) checked(u);
    }
  }

  // dx[i] = sum over j of sums[i*d + j]; compile-time D vectorizes (D = 0: runtime d).
  template <int D>
  static void reduce_multiplier(const float* sums, float* dx, int64_t n, int64_t d) {
    if constexpr (D > 0) d = D;
    for (int64_t i = 0; i < n; ++i) {
      float acc = 0;
      for (int64_t j = 0; j < d; ++j) acc += sums[i * d + j];
      dx[i] = acc;
    }
  }

  static void reduce_multiplier_row(const float* sums, float* dx, int64_t n, int64_t d) {
    switch (d) {
      case 2: reduce_multiplier<2>(sums, dx, n, 2); break;
      case 3: reduce_multiplier<3>(sums, dx, n, 3); break;
      case 4: reduce_multiplier<4>(sums, dx, n, 4); break;
      default: reduce_multiplier<0>(sums, dx, n, d); break;
    }
  }

  // Here in_* is the size of x (dx) and out_* the size of y (dy).
  static void bwd_data_gather(const DwGeom& g, const float* dy, const float* w, float* dx) {
    const int64_t ch = g.ch;
    // Taps sorted by phase; each kx belongs to exactly one phase.
    DwScratch<int64_t> kx_of(g.kw), delta(g.kw);
    DwScratch<DwPhase> phases(g.sw);
    int64_t e = 0;
    for (int64_t phase = 0; phase < g.sw; ++phase) {
      DwPhase& ph = phases[phase];
      ph.kx = kx_of.get() + e, ph.delta = delta.get() + e;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        if ((kx * g.dw) % g.sw != phase) continue;
        kx_of[e] = kx, delta[e] = (phase - kx * g.dw) / g.sw, ++e;
      }
      ph.taps = kx_of.get() + e - ph.kx;
      const int64_t ix0 = ((phase - g.pl) % g.sw + g.sw) % g.sw;  // first column of the phase
      ph.first = ph.end = 0;
      if (ix0 < g.in_w) {
        ph.first = (ix0 + g.pl - phase) / g.sw;
        ph.end = ph.first + (g.in_w - 1 - ix0) / g.sw + 1;
      }
      ph.lo = ph.first, ph.hi = ph.end;
      for (int64_t t = 0; t < ph.taps; ++t) {
        ph.lo = std::max(ph.lo, -ph.delta[t]);
        ph.hi = std::min(ph.hi, g.out_w - ph.delta[t]);
      }
      ph.lo = std::min(ph.lo, ph.end);
      ph.hi = std::max(ph.hi, ph.lo);
    }
    const int64_t grain = dw_grain(g.in_w * ch * g.kh * g.kw / (g.sh * g.sw));
    parallel_for(g.n * g.in_h, grain, [&](int64_t r0, int64_t r1) {
      DwScratch<const float*> dyrows(g.kh);
      DwScratch<int64_t> ky_of(g.kh);
      float* sums = g.d > 1 ? dw_thread_buffer(1, g.in_w * ch) : nullptr;
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / g.in_h, iy = r % g.in_h;
        int64_t nrows = 0;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          int64_t t = iy + g.pt - ky * g.dh;
          if (t < 0 || t % g.sh != 0 || t / g.sh >= g.out_h) continue;
          dyrows[nrows] = dy + (b * g.out_h + t / g.sh) * g.out_w * ch;
          ky_of[nrows++] = ky;
        }
        float* dxrow = dx + r * g.in_w * g.c_src;
        float* out = g.d > 1 ? sums : dxrow;
        bwd_data_row(g, DwDyRows{dyrows.get(), ky_of.get(), nrows}, phases.get(), w, out);
        if (g.d > 1) reduce_multiplier_row(out, dxrow, g.in_w * g.c_src, g.d);
      }
    });
  }

  static void backward_data(const ConvShape& s, const float* dy, const float* w, float* dx) {
    const DwGeom f = dw_geom_forward(s);
    if (f.sh != 1 || f.sw != 1) {
      bwd_data_gather(f, dy, w, dx);
      return;
    }
    // Stride 1: a row of dx (in m channels) is a forward row over dy with the window
    // flipped and the pads mirrored, so it gets the forward path's interior loops; a
    // multiplier d > 1 then sums each group of d channels.
    DwGeom t = f;
    t.in_h = s.ho, t.in_w = s.wo, t.out_h = s.h, t.out_w = s.w;
    t.c_src = s.m, t.d = 1, t.xs = s.m;
    t.pt = (s.kh - 1) * s.dilation_h - s.pad_top;
    t.pl = (s.kw - 1) * s.dilation_w - s.pad_left;
    const int64_t taps = s.kh * s.kw;
    float* flipped = dw_thread_buffer(2, taps * s.m);
    for (int64_t k = 0; k < taps; ++k)
      std::memcpy(flipped + k * s.m, w + (taps - 1 - k) * s.m,
                  static_cast<size_t>(s.m) * sizeof(float));
    const bool use_3x3 = s.kh == 3 && s.kw == 3 && s.dilation_h == 1 && s.dilation_w == 1;
    const int64_t grain = dw_grain(t.out_w * t.ch * taps);
    parallel_for(t.n * t.out_h, grain, [&](int64_t r0, int64_t r1) {
      DwRowCache cache(t);
      DwGeom ts = t;
      ts.xs = cache.pixel_stride();
      float* sums = f.d > 1 ? dw_thread_buffer(1, t.out_w * t.ch) : nullptr;
      for (int64_t r = r0; r < r1; ++r) {
        const float* const* rows = cache.rows(dy, r / t.out_h, r % t.out_h);
        float* dxrow = dx + r * s.w * s.c;
        DwForward<V>::fwd_row(ts, rows, flipped, nullptr, f.d > 1 ? sums : dxrow, use_3x3);
        if (f.d > 1) reduce_multiplier_row(sums, dxrow, s.w * s.c, f.d);
      }
    });
  }
};

template <typename V>
struct DwBackwardFilter : DwBlocks<V> {
  using typename DwBlocks<V>::R;
  using typename DwBlocks<V>::M;
  using DwBlocks<V>::for_blocks;

  // Adds this row's contribution to the partial sums pw (weights) and pb (bias, or null).
  template <bool MASK>
  static void bwd_filter_block(const DwGeom& g, const float* const* rows, const float* dyr,
                               float* pw, float* pb, int64_t c0, M mk) {
    const int64_t ch = g.ch, step = g.sw * g.xs;
    const float* dp = dyr + c0;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      if (!rows[ky]) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t off = -g.pl + kx * g.dw;
        const DwRange rg = dw_axis_range(off, g.in_w, g.sw, g.out_w);
        if (rg.lo >= rg.hi) continue;
        // xp and yp walk together from the first output pixel whose tap is inside.
        const float* xp = rows[ky] + c0 + (rg.lo * g.sw + off) * g.xs;
        const float* yp = dp + rg.lo * g.ys;
        const int64_t len = rg.hi - rg.lo;
        auto prod = [&](int64_t i) {
          return std::pair(V::template ld<MASK>(xp + i * step, mk),
                           V::template ld<MASK>(yp + i * g.ys, mk));
        };
        // Four chains so the FMA latency overlaps.
        R a[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
        int64_t i = 0;
        for (; i + 4 <= len; i += 4) {
#pragma GCC unroll 4
          for (int j = 0; j < 4; ++j) {
            auto [xv, yv] = prod(i + j);
            a[j] = V::fma(xv, yv, a[j]);
          }
        }
        for (; i < len; ++i) {
          auto [xv, yv] = prod(i);
          a[0] = V::fma(xv, yv, a[0]);
        }
        float* t = pw + (ky * g.kw + kx) * ch + c0;
        const R sum = V::add(V::add(a[0], a[1]), V::add(a[2], a[3]));
        V::template st<MASK>(t, V::add(V::template ld<MASK>(t, mk), sum), mk);
      }
    }
    if (pb) {
      R a0 = V::zero(), a1 = V::zero();
      int64_t ox = 0;
      for (; ox + 2 <= g.out_w; ox += 2) {
        a0 = V::add(a0, V::template ld<MASK>(dp + ox * g.ys, mk));
        a1 = V::add(a1, V::template ld<MASK>(dp + (ox + 1) * g.ys, mk));
      }
      if (ox < g.out_w) a0 = V::add(a0, V::template ld<MASK>(dp + ox * g.ys, mk));
      const R sum = V::add(a0, a1);
      V::template st<MASK>(pb + c0, V::add(V::template ld<MASK>(pb + c0, mk), sum), mk);
    }
  }

  // 3x3, dilation 1, all three rows present: output pixels [ox0, ox1) of one channel
  // block, the nine tap sums and the bias sum in registers, one dy load and nine x
  // loads per pixel, added to the partials at the end.
  template <bool MASK, int S>
  static void bwd_filter_block_3x3(const DwGeom& g, const float* const* rows, const float* dyr,
                                   float* pw, float* pb, int64_t c0, M mk, DwRange in,
                                   int64_t ox0, int64_t ox1) {
    const int64_t ch = g.ch, xs = g.xs;
    R acc[9], accb = V::zero();
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) acc[t] = V::zero();
    const float* r0 = rows[0] + c0;
    const float* r1 = rows[1] + c0;
    const float* r2 = rows[2] + c0;
    for (int64_t ox = ox0; ox < ox1; ++ox) {
      const R dyv = V::template ld<MASK>(dyr + ox * g.ys + c0, mk);
      accb = V::add(accb, dyv);
      const int64_t ix0 = ox * S - g.pl;
      if (ox >= in.lo && ox < in.hi) {
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t o = (ix0 + kx) * xs;
          acc[kx] = V::fma(V::template ld<MASK>(r0 + o, mk), dyv, acc[kx]);
          acc[3 + kx] = V::fma(V::template ld<MASK>(r1 + o, mk), dyv, acc[3 + kx]);
          acc[6 + kx] = V::fma(V::template ld<MASK>(r2 + o, mk), dyv, acc[6 + kx]);
        }
      } else {
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ix0 + kx;
          if (ix < 0 || ix >= g.in_w) continue;
          acc[kx] = V::fma(V::template ld<MASK>(r0 + ix * xs, mk), dyv, acc[kx]);
          acc[3 + kx] = V::fma(V::template ld<MASK>(r1 + ix * xs, mk), dyv, acc[3 + kx]);
          acc[6 + kx] = V::fma(V::template ld<MASK>(r2 + ix * xs, mk), dyv, acc[6 + kx]);
        }
      }
    }
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) {
      float* pt = pw + t * ch + c0;
      V::template st<MASK>(pt, V::add(V::template ld<MASK>(pt, mk), acc[t]), mk);
    }
    if (pb) V::template st<MASK>(pb + c0, V::add(V::template ld<MASK>(pb + c0, mk), accb), mk);
  }

  static void bwd_filter_row(const DwGeom& g, const float* const* rows, const float* dyr,
                             float* pw, float* pb) {
    const bool k3 = g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 && g.sw <= 2 && rows[0] &&
                    rows[1] && rows[2];
    const DwRange first = dw_axis_range(-g.pl, g.in_w, g.sw, g.out_w);
    const DwRange last = dw_axis_range(-g.pl + 2, g.in_w, g.sw, g.out_w);
    const DwRange in{first.lo, std::max(first.lo, last.hi)};
    if (!k3) {
      for_blocks(g.ch, [&](auto masked, int64_t c0, M mk) {
        bwd_filter_block<decltype(masked)::value>(g, rows, dyr, pw, pb, c0, mk);
      });
      return;
    }
    // Tiles of pixels, every channel block of a tile before the next tile: memory is
    // walked in address order. Block by block along the whole row, each pass read 64
    // bytes of every pixel 512 bytes apart, a pattern the prefetchers did not follow
    // (28x28x128 at batch 128 ran at 8 GB/s).
    constexpr int64_t kTile = 8;
    for (int64_t ox0 = 0; ox0 < g.out_w; ox0 += kTile) {
      const int64_t ox1 = std::min(g.out_w, ox0 + kTile);
      for_blocks(g.ch, [&](auto masked, int64_t c0, M mk) {
        constexpr bool MASK = decltype(masked)::value;
        if (g.sw == 1) bwd_filter_block_3x3<MASK, 1>(g, rows, dyr, pw, pb, c0, mk, in, ox0, ox1);
        else bwd_filter_block_3x3<MASK, 2>(g, rows, dyr, pw, pb, c0, mk, in, ox0, ox1);
      });
    }
  }

  // Partial sums over a fixed split of the rows (independent of the thread count), then
  // summed in split order: the result is the same bit for bit however many threads run.
  static void backward_filter(const ConvShape& s, const float* x, const float* dy, float* dw,
                              float* dbias, bool accumulate) {
    const DwGeom g = dw_geom_forward(s);
    const int64_t ch = g.ch, nrows = g.n * g.out_h;
    // A split costs about a row of work (zeroing and summing its partials), so splits
    // get at least three rows.
    constexpr int64_t kMaxSplits = 16;
    const int64_t splits = std::clamp<int64_t>(nrows / 3, 1, kMaxSplits);
    const int64_t wsize = g.kh * g.kw * ch, psize = wsize + ch;
    float* part = dw_thread_buffer(2, splits * psize);
    parallel_for(splits, 1, [&](int64_t k0, int64_t k1) {
      DwRowCache cache(g);
      DwGeom gs = g;
      gs.xs = cache.pixel_stride();
      // dy rows with a 2 KiB-multiple pixel stride are staged too (see the file top).
      const bool stage_dy = ch % 512 == 0;
      if (stage_dy) gs.ys = ch + 16;
      float* dy_staged = stage_dy ? dw_thread_buffer(1, g.out_w * gs.ys) : nullptr;
      for (int64_t k = k0; k < k1; ++k) {
        float* pw = part + k * psize;
        float* pb = dbias ? pw + wsize : nullptr;
        for (int64_t i = 0; i < psize; ++i) pw[i] = 0.f;
        for (int64_t r = nrows * k / splits; r < nrows * (k + 1) / splits; ++r) {
          const float* const* rows = cache.rows(x, r / g.out_h, r % g.out_h);
          const float* dyr = dy + r * g.out_w * ch;
          if (stage_dy) {
            for (int64_t ox = 0; ox < g.out_w; ++ox)
              for (int64_t i = 0; i < ch; ++i) dy_staged[ox * gs.ys + i] = dyr[ox * ch + i];
            dyr = dy_staged;
          }
          bwd_filter_row(gs, rows, dyr, pw, pb);
        }
      }
    });
    const int64_t total = dbias ? psize : wsize;
    parallel_for(total, 4096, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        float acc = part[i];
        for (int64_t k = 1; k < splits; ++k) acc += part[k * psize + i];
        float& out = i < wsize ? dw[i] : dbias[i - wsize];
        out = accumulate ? out + acc : acc;
      }
    });
  }
};

}  // namespace
}  // namespace xcept
