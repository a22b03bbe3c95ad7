// Max and average pooling, NHWC f32, portable C++: a "vector" is a small array of
// channels whose element-wise loops the compiler turns into SSE instructions. The loops
// are in kernels/pool2d_nhwc_f32_impl.h.
#include "kernels/kernels.h"
#include "kernels/pool2d_nhwc_f32_impl.h"

namespace xcept {
namespace {

struct VecGeneric {
  static constexpr int64_t W = 8;  // two SSE registers
  struct R {
    float v[W];
  };
  using M = int64_t;  // live lanes of a remainder block

  static M mask(int64_t n) { return n; }
  template <bool MASK>
  static R ld(const float* p, M m) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = !MASK || i < m ? p[i] : 0.f;
    return r;
  }
  template <bool MASK>
  static void st(float* p, const R& v, M m) {
    for (int64_t i = 0; i < (MASK ? m : W); ++i) p[i] = v.v[i];
  }
  static R set1(float f) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = f;
    return r;
  }
  static R max(const R& a, const R& b) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    return r;
  }
  static R add(const R& a, const R& b) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = a.v[i] + b.v[i];
    return r;
  }
  static R mul(const R& a, const R& b) {
    R r;
    for (int64_t i = 0; i < W; ++i) r.v[i] = a.v[i] * b.v[i];
    return r;
  }
};

}  // namespace

void pool2d_fwd_nhwc_f32_generic(const ConvShape& s, PoolMode mode, const float* x, float* y) {
  Pool2dNhwc<VecGeneric>::run(s, mode, x, y);
}

void pool2d_bwd_nhwc_f32_generic(const ConvShape& s, PoolMode mode, const float* x, const float* y,
                              const float* dy, float* dx) {
  Pool2dBwdNhwc::run(s, mode, x, y, dy, dx);
}

}  // namespace xcept
