#include "kernels/reference/conv2d_ref.h"

#include "kernels/kernels.h"
#include "kernels/reference/epilogue_ref.h"

namespace xcept {

void conv2d_fwd_direct_nhwc_f32_ref(const ConvShape& s, const float* x, const float* w,
                                    const ConvEpilogue& ep, float* y) {
  ref::conv2d_fwd<float>(s, x, w, nullptr, y);
  ref::apply_epilogue(ep, y, s.n * s.ho * s.wo, s.m);
}

void conv2d_bwd_data_direct_nhwc_f32_ref(const ConvShape& s, const float* dy, const float* w,
                                         float* dx) {
  ref::conv2d_bwd_data(s, dy, w, dx);
}

void conv2d_bwd_filter_direct_nhwc_f32_ref(const ConvShape& s, const float* x, const float* dy,
                                           float* dw, float* dbias, bool accumulate) {
  ref::conv2d_bwd_filter(s, x, dy, dw, dbias, accumulate);
}

}  // namespace xcept
