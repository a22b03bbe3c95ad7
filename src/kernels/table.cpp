// Builds the per-op arrays from kernels/table/<op>.inc and dispatches over them.
#include <fmt/format.h>
#include <fmt/ranges.h>

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
bool gemm_bf16_any(const Bf16GemmShape&) { return true; }
bool gemm_bf16_cpu(const Bf16GemmShape&) { return cpu_has_avx512_bf16(); }
bool pool_any(const ConvShape& s) { return s.m == s.c; }
bool batch_norm_any(const BatchNormShape&) { return true; }
bool act_any(const ActShape&) { return true; }
bool act_trainable(const ActShape& s) { return s.act.trainable(); }
bool elementwise_any(const ElementwiseShape&) { return true; }
bool concat_any(const ConcatShape&) { return true; }
bool qgemm_any(const QGemmShape&) { return true; }
bool qgemm_vnni(const QGemmShape&) { return cpu_has_avx512_vnni(); }
bool qconv_depthwise_3x3(const ConvShape& s) { return conv_depthwise_3x3(s) && s.m == s.c; }
bool qconv_depthwise_3x3_vnni(const ConvShape& s) {
  return qconv_depthwise_3x3(s) && cpu_has_avx512_vnni();
}
bool qconv_pointwise(const ConvShape& s) { return s.is_pointwise() && s.groups == 1; }
bool qconv_dense(const ConvShape& s) { return s.groups == 1; }

std::string BatchNormShape::to_string() const { return fmt::format("{} rows x {} channels", rows, c); }
std::string Bf16GemmShape::to_string() const { return fmt::format("{}x{}x{}", m, n, k); }
std::string ActShape::to_string() const {
  return fmt::format("{} values of {} (a={}, b={})", n, act_name(act), act.a, act.b);
}
std::string ElementwiseShape::to_string() const { return fmt::format("{} values", n); }
std::string ConcatShape::to_string() const {
  return fmt::format("{} rows of [{}]", rows, fmt::join(lens, " + "));
}

ConvShape global_pool_window(int64_t n, int64_t h, int64_t w, int64_t c) {
  ConvShape s;
  s.n = n, s.h = h, s.w = w, s.c = c, s.m = c, s.groups = c;
  s.kh = h, s.kw = w;
  s.ho = 1, s.wo = 1;
  return s;
}

bool is_reference_kernel_name(const char* name) {
  const size_t len = std::strlen(name);
  return len >= 4 && std::strcmp(name + len - 4, "_ref") == 0;
}

// One array per op, read from the op's rows.
#define XCEPT_KERNEL(name, isa, supports) {#name, Isa::isa, supports, name},
static const Conv2dFwdKernel k_conv2d_fwd[] = {
#include "kernels/table/conv2d_fwd.inc"
};
static const Conv2dBwdDataKernel k_conv2d_bwd_data[] = {
#include "kernels/table/conv2d_bwd_data.inc"
};
static const Conv2dBwdFilterKernel k_conv2d_bwd_filter[] = {
#include "kernels/table/conv2d_bwd_filter.inc"
};
static const Conv2dBwdKernel k_conv2d_bwd[] = {
#include "kernels/table/conv2d_bwd.inc"
};
static const GemmKernel k_gemm[] = {
#include "kernels/table/gemm.inc"
};
static const Bf16GemmKernel k_gemm_bf16[] = {
#include "kernels/table/gemm_bf16.inc"
};
static const Pool2dFwdKernel k_pool2d_fwd[] = {
#include "kernels/table/pool2d_fwd.inc"
};
static const Pool2dBwdKernel k_pool2d_bwd[] = {
#include "kernels/table/pool2d_bwd.inc"
};
static const BatchNormStatsKernel k_batch_norm_stats[] = {
#include "kernels/table/batch_norm_stats.inc"
};
static const BatchNormFwdKernel k_batch_norm_fwd[] = {
#include "kernels/table/batch_norm_fwd.inc"
};
static const BatchNormBwdKernel k_batch_norm_bwd[] = {
#include "kernels/table/batch_norm_bwd.inc"
};
static const ActFwdKernel k_act_fwd[] = {
#include "kernels/table/act_fwd.inc"
};
static const ActBwdKernel k_act_bwd[] = {
#include "kernels/table/act_bwd.inc"
};
static const AddFwdKernel k_add_fwd[] = {
#include "kernels/table/add_fwd.inc"
};
static const ConcatFwdKernel k_concat_fwd[] = {
#include "kernels/table/concat_fwd.inc"
};
static const ConcatBwdKernel k_concat_bwd[] = {
#include "kernels/table/concat_bwd.inc"
};
static const QGemmKernel k_qgemm[] = {
#include "kernels/table/qgemm.inc"
};
static const QConv2dFwdKernel k_qconv2d_fwd[] = {
#include "kernels/table/qconv2d_fwd.inc"
};
#undef XCEPT_KERNEL

template <typename Row, typename Shape>
static const Row& pick(std::span<const Row> rows, const Shape& s, const char* op) {
  for (const Row& r : rows)
    if (isa_available(r.isa) && r.supports(s)) return r;
  fail("no {} kernel accepts this shape", op);  // unreachable: every op has a _ref row
}

// Each op's span of rows and its dispatch.
#define XCEPT_OP(op, Row)                                \
  std::span<const Row> op##_kernels() { return k_##op; } \
  const Row& pick_##op(const Row::Shape& s) { return pick(op##_kernels(), s, #op); }
#include "kernels/table/ops.inc"
#undef XCEPT_OP

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
                    const float* shift, Act act, float* y) {
  pick_batch_norm_fwd(s).fn(s, x, scale, shift, act, y);
}
void batch_norm_bwd(const BatchNormShape& s, const BatchNormBackward& b) {
  pick_batch_norm_bwd(s).fn(s, b);
}
void activation_fwd_f32(const Act& act, const float* x, float* y, int64_t n) {
  const ActShape s{n, act};
  pick_act_fwd(s).fn(s, x, y);
}
void activation_bwd_f32(const Act& act, const float* y, const float* dy, float* dx, int64_t n) {
  const ActShape s{n, act};
  if (!act.trainable())
    fail("activation {} has no backward from its output (trainable: none, relu, relu6, "
         "elu with alpha > 0)",
         act_name(act));
  pick_act_bwd(s).fn(s, y, dy, dx);
}
void add_fwd(const ElementwiseShape& s, const float* a, const float* b, float* y) {
  pick_add_fwd(s).fn(s, a, b, y);
}
void concat_fwd(const ConcatShape& s, const float* const* x, float* y) {
  pick_concat_fwd(s).fn(s, x, y);
}
void concat_bwd(const ConcatShape& s, const float* dy, float* const* dx) {
  pick_concat_bwd(s).fn(s, dy, dx);
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
