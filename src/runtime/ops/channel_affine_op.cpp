// ChannelAffineOp (inference batch norm) and ActivationOp: elementwise passes that may
// run in place.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

namespace {

// Elementwise loops below 16K values are not worth waking the pool for.
constexpr int64_t kGrain = 16384;

}  // namespace

ChannelAffineOp::ChannelAffineOp(Tensor scale, Tensor shift, int axis)
    : scale_(std::move(scale)), shift_(std::move(shift)), axis_(axis) {
  if (scale_.numel() != shift_.numel())
    fail("ChannelAffine: scale has {} values, shift {}", scale_.numel(), shift_.numel());
}

Dims ChannelAffineOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 1) fail("{}: ChannelAffine takes 1 input, got {}", step, in.size());
  const int64_t rank = static_cast<int64_t>(in[0].size());
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 0 || axis >= rank)
    fail("{}: ChannelAffine axis {} is outside input {}", step, axis_, dims_to_string(in[0]));
  if (in[0][static_cast<size_t>(axis)] != scale_.numel())
    fail("{}: input {} has {} channels on axis {}, the affine has {}", step,
         dims_to_string(in[0]), in[0][static_cast<size_t>(axis)], axis_, scale_.numel());
  return in[0];
}

void ChannelAffineOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& d = *in[0].dims;
  const int64_t rank = static_cast<int64_t>(d.size());
  const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= d[i];
  for (size_t i = axis + 1; i < d.size(); ++i) inner *= d[i];
  const int64_t c = d[axis];
  const float* x = in[0].data;
  float* y = out.data;
  const float* s = scale_.data();
  const float* t = shift_.data();
  if (inner == 1) {
    // Channels last (NHWC): the batch-norm rows the training layer runs.
    batch_norm_fwd({outer, c}, x, s, t, Act::none(), y);
    return;
  }
  // A channel axis before others (an ONNX model's NCHW side inputs): each channel's run
  // of `inner` values.
  const int64_t row = c * inner;
  parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(row, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r)
                   for (int64_t j = 0; j < c; ++j)
                     for (int64_t i = 0; i < inner; ++i)
                       y[r * row + j * inner + i] = x[r * row + j * inner + i] * s[j] + t[j];
               });
}

std::unique_ptr<ChannelAffineOp> make_batch_norm_op(const Tensor& gamma, const Tensor& beta,
                                                    const Tensor& mean, const Tensor& var,
                                                    float eps, int axis) {
  const int64_t c = gamma.numel();
  if (beta.numel() != c || mean.numel() != c || var.numel() != c)
    fail("batch norm: gamma, beta, mean and variance have {}, {}, {} and {} values", c,
         beta.numel(), mean.numel(), var.numel());
  Tensor scale({c}), shift({c});
  batch_norm_fold(c, gamma.data(), beta.data(), mean.data(), var.data(), eps, scale.data(),
                  shift.data());
  return std::make_unique<ChannelAffineOp>(std::move(scale), std::move(shift), axis);
}

Dims ActivationOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 1) fail("{}: Activation takes 1 input, got {}", step, in.size());
  return in[0];
}

void ActivationOp::run(std::span<const ConstView> in, const MutView& out) const {
  const int64_t n = numel_of(*in[0].dims);
  parallel_for(n, 4 * kGrain, [&](int64_t b, int64_t e) {
    activation_fwd_f32(act_, in[0].data + b, out.data + b, e - b);
  });
}

}  // namespace xcept
