// The kernel table: the convolution, GEMM (f32 and bf16), pooling, batch-norm, activation,
// merge (Add, Concat) and int8 (uint8 x int8 GEMM and convolution) kernels of xcept, one row each, in
// kernels/table/<op>.inc (the ops: kernels/table/ops.inc). Not rows yet: the prepacked
// inference paths of kernels/conv2d_prepacked.h, the fused
// depthwise-pointwise band kernel. A row is (name, ISA, supports-predicate).
// Three readers use the same rows:
//   - dispatch (pick_*) takes the first row whose ISA the CPU runs and whose predicate
//     accepts the shape; rows are listed best first and each op's `_ref` row is last;
//   - tests/kernels/test_kernels_differential.cpp (and test_merge_kernels.cpp,
//     test_quant_kernels.cpp) run every other row against the `_ref` row;
//   - bench/bench_conv_table.cpp and bench/bench_gemm.cpp time the rows on Xception and
//     MobileNet shapes, bench/bench_train_kernels.cpp at training shapes.
// Adding a kernel is one row in its op's .inc file plus its source file.
//
// Kernels know no graph and allocate only scratch. Pointers are dense in the layouts
// that kernels/conv_shape.h and kernels/gemm_shape.h describe. Outputs are overwritten,
// except where a kernel takes an `accumulate` flag.
#pragma once

#include <functional>
#include <span>
#include <stdexcept>
#include <string>

#include "core/cpu_features.h"
#include "kernels/activation_f32.h"
#include "kernels/conv_shape.h"
#include "kernels/epilogue.h"
#include "kernels/gemm_bf16.h"
#include "kernels/gemm_shape.h"
#include "kernels/qgemm.h"

