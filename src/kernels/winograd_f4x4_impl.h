// The three transforms of Winograd's F(4x4, 3x3) (Lavin & Gray 2015) over NHWC, as
// plain loops over a block of 16 channels that each ISA file compiles with its own flags
// (one zmm, two ymm or four xmm a row). Internal linkage and no standard-library
// templates, for the reason given in kernels/dwconv2d_nhwc_f32_common.h.
//
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A     d: 6x6 input tile, g: 3x3 window, Y: 4x4
// with
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
//          0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Position xi = 6*i + j of the 6x6 transformed tile is one of 36 independent GEMMs.
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"
#include "kernels/epilogue_impl.h"

namespace xcept {
namespace {

constexpr int kWinoLanes = 16;

// The 1-D input transform B^T d of six values.
#define XCEPT_WINO_BT(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5) \
  do {                                                                \
    o0 = 4.f * d0 - 5.f * d2 + d4;                                    \
    o1 = -4.f * (d1 + d2) + d3 + d4;                                  \
    o2 = 4.f * (d1 - d2) - d3 + d4;                                   \
    o3 = 2.f * (d3 - d1) - d2 + d4;                                   \
    o4 = 2.f * (d1 - d3) - d2 + d4;                                   \
    o5 = 4.f * d1 - 5.f * d3 + d5;                                    \
  } while (0)

// V[xi][c0 + l] for one tile: src[r*6 + q] points at the input pixel of tile row r,
// column q (null in the padding); v points at this tile's row of slab 0, slabs ldv apart.
template <bool FULL>
inline void wino_input_tile(const float* const* src, int64_t c0, int nl_, float* v,
                            int64_t ldv) {
  const int nl = FULL ? kWinoLanes : nl_;
  float d[36][kWinoLanes], t[36][kWinoLanes];
  for (int k = 0; k < 36; ++k) {
    if (src[k]) {
      const float* p = src[k] + c0;
      for (int l = 0; l < nl; ++l) d[k][l] = p[l];
    } else {
      for (int l = 0; l < nl; ++l) d[k][l] = 0.f;
    }
  }
  for (int q = 0; q < 6; ++q)  // columns: t = B^T d
    for (int l = 0; l < nl; ++l)
      XCEPT_WINO_BT(d[q][l], d[6 + q][l], d[12 + q][l], d[18 + q][l], d[24 + q][l], d[30 + q][l],
                    t[q][l], t[6 + q][l], t[12 + q][l], t[18 + q][l], t[24 + q][l], t[30 + q][l]);
  for (int i = 0; i < 6; ++i) {  // rows: V = t B
    float* o = v + 6 * i * ldv + c0;
    const float* r = t[6 * i];
    for (int l = 0; l < nl; ++l) {
      float o0, o1, o2, o3, o4, o5;
      XCEPT_WINO_BT(r[l], r[kWinoLanes + l], r[2 * kWinoLanes + l], r[3 * kWinoLanes + l],
                    r[4 * kWinoLanes + l], r[5 * kWinoLanes + l], o0, o1, o2, o3, o4, o5);
      o[l] = o0, o[ldv + l] = o1, o[2 * ldv + l] = o2;
      o[3 * ldv + l] = o3, o[4 * ldv + l] = o4, o[5 * ldv + l] = o5;
    }
  }
}

// The 1-D output transform A^T m of six values.
#define XCEPT_WINO_AT(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3) \
  do {                                                        \
    const float s12 = m1 + m2, d12 = m1 - m2;                 \
    const float s34 = m3 + m4, d34 = m3 - m4;                 \
    o0 = m0 + s12 + s34;                                      \
    o1 = d12 + 2.f * d34;                                     \
    o2 = s12 + 4.f * s34;                                     \
    o3 = d12 + 8.f * d34 + m5;                                \
  } while (0)

// Output pixels of one tile from its 36 GEMM results (mm points at this tile's row of
// slab 0, slabs ldm apart), channels [o0, o0 + nl): y = act(A^T M A + bias + addend).
// dst[p] / add[p] point at output pixel p = 4*i + j (null when outside the output).
template <bool FULL>
inline void wino_output_tile(const float* mm, int64_t ldm, int64_t o0, int nl_,
                             const ConvEpilogue& ep, float* const* dst,
                             const float* const* add) {
  const int nl = FULL ? kWinoLanes : nl_;
  float t[24][kWinoLanes];
  for (int q = 0; q < 6; ++q)  // columns: t = A^T M (4 x 6)
    for (int l = 0; l < nl; ++l) {
      const float* p = mm + q * ldm + o0 + l;
      XCEPT_WINO_AT(p[0], p[6 * ldm], p[12 * ldm], p[18 * ldm], p[24 * ldm], p[30 * ldm],
                    t[q][l], t[6 + q][l], t[12 + q][l], t[18 + q][l]);
    }
  for (int i = 0; i < 4; ++i) {  // rows: Y = t A
    const float* r = t[6 * i];
    float out[4][kWinoLanes];
    for (int l = 0; l < nl; ++l) {
      XCEPT_WINO_AT(r[l], r[kWinoLanes + l], r[2 * kWinoLanes + l], r[3 * kWinoLanes + l],
                    r[4 * kWinoLanes + l], r[5 * kWinoLanes + l], out[0][l], out[1][l],
                    out[2][l], out[3][l]);
    }
    for (int j = 0; j < 4; ++j) {
      float* y = dst[4 * i + j];
      if (!y) continue;
      y += o0;
      const float* a = add[4 * i + j];
      if (ep.bias) {
        const float* b = ep.bias + o0;
        for (int l = 0; l < nl; ++l) y[l] = out[j][l] + b[l];
      } else {
        for (int l = 0; l < nl; ++l) y[l] = out[j][l];
      }
      if (a) {
        a += o0;
        for (int l = 0; l < nl; ++l) y[l] += a[l];
      }
      epi_act_row(ep.act, ep.a, ep.b, y, nl);
    }
  }
}

// U[xi][ci][o] = (G g G^T)[xi] for input channel ci, output channels [o0, o0 + nl) of
// HWIO weights w (3x3, groups 1): w[(ky*3 + kx)*c*m + ci*m + o].
template <bool FULL>
inline void wino_weight_block(const float* w, int64_t c, int64_t m, int64_t ci, int64_t o0,
                              int nl_, float* u) {
  const int nl = FULL ? kWinoLanes : nl_;
  const int64_t cm = c * m;
  float t[18][kWinoLanes];  // G g: 6 x 3
  for (int kx = 0; kx < 3; ++kx)
    for (int l = 0; l < nl; ++l) {
      const float* g = w + kx * cm + ci * m + o0 + l;
      const float g0 = g[0], g1 = g[3 * cm], g2 = g[6 * cm];
      t[kx][l] = 0.25f * g0;
      t[3 + kx][l] = (g0 + g1 + g2) * (-1.f / 6.f);
      t[6 + kx][l] = (g0 - g1 + g2) * (-1.f / 6.f);
      t[9 + kx][l] = g0 * (1.f / 24.f) + g1 * (1.f / 12.f) + g2 * (1.f / 6.f);
      t[12 + kx][l] = g0 * (1.f / 24.f) - g1 * (1.f / 12.f) + g2 * (1.f / 6.f);
      t[15 + kx][l] = g2;
    }
  for (int i = 0; i < 6; ++i)  // rows: (G g) G^T
    for (int l = 0; l < nl; ++l) {
      const float g0 = t[3 * i][l], g1 = t[3 * i + 1][l], g2 = t[3 * i + 2][l];
      float* o = u + 6 * i * cm + ci * m + o0 + l;
      o[0] = 0.25f * g0;
      o[cm] = (g0 + g1 + g2) * (-1.f / 6.f);
      o[2 * cm] = (g0 - g1 + g2) * (-1.f / 6.f);
      o[3 * cm] = g0 * (1.f / 24.f) + g1 * (1.f / 12.f) + g2 * (1.f / 6.f);
      o[4 * cm] = g0 * (1.f / 24.f) - g1 * (1.f / 12.f) + g2 * (1.f / 6.f);
      o[5 * cm] = g2;
    }
}

#undef XCEPT_WINO_BT
#undef XCEPT_WINO_AT

// ---- whole-range loops the driver calls through WinogradTransforms (see
// kernels/generic/conv2d_winograd_f4x4.h).

inline void wino_tile_origin(const ConvShape& s, int64_t t, int64_t& b, int64_t& y0,
                             int64_t& x0) {
  const int64_t th = (s.ho + 3) / 4, tw = (s.wo + 3) / 4;
  b = t / (th * tw);
  y0 = (t / tw) % th * 4;
  x0 = t % tw * 4;
}

inline void wino_input_range(const ConvShape& s, const float* x, int64_t t0, int64_t t1,
                             float* v, int64_t ldv) {
  for (int64_t t = t0; t < t1; ++t) {
    int64_t b, y0, x0;
    wino_tile_origin(s, t, b, y0, x0);
    const float* src[36];
    for (int r = 0; r < 6; ++r)
      for (int q = 0; q < 6; ++q) {
        const int64_t iy = y0 - s.pad_top + r, ix = x0 - s.pad_left + q;
        src[6 * r + q] = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w
                             ? x + ((b * s.h + iy) * s.w + ix) * s.c
                             : nullptr;
      }
    float* vt = v + (t - t0) * s.c;
    int64_t c0 = 0;
    for (; c0 + kWinoLanes <= s.c; c0 += kWinoLanes) wino_input_tile<true>(src, c0, 0, vt, ldv);
    if (c0 < s.c) wino_input_tile<false>(src, c0, int(s.c - c0), vt, ldv);
  }
}

inline void wino_output_range(const ConvShape& s, const float* mm, int64_t ldm, int64_t t0,
                              int64_t t1, const ConvEpilogue& ep, float* y) {
  for (int64_t t = t0; t < t1; ++t) {
    int64_t b, y0, x0;
    wino_tile_origin(s, t, b, y0, x0);
    float* dst[16];
    const float* add[16];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int64_t oy = y0 + i, ox = x0 + j;
        const bool in = oy < s.ho && ox < s.wo;
        const int64_t off = ((b * s.ho + oy) * s.wo + ox) * s.m;
        dst[4 * i + j] = in ? y + off : nullptr;
        add[4 * i + j] = in && ep.addend ? ep.addend + off : nullptr;
      }
    const float* mt = mm + (t - t0) * s.m;
    int64_t o0 = 0;
    for (; o0 + kWinoLanes <= s.m; o0 += kWinoLanes)
      wino_output_tile<true>(mt, ldm, o0, 0, ep, dst, add);
    if (o0 < s.m) wino_output_tile<false>(mt, ldm, o0, int(s.m - o0), ep, dst, add);
  }
}

inline void wino_weights_range(const ConvShape& s, const float* w, int64_t c0, int64_t c1,
                               float* u) {
  for (int64_t ci = c0; ci < c1; ++ci) {
    int64_t o0 = 0;
    for (; o0 + kWinoLanes <= s.m; o0 += kWinoLanes)
      wino_weight_block<true>(w, s.c, s.m, ci, o0, 0, u);
    if (o0 < s.m) wino_weight_block<false>(w, s.c, s.m, ci, o0, int(s.m - o0), u);
  }
}

}  // namespace
}  // namespace xcept
