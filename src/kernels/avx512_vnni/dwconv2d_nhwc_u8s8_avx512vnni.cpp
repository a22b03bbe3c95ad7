// Depthwise 3x3 int8 forward, AVX512-VNNI: the AVX-512 kernel with vpdpwssd, which
// multiplies and accumulates in one instruction where vpmaddwd needs an add after it.
// The loops are in kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h.
#include "kernels/avx512/qdw_vec_avx512.h"
#include "kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h"
#include "kernels/kernels.h"

namespace xcept {

void dwconv2d_fwd_3x3_nhwc_u8s8_avx512vnni(const ConvShape& s, const uint8_t* x,
                                           const int8_t* w, const QuantEpilogue& ep,
                                           uint8_t* y) {
  QDwConv3x3<QVecAvx512<true>>::forward(s, x, w, ep, y);
}

}  // namespace xcept
