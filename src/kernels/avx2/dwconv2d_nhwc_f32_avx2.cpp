// Depthwise convolution kernels, NHWC f32, AVX2 + FMA: 8 channels a vector, remainders
// through vmaskmov. The loops are in kernels/dwconv2d_{fwd,bwd}_nhwc_f32_impl.h.
#include "kernels/dwconv2d_bwd_nhwc_f32_impl.h"
#include "kernels/dwconv2d_fwd_nhwc_f32_impl.h"
#include "kernels/avx2/vec_f32_avx2.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

struct VecAvx2 : VecF32Avx2 {
  // 16 registers: 9 weights + 4 accumulators, loads folded into the FMAs.
  static constexpr int P = 4, P3 = 4;

  // See VecAvx512::pin: one load per input vector, however many FMAs use it.
  static R pin(R v) {
    asm("" : "+x"(v));
    return v;
  }
};

using Fwd = DwForward<VecAvx2>;
using BwdData = DwBackwardData<VecAvx2>;
using BwdFilter = DwBackwardFilter<VecAvx2>;

}  // namespace

void dwconv2d_fwd_3x3_nhwc_f32_avx2(const ConvShape& s, const float* x, const float* w,
                                    const ConvEpilogue& ep, float* y) {
  Fwd::forward(dw_geom_forward(s), x, w, ep, y, true);
}

void dwconv2d_fwd_kxk_nhwc_f32_avx2(const ConvShape& s, const float* x, const float* w,
                                    const ConvEpilogue& ep, float* y) {
  Fwd::forward(dw_geom_forward(s), x, w, ep, y, false);
}

void dwconv2d_bwd_data_kxk_nhwc_f32_avx2(const ConvShape& s, const float* dy, const float* w,
                                         float* dx) {
  BwdData::backward_data(s, dy, w, dx);
}

void dwconv2d_bwd_filter_kxk_nhwc_f32_avx2(const ConvShape& s, const float* x, const float* dy,
                                           float* dw, float* dbias, bool accumulate) {
  BwdFilter::backward_filter(s, x, dy, dw, dbias, accumulate);
}

}  // namespace xcept
