#include "kernels/generic/gemm_blocked.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "core/scratch.h"

namespace xcept {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `extent` into the fewest blocks of at most `block` and returns their common
// size, rounded up to a multiple of `unit` (block is a multiple of unit).
int64_t even_block(int64_t extent, int64_t block, int64_t unit) {
  return std::min(block, round_up(ceil_div(extent, ceil_div(extent, block)), unit));
}


// Packed A and B blocks, one per thread and operand: the B block is megabytes.
thread_local ScratchBuffer t_pack_a, t_pack_b;

// Copies one k-row of a micro-panel (n floats, the rest of the panel width zeroed).
// A compile-time width for the micro-kernels' mr and nr lets the compiler emit a few
// vector moves; the runtime loop it replaces ran element by element and made packing a
// third of a weight-gradient GEMM's time.
template <int64_t W>
inline void copy_row_fixed(const float* src, int64_t n, float* dst) {
  if (n == W) {
    // A fixed-size memcpy is a few vector moves (the element loop stayed scalar: ten
    // movss pairs per 10-wide row made packing a quarter of a weight-gradient GEMM).
    std::memcpy(dst, src, W * sizeof(float));
  } else {
    for (int64_t j = 0; j < W; ++j) dst[j] = j < n ? src[j] : 0.f;
  }
}
inline void copy_row(const float* src, int64_t n, int64_t width, float* dst) {
  switch (width) {
    case 4: return copy_row_fixed<4>(src, n, dst);
    case 6: return copy_row_fixed<6>(src, n, dst);
    case 8: return copy_row_fixed<8>(src, n, dst);
    case 10: return copy_row_fixed<10>(src, n, dst);
    case 16: return copy_row_fixed<16>(src, n, dst);
    case 32: return copy_row_fixed<32>(src, n, dst);
    default:
      for (int64_t j = 0; j < n; ++j) dst[j] = src[j];
      for (int64_t j = n; j < width; ++j) dst[j] = 0.f;
  }
}

// Packing walks stored rows hundreds of bytes apart, a stride the hardware prefetchers
// follow poorly across pages: the first load of each row missed and stalled the copy
// (a weight-gradient GEMM spent 40% of its time packing). Rows are asked for this many
// rows ahead.
constexpr int64_t kPackAhead = 8;
inline void prefetch_span(const float* p, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) __builtin_prefetch(p + j);
}

// Packs a block whose panel direction is contiguous in memory: `kc` stored rows (stride
// ld) of `count` values each, into panels of `width` values per k-row (panel t holds
// values [t*width, t*width + width) and starts at dst + t*width*kc; zero past count).
// Each stored row is read once, front to back, into every panel: walked panel by
// panel, each stored row was visited once per panel, and packing took a quarter of a
// weight-gradient GEMM.
void pack_contiguous(const float* src, int64_t ld, int64_t kc, int64_t count, int64_t width,
                     float* dst) {
  for (int64_t p = 0; p < kc; ++p, src += ld) {
    if (p + kPackAhead < kc) prefetch_span(src + kPackAhead * ld, count);
    for (int64_t t = 0; t < count; t += width)
      copy_row(src + t, std::min(width, count - t), width, dst + t * kc + p * width);
  }
}

// Packs a block whose panel direction is strided (each of `count` vectors of kc values
// at stride ld is one lane of its panel): a transpose, element by element.
void pack_strided(const float* src, int64_t ld, int64_t kc, int64_t count, int64_t width,
                  float* dst) {
  for (int64_t t = 0; t < count; t += width, dst += width * kc) {
    const int64_t lanes = std::min(width, count - t);
    for (int64_t i = 0; i < lanes; ++i) {
      const float* row = src + (t + i) * ld;
      for (int64_t p = 0; p < kc; ++p) dst[p * width + i] = row[p];
    }
    for (int64_t i = lanes; i < width; ++i)
      for (int64_t p = 0; p < kc; ++p) dst[p * width + i] = 0.f;
  }
}

