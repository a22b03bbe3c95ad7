// Any convolution (window, stride, dilation, padding, groups) as im2col + gemm().
//
// The patch ("column") matrix holds, for each output pixel, the input values its window
// reads, laid out [groups][kh][kw][cg] so that group g's patch block is a sub-matrix
// (offset g*K, K = kh*kw*cg, leading dimension groups*K) whose column order matches the
// rows of the HWIO weights [kh][kw][cg][m]. Window taps in the padding are zeros.
//
// Scratch is bounded: the patch matrix is built for a tile of output pixels at a time,
// never for the whole output. Two plans, chosen by the shape alone:
//
// Tiles in parallel (small weights, e.g. all three stems): parallel_for over tiles,
// each thread with its own kTileBytes patch buffer; the gemm() calls inside then run
// inline on that thread. The alternative, one tile at a time with a threaded gemm(),
// leaves the im2col copy (memory-bound, a sizeable share when K is small) on one core
// and pays a fork/join per gemm() call; and on the stems the GEMMs are too thin to
// split well: 299x299x3->32 k3 s2 is K=27, N=32; 149x149x32->64 and 112x112x32->64 k3
// are K=288, N=64. With whole tiles per thread both cores copy and multiply independently.
//
// Big tiles one after another (weights large next to a tile, e.g. conv-mobilenet's
// 14x14x512->512 k3 with 9 MB of weights): every gemm() call packs all its weights, so
// small per-thread tiles would re-read them per tile and run at half speed. Instead one
// kBigTileBytes buffer holds as many pixels as fit (often the whole output), im2col and
// col2im split the tile over the threads, and gemm() threads itself.
//
// Either way a tile's inner steps use parallel_for, which runs inline when the tile is
// already on a pool thread. Tiling depends only on the shape, never on the thread
// count, so results are bit-identical whatever set_num_threads() says (backward filter
// reduces its per-chunk partial sums in a fixed order for the same reason).
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/threadpool.h"
#include "kernels/generic/im2col.h"
#include "kernels/generic/im2col_impl.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

// Column buffers (one per thread) and the filter gradient's per-chunk partial sums.
thread_local ScratchBuffer t_col, t_partials;

// Patch-buffer budget per thread: about half of a 1-2 MB L2, so the buffer is still
// cached when gemm() packs it right after im2col wrote it.
constexpr int64_t kTileBytes = int64_t(512) << 10;
// The one buffer of the big-tile plan: large enough that the weights are packed a few
// times per call at most, small enough to stay well under 8 MB of scratch.
constexpr int64_t kBigTileBytes = int64_t(4) << 20;
// Below this many rows a GEMM call is dominated by packing the weights.
constexpr int64_t kMinTilePixels = 32;
// Enough tiles to balance a few threads on one image even when the budget allows
// fewer, bigger tiles (the stem's K=27 patch rows are tiny).
constexpr int64_t kTargetTiles = 16;
// Backward filter: at most this many partial dW sums, and at most this much memory.
constexpr int64_t kMaxPartials = 8;
constexpr int64_t kPartialBytes = int64_t(4) << 20;

struct Tiling {
  int64_t count = 0, size = 0;  // tiles of `size` units (the last may be shorter)
};

Tiling tiles_of(int64_t units, int64_t size) { return {(units + size - 1) / size, size}; }

// Splits `units` (pixels, or output rows of unit_pixels pixels each) into tiles for the
// tiles-in-parallel plan: unit_floats patch floats per unit, at least min_size units.
Tiling parallel_tiling(int64_t units, int64_t unit_floats, int64_t unit_pixels, int64_t min_size) {
  const int64_t budget = std::max<int64_t>(1, kTileBytes / int64_t(sizeof(float)) / unit_floats);
  const int64_t balanced = (units + kTargetTiles - 1) / kTargetTiles;
  const int64_t useful = (kMinTilePixels + unit_pixels - 1) / unit_pixels;
  const int64_t size = std::min(budget, std::max(balanced, useful));
  return tiles_of(units, std::min(std::max(size, min_size), units));
}

// The big-tile plan: as many units as fit in kBigTileBytes.
Tiling big_tiling(int64_t units, int64_t unit_floats, int64_t min_size) {
  const int64_t size = std::max<int64_t>(1, kBigTileBytes / int64_t(sizeof(float)) / unit_floats);
  return tiles_of(units, std::min(std::max(size, min_size), units));
}

