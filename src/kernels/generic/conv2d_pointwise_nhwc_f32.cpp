// 1x1, stride-1, unpadded convolution as plain GEMMs over the pixel matrix: in NHWC the
// input is already an [P x c] row-major matrix (P = n*h*w) and HWIO weights are [c x m],
// so no copy is needed. Each group is a sub-matrix picked out by offsets and leading
// dimensions. ISA-independent: all the speed (and the threading) comes from gemm().
#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {

namespace {

// Pixels per sweep: a sweep's rows of dy and x (backward), or of y (forward statistics),
// stay in one core's L2 between the two things done to them.
constexpr int64_t kSweepPixels = 1024;

GemmEpilogue gemm_epilogue(const ConvEpilogue& ep, int64_t ld, int64_t g, int64_t mg) {
  return {ep.bias ? ep.bias + g * mg : nullptr, ep.addend ? ep.addend + g * mg : nullptr, ld,
          ep.act, ep.a, ep.b};
}

// The forward with output statistics (groups 1): W packed once, then fixed sweeps of
// pixels, each on one thread, its GEMM rows written and then their per-channel mean and
// variance taken while in L2; the sweeps' statistics are combined in sweep order (Chan's
// pairwise update, in double), so the result does not depend on the thread count. A
// batch norm's own statistics pass re-read the whole output from memory.
void fwd_1x1_with_stats(const ConvShape& s, const float* x, const float* w,
                        const ConvEpilogue& ep, float* y) {
  const int64_t p = s.n * s.h * s.w, m = s.m;
  GemmShape gs;
  gs.n = m, gs.k = s.c;
  gs.lda = s.c, gs.ldb = m, gs.ldc = m;
  thread_local ScratchBuffer t_packed, t_sweep_stats;
  float* packed = t_packed.get(gemm_packed_b_floats(gs));
  gemm_pack_b(gs, w, packed);
  gs.b_prepacked = true;
  const GemmEpilogue e = gemm_epilogue(ep, m, 0, m);
  gs.epilogue = ep.bias || ep.has_post() ? &e : nullptr;
  const int64_t sweeps = (p + kSweepPixels - 1) / kSweepPixels;
  float* part = t_sweep_stats.get(sweeps * 2 * m);  // [sweep][mean m, var m]
  parallel_for(sweeps, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t k = s0; k < s1; ++k) {
      const int64_t q0 = k * kSweepPixels, q1 = std::min(p, q0 + kSweepPixels);
      GemmShape g = gs;
      g.m = q1 - q0;
      gemm(g, x + q0 * s.c, packed, y + q0 * m);
      batch_norm_stats({q1 - q0, m}, y + q0 * m, part + k * 2 * m, part + k * 2 * m + m);
    }
  });
  for (int64_t j = 0; j < m; ++j) {
    double n = 0, mean = 0, m2 = 0;
    for (int64_t k = 0; k < sweeps; ++k) {
      const double nk = double(std::min(p, (k + 1) * kSweepPixels) - k * kSweepPixels);
      const double mk = part[k * 2 * m + j], vk = part[k * 2 * m + m + j];
      const double delta = mk - mean, total = n + nk;
      mean += delta * nk / total;
      m2 += vk * nk + delta * delta * n * nk / total;
      n = total;
    }
    ep.stats->mean[j] = float(mean);
    ep.stats->var[j] = float(m2 / std::max(n, 1.0));
  }
}

}  // namespace

void conv2d_fwd_1x1_nhwc_f32(const ConvShape& s, const float* x, const float* w,
                             const ConvEpilogue& ep, float* y) {
  if (ep.stats && s.groups == 1) return fwd_1x1_with_stats(s, x, w, ep, y);
  const int64_t p = s.n * s.h * s.w, cg = s.cg(), mg = s.mg();
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmShape gs;
    gs.m = p, gs.n = mg, gs.k = cg;
    gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
    // The GEMM applies bias, addend and activation to each tile as it finishes it.
    const GemmEpilogue e = gemm_epilogue(ep, s.m, g, mg);
    gs.epilogue = ep.bias || ep.has_post() ? &e : nullptr;
    gemm(gs, x + g * cg, w + g * mg, y + g * mg);
  }
  if (ep.stats) batch_norm_stats({p, s.m}, y, ep.stats->mean, ep.stats->var);
}

void conv2d_bwd_data_1x1_nhwc_f32(const ConvShape& s, const float* dy, const float* w,
                                  float* dx) {
  const int64_t p = s.n * s.h * s.w, cg = s.cg(), mg = s.mg();
  // dx_g [P x cg] = dy_g [P x mg] * W_g^T, W_g being the [cg x mg] block at column g*mg.
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmShape gs;
    gs.m = p, gs.n = cg, gs.k = mg;
    gs.trans_b = true;
    gs.lda = s.m, gs.ldb = s.m, gs.ldc = s.c;
    gemm(gs, dy + g * mg, w + g * mg, dx + g * cg);
  }
}

