#include "runtime/ops/dwpw_conv2d_op.h"

#include <vector>

#include "core/error.h"

namespace xcept {
namespace {

ConvEpilogue epilogue(const Conv2dOp& conv, const float* addend) {
  const Tensor& bias = conv.bias();
  return ConvEpilogue(bias.empty() ? nullptr : bias.data(), addend, conv.act().kind,
                      conv.act().a, conv.act().b);
}

}  // namespace

DwPwConv2dOp::DwPwConv2dOp(std::unique_ptr<Conv2dOp> depthwise,
                           std::unique_ptr<Conv2dOp> pointwise)
    : dw_(std::move(depthwise)), pw_(std::move(pointwise)) {
  if (!dw_ || !pw_) fail("DwPwConv2d: null convolution");
  if (dw_->with_addend())
    fail("DwPwConv2d: the depthwise convolution {} has an addend", dw_->shape().to_string());
  if (!dwconv_pwconv_chain(dw_->shape(), pw_->shape()))
    fail("DwPwConv2d: depthwise {} does not feed pointwise {} (or pads a whole window)",
         dw_->shape().to_string(), pw_->shape().to_string());
}

Dims DwPwConv2dOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.empty()) fail("{}: DwPwConv2d takes an input", step);
  const ConvShape& d = dw_->shape();
  const Dims mid{d.n, d.ho, d.wo, d.m};
  dw_->output_dims(step, in.subspan(0, 1));
  std::vector<Dims> pw_in{mid};
  pw_in.insert(pw_in.end(), in.begin() + 1, in.end());
  return pw_->output_dims(step, pw_in);
}

void DwPwConv2dOp::prepare(Precision precision) {
  fused_ = std::make_unique<const DwPwConvFused>(dw_->shape(), dw_->weight().data(),
                                                 pw_->shape(), pw_->weight().data(), precision);
  kernel_name_ = std::string(fused_->depthwise_kernel_name()) + " + 1x1 " +
                 (fused_->bf16() ? "bf16" : "f32") + " GEMM";
}

void DwPwConv2dOp::run(std::span<const ConstView> in, const MutView& out) const {
  const ConvEpilogue dw_ep = epilogue(*dw_, nullptr);
  const ConvEpilogue pw_ep = epilogue(*pw_, pw_->with_addend() ? in[1].data : nullptr);
  if (fused_) {
    fused_->run(in[0].data, dw_ep, pw_ep, out.data);
    return;
  }
  // Not prepared (an op run on its own): pack for this call.
  const DwPwConvFused once(dw_->shape(), dw_->weight().data(), pw_->shape(),
                           pw_->weight().data());
  once.run(in[0].data, dw_ep, pw_ep, out.data);
}

}  // namespace xcept