// Tiles in parallel pack a group's weights ([K x mg]) once per tile of t.size patch rows
// ([t.size x K]): worth it while the weights are at most half the tile's patch data.
bool tiles_in_parallel(const ConvShape& s) {
  const int64_t row_len = s.kh * s.kw * s.c;
  const Tiling t = parallel_tiling(s.n * s.ho * s.wo, row_len, 1, 1);
  return 2 * s.mg() <= t.size;
}

// dx += the patch gradients of output rows [r0, r1), counted over all images
// (r = b*ho + oy), each patch value added back to the input element it was copied from.
void col2im_add(const ConvShape& s, const float* col, int64_t r0, int64_t r1, float* dx) {
  const int64_t cg = s.cg(), kk = s.kh * s.kw, row_len = s.groups * kk * cg;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / s.ho, oy = r % s.ho;
    for (int64_t ox = 0; ox < s.wo; ++ox) {
      const float* row = col + ((r - r0) * s.wo + ox) * row_len;
      const int64_t iy0 = oy * s.stride_h - s.pad_top, ix0 = ox * s.stride_w - s.pad_left;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = iy0 + ky * s.dilation_h;
        if (iy < 0 || iy >= s.h) continue;
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          const int64_t ix = ix0 + kx * s.dilation_w;
          if (ix < 0 || ix >= s.w) continue;
          float* __restrict dst = dx + ((b * s.h + iy) * s.w + ix) * s.c;
          for (int64_t g = 0; g < s.groups; ++g) {
            const float* __restrict src = row + g * kk * cg + (ky * s.kw + kx) * cg;
            float* __restrict d = dst + g * cg;
            for (int64_t i = 0; i < cg; ++i) d[i] += src[i];
          }
        }
      }
    }
  }
}

// Backward data scatters, so its tiles are whole output rows (over all images), and
// rows far enough apart touch disjoint input rows: row band i of T rows writes input
// rows up to ((i+1)*T-1)*sh - pad + D (D = (kh-1)*dh) and band i+2 starts reading at
// (i+2)*T*sh - pad, clear when (T+1)*sh > D, i.e. T >= D/sh. Even bands can then run in
// parallel, then odd ones, and every dx element sums its contributions in one fixed order.
int64_t min_scatter_rows(const ConvShape& s) {
  return std::max<int64_t>(1, (s.kh - 1) * s.dilation_h / s.stride_h);
}

// Runs fn(band) for bands [0, count): even ones in parallel, then odd ones.
template <typename Fn>
void for_bands_by_parity(int64_t count, Fn&& fn) {
  for (int64_t parity = 0; parity < 2; ++parity)
    parallel_for((count - parity + 1) / 2, 1, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) fn(2 * j + parity);
    });
}

// Threaded (or inline, on a pool thread) versions of the copies of one tile.
void im2col_threaded(const ConvShape& s, const float* x, int64_t p0, int64_t p1, float* col) {
  const int64_t row_len = s.kh * s.kw * s.c;
  parallel_for(p1 - p0, 16, [&](int64_t a, int64_t b) {
    im2col_rows(s, x, 0.f, p0 + a, p0 + b, col + a * row_len);
  });
}

void col2im_add_threaded(const ConvShape& s, const float* col, int64_t r0, int64_t r1,
                         float* dx) {
  const int64_t band = min_scatter_rows(s), row_floats = s.wo * s.kh * s.kw * s.c;
  for_bands_by_parity((r1 - r0 + band - 1) / band, [&](int64_t i) {
    const int64_t b0 = r0 + i * band, b1 = std::min(r1, b0 + band);
    col2im_add(s, col + (b0 - r0) * row_floats, b0, b1, dx);
  });
}

// y rows [p0, p1) of the forward pass, from a patch buffer of at least p1-p0 rows.
void fwd_tile(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& ep,
              float* y, int64_t p0, int64_t p1, float* col) {
  const int64_t k = s.kh * s.kw * s.cg(), mg = s.mg(), row_len = s.groups * k;
  im2col_threaded(s, x, p0, p1, col);
  float* yt = y + p0 * s.m;
  const float* at = ep.addend ? ep.addend + p0 * s.m : nullptr;
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmShape gs;
    gs.m = p1 - p0, gs.n = mg, gs.k = k;
    gs.lda = row_len, gs.ldb = s.m, gs.ldc = s.m;
    // Bias, addend and activation ride on the GEMM, applied per tile while it is in L1.
    GemmEpilogue e{ep.bias ? ep.bias + g * mg : nullptr, at ? at + g * mg : nullptr, s.m,
                   ep.act, ep.a, ep.b};
    gs.epilogue = ep.bias || ep.has_post() ? &e : nullptr;
    gemm(gs, col + g * k, w + g * mg, yt + g * mg);
  }
}

