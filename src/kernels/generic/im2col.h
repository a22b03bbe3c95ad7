// The patch rows of the im2col convolution (conv2d_im2col_nhwc_f32.cpp), for other
// drivers that multiply them (the bf16 path of kernels/conv2d_prepacked.h).
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"

namespace xcept {

// Rows of output pixels [p0, p1) (flat over n*ho*wo), each kh*kw*c floats laid out
// [groups][kh][kw][c/groups] (zeros in the padding); threaded unless already on a pool
// thread. For groups 1 a row times the HWIO weights as a [kh*kw*c x m] matrix is the
// pixel's output.
void conv2d_im2col_rows_nhwc_f32(const ConvShape& s, const float* x, int64_t p0, int64_t p1,
                                 float* col);

}  // namespace xcept
