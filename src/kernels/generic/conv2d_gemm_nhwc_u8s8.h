// The int8 convolutions that are GEMMs (groups 1): pointwise ones straight on the
// activation matrix, any other window through uint8 im2col in tiles of output pixels
// (padding taps hold the input's zero point, real 0, so the GEMM's zero-point
// correction holds for every row). B is the HWIO weight as a [kh*kw*c x m] matrix,
// packed for the GEMM's micro-kernel.
#pragma once

#include "kernels/conv_shape.h"
#include "kernels/generic/qgemm_blocked.h"

namespace xcept {

void qconv2d_fwd_gemm_packed(const ConvShape& s, const uint8_t* x, const QGemmPackedView& w,
                             const QuantEpilogue& ep, uint8_t* y);

}  // namespace xcept
