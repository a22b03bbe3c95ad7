// 1x1, stride-1, unpadded convolution as plain GEMMs over the pixel matrix: in NHWC the
// input is already an [P x c] row-major matrix (P = n*h*w) and HWIO weights are [c x m],
// so no copy is needed. Each group is a sub-matrix picked out by offsets and leading
// dimensions. ISA-independent: all the speed (and the threading) comes from gemm().
#include <algorithm>

#include "kernels/kernels.h"

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

void conv2d_bwd_filter_1x1_nhwc_f32(const ConvShape& s, const float* x, const float* dy,
                                    float* dw, float* dbias, bool accumulate) {
  const int64_t p = s.n * s.h * s.w, cg = s.cg(), mg = s.mg();
  // dW_g [cg x mg] = x_g^T [cg x P] * dy_g [P x mg]; the reduction runs over all pixels.
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmShape gs;
    gs.m = cg, gs.n = mg, gs.k = p;
    gs.trans_a = true;
    gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
    gs.beta = accumulate ? 1.f : 0.f;
    gemm(gs, x + g * cg, dy + g * mg, dw + g * mg);
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
