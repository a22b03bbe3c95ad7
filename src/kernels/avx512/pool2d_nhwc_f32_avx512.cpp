// Max and average pooling, NHWC f32, AVX-512: 16 channels a vector, remainders through
// mask registers. The loops are in kernels/pool2d_nhwc_f32_impl.h.
#include "kernels/avx512/vec_f32_avx512.h"
#include "kernels/kernels.h"
#include "kernels/pool2d_nhwc_f32_impl.h"

namespace xcept {

void pool2d_fwd_nhwc_f32_avx512(const ConvShape& s, PoolMode mode, const float* x, float* y) {
  Pool2dNhwc<VecF32Avx512>::run(s, mode, x, y);
}

void pool2d_bwd_nhwc_f32_avx512(const ConvShape& s, PoolMode mode, const float* x, const float* y,
                              const float* dy, float* dx) {
  Pool2dBwdNhwc::run(s, mode, x, y, dy, dx);
}

}  // namespace xcept
