// 1x1 groups-1 convolution with stride or padding (Xception's stride-2 shortcut
// convolutions): the output pixels' input rows gathered into a dense [P x c] matrix
// (zero rows where a pixel falls in the padding), then one GEMM with the [c x m] weights.
// The table row (conv2d_fwd_1x1_strided_nhwc_f32) packs the weights per call; inference
// packs them once (kernels/conv2d_prepacked.h) and calls the _packed form.
#pragma once

#include "kernels/conv_shape.h"
#include "kernels/epilogue.h"
#include "kernels/gemm_shape.h"

namespace xcept {

// The GEMM y [P x m] = gathered x [P x c] * w [c x m] of a whole output (P = n*ho*wo);
// its B is what gemm_pack_b packs for the _packed form.
GemmShape conv2d_1x1_strided_gemm(const ConvShape& s);

// packed_w: the weights packed by gemm_pack_b(conv2d_1x1_strided_gemm(s), ...).
void conv2d_fwd_1x1_strided_nhwc_f32_packed(const ConvShape& s, const float* x,
                                            const float* packed_w, const ConvEpilogue& ep,
                                            float* y);

}  // namespace xcept