// Packs rows [i0, i0+mc) x columns [p0, p0+kc) of A' into mr-row micro-panels, each
// stored k-major (panel[p*mr + i]); rows past the matrix edge are zero.
void pack_a(const GemmShape& s, const float* a, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            int64_t mr, float* dst) {
  if (s.trans_a)  // A stored k x m
    pack_contiguous(a + p0 * s.lda + i0, s.lda, kc, mc, mr, dst);
  else
    pack_strided(a + i0 * s.lda + p0, s.lda, kc, mc, mr, dst);
}

// Packs rows [p0, p0+kc) x columns [j0, j0+nc) of B' into nr-column micro-panels, each
// stored k-major (panel[p*nr + j]); columns past the matrix edge are zero.
void pack_b(const GemmShape& s, const float* b, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
            int64_t nr, float* dst) {
  if (s.trans_b)  // B stored n x k: column j of B' is row j of B
    pack_strided(b + j0 * s.ldb + p0, s.ldb, kc, nc, nr, dst);
  else
    pack_contiguous(b + p0 * s.ldb + j0, s.ldb, kc, nc, nr, dst);
}

// Asks for a rows x cols block (row stride ld) to be brought into cache. The epilogue's
// addend is read once, tile by tile, in an order the hardware prefetchers do not follow:
// fetched while the tile is computed, its reads hit (at K = 64 a fused 147x147x128 layer
// otherwise ran slower than a separate pass).
inline void prefetch_rows(const float* p, int64_t ld, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; j += 16) __builtin_prefetch(p + i * ld + j);
}

// Writes (or adds, when accumulating) the rows x cols corner of an edge tile computed
// into scratch.
inline void add_tile(const float* tile, int64_t nr, int64_t rows, int64_t cols, bool accumulate,
                     float* ct, int64_t ldc) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float& cv = ct[i * ldc + j];
      cv = accumulate ? cv + tile[i * nr + j] : tile[i * nr + j];
    }
}

// Rows of memory the next block will read, asked for a share at a time while the
// current block's tiles compute: an A read in place by the micro-kernel otherwise
// stalls on memory at each block's first touch while the FMA units idle. Only each
// row's first line is prefetched: the hardware streamers follow a row once it is
// touched, and a prefetch per line (issued in a burst between two tiles) filled the
// line-fill buffers the micro-kernel's own loads need, and ran no faster.
struct PrefetchSpan {
  const float* p = nullptr;
  int64_t rows = 0, ld = 0;
  int64_t lines() const { return p ? rows : 0; }
  void fetch(int64_t l0, int64_t l1) const {  // first lines of rows [l0, l1)
    for (int64_t l = l0; l < l1; ++l) __builtin_prefetch(p + l * ld);
  }
};

struct BlockPrefetch {
  PrefetchSpan span;
  int64_t tiles = 1, done = 0;
  void step() {  // the share of one more tile of the current block
    const int64_t n = span.lines();
    span.fetch(done * n / tiles, (done + 1) * n / tiles);
    ++done;
  }
};

// The stored rows of A' block (rows [ic, ic+mc), k [pc, pc+kc)) as one span.
PrefetchSpan a_span(const GemmShape& s, const float* a, int64_t ic, int64_t mc, int64_t pc,
                    int64_t kc) {
  if (s.trans_a) return {a + pc * s.lda + ic, kc, s.lda};
  return {a + ic * s.lda + pc, mc, s.lda};
}

