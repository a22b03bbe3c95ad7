#include "kernels/qconv2d_prepacked.h"

#include "core/error.h"
#include "kernels/generic/conv2d_gemm_nhwc_u8s8.h"

namespace xcept {

QConv2dPrepacked::QConv2dPrepacked(const ConvShape& s, const int8_t* w_hwio)
    : shape_(s), w_hwio_(w_hwio), row_(&pick_qconv2d_fwd(s)), name_(row_->name) {
  if (!w_hwio) fail("QConv2dPrepacked: null weights for {}", s.to_string());
  if (row_->fn == conv2d_fwd_1x1_nhwc_u8s8 || row_->fn == conv2d_fwd_im2col_nhwc_u8s8) {
    packed_ = std::make_unique<QGemmPackedB>(qgemm_pack_b(s.kh * s.kw * s.c, s.m, w_hwio, s.m));
    name_ += std::string(" (") + qgemm_packed_kernel_name(*packed_) + ")";
  }
}

void QConv2dPrepacked::run(const uint8_t* x, const QuantEpilogue& ep, uint8_t* y) const {
  if (!packed_) return row_->fn(shape_, x, w_hwio_, ep, y);
  qconv2d_fwd_gemm_packed(shape_, x, packed_view(*packed_), ep, y);
}

}  // namespace xcept
