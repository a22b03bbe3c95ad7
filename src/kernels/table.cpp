// Builds the per-op arrays from table.inc and dispatches over them.
#include <fmt/format.h>

#include <cstring>

#include "core/error.h"
#include "kernels/generic/conv2d_winograd_f4x4.h"
#include "kernels/generic/gemm_blocked.h"
#include "kernels/kernels.h"

namespace xcept {

bool conv_any(const ConvShape&) { return true; }
bool conv_depthwise(const ConvShape& s) { return s.is_depthwise(); }
bool conv_depthwise_3x3(const ConvShape& s) {
  return s.is_depthwise() && s.kh == 3 && s.kw == 3 && s.dilation_h == 1 && s.dilation_w == 1 &&
         (s.stride_w == 1 || s.stride_w == 2);
}
bool conv_pointwise(const ConvShape& s) { return s.is_pointwise(); }
bool conv_winograd_3x3(const ConvShape& s) {
  // The row transforms the weights on every call (training changes them every step), a
  // cost that grows with c*m like the multiplies saved, so the tile count decides: on
  // Zen 5, 2 threads, 28x28x256 -> 256 (49 tiles) ran in 1.6 ms against im2col's 2.9;
  // 14x14x512 -> 512 (16 tiles) in 7.4 against 2.9. Inference with weights transformed
  // once accepts fewer tiles (winograd_f4x4_pays_prepacked).
  return winograd_f4x4_applies(s) && s.c >= 16 && s.m >= 16 &&
         s.n * ((s.ho + 3) / 4) * ((s.wo + 3) / 4) >= 32;
}
bool conv_winograd_3x3_bwd_data(const ConvShape& s) {
  // Backward data is the forward convolution of winograd_f4x4_bwd_data_shape; pads past
  // 2 would mirror to negative ones.
  return winograd_f4x4_applies(s) && s.pad_top <= 2 && s.pad_left <= 2 && s.pad_bottom <= 2 &&
         s.pad_right <= 2 && conv_winograd_3x3(winograd_f4x4_bwd_data_shape(s));
}
bool conv_small_c_direct(const ConvShape& s) {
  return s.groups == 1 && s.c <= 4 && s.m > 0 && s.m % 16 == 0 && s.m <= 64;
}
bool gemm_any(const GemmShape&) { return true; }
bool gemm_single_row(const GemmShape& s) { return s.m == 1 && !s.trans_b && !s.b_prepacked; }
bool pool_any(const ConvShape& s) { return s.m == s.c; }
bool batch_norm_any(const BatchNormShape&) { return true; }
bool qgemm_any(const QGemmShape&) { return true; }
bool qgemm_vnni(const QGemmShape&) { return cpu_has_avx512_vnni(); }
bool qconv_depthwise_3x3(const ConvShape& s) { return conv_depthwise_3x3(s) && s.m == s.c; }
bool qconv_depthwise_3x3_vnni(const ConvShape& s) {
  return qconv_depthwise_3x3(s) && cpu_has_avx512_vnni();
}
bool qconv_pointwise(const ConvShape& s) { return s.is_pointwise() && s.groups == 1; }
bool qconv_dense(const ConvShape& s) { return s.groups == 1; }

std::string BatchNormShape::to_string() const { return fmt::format("{} rows x {} channels", rows, c); }

template <typename Shape, typename Fn>
bool KernelRow<Shape, Fn>::is_reference() const {
  size_t len = std::strlen(name);
  return len >= 4 && std::strcmp(name + len - 4, "_ref") == 0;
}
template struct KernelRow<ConvShape, conv2d_fwd_fn>;
template struct KernelRow<ConvShape, conv2d_bwd_data_fn>;
template struct KernelRow<ConvShape, conv2d_bwd_filter_fn>;
template struct KernelRow<ConvShape, conv2d_bwd_fn>;
template struct KernelRow<GemmShape, gemm_fn>;
template struct KernelRow<ConvShape, pool2d_fwd_fn>;
template struct KernelRow<ConvShape, pool2d_bwd_fn>;
template struct KernelRow<BatchNormShape, batch_norm_stats_fn>;
template struct KernelRow<BatchNormShape, batch_norm_fwd_fn>;
template struct KernelRow<BatchNormShape, batch_norm_bwd_fn>;
template struct KernelRow<QGemmShape, qgemm_fn>;
template struct KernelRow<ConvShape, qconv2d_fwd_fn>;

#define XCEPT_ROW(name, isa, supports) {#name, Isa::isa, supports, name},
#define XCEPT_SKIP(name, isa, supports)

// Each array reads table.inc once with its own op's rows switched on and the rest skipped.
#define XCEPT_CONV2D_FWD XCEPT_SKIP
#define XCEPT_CONV2D_BWD_DATA XCEPT_SKIP
#define XCEPT_CONV2D_BWD_FILTER XCEPT_SKIP
#define XCEPT_CONV2D_BWD XCEPT_SKIP
#define XCEPT_GEMM XCEPT_SKIP
#define XCEPT_POOL2D_FWD XCEPT_SKIP
#define XCEPT_POOL2D_BWD XCEPT_SKIP
#define XCEPT_BATCH_NORM_STATS XCEPT_SKIP
#define XCEPT_BATCH_NORM_FWD XCEPT_SKIP
#define XCEPT_BATCH_NORM_BWD XCEPT_SKIP
#define XCEPT_QGEMM XCEPT_SKIP
#define XCEPT_QCONV2D_FWD XCEPT_SKIP

#undef XCEPT_CONV2D_FWD
#define XCEPT_CONV2D_FWD XCEPT_ROW
static const Conv2dFwdKernel kConv2dFwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_CONV2D_FWD
#define XCEPT_CONV2D_FWD XCEPT_SKIP

#undef XCEPT_CONV2D_BWD_DATA
#define XCEPT_CONV2D_BWD_DATA XCEPT_ROW
static const Conv2dBwdDataKernel kConv2dBwdData[] = {
#include "kernels/table.inc"
};
#undef XCEPT_CONV2D_BWD_DATA
#define XCEPT_CONV2D_BWD_DATA XCEPT_SKIP

#undef XCEPT_CONV2D_BWD_FILTER
#define XCEPT_CONV2D_BWD_FILTER XCEPT_ROW
static const Conv2dBwdFilterKernel kConv2dBwdFilter[] = {
#include "kernels/table.inc"
};
#undef XCEPT_CONV2D_BWD_FILTER
#define XCEPT_CONV2D_BWD_FILTER XCEPT_SKIP

#undef XCEPT_CONV2D_BWD
#define XCEPT_CONV2D_BWD XCEPT_ROW
static const Conv2dBwdKernel kConv2dBwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_CONV2D_BWD
#define XCEPT_CONV2D_BWD XCEPT_SKIP

#undef XCEPT_GEMM
#define XCEPT_GEMM XCEPT_ROW
static const GemmKernel kGemm[] = {
#include "kernels/table.inc"
};
#undef XCEPT_GEMM
#define XCEPT_GEMM XCEPT_SKIP

#undef XCEPT_POOL2D_FWD
#define XCEPT_POOL2D_FWD XCEPT_ROW
static const Pool2dFwdKernel kPool2dFwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_POOL2D_FWD
#define XCEPT_POOL2D_FWD XCEPT_SKIP

#undef XCEPT_POOL2D_BWD
#define XCEPT_POOL2D_BWD XCEPT_ROW
static const Pool2dBwdKernel kPool2dBwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_POOL2D_BWD
#define XCEPT_POOL2D_BWD XCEPT_SKIP

#undef XCEPT_BATCH_NORM_STATS
#define XCEPT_BATCH_NORM_STATS XCEPT_ROW
static const BatchNormStatsKernel kBatchNormStats[] = {
#include "kernels/table.inc"
};
#undef XCEPT_BATCH_NORM_STATS
#define XCEPT_BATCH_NORM_STATS XCEPT_SKIP

#undef XCEPT_BATCH_NORM_FWD
#define XCEPT_BATCH_NORM_FWD XCEPT_ROW
static const BatchNormFwdKernel kBatchNormFwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_BATCH_NORM_FWD
#define XCEPT_BATCH_NORM_FWD XCEPT_SKIP

#undef XCEPT_BATCH_NORM_BWD
#define XCEPT_BATCH_NORM_BWD XCEPT_ROW
static const BatchNormBwdKernel kBatchNormBwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_BATCH_NORM_BWD
#define XCEPT_BATCH_NORM_BWD XCEPT_SKIP

#undef XCEPT_QGEMM
#define XCEPT_QGEMM XCEPT_ROW
static const QGemmKernel kQGemm[] = {
#include "kernels/table.inc"
};
#undef XCEPT_QGEMM
#define XCEPT_QGEMM XCEPT_SKIP

#undef XCEPT_QCONV2D_FWD
#define XCEPT_QCONV2D_FWD XCEPT_ROW
static const QConv2dFwdKernel kQConv2dFwd[] = {
#include "kernels/table.inc"
};
#undef XCEPT_QCONV2D_FWD
#define XCEPT_QCONV2D_FWD XCEPT_SKIP

std::span<const Conv2dFwdKernel> conv2d_fwd_kernels() { return kConv2dFwd; }
std::span<const Conv2dBwdDataKernel> conv2d_bwd_data_kernels() { return kConv2dBwdData; }
std::span<const Conv2dBwdFilterKernel> conv2d_bwd_filter_kernels() { return kConv2dBwdFilter; }
std::span<const Conv2dBwdKernel> conv2d_bwd_kernels() { return kConv2dBwd; }
std::span<const GemmKernel> gemm_kernels() { return kGemm; }
std::span<const Pool2dFwdKernel> pool2d_fwd_kernels() { return kPool2dFwd; }
std::span<const Pool2dBwdKernel> pool2d_bwd_kernels() { return kPool2dBwd; }
std::span<const BatchNormStatsKernel> batch_norm_stats_kernels() { return kBatchNormStats; }
std::span<const BatchNormFwdKernel> batch_norm_fwd_kernels() { return kBatchNormFwd; }
std::span<const BatchNormBwdKernel> batch_norm_bwd_kernels() { return kBatchNormBwd; }
std::span<const QGemmKernel> qgemm_kernels() { return kQGemm; }
std::span<const QConv2dFwdKernel> qconv2d_fwd_kernels() { return kQConv2dFwd; }

template <typename Row, typename Shape>
static const Row& pick(std::span<const Row> rows, const Shape& s, const char* op) {
  for (const Row& r : rows)
    if (isa_available(r.isa) && r.supports(s)) return r;
  fail("no {} kernel accepts this shape", op);  // unreachable: every op has a _ref row
}

const Conv2dFwdKernel& pick_conv2d_fwd(const ConvShape& s) {
  return pick(conv2d_fwd_kernels(), s, "conv2d_fwd");
}
const Conv2dBwdDataKernel& pick_conv2d_bwd_data(const ConvShape& s) {
  return pick(conv2d_bwd_data_kernels(), s, "conv2d_bwd_data");
}
const Conv2dBwdFilterKernel& pick_conv2d_bwd_filter(const ConvShape& s) {
  return pick(conv2d_bwd_filter_kernels(), s, "conv2d_bwd_filter");
}
const Conv2dBwdKernel& pick_conv2d_bwd(const ConvShape& s) {
  return pick(conv2d_bwd_kernels(), s, "conv2d_bwd");
}
const GemmKernel& pick_gemm(const GemmShape& s) { return pick(gemm_kernels(), s, "gemm"); }
const Pool2dFwdKernel& pick_pool2d_fwd(const ConvShape& window) {
  return pick(pool2d_fwd_kernels(), window, "pool2d_fwd");
}
const Pool2dBwdKernel& pick_pool2d_bwd(const ConvShape& window) {
  return pick(pool2d_bwd_kernels(), window, "pool2d_bwd");
}
const BatchNormStatsKernel& pick_batch_norm_stats(const BatchNormShape& s) {
  return pick(batch_norm_stats_kernels(), s, "batch_norm_stats");
}
const BatchNormFwdKernel& pick_batch_norm_fwd(const BatchNormShape& s) {
  return pick(batch_norm_fwd_kernels(), s, "batch_norm_fwd");
}
const BatchNormBwdKernel& pick_batch_norm_bwd(const BatchNormShape& s) {
  return pick(batch_norm_bwd_kernels(), s, "batch_norm_bwd");
}
const QGemmKernel& pick_qgemm(const QGemmShape& s) { return pick(qgemm_kernels(), s, "qgemm"); }
const QConv2dFwdKernel& pick_qconv2d_fwd(const ConvShape& s) {
  return pick(qconv2d_fwd_kernels(), s, "qconv2d_fwd");
}

void conv2d_fwd(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& ep,
                float* y) {
  const Conv2dFwdKernel& row = pick_conv2d_fwd(s);
  // The pointwise row takes the output statistics in its sweep over the pixels; for the
  // others they are a pass over y afterwards.
  if (!ep.stats || row.fn == conv2d_fwd_1x1_nhwc_f32) return row.fn(s, x, w, ep, y);
  ConvEpilogue plain = ep;
  plain.stats = nullptr;
  row.fn(s, x, w, plain, y);
  batch_norm_stats({s.n * s.ho * s.wo, s.m}, y, ep.stats->mean, ep.stats->var);
}
void conv2d_bwd_data(const ConvShape& s, const float* dy, const float* w, float* dx) {
  pick_conv2d_bwd_data(s).fn(s, dy, w, dx);
}
void conv2d_bwd_filter(const ConvShape& s, const float* x, const float* dy, float* dw,
                       float* dbias, bool accumulate) {
  pick_conv2d_bwd_filter(s).fn(s, x, dy, dw, dbias, accumulate);
}
void conv2d_bwd(const ConvShape& s, const float* x, const float* dy, const float* w, float* dx,
                float* dw, float* dbias, bool accumulate) {
  pick_conv2d_bwd(s).fn(s, x, dy, w, dx, dw, dbias, accumulate);
}
void gemm(const GemmShape& s, const float* a, const float* b, float* c) {
  // Prepacked B fits one micro-kernel: the one gemm_pack_b packed for.
  if (s.b_prepacked) return gemm_f32_blocked(gemm_dispatch_ukernel(), s, a, b, c);
  pick_gemm(s).fn(s, a, b, c);
}

void pool2d_fwd(const ConvShape& window, PoolMode mode, const float* x, float* y) {
  pick_pool2d_fwd(window).fn(window, mode, x, y);
}
void pool2d_bwd(const ConvShape& window, PoolMode mode, const float* x, const float* y,
                const float* dy, float* dx) {
  pick_pool2d_bwd(window).fn(window, mode, x, y, dy, dx);
}
void batch_norm_stats(const BatchNormShape& s, const float* x, float* mean, float* var) {
  pick_batch_norm_stats(s).fn(s, x, mean, var);
}
void batch_norm_fwd(const BatchNormShape& s, const float* x, const float* scale,
                    const float* shift, Activation act, float* y) {
  pick_batch_norm_fwd(s).fn(s, x, scale, shift, act, y);
}
void batch_norm_bwd(const BatchNormShape& s, const BatchNormBackward& b) {
  pick_batch_norm_bwd(s).fn(s, b);
}

// The two passes in turn, each through its own op's dispatch.
void conv2d_bwd_nhwc_f32(const ConvShape& s, const float* x, const float* dy, const float* w,
                         float* dx, float* dw, float* dbias, bool accumulate) {
  conv2d_bwd_data(s, dy, w, dx);
  conv2d_bwd_filter(s, x, dy, dw, dbias, accumulate);
}

// The oracle: both passes' reference rows.
void conv2d_bwd_nhwc_f32_ref(const ConvShape& s, const float* x, const float* dy, const float* w,
                             float* dx, float* dw, float* dbias, bool accumulate) {
  conv2d_bwd_data_direct_nhwc_f32_ref(s, dy, w, dx);
  conv2d_bwd_filter_direct_nhwc_f32_ref(s, x, dy, dw, dbias, accumulate);
}

int64_t gemm_packed_b_floats(const GemmShape& s) {
  return gemm_f32_packed_b_floats(gemm_dispatch_ukernel(), s);
}

void gemm_pack_b(const GemmShape& s, const float* b, float* packed) {
  gemm_f32_pack_b(gemm_dispatch_ukernel(), s, b, packed);
}

}  // namespace xcept
