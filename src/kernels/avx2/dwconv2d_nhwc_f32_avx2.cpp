// Depthwise convolution kernels, NHWC f32, AVX2 + FMA: 8 channels a vector, remainders
// through vmaskmov. The loops are in kernels/dwconv2d_{fwd,bwd}_nhwc_f32_impl.h.
#include <immintrin.h>

#include "kernels/dwconv2d_bwd_nhwc_f32_impl.h"
#include "kernels/dwconv2d_fwd_nhwc_f32_impl.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

struct VecAvx2 {
  using R = __m256;
  using M = __m256i;
  static constexpr int64_t W = 8;
  // 16 registers: 9 weights + 4 accumulators, loads folded into the FMAs.
  static constexpr int P = 4, P3 = 4;

  static M mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  template <bool MASK>
  static R ld(const float* p, M m) {
    if constexpr (MASK) return _mm256_maskload_ps(p, m);
    (void)m;
    return _mm256_loadu_ps(p);
  }
  template <bool MASK>
  static void st(float* p, R v, M m) {
    if constexpr (MASK) _mm256_maskstore_ps(p, m, v);
    else (void)m, _mm256_storeu_ps(p, v);
  }
  // See VecAvx512::pin: one load per input vector, however many FMAs use it.
  static R pin(R v) {
    asm("" : "+x"(v));
    return v;
  }
  static R zero() { return _mm256_setzero_ps(); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
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
                                           float* dw, float* dbias) {
  BwdFilter::backward_filter(s, x, dy, dw, dbias);
}

}  // namespace xcept
