// Add and concatenation: the plain loops the merge rows of the kernel table are tested
// against (byte equality: both only add two floats or copy).
#include "kernels/kernels.h"

namespace xcept {

void add_fwd_f32_ref(const ElementwiseShape& s, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < s.n; ++i) y[i] = a[i] + b[i];
}

void concat_fwd_rows_f32_ref(const ConcatShape& s, const float* const* x, float* y) {
  for (int64_t r = 0; r < s.rows; ++r)
    for (size_t k = 0; k < s.lens.size(); ++k)
      for (int64_t j = 0; j < s.lens[k]; ++j) *y++ = x[k][r * s.lens[k] + j];
}

void concat_bwd_rows_f32_ref(const ConcatShape& s, const float* dy, float* const* dx) {
  for (int64_t r = 0; r < s.rows; ++r)
    for (size_t k = 0; k < s.lens.size(); ++k)
      for (int64_t j = 0; j < s.lens[k]; ++j, ++dy)
        if (dx[k]) dx[k][r * s.lens[k] + j] = *dy;
}

}  // namespace xcept
