// Rewrites a Program for inference speed without changing what it computes (beyond
// float rounding): fold ChannelAffine (batch norm) into the preceding convolution or
// dense layer, fuse activations into their producer, fuse a residual Add into the
// convolution that produces one of its operands, then compute a depthwise convolution
// and the pointwise one reading it together, band by band. Front-end independent.
#pragma once

#include "runtime/program.h"

namespace xcept {

struct OptimizeOptions {
  bool fold_batch_norm = true;
  bool fuse_activations = true;
  bool fuse_residual_add = true;
  // Depthwise Conv2d whose only reader is a pointwise Conv2d -> one DwPwConv2d step
  // (runtime/ops/dwpw_conv2d_op.h); runs last, so both carry their folded batch norm,
  // activations and addend. Only where dwconv_pwconv_fusion_pays
  // (kernels/dwconv_pwconv_fused_nhwc_f32.h), unless fuse_depthwise_pointwise_always
  // (tests: small maps never pass the rule).
  bool fuse_depthwise_pointwise = true;
  bool fuse_depthwise_pointwise_always = false;
};

void optimize(Program& program, const OptimizeOptions& options = {});

}  // namespace xcept
