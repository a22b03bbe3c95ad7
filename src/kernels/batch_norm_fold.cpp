// Batch norm as the per-channel affine that batch_norm_fwd applies.
#include <cmath>

#include "kernels/kernels.h"

namespace xcept {

void batch_norm_fold(int64_t c, const float* gamma, const float* beta, const float* mean,
                     const float* var, float eps, float* scale, float* shift, float* inv_std) {
  for (int64_t i = 0; i < c; ++i) {
    const float inv = float(1.0 / std::sqrt(double(var[i]) + double(eps)));
    // In float, as the backward forms gamma * inv_std (batch_norm_bwd): forward and
    // backward then differentiate one function.
    scale[i] = gamma[i] * inv;
    shift[i] = beta[i] - mean[i] * scale[i];
    if (inv_std) inv_std[i] = inv;
  }
}

}  // namespace xcept
