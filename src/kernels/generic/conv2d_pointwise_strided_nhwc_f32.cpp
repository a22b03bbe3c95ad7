// Strided (or padded) 1x1 convolution as gather + GEMM (conv2d_pointwise_strided.h).
// Before it these shapes ran through im2col's tiles-in-parallel plan, which packs the
// weights once per tile of 32-ish pixels: block13's 728 -> 1024 shortcut (3 MB of
// weights, 100 pixels) packed them four times per call.
#include "kernels/generic/conv2d_pointwise_strided.h"

#include <algorithm>
#include <memory>

#include "kernels/generic/im2col.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

// Gathered rows per GEMM call: at most 1M floats (4 MB) of scratch, so a training batch
// does not allocate its whole subsampled input; an inference image is one tile.
constexpr int64_t kGatherTileFloats = int64_t(1) << 20;

// Grow-only per-thread scratch: a fresh buffer per call would page-fault every run.
float* gather_scratch(int64_t n) {
  thread_local ScratchBuffer buf;
  return buf.get(n);
}

void run_1x1_strided(const ConvShape& s, const float* x, const float* w, bool w_packed,
                     const ConvEpilogue& ep, float* y) {
  const int64_t pixels = s.n * s.ho * s.wo;
  const int64_t tile = std::clamp<int64_t>(kGatherTileFloats / s.c, 1, pixels);
  float* a = gather_scratch(tile * s.c);
  for (int64_t p0 = 0; p0 < pixels; p0 += tile) {
    const int64_t p1 = std::min(pixels, p0 + tile);
    // For a 1x1 window an im2col row is the pixel's c input values (zeros in padding).
    conv2d_im2col_rows_nhwc_f32(s, x, p0, p1, a);
    GemmShape gs = conv2d_1x1_strided_gemm(s);
    gs.m = p1 - p0;
    gs.b_prepacked = w_packed;
    const GemmEpilogue e{ep.bias, ep.addend ? ep.addend + p0 * s.m : nullptr, s.m, ep.act,
                         ep.a, ep.b};
    gs.epilogue = ep.bias || ep.has_post() ? &e : nullptr;
    gemm(gs, a, w, y + p0 * s.m);
  }
}

}  // namespace

bool conv_pointwise_strided(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.groups == 1 && !s.is_pointwise();
}

GemmShape conv2d_1x1_strided_gemm(const ConvShape& s) {
  GemmShape gs;
  gs.m = s.n * s.ho * s.wo, gs.n = s.m, gs.k = s.c;
  gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
  return gs;
}

void conv2d_fwd_1x1_strided_nhwc_f32(const ConvShape& s, const float* x, const float* w,
                                     const ConvEpilogue& ep, float* y) {
  run_1x1_strided(s, x, w, false, ep, y);
}

void conv2d_fwd_1x1_strided_nhwc_f32_packed(const ConvShape& s, const float* x,
                                            const float* packed_w, const ConvEpilogue& ep,
                                            float* y) {
  run_1x1_strided(s, x, packed_w, true, ep, y);
}

}  // namespace xcept
