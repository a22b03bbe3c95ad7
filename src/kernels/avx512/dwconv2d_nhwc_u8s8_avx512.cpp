// Depthwise 3x3 int8 forward, AVX-512 (BW for vpmaddwd on zmm): 16 channels a vector,
// the channel tail through masked loads and stores. The loops are in
// kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h.
#include "kernels/avx512/qdw_vec_avx512.h"
#include "kernels/dwconv2d_fwd_3x3_nhwc_u8s8_impl.h"
#include "kernels/kernels.h"

namespace xcept {

void dwconv2d_fwd_3x3_nhwc_u8s8_avx512(const ConvShape& s, const uint8_t* x, const int8_t* w,
                                       const QuantEpilogue& ep, uint8_t* y) {
  QDwConv3x3<QVecAvx512<false>>::forward(s, x, w, ep, y);
}

}  // namespace xcept