// dx += the contribution of output rows [r0, r1) (over all images).
void bwd_data_tile(const ConvShape& s, const float* dy, const float* w, float* dx, int64_t r0,
                   int64_t r1, float* col) {
  const int64_t k = s.kh * s.kw * s.cg(), mg = s.mg(), row_len = s.groups * k;
  const float* dyt = dy + r0 * s.wo * s.m;
  for (int64_t g = 0; g < s.groups; ++g) {
    // dcol_g [P x K] = dy_g [P x mg] * W_g^T, W_g the [K x mg] block at column g*mg.
    GemmShape gs;
    gs.m = (r1 - r0) * s.wo, gs.n = k, gs.k = mg;
    gs.trans_b = true;
    gs.lda = s.m, gs.ldb = s.m, gs.ldc = row_len;
    gemm(gs, dyt + g * mg, w + g * mg, col + g * k);
  }
  col2im_add_threaded(s, col, r0, r1, dx);
}

// dw (+)= the weight gradient of output pixels [p0, p1); beta 0 overwrites.
void bwd_filter_tile(const ConvShape& s, const float* x, const float* dy, float* dw, float beta,
                     int64_t p0, int64_t p1, float* col) {
  const int64_t k = s.kh * s.kw * s.cg(), mg = s.mg(), row_len = s.groups * k;
  im2col_threaded(s, x, p0, p1, col);
  for (int64_t g = 0; g < s.groups; ++g) {
    // dW_g [K x mg] += patches_g^T [K x P] * dy_g [P x mg].
    GemmShape gs;
    gs.m = k, gs.n = mg, gs.k = p1 - p0;
    gs.trans_a = true;
    gs.lda = row_len, gs.ldb = s.m, gs.ldc = s.m;
    gs.beta = beta;
    gemm(gs, col + g * k, dy + p0 * s.m + g * mg, dw + g * mg);
  }
}

// bias_grad += column sums of dy rows [p0, p1).
void add_column_sums(const ConvShape& s, const float* dy, int64_t p0, int64_t p1,
                     float* bias_grad) {
  for (int64_t p = p0; p < p1; ++p) {
    const float* row = dy + p * s.m;
    for (int64_t o = 0; o < s.m; ++o) bias_grad[o] += row[o];
  }
}

}  // namespace

void conv2d_im2col_rows_nhwc_f32(const ConvShape& s, const float* x, int64_t p0, int64_t p1,
                                 float* col) {
  im2col_threaded(s, x, p0, p1, col);
}

void conv2d_fwd_im2col_nhwc_f32(const ConvShape& s, const float* x, const float* w,
                                const ConvEpilogue& ep, float* y) {
  const int64_t row_len = s.kh * s.kw * s.c, pixels = s.n * s.ho * s.wo;
  if (!tiles_in_parallel(s)) {
    const Tiling t = big_tiling(pixels, row_len, 1);
    float* col = t_col.get(t.size * row_len);
    for (int64_t ti = 0; ti < t.count; ++ti)
      fwd_tile(s, x, w, ep, y, ti * t.size, std::min(pixels, (ti + 1) * t.size), col);
    return;
  }
  const Tiling t = parallel_tiling(pixels, row_len, 1, 1);
  parallel_for(t.count, 1, [&](int64_t t0, int64_t t1) {
    float* col = t_col.get(t.size * row_len);
    for (int64_t ti = t0; ti < t1; ++ti)
      fwd_tile(s, x, w, ep, y, ti * t.size, std::min(pixels, (ti + 1) * t.size), col);
  });
}

