#include "kernels/dwconv_pwconv_fused_nhwc_f32.h"

#include <algorithm>
#include <new>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

// One per thread: a band is a few hundred KB.
thread_local ScratchBuffer t_band;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The depthwise convolution of output rows [oy0, oy1) of one image, as a convolution of
// its own: the input rows its windows touch (from *first_row), and the padding of the
// whole convolution where the band reaches the image's edge. dwconv_pwconv_chain's pad
// limit makes the row range non-empty.
ConvShape band_shape(const ConvShape& dw, int64_t oy0, int64_t oy1, int64_t* first_row) {
  const int64_t extent = (dw.kh - 1) * dw.dilation_h + 1;
  const int64_t i0 = oy0 * dw.stride_h - dw.pad_top;
  const int64_t i1 = (oy1 - 1) * dw.stride_h - dw.pad_top + extent;  // exclusive
  const int64_t lo = std::max<int64_t>(i0, 0), hi = std::min(i1, dw.h);
  ConvShape s = dw;
  s.n = 1;
  s.h = hi - lo;
  s.pad_top = lo - i0;
  s.pad_bottom = i1 - hi;
  s.ho = oy1 - oy0;
  *first_row = lo;
  return s;
}

GemmShape pointwise_gemm(const ConvShape& pw, int64_t rows) {
  GemmShape gs;
  gs.m = rows, gs.n = pw.m, gs.k = pw.c;
  gs.lda = pw.c, gs.ldb = pw.m, gs.ldc = pw.m;
  return gs;
}

}  // namespace

bool dwconv_pwconv_chain(const ConvShape& dw, const ConvShape& pw) {
  const int64_t extent = (dw.kh - 1) * dw.dilation_h + 1;
  return dw.is_depthwise() && dw.pad_top < extent && dw.pad_bottom < extent &&
         pw.is_pointwise() && pw.groups == 1 && pw.n == dw.n && pw.h == dw.ho &&
         pw.w == dw.wo && pw.c == dw.m;
}

bool dwconv_pwconv_fusion_pays(const ConvShape& dw, const ConvShape& pw, int64_t band_bytes) {
  const int64_t f = int64_t(sizeof(float));
  return dw.n * dw.ho * dw.wo * dw.m * f > band_bytes && pw.c * pw.m * f <= band_bytes;
}

DwPwBands dwconv_pwconv_bands(const ConvShape& dw, int threads, int64_t band_bytes) {
  const int64_t row_bytes = dw.wo * dw.m * int64_t(sizeof(float));
  DwPwBands plan;
  if (dw.n * dw.ho * row_bytes <= band_bytes) {
    plan.rows = dw.ho;
    return plan;
  }
  plan.tiled = true;
  const int64_t rows = std::clamp<int64_t>(band_bytes / row_bytes, 1, dw.ho);
  plan.bands = ceil_div(dw.ho, rows);
  // Equal shares: round the task count up to a multiple of the threads when the image
  // has rows enough (5 bands of 19x19x728 on 2 threads would leave one idle for a fifth).
  while (threads > 1 && (dw.n * plan.bands) % threads != 0 && plan.bands < dw.ho) ++plan.bands;
  plan.rows = ceil_div(dw.ho, plan.bands);
  return plan;
}

DwPwConvFused::DwPwConvFused(const ConvShape& dw, const float* w_dw, const ConvShape& pw,
                             const float* w_pw, Precision precision)
    : dw_(dw), pw_(pw), w_dw_(w_dw) {
  if (!dwconv_pwconv_chain(dw, pw))
    fail("DwPwConvFused: depthwise {} does not feed pointwise {} (or pads a whole window)",
         dw.to_string(), pw.to_string());
  if (!w_dw || !w_pw) fail("DwPwConvFused: null weights for {} -> {}", dw.to_string(),
                           pw.to_string());
  const Conv2dFwdKernel& row = pick_conv2d_fwd(dw);
  dw_name_ = row.name;
  dw_fn_ = row.fn;
  if (precision == Precision::bf16 && bf16_gemm_available()) {
    bf16_w_ = std::make_unique<PackedBf16Matrix>(pack_bf16_b(pw.c, pw.m, w_pw, pw.m));
    return;
  }
  const GemmShape gs = pointwise_gemm(pw, 1);
  packed_floats_ = gemm_packed_b_floats(gs);
  packed_.reset(static_cast<float*>(
      ::operator new[](size_t(packed_floats_) * sizeof(float), std::align_val_t(64))));
  gemm_pack_b(gs, w_pw, packed_.get());
}

void DwPwConvFused::AlignedFree::operator()(float* p) const {
  ::operator delete[](p, std::align_val_t(64));
}

DwPwConvFused::~DwPwConvFused() = default;
DwPwConvFused::DwPwConvFused(DwPwConvFused&&) noexcept = default;
DwPwConvFused& DwPwConvFused::operator=(DwPwConvFused&&) noexcept = default;

int64_t DwPwConvFused::packed_bytes() const {
  return bf16_w_ ? bf16_w_->bytes() : packed_floats_ * int64_t(sizeof(float));
}

void DwPwConvFused::pointwise(const float* a, int64_t p0, int64_t rows, const ConvEpilogue& ep,
                              float* y) const {
  const GemmEpilogue e{ep.bias, ep.addend ? ep.addend + p0 * pw_.m : nullptr, pw_.m, ep.act,
                       ep.a, ep.b};
  const GemmEpilogue* epi = ep.bias || ep.has_post() ? &e : nullptr;
  if (bf16_w_) {
    gemm_bf16(rows, a, pw_.c, *bf16_w_, y, pw_.m, epi);
    return;
  }
  GemmShape gs = pointwise_gemm(pw_, rows);
  gs.b_prepacked = true;
  gs.epilogue = epi;
  gemm(gs, a, packed_.get(), y);
}

void DwPwConvFused::run(const float* x, const ConvEpilogue& dw_ep, const ConvEpilogue& pw_ep,
                        float* y, int64_t band_bytes) const {
  if (dw_ep.addend) fail("DwPwConvFused: the depthwise epilogue takes no addend");
  const DwPwBands plan = dwconv_pwconv_bands(dw_, num_threads(), band_bytes);
  const int64_t row_floats = dw_.wo * dw_.m;
  if (!plan.tiled) {  // small enough to stay in cache whole: each pass on every thread
    float* mid = t_band.get(dw_.n * dw_.ho * row_floats);
    dw_fn_(dw_, x, w_dw_, dw_ep, mid);
    pointwise(mid, 0, dw_.n * dw_.ho * dw_.wo, pw_ep, y);
    return;
  }
  // One task per (image, band); a thread's kernels run inline inside its tasks.
  parallel_for(dw_.n * plan.bands, 1, [&](int64_t t0, int64_t t1) {
    float* mid = t_band.get(plan.rows * row_floats);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / plan.bands, k = t % plan.bands;
      const int64_t oy0 = k * dw_.ho / plan.bands, oy1 = (k + 1) * dw_.ho / plan.bands;
      int64_t first_row = 0;
      const ConvShape s = band_shape(dw_, oy0, oy1, &first_row);
      dw_fn_(s, x + (b * dw_.h + first_row) * dw_.w * dw_.c, w_dw_, dw_ep, mid);
      const int64_t p0 = (b * dw_.ho + oy0) * dw_.wo;
      pointwise(mid, p0, (oy1 - oy0) * dw_.wo, pw_ep, y + p0 * pw_.m);
    }
  });
}

}  // namespace xcept
