// Depthwise convolution kernels, NHWC f32, portable C++: a "vector" is a small array of
// channels whose element-wise loops the compiler turns into SSE instructions. The loops
// are in kernels/dwconv2d_{fwd,bwd}_nhwc_f32_impl.h.
#include "kernels/dwconv2d_bwd_nhwc_f32_impl.h"
#include "kernels/dwconv2d_fwd_nhwc_f32_impl.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

struct VecGeneric {
  static constexpr int64_t W = 8;  // two SSE registers
  struct R {
    float v[W];
  };
  using M = int64_t;  // live lanes of a remainder block
  // 16 SSE registers hold 8 of these: the nine 3x3 weights spill to L1 (cheap loads);
  // measured W 4/8/16 and P 2/4/8, and these were as fast as any within noise.
  static constexpr int P = 4, P3 = 4;

  static M mask(int64_t n) { return n; }
  template <bool MASK>
  static R ld(const float* p, M m) {
    R r;
    if constexpr (MASK) {
      for (int64_t i = 0; i < W; ++i) r.v[i] = i < m ? p[i] : 0.f;
    } else {
      (void)m;
      for (int64_t i = 0; i < W; ++i) r.v[i] = p[i];
    }
    return r;
  }
  template <bool MASK>
  static void st(float* p, const R& v, M m) {
    if constexpr (MASK) {
      for (int64_t i = 0; i < m; ++i) p[i] = v.v[i];
    } else {
      (void)m;
      for (int64_t i = 0; i < W; ++i) p[i] = v.v[i];
    }
  }
  static const R& pin(const R& v) { return v; }
  static R zero() { return R{}; }
  static R fma(const R& a, const R& b, const R& c) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
  static R add(const R& a, const R& b) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = a.v[i] + b.v[i];
    return r;
  }
};

using Fwd = DwForward<VecGeneric>;
using BwdData = DwBackwardData<VecGeneric>;
using BwdFilter = DwBackwardFilter<VecGeneric>;

}  // namespace

void dwconv2d_fwd_3x3_nhwc_f32_generic(const ConvShape& s, const float* x, const float* w,
                                       const ConvEpilogue& ep, float* y) {
  Fwd::forward(dw_geom_forward(s), x, w, ep, y, true);
}

void dwconv2d_fwd_kxk_nhwc_f32_generic(const ConvShape& s, const float* x, const float* w,
                                       const ConvEpilogue& ep, float* y) {
  Fwd::forward(dw_geom_forward(s), x, w, ep, y, false);
}

void dwconv2d_bwd_data_kxk_nhwc_f32_generic(const ConvShape& s, const float* dy, const float* w,
                                            float* dx) {
  BwdData::backward_data(s, dy, w, dx);
}

void dwconv2d_bwd_filter_kxk_nhwc_f32_generic(const ConvShape& s, const float* x,
                                              const float* dy, float* dw, float* dbias, bool accumulate) {
  BwdFilter::backward_filter(s, x, dy, dw, dbias, accumulate);
}

}  // namespace xcept
