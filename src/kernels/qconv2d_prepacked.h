// An int8 forward convolution whose weights are prepared once, for inference (the int8
// counterpart of kernels/conv2d_prepacked.h): the row dispatch picks from the table's
// qconv2d_fwd op, with the weights of the GEMM rows (pointwise, im2col) packed once for
// the GEMM's micro-kernel instead of on every call. Rows that read HWIO weights directly
// (depthwise, the reference) get w_hwio, which must then outlive the object.
#pragma once

#include <memory>
#include <string>

#include "kernels/conv_shape.h"
#include "kernels/kernels.h"

namespace xcept {

class QConv2dPrepacked {
 public:
  QConv2dPrepacked(const ConvShape& s, const int8_t* w_hwio);

  // y = requantize(conv(x - x_zero_point, w) + bias) as the epilogue says.
  void run(const uint8_t* x, const QuantEpilogue& ep, uint8_t* y) const;

  const ConvShape& shape() const { return shape_; }
  // The row, and for the GEMM rows the micro-kernel: "conv2d_fwd_1x1_nhwc_u8s8 (gemm_u8s8_avx512vnni)".
  const std::string& kernel_name() const { return name_; }
  int64_t packed_bytes() const { return packed_ ? packed_->bytes : 0; }

 private:
  ConvShape shape_;
  const int8_t* w_hwio_;
  const QConv2dFwdKernel* row_;
  std::string name_;
  std::unique_ptr<QGemmPackedB> packed_;  // the GEMM rows' B
};

}  // namespace xcept