namespace {

// The weight gradient reduces over every pixel of the batch (K = P, often 100k) into a
// small M x N = c x m block. Split over M and N, as gemm() would, each thread packs all
// of one operand again; so the pixels are cut into fixed chunks instead, each chunk's
// product computed on one thread into its own partial, and the partials summed in chunk
// order. The chunks depend on the shape only: 1 and 2 threads give the same bits.
constexpr int64_t kFilterChunkPixels = 4096;
constexpr int64_t kMaxFilterChunks = 8;

int64_t filter_chunks(const ConvShape& s) {
  return std::clamp<int64_t>(s.n * s.h * s.w / kFilterChunkPixels, 1, kMaxFilterChunks);
}

// Runs chunk_fn(chunk, out, beta) for every chunk, chunk 0 into dw (onto it when
// accumulating) and the others into partials, each chunk on one thread (nested gemm()
// calls run inline), then sums the partials into dw in chunk order; then dbias.
template <typename ChunkFn>
void filter_by_chunks(const ConvShape& s, int64_t chunks, const float* dy, float* dw,
                      float* dbias, bool accumulate, ChunkFn chunk_fn) {
  const int64_t wn = s.c * s.mg();  // weight_numel: cg x m over all groups
  thread_local ScratchBuffer t_partials;
  float* part = chunks > 1 ? t_partials.get((chunks - 1) * wn) : nullptr;
  if (chunks == 1) {
    chunk_fn(0, dw, accumulate ? 1.f : 0.f);
  } else {
    parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        chunk_fn(c, c == 0 ? dw : part + (c - 1) * wn, c == 0 && accumulate ? 1.f : 0.f);
    });
    parallel_for(wn, 4096, [&](int64_t i0, int64_t i1) {
      for (int64_t c = 1; c < chunks; ++c) {
        const float* pc = part + (c - 1) * wn;
        for (int64_t i = i0; i < i1; ++i) dw[i] += pc[i];
      }
    });
  }
  if (dbias) {
    // Column sums, row after row so the inner loop runs contiguously over channels.
    // Single pass, single thread: deterministic, and cheap next to the GEMM above.
    if (!accumulate) std::fill(dbias, dbias + s.m, 0.f);
    const int64_t p = s.n * s.h * s.w;
    for (int64_t r = 0; r < p; ++r) {
      const float* row = dy + r * s.m;
      for (int64_t o = 0; o < s.m; ++o) dbias[o] += row[o];
    }
  }
}

// dW_g [cg x mg] += x_g^T [cg x rows] * dy_g [rows x mg] over pixels [p0, p1).
void filter_product(const ConvShape& s, const float* x, const float* dy, int64_t p0, int64_t p1,
                    float* out, float beta) {
  const int64_t cg = s.cg(), mg = s.mg();
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmShape gs;
    gs.m = cg, gs.n = mg, gs.k = p1 - p0;
    gs.trans_a = true;
    gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
    gs.beta = beta;
    gemm(gs, x + p0 * s.c + g * cg, dy + p0 * s.m + g * mg, out + g * mg);
  }
}

int64_t chunk_begin(const ConvShape& s, int64_t chunks, int64_t chunk) {
  return s.n * s.h * s.w * chunk / chunks;
}

}  // namespace

void conv2d_bwd_filter_1x1_nhwc_f32(const ConvShape& s, const float* x, const float* dy,
                                    float* dw, float* dbias, bool accumulate) {
  const int64_t chunks = filter_chunks(s);
  filter_by_chunks(s, chunks, dy, dw, dbias, accumulate, [&](int64_t c, float* out, float beta) {
    filter_product(s, x, dy, chunk_begin(s, chunks, c), chunk_begin(s, chunks, c + 1), out, beta);
  });
}

// Both passes in one sweep. Each chunk (as above) runs on one thread in sweeps of
// kSweepPixels: dx rows = dy rows * W^T, then, with those dy rows still in this core's
// L2, the chunk's dW += x^T * dy over them. The two passes in turn read all of dy from
// memory twice, and the weight gradient's packing stalled on it.

bool conv_pointwise_sweep(const ConvShape& s) {
  return s.is_pointwise() && s.groups == 1 && filter_chunks(s) >= 2;
}

void conv2d_bwd_1x1_nhwc_f32(const ConvShape& s, const float* x, const float* dy, const float* w,
                             float* dx, float* dw, float* dbias, bool accumulate) {
  if (!conv_pointwise_sweep(s)) fail("conv2d_bwd_1x1: cannot compute {}", s.to_string());
  // W^T, the B of every dx product, packed once.
  GemmShape gd;
  gd.n = s.c, gd.k = s.m;
  gd.trans_b = true;
  gd.lda = s.m, gd.ldb = s.m, gd.ldc = s.c;
  thread_local ScratchBuffer t_packed;
  float* packed = t_packed.get(gemm_packed_b_floats(gd));
  gemm_pack_b(gd, w, packed);
  gd.b_prepacked = true;
  const int64_t chunks = filter_chunks(s);
  filter_by_chunks(s, chunks, dy, dw, dbias, accumulate, [&](int64_t c, float* out, float beta) {
    const int64_t p0 = chunk_begin(s, chunks, c), p1 = chunk_begin(s, chunks, c + 1);
    for (int64_t q0 = p0; q0 < p1; q0 += kSweepPixels) {
      const int64_t q1 = std::min(p1, q0 + kSweepPixels);
      GemmShape g = gd;
      g.m = q1 - q0;
      gemm(g, dy + q0 * s.m, packed, dx + q0 * s.c);
      filter_product(s, x, dy, q0, q1, out, q0 == p0 ? beta : 1.f);
    }
  });
}

}  // namespace xcept