namespace xcept {

// y = act(conv(x, w) + bias + addend), the epilogue as kernels/epilogue.h describes; a
// bare bias pointer (or nullptr) converts to an epilogue with only that bias.
using conv2d_fwd_fn = void(const ConvShape& s, const float* x, const float* w,
                           const ConvEpilogue& ep, float* y);
// dx = dL/dx given dy = dL/dy.
using conv2d_bwd_data_fn = void(const ConvShape& s, const float* dy, const float* w, float* dx);
// dw = dL/dw, dbias = dL/dbias (dbias may be null); with `accumulate` the gradients are
// added to what dw and dbias hold (a GEMM's beta = 1), so a layer sums straight into its
// grad buffers with no temporary.
using conv2d_bwd_filter_fn = void(const ConvShape& s, const float* x, const float* dy, float* dw,
                                  float* dbias, bool accumulate);
// Both backward passes at once: dx (overwritten) as conv2d_bwd_data, dw and dbias as
// conv2d_bwd_filter. A kernel that sweeps the pixels once reads each dy row from memory
// once for both, where the two passes in turn read all of dy twice.
using conv2d_bwd_fn = void(const ConvShape& s, const float* x, const float* dy, const float* w,
                           float* dx, float* dw, float* dbias, bool accumulate);
using gemm_fn = void(const GemmShape& s, const float* a, const float* b, float* c);
// The bf16 GEMM of inference (kernels/gemm_bf16.h): C [m x n] = act(round_bf16(A) * B +
// bias + addend), B packed once (k x n, as b says; the shape repeats b's k and n).
struct Bf16GemmShape {
  int64_t m = 0, k = 0, n = 0;
  std::string to_string() const;
};
using gemm_bf16_fn = void(const Bf16GemmShape& s, const float* a, int64_t lda,
                          const PackedBf16Matrix& b, float* c, int64_t ldc,
                          const GemmEpilogue* epilogue);
// Pooling over the window a ConvShape describes (m = groups = c; kh, kw, strides, pads
// and dilations used). Averages divide by the taps inside the input, or by kh*kw with
// avg_include_pad (ONNX's count_include_pad). A window wholly in the padding gives -inf
// (max) or 0 (average).
enum class PoolMode { max, avg_exclude_pad, avg_include_pad };
using pool2d_fwd_fn = void(const ConvShape& window, PoolMode mode, const float* x, float* y);
// Global average pooling is pooling whose window is the whole h x w map (one output
// pixel per image): the training layer and the inference op both run the pool2d rows on
// this window, so they sum in the same order and round alike.
ConvShape global_pool_window(int64_t n, int64_t h, int64_t w, int64_t c);
// dx = dL/dx (overwritten) of pooling, given the forward's x and y and dy = dL/dy. Max
// sends each window's gradient to its first tap in (ky, kx) order holding the maximum
// (ties: the first, as the forward's strict '>' keeps it); averages spread dy/count
// over the taps inside the input.
using pool2d_bwd_fn = void(const ConvShape& window, PoolMode mode, const float* x,
                           const float* y, const float* dy, float* dx);

// Training batch norm over [rows][c] floats (an NHWC batch flattened to rows of
// channels; kernels/batch_norm_nhwc_f32_impl.h). `act` is none, relu or relu6: the
// activation that follows the batch norm, fused (its gradient is taken from its output).
struct BatchNormShape {
  int64_t rows = 0, c = 0;
  std::string to_string() const;
};
// The mean and the biased variance of every channel over the rows.
using batch_norm_stats_fn = void(const BatchNormShape& s, const float* x, float* mean,
                                 float* var);
// y = act(x * scale + shift), channel by channel; y may be x.
using batch_norm_fwd_fn = void(const BatchNormShape& s, const float* x, const float* scale,
                               const float* shift, Act act, float* y);
// The backward of y = act(gamma * (x - mean) * inv_std + beta) given dy = dL/dy: ADDS
// dL/dgamma and dL/dbeta, and overwrites dx (when not null; it may be dy itself: the
// sums over dy are taken before any dx is written). With `training`, mean and
// inv_std are the batch's own, so dx has the two terms of their dependence on x.
// With an activation, its derivative is taken from x * scale + shift, the forward's
// pre-activation recomputed exactly as batch_norm_fwd computed it (same scale and
// shift): reading y instead would cost a pass over memory in each half of the backward.
struct BatchNormBackward {
  const float *x = nullptr, *dy = nullptr;
  const float *scale = nullptr, *shift = nullptr;  // the forward's; needed when act != none
  const float *mean = nullptr, *inv_std = nullptr, *gamma = nullptr;
  Act act = Act::none();
  bool training = true;
  float *grad_gamma = nullptr, *grad_beta = nullptr, *dx = nullptr;
  // Synchronized batch norm (data-parallel training): the statistics were taken over
  // `stat_rows` rows of every process's batch (0: these rows alone), and `combine_sums`
  // turns this process's sums of g and g*xhat (c doubles each, in that order) into the
  // sums over every process before dx uses them. dgamma and dbeta get the local sums
  // (the gradient all-reduce adds them up).
  int64_t stat_rows = 0;
  std::function<void(double* sums)> combine_sums;
};
using batch_norm_bwd_fn = void(const BatchNormShape& s, const BatchNormBackward& b);

// Elementwise activations over n floats (kernels/activation_f32.h): act_fwd y = act(x)
// (y may be x); act_bwd dx from the forward's OUTPUT y and dy (dx may be dy), for the
// trainable kinds only (Act::trainable).
struct ActShape {
  int64_t n = 0;
  Act act;
  std::string to_string() const;
};
using act_fwd_fn = void(const ActShape& s, const float* x, float* y);
using act_bwd_fn = void(const ActShape& s, const float* y, const float* dy, float* dx);

// Merges of branches (kernels/generic/merge_f32.cpp). add_fwd: y = a + b over n floats
// (y may be a or b). concat_fwd: `rows` output rows, each the inputs' rows side by side
// (input k's row r is lens[k] floats at x[k] + r * lens[k]); concat_bwd splits dy back,
// skipping inputs whose dx is null.
struct ElementwiseShape {
  int64_t n = 0;
  std::string to_string() const;
};
struct ConcatShape {
  int64_t rows = 0;
  std::span<const int64_t> lens;
  std::string to_string() const;
};
using add_fwd_fn = void(const ElementwiseShape& s, const float* a, const float* b, float* y);
using concat_fwd_fn = void(const ConcatShape& s, const float* const* x, float* y);
using concat_bwd_fn = void(const ConcatShape& s, const float* dy, float* const* dx);

// int8 (kernels/quant.h): uint8 activations, int8 weights, int32 sums, requantized by
// the epilogue. C = A * B for gemm_u8s8 (B as stored; rows pack it per call); y =
// conv(x, w) with HWIO int8 weights for qconv2d_fwd.
using qgemm_fn = void(const QGemmShape& s, const uint8_t* a, const int8_t* b,
                      const QuantEpilogue& ep, QGemmOut c);
using qconv2d_fwd_fn = void(const ConvShape& s, const uint8_t* x, const int8_t* w,
                            const QuantEpilogue& ep, uint8_t* y);

// True for a name that ends in "_ref": an op's oracle row.
bool is_reference_kernel_name(const char* name);

template <typename ShapeT, typename FnT>
struct KernelRow {
  using Shape = ShapeT;
  using Fn = FnT;
  const char* name;
  Isa isa;
  bool (*supports)(const Shape&);
  Fn* fn;
  bool is_reference() const { return is_reference_kernel_name(name); }
};

using Conv2dFwdKernel = KernelRow<ConvShape, conv2d_fwd_fn>;
using Conv2dBwdDataKernel = KernelRow<ConvShape, conv2d_bwd_data_fn>;
using Conv2dBwdFilterKernel = KernelRow<ConvShape, conv2d_bwd_filter_fn>;
using Conv2dBwdKernel = KernelRow<ConvShape, conv2d_bwd_fn>;
using GemmKernel = KernelRow<GemmShape, gemm_fn>;
using Bf16GemmKernel = KernelRow<Bf16GemmShape, gemm_bf16_fn>;
using Pool2dFwdKernel = KernelRow<ConvShape, pool2d_fwd_fn>;
using Pool2dBwdKernel = KernelRow<ConvShape, pool2d_bwd_fn>;
using BatchNormStatsKernel = KernelRow<BatchNormShape, batch_norm_stats_fn>;
using BatchNormFwdKernel = KernelRow<BatchNormShape, batch_norm_fwd_fn>;
using BatchNormBwdKernel = KernelRow<BatchNormShape, batch_norm_bwd_fn>;
using ActFwdKernel = KernelRow<ActShape, act_fwd_fn>;
using ActBwdKernel = KernelRow<ActShape, act_bwd_fn>;
using AddFwdKernel = KernelRow<ElementwiseShape, add_fwd_fn>;
using ConcatFwdKernel = KernelRow<ConcatShape, concat_fwd_fn>;
using ConcatBwdKernel = KernelRow<ConcatShape, concat_bwd_fn>;
using QGemmKernel = KernelRow<QGemmShape, qgemm_fn>;
using QConv2dFwdKernel = KernelRow<ConvShape, qconv2d_fwd_fn>;

// An op's `_ref` row: the plain loops its other rows are tested against (the
// differential tests, and int8 programs run on the oracles, QConv2dOp::use_reference_kernel).
template <typename Row>
const Row& reference_row(std::span<const Row> rows) {
  for (const Row& r : rows)
    if (r.is_reference()) return r;
  throw std::logic_error("kernel table: an op without a _ref row");
}

// All rows of an op, best first, whatever the CPU.
std::span<const Conv2dFwdKernel> conv2d_fwd_kernels();
std::span<const Conv2dBwdDataKernel> conv2d_bwd_data_kernels();
std::span<const Conv2dBwdFilterKernel> conv2d_bwd_filter_kernels();
std::span<const Conv2dBwdKernel> conv2d_bwd_kernels();
std::span<const GemmKernel> gemm_kernels();
std::span<const Bf16GemmKernel> gemm_bf16_kernels();
std::span<const Pool2dFwdKernel> pool2d_fwd_kernels();
std::span<const Pool2dBwdKernel> pool2d_bwd_kernels();
std::span<const BatchNormStatsKernel> batch_norm_stats_kernels();
std::span<const BatchNormFwdKernel> batch_norm_fwd_kernels();
std::span<const BatchNormBwdKernel> batch_norm_bwd_kernels();
std::span<const ActFwdKernel> act_fwd_kernels();
std::span<const ActBwdKernel> act_bwd_kernels();
std::span<const AddFwdKernel> add_fwd_kernels();
std::span<const ConcatFwdKernel> concat_fwd_kernels();
std::span<const ConcatBwdKernel> concat_bwd_kernels();
std::span<const QGemmKernel> qgemm_kernels();
std::span<const QConv2dFwdKernel> qconv2d_fwd_kernels();

// The row dispatch would run for this shape on this CPU.
const Conv2dFwdKernel& pick_conv2d_fwd(const ConvShape& s);
const Conv2dBwdDataKernel& pick_conv2d_bwd_data(const ConvShape& s);
const Conv2dBwdFilterKernel& pick_conv2d_bwd_filter(const ConvShape& s);
const Conv2dBwdKernel& pick_conv2d_bwd(const ConvShape& s);
const GemmKernel& pick_gemm(const GemmShape& s);
const Bf16GemmKernel& pick_gemm_bf16(const Bf16GemmShape& s);
const Pool2dFwdKernel& pick_pool2d_fwd(const ConvShape& window);
const Pool2dBwdKernel& pick_pool2d_bwd(const ConvShape& window);
const BatchNormStatsKernel& pick_batch_norm_stats(const BatchNormShape& s);
const BatchNormFwdKernel& pick_batch_norm_fwd(const BatchNormShape& s);
const BatchNormBwdKernel& pick_batch_norm_bwd(const BatchNormShape& s);
const ActFwdKernel& pick_act_fwd(const ActShape& s);
const ActBwdKernel& pick_act_bwd(const ActShape& s);
const AddFwdKernel& pick_add_fwd(const ElementwiseShape& s);
const ConcatFwdKernel& pick_concat_fwd(const ConcatShape& s);
const ConcatBwdKernel& pick_concat_bwd(const ConcatShape& s);
const QGemmKernel& pick_qgemm(const QGemmShape& s);
const QConv2dFwdKernel& pick_qconv2d_fwd(const ConvShape& s);

// Dispatching entry points: what layers call.
void conv2d_fwd(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& ep,
                float* y);
void conv2d_bwd_data(const ConvShape& s, const float* dy, const float* w, float* dx);
void conv2d_bwd_filter(const ConvShape& s, const float* x, const float* dy, float* dw,
                       float* dbias, bool accumulate = false);
void conv2d_bwd(const ConvShape& s, const float* x, const float* dy, const float* w, float* dx,
                float* dw, float* dbias, bool accumulate = false);
void gemm(const GemmShape& s, const float* a, const float* b, float* c);
void pool2d_fwd(const ConvShape& window, PoolMode mode, const float* x, float* y);
void pool2d_bwd(const ConvShape& window, PoolMode mode, const float* x, const float* y,
                const float* dy, float* dx);
void batch_norm_stats(const BatchNormShape& s, const float* x, float* mean, float* var);
void batch_norm_fwd(const BatchNormShape& s, const float* x, const float* scale,
                    const float* shift, Act act, float* y);
void batch_norm_bwd(const BatchNormShape& s, const BatchNormBackward& b);
// Batch norm with given statistics as the affine batch_norm_fwd applies: inv_std =
// 1 / sqrt(var + eps) (in double, rounded once), scale = gamma * inv_std, shift = beta -
// mean * scale. The training layer and the inference runtime's fold both call it, so
// they run the same numbers. inv_std may be null.
void batch_norm_fold(int64_t c, const float* gamma, const float* beta, const float* mean,
                     const float* var, float eps, float* scale, float* shift,
                     float* inv_std = nullptr);
void add_fwd(const ElementwiseShape& s, const float* a, const float* b, float* y);
void concat_fwd(const ConcatShape& s, const float* const* x, float* y);
void concat_bwd(const ConcatShape& s, const float* dy, float* const* dx);
// B [k x n] (as s describes it: trans_b, ldb) packed once for the micro-kernel gemm()
// dispatches to, for calls with s.b_prepacked; gemm_packed_b_floats() floats, 64-byte
// aligned storage. Results are bit-identical to unpacked calls.
int64_t gemm_packed_b_floats(const GemmShape& s);
void gemm_pack_b(const GemmShape& s, const float* b, float* packed);

// Shape predicates used by table rows.
bool conv_any(const ConvShape&);
bool conv_depthwise(const ConvShape&);  // groups == c, any multiplier
// depthwise 3x3, dilation 1, stride_w 1 or 2 (any stride_h and multiplier)
bool conv_depthwise_3x3(const ConvShape&);
bool conv_pointwise(const ConvShape&);  // 1x1, stride 1, no padding, any groups
// pointwise, groups 1, with pixels enough for two or more fixed sweeps (see
// conv2d_bwd_1x1_nhwc_f32)
bool conv_pointwise_sweep(const ConvShape&);
// 1x1, groups 1, with stride or padding (kernels/generic/conv2d_pointwise_strided.h)
bool conv_pointwise_strided(const ConvShape&);
// 3x3, stride 1, dilation 1, groups 1, where Winograd F(4x4, 3x3) beats im2col
bool conv_winograd_3x3(const ConvShape&);
// 3x3, stride 1, dilation 1, groups 1, whose backward data (a forward convolution of dy)
// is in conv_winograd_3x3's domain
bool conv_winograd_3x3_bwd_data(const ConvShape&);
// groups 1, at most 4 input channels, 16 to 64 output channels in 16s (the RGB stems)
bool conv_small_c_direct(const ConvShape&);
bool gemm_any(const GemmShape&);
bool gemm_single_row(const GemmShape&);  // m == 1, B row-major and not prepacked
bool gemm_bf16_any(const Bf16GemmShape&);
bool gemm_bf16_cpu(const Bf16GemmShape&);  // the CPU has AVX512_BF16 (cpu_has_avx512_bf16)
bool pool_any(const ConvShape&);  // a window that keeps the channels (m == c)
bool batch_norm_any(const BatchNormShape&);
bool act_any(const ActShape&);
bool act_trainable(const ActShape&);  // s.act.trainable()
bool elementwise_any(const ElementwiseShape&);
bool concat_any(const ConcatShape&);
bool qgemm_any(const QGemmShape&);
bool qgemm_vnni(const QGemmShape&);  // the CPU has AVX512_VNNI (cpu_has_avx512_vnni)
bool qconv_depthwise_3x3(const ConvShape&);  // conv_depthwise_3x3 with multiplier 1
bool qconv_depthwise_3x3_vnni(const ConvShape&);  // and the CPU has AVX512_VNNI
bool qconv_pointwise(const ConvShape&);      // 1x1, stride 1, no padding, groups 1
bool qconv_dense(const ConvShape&);          // groups 1, any window

// Declarations of every kernel function named in the table.
#define XCEPT_KERNEL(name, isa, supports) conv2d_fwd_fn name;
#include "kernels/table/conv2d_fwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) conv2d_bwd_data_fn name;
#include "kernels/table/conv2d_bwd_data.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) conv2d_bwd_filter_fn name;
#include "kernels/table/conv2d_bwd_filter.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) conv2d_bwd_fn name;
#include "kernels/table/conv2d_bwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) gemm_fn name;
#include "kernels/table/gemm.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) gemm_bf16_fn name;
#include "kernels/table/gemm_bf16.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) pool2d_fwd_fn name;
#include "kernels/table/pool2d_fwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) pool2d_bwd_fn name;
#include "kernels/table/pool2d_bwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) batch_norm_stats_fn name;
#include "kernels/table/batch_norm_stats.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) batch_norm_fwd_fn name;
#include "kernels/table/batch_norm_fwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) batch_norm_bwd_fn name;
#include "kernels/table/batch_norm_bwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) act_fwd_fn name;
#include "kernels/table/act_fwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) act_bwd_fn name;
#include "kernels/table/act_bwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) add_fwd_fn name;
#include "kernels/table/add_fwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) concat_fwd_fn name;
#include "kernels/table/concat_fwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) concat_bwd_fn name;
#include "kernels/table/concat_bwd.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) qgemm_fn name;
#include "kernels/table/qgemm.inc"
#undef XCEPT_KERNEL
#define XCEPT_KERNEL(name, isa, supports) qconv2d_fwd_fn name;
#include "kernels/table/qconv2d_fwd.inc"
#undef XCEPT_KERNEL

}  // namespace xcept