// C[i0:i1, j0:j1] of the product: all five loops, on the calling thread.
void gemm_part(const GemmMicroKernel& uk, const GemmShape& s, const float* a, const float* b,
               float* c, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int64_t mr = uk.mr, nr = uk.nr, ldc = s.ldc;
  bool add_to_c = s.beta != 0.f;
  if (add_to_c && s.beta != 1.f) {  // rare: scale once, then accumulate like beta 1
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = j0; j < j1; ++j) c[i * ldc + j] *= s.beta;
  }
  // Near-equal blocks (rows and columns in whole tiles): a 728-deep product runs as
  // 3 x 243 rather than 256 + 256 + 216, so no block is a sliver.
  const int64_t kc_step = even_block(s.k, uk.kc, 1);
  const int64_t nc_step = even_block(j1 - j0, uk.nc, nr);
  const int64_t mc_step = even_block(i1 - i0, uk.mc, mr);
  float* bp = s.b_prepacked ? nullptr : t_pack_b.get(kc_step * round_up(nc_step, nr));
  // A row-major A is read in place by the micro-kernel (fn_rows): packing it would
  // transpose the whole activation matrix on every call, element by element. Only a
  // block's last, partial tile of rows is packed then (reading past row m is not allowed).
  const bool direct_a = !s.trans_a && uk.fn_rows;
  float* ap = t_pack_a.get(kc_step * (direct_a ? mr : round_up(mc_step, mr)));
  alignas(64) float tile[kGemmMaxTile];

  for (int64_t jc = j0; jc < j1; jc += nc_step) {
    const int64_t nc = std::min(nc_step, j1 - jc);
    for (int64_t pc = 0; pc < s.k; pc += kc_step) {
      const int64_t kc = std::min(kc_step, s.k - pc);
      const bool accumulate = pc > 0 || add_to_c;
      // The epilogue runs on each tile right after its last k block, while it is in L1.
      const GemmEpilogue* epi = pc + kc >= s.k ? s.epilogue : nullptr;
      // Prepacked B: panel (jc + jr) / nr starts at its k row pc; else pack this block.
      const float* bblock = s.b_prepacked ? b + jc * s.k + pc * nr : bp;
      const int64_t panel_stride = s.b_prepacked ? s.k * nr : kc * nr;
      if (!s.b_prepacked) pack_b(s, b, pc, kc, jc, nc, nr, bp);
      // The block after this (jc, pc) one, in loop order, for the prefetches.
      const int64_t next_pc = pc + kc < s.k ? pc + kc_step : 0;
      const bool next_exists = pc + kc < s.k || jc + nc < j1;
      for (int64_t ic = i0; ic < i1; ic += mc_step) {
        const int64_t mc = std::min(mc_step, i1 - ic);
        if (!direct_a) pack_a(s, a, ic, mc, pc, kc, mr, ap);
        // A read in place streams from memory tile by tile: its next block is asked for
        // while this one computes. (Packed operands are prefetched by the packer, a
        // few rows ahead; prefetching their next block as well ran slower.)
        BlockPrefetch pf;
        pf.tiles = ceil_div(mc, mr) * ceil_div(nc, nr);
        if (direct_a && ic + mc < i1) {
          pf.span = a_span(s, a, ic + mc, std::min(mc_step, i1 - ic - mc), pc, kc);
        } else if (direct_a && next_exists) {
          pf.span = a_span(s, a, i0, std::min(mc_step, i1 - i0), next_pc,
                        std::min(kc_step, s.k - next_pc));
        }
        // jr outside ir: one B micro-panel stays in L1 while the A block streams from L2.
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t cols = std::min(nr, nc - jr);
          const float* b_panel = bblock + jr / nr * panel_stride;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t rows = std::min(mr, mc - ir);
            const float* a_panel = ap + ir * kc;
            if (direct_a && rows < mr) {  // packed again for every jr: rare and small
              pack_a(s, a, ic + ir, rows, pc, kc, mr, ap);
              a_panel = ap;
            }
            float* ct = c + (ic + ir) * ldc + jc + jr;
            pf.step();
            if (epi && epi->addend)
              prefetch_rows(epi->addend + (ic + ir) * epi->ld_addend + jc + jr, epi->ld_addend,
                            rows, cols);
            if (direct_a && rows == mr) {
              const float* a_rows = a + (ic + ir) * s.lda + pc;
              if (cols == nr) {
                uk.fn_rows(kc, a_rows, s.lda, b_panel, ct, ldc, accumulate);
              } else {
                uk.fn_rows(kc, a_rows, s.lda, b_panel, tile, nr, false);
                add_tile(tile, nr, rows, cols, accumulate, ct, ldc);
              }
            } else if (rows == mr && cols == nr) {
              uk.fn(kc, a_panel, b_panel, ct, ldc, accumulate);
            } else {
              uk.fn(kc, a_panel, b_panel, tile, nr, false);
              add_tile(tile, nr, rows, cols, accumulate, ct, ldc);
            }
            if (epi) uk.epilogue(*epi, ct, ldc, ic + ir, jc + jr, rows, cols);
          }
        }
      }
    }
  }
}

}  // namespace