void conv2d_bwd_data_im2col_nhwc_f32(const ConvShape& s, const float* dy, const float* w,
                                     float* dx) {
  const int64_t row_floats = s.wo * s.kh * s.kw * s.c, rows = s.n * s.ho;
  parallel_for(s.input_numel(), 1 << 16, [&](int64_t i0, int64_t i1) {
    std::fill(dx + i0, dx + i1, 0.f);
  });
  if (!tiles_in_parallel(s)) {
    const Tiling t = big_tiling(rows, row_floats, min_scatter_rows(s));
    float* col = t_col.get(t.size * row_floats);
    for (int64_t ti = 0; ti < t.count; ++ti)
      bwd_data_tile(s, dy, w, dx, ti * t.size, std::min(rows, (ti + 1) * t.size), col);
    return;
  }
  const Tiling t = parallel_tiling(rows, row_floats, s.wo, min_scatter_rows(s));
  for (int64_t parity = 0; parity < 2; ++parity)
    parallel_for((t.count - parity + 1) / 2, 1, [&](int64_t j0, int64_t j1) {
      float* col = t_col.get(t.size * row_floats);
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t ti = 2 * j + parity;
        bwd_data_tile(s, dy, w, dx, ti * t.size, std::min(rows, (ti + 1) * t.size), col);
      }
    });
}

void conv2d_bwd_filter_im2col_nhwc_f32(const ConvShape& s, const float* x, const float* dy,
                                       float* dw, float* dbias, bool accumulate) {
  const int64_t row_len = s.kh * s.kw * s.c, pixels = s.n * s.ho * s.wo;
  const int64_t wn = s.weight_numel();
  if (!tiles_in_parallel(s)) {
    const Tiling t = big_tiling(pixels, row_len, 1);
    float* col = t_col.get(t.size * row_len);
    for (int64_t ti = 0; ti < t.count; ++ti)
      bwd_filter_tile(s, x, dy, dw, ti == 0 && !accumulate ? 0.f : 1.f, ti * t.size,
                      std::min(pixels, (ti + 1) * t.size), col);
    if (dbias) {
      if (!accumulate) std::fill(dbias, dbias + s.m, 0.f);
      add_column_sums(s, dy, 0, pixels, dbias);
    }
    return;
  }
  const Tiling t = parallel_tiling(pixels, row_len, 1, 1);
  // Consecutive tiles form chunks; each chunk sums into its own partial (chunk 0 straight
  // into dw/dbias), reduced afterwards in chunk order. The chunk count depends on the
  // shape only, and so does every sum's order.
  const int64_t partial_floats = wn + s.m;
  const int64_t mem_cap =
      std::max<int64_t>(1, kPartialBytes / int64_t(sizeof(float)) / partial_floats);
  const int64_t max_chunks = std::min({t.count, kMaxPartials, mem_cap + 1});
  const int64_t tiles_per_chunk = (t.count + max_chunks - 1) / max_chunks;
  const int64_t chunks = (t.count + tiles_per_chunk - 1) / tiles_per_chunk;
  float* partials = t_partials.get((chunks - 1) * partial_floats);
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    float* col = t_col.get(t.size * row_len);
    for (int64_t ci = c0; ci < c1; ++ci) {
      float* pw = ci == 0 ? dw : partials + (ci - 1) * partial_floats;
      float* pb = ci == 0 ? dbias : pw + wn;
      // Chunk 0 sums straight into dw and dbias: onto what they hold when accumulating.
      const bool onto = ci == 0 && accumulate;
      if (dbias && !onto) std::fill(pb, pb + s.m, 0.f);
      const int64_t tb = ci * tiles_per_chunk, te = std::min(t.count, tb + tiles_per_chunk);
      for (int64_t ti = tb; ti < te; ++ti) {
        const int64_t p0 = ti * t.size, p1 = std::min(pixels, p0 + t.size);
        bwd_filter_tile(s, x, dy, pw, ti == tb && !onto ? 0.f : 1.f, p0, p1, col);
        if (dbias) add_column_sums(s, dy, p0, p1, pb);
      }
    }
  });
  if (chunks > 1) {
    parallel_for(wn, 4096, [&](int64_t i0, int64_t i1) {
      for (int64_t ci = 1; ci < chunks; ++ci) {
        const float* pw = partials + (ci - 1) * partial_floats;
        for (int64_t i = i0; i < i1; ++i) dw[i] += pw[i];
      }
    });
    if (dbias)
      for (int64_t ci = 1; ci < chunks; ++ci) {
        const float* pb = partials + (ci - 1) * partial_floats + wn;
        for (int64_t o = 0; o < s.m; ++o) dbias[o] += pb[o];
      }
  }
}

}  // namespace xcept
