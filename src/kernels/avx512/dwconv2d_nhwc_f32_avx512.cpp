// Depthwise convolution kernels, NHWC f32, AVX-512: 16 channels a vector, remainders
// through mask registers. The loops are in kernels/dwconv2d_{fwd,bwd}_nhwc_f32_impl.h.
#include "kernels/dwconv2d_bwd_nhwc_f32_impl.h"
#include "kernels/dwconv2d_fwd_nhwc_f32_impl.h"
#include "kernels/avx512/vec_f32_avx512.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

struct VecAvx512 : VecF32Avx512 {
  // 32 registers: 9 weights + 8 accumulators leave room for the loads.
  static constexpr int P = 8, P3 = 8;

  // Keeps a loaded vector in a register: without it GCC folds the load into each of
  // the three FMAs that use it, and with a 4 KiB pixel stride (1024 channels) those
  // repeated loads all hit one L1 set and miss.
  static R pin(R v) {
    asm("" : "+v"(v));
    return v;
  }
};

using Fwd = DwForward<VecAvx512>;
using BwdData = DwBackwardData<VecAvx512>;
using BwdFilter = DwBackwardFilter<VecAvx512>;

}  // namespace

void dwconv2d_fwd_3x3_nhwc_f32_avx512(const ConvShape& s, const float* x, const float* w,
                                      const ConvEpilogue& ep, float* y) {
  Fwd::forward(dw_geom_forward(s), x, w, ep, y, true);
}

void dwconv2d_fwd_kxk_nhwc_f32_avx512(const ConvShape& s, const float* x, const float* w,
                                      const ConvEpilogue& ep, float* y) {
  Fwd::forward(dw_geom_forward(s), x, w, ep, y, false);
}

void dwconv2d_bwd_data_kxk_nhwc_f32_avx512(const ConvShape& s, const float* dy, const float* w,
                                           float* dx) {
  BwdData::backward_data(s, dy, w, dx);
}

void dwconv2d_bwd_filter_kxk_nhwc_f32_avx512(const ConvShape& s, const float* x,
                                             const float* dy, float* dw, float* dbias, bool accumulate) {
  BwdFilter::backward_filter(s, x, dy, dw, dbias, accumulate);
}

}  // namespace xcept