const GemmMicroKernel& gemm_dispatch_ukernel() {
  if (isa_available(Isa::avx512)) return gemm_f32_avx512_ukernel;
  if (isa_available(Isa::avx2)) return gemm_f32_avx2_ukernel;
  return gemm_f32_generic_ukernel;
}

int64_t gemm_f32_packed_b_floats(const GemmMicroKernel& uk, const GemmShape& s) {
  return round_up(s.n, uk.nr) * s.k;
}

void gemm_f32_pack_b(const GemmMicroKernel& uk, const GemmShape& s, const float* b,
                     float* packed) {
  // One panel at a time through the block packer: a panel is a block of nr columns over
  // all of k, which pack_b lays out exactly as [k][nr].
  const int64_t panels = ceil_div(s.n, uk.nr);
  parallel_for(panels, 4, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      pack_b(s, b, 0, s.k, p * uk.nr, std::min<int64_t>(uk.nr, s.n - p * uk.nr), uk.nr,
             packed + p * uk.nr * s.k);
  });
}

GemmThreadGrid gemm_thread_grid(const GemmMicroKernel& uk, const GemmShape& s, int threads) {
  // Cost of one thread's part in multiply-adds: its padded tiles, plus packing (a packed
  // element costs about as much as kPackCost multiply-adds), plus waking a thread.
  constexpr double kPackCost = 8;
  constexpr double kThreadCost = 200e3;
  const int64_t mt = ceil_div(s.m, uk.mr), nt = ceil_div(s.n, uk.nr);
  GemmThreadGrid best;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int t = 1; t <= std::max(threads, 1); ++t)
    for (int tm = 1; tm <= t; ++tm) {
      const int tn = t / tm;
      if (tm * tn != t || tm > mt || tn > nt) continue;
      const double mp = double(ceil_div(mt, tm) * uk.mr), np = double(ceil_div(nt, tn) * uk.nr);
      const double k = double(s.k);
      const double pack = kPackCost * k * (np + mp * std::ceil(np / double(uk.nc)));
      const double cost = mp * np * k + pack + kThreadCost * (t - 1);
      if (cost < best_cost) best_cost = cost, best = {tm, tn};
    }
  return best;
}

void gemm_f32_blocked(const GemmMicroKernel& uk, const GemmShape& s, const float* a,
                      const float* b, float* c) {
  if (uk.mr * uk.nr > kGemmMaxTile || uk.mc % uk.mr || uk.nc % uk.nr || !uk.epilogue)
    fail("gemm micro-kernel {}x{} with blocks mc={} nc={} does not fit the driver", uk.mr,
         uk.nr, uk.mc, uk.nc);
  if (s.m <= 0 || s.n <= 0) return;
  if (s.k <= 0) {  // no product: C = beta * C, and beta 0 must clear NaN
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        float& cv = c[i * s.ldc + j];
        cv = s.beta == 0.f ? 0.f : s.beta * cv;
      }
    if (s.epilogue) uk.epilogue(*s.epilogue, c, s.ldc, 0, 0, s.m, s.n);
    return;
  }
  const GemmThreadGrid g = gemm_thread_grid(uk, s, num_threads());
  const int64_t mt = ceil_div(s.m, uk.mr), nt = ceil_div(s.n, uk.nr);
  // Parts are whole tiles, so edge tiles and k blocks (hence rounding) do not depend on
  // the thread count: 1 and 2 threads give bit-identical C.
  auto run = [&](int64_t part) {
    const int64_t pi = part / g.tn, pj = part % g.tn;
    const int64_t i0 = pi * mt / g.tm * uk.mr, i1 = std::min(s.m, (pi + 1) * mt / g.tm * uk.mr);
    const int64_t j0 = pj * nt / g.tn * uk.nr, j1 = std::min(s.n, (pj + 1) * nt / g.tn * uk.nr);
    if (i0 < i1 && j0 < j1) gemm_part(uk, s, a, b, c, i0, i1, j0, j1);
  };
  const int64_t parts = int64_t(g.tm) * g.tn;
  if (parts == 1) {
    run(0);
    return;
  }
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) run(part);
  });
}

}  // namespace xcept
