// A depthwise convolution and the pointwise convolution that is its output's only
// reader, as one step: the depthwise output is computed a band of rows at a time into
// cache-sized scratch and consumed there by the pointwise GEMM
// (kernels/dwconv_pwconv_fused_nhwc_f32.h), so it is never written to the arena.
// Made by optimize()'s fuse_depthwise_pointwise pass from two Conv2dOps, each keeping
// what earlier passes fused into it: folded batch norm (bias), activation, and on the
// pointwise one a residual addend.
#pragma once

#include <memory>
#include <string>

#include "kernels/dwconv_pwconv_fused_nhwc_f32.h"
#include "runtime/op.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

// Inputs: x (the depthwise input, NHWC), then the pointwise addend (dims of y) when the
// pointwise convolution has one.
class DwPwConv2dOp final : public Op {
 public:
  // Throws xcept::Error when the two do not chain (dwconv_pwconv_chain) or the depthwise
  // one has an addend.
  DwPwConv2dOp(std::unique_ptr<Conv2dOp> depthwise, std::unique_ptr<Conv2dOp> pointwise);
  const char* type() const override { return "DwPwConv2d"; }
  Dims output_dims(const std::string& step, std::span<const Dims> in) const override;
  void run(std::span<const ConstView> in, const MutView& out) const override;
  int64_t macs() const override { return dw_->macs() + pw_->macs(); }
  int64_t param_bytes() const override { return dw_->param_bytes() + pw_->param_bytes(); }
  // Packs the pointwise weights once: f32 GEMM panels, or bf16 panels for gemm_bf16 when
  // asked and available (the depthwise pass stays f32, as in Conv2dOp).
  void prepare(Precision precision) override;

  const Conv2dOp& depthwise() const { return *dw_; }
  const Conv2dOp& pointwise() const { return *pw_; }
  // "<depthwise kernel> + 1x1 f32|bf16 GEMM", or "" before prepare().
  const std::string& kernel_name() const { return kernel_name_; }

 private:
  std::unique_ptr<Conv2dOp> dw_, pw_;
  std::unique_ptr<const DwPwConvFused> fused_;
  std::string kernel_name_;
};

}  // namespace xcept
