// 1x1, stride-1, unpadded convolution as plain GEMMs over the pixel matrix: in NHWC the
// input is already an [P x c] row-major matrix (P = n*h*w) and HWIO weights are [c x m],
// so no copy is needed. Each group is a sub-matrix picked out by offsets and leading
// dimensions. ISA-independent: all the speed (and the threading) comes from gemm().
#include <algorithm>
#include <cstdint>

#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "kernels/scratch.h"

namespace xcept {

void conv2d_fwd_1x1_nhwc_f32(const ConvShape& s, const float* x, const float* w,
                             const ConvEpilogue& ep, float* y) {
  const int64_t p = s.n * s.h * s.w, cg = s.cg(), mg = s.mg();
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmShape gs;
    gs.m = p, gs.n = mg, gs.k = cg;
    gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
    // The GEMM applies bias, addend and activation to each tile as it finishes it.
    GemmEpilogue e{ep.bias ? ep.bias + g * mg : nullptr, ep.addend ? ep.addend + g * mg : nullptr,
                   s.m, ep.act, ep.a, ep.b};
    gs.epilogue = ep.bias || ep.has_post() ? &e : nullptr;
    gemm(gs, x + g * cg, w + g * mg, y + g * mg);
  }
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

// The weight gradient reduces over every pixel of the batch (K = P, often 100k) into a
// small M x N = c x m block. Split over M and N, as gemm() would, each thread packs all
// of one operand again; so the pixels are cut into fixed chunks instead, each chunk's
// product computed on one thread into its own partial, and the partials summed in chunk
// order. The chunks depend on the shape only: 1 and 2 threads give the same bits.
constexpr int64_t kFilterChunkPixels = 4096;
constexpr int64_t kMaxFilterChunks = 8;

void conv2d_bwd_filter_1x1_nhwc_f32(const ConvShape& s, const float* x, const float* dy,
                                    float* dw, float* dbias, bool accumulate) {
  const int64_t p = s.n * s.h * s.w, cg = s.cg(), mg = s.mg();
  const int64_t chunks = std::clamp<int64_t>(p / kFilterChunkPixels, 1, kMaxFilterChunks);
  const int64_t wn = s.c * mg;  // weight_numel: cg x m over all groups
  thread_local ScratchBuffer t_partials;
  float* part = chunks > 1 ? t_partials.get((chunks - 1) * wn) : nullptr;
  // dW_g [cg x mg] = x_g^T [cg x P] * dy_g [P x mg] over the chunk's pixels [p0, p1).
  auto product = [&](int64_t chunk, float* out, float beta) {
    const int64_t p0 = p * chunk / chunks, p1 = p * (chunk + 1) / chunks;
    for (int64_t g = 0; g < s.groups; ++g) {
      GemmShape gs;
      gs.m = cg, gs.n = mg, gs.k = p1 - p0;
      gs.trans_a = true;
      gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
      gs.beta = beta;
      gemm(gs, x + p0 * s.c + g * cg, dy + p0 * s.m + g * mg, out + g * mg);
    }
  };
  if (chunks == 1) {
    product(0, dw, accumulate ? 1.f : 0.f);
  } else {
    // Chunk 0 straight into dw (onto it when accumulating), the others into partials;
    // each runs single-threaded inside the pool (nested gemm() calls run inline).
    parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        product(c, c == 0 ? dw : part + (c - 1) * wn, c == 0 && accumulate ? 1.f : 0.f);
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
    for (int64_t r = 0; r < p; ++r) {
      const float* row = dy + r * s.m;
      for (int64_t o = 0; o < s.m; ++o) dbias[o] += row[o];
    }
  }
}

}  // namespace xcept
