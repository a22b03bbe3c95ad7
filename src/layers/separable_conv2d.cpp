#include "layers/separable_conv2d.h"

#include <utility>

#include "core/error.h"

namespace xcept {

const char* separable_order_name(SeparableOrder order) {
  switch (order) {
    case SeparableOrder::depthwise_pointwise: return "depthwise_pointwise";
    case SeparableOrder::pointwise_depthwise: return "pointwise_depthwise";
  }
  return "?";
}

// A mixing hash (the splitmix32 finalizer): consecutive layer seeds must not hand one
// layer's pointwise the stream of the next layer's depthwise, as seed+1 would.
uint32_t separable_member_seed(uint32_t seed, int member) {
  uint32_t z = seed * 2u + static_cast<uint32_t>(member) + 0x9e3779b9u;
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}

SeparableConv2d::SeparableConv2d(std::string name_, int64_t in_channels_,
                                 const SeparableConv2dOptions& opts, uint32_t seed)
    : name(std::move(name_)), in_channels(in_channels_), options(opts) {
  const bool dw_first = options.order == SeparableOrder::depthwise_pointwise;
  if (!dw_first && options.depth_multiplier != 1)
    fail("{}: depth multiplier {} needs order depthwise_pointwise (the depthwise step of "
         "pointwise_depthwise keeps the M channels)",
         name, options.depth_multiplier);
  if (!options.mid_activation.trainable())
    fail("{}: mid activation {} (alpha {}) cannot be trained: none, relu, relu6 or elu with "
         "alpha > 0",
         name, act_name(options.mid_activation), options.mid_activation.a);
  const uint32_t dw_seed = separable_member_seed(seed, 0);
  const uint32_t pw_seed = separable_member_seed(seed, 1);
  const bool bias = options.has_bias;
  if (dw_first) {
    depthwise = depthwise_conv2d(name + ".depthwise", in_channels, options.depth_multiplier,
                                 options.window, false, dw_seed);
    pointwise = pointwise_conv2d(name + ".pointwise", in_channels * options.depth_multiplier,
                                 options.out_channels, bias, pw_seed);
  } else {
    pointwise = pointwise_conv2d(name + ".pointwise", in_channels, options.out_channels, false,
                                 pw_seed);
    depthwise = depthwise_conv2d(name + ".depthwise", options.out_channels, 1, options.window,
                                 bias, dw_seed);
  }
}

Conv2d& SeparableConv2d::first_step() {
  return options.order == SeparableOrder::depthwise_pointwise ? depthwise : pointwise;
}
Conv2d& SeparableConv2d::second_step() {
  return options.order == SeparableOrder::depthwise_pointwise ? pointwise : depthwise;
}

void SeparableConv2d::check_input(const Tensor& x) const {
  // Checked here too so the message names this layer, not only "<name>.depthwise".
  if (x.rank() != 4)
    fail("{}: expected a 4-D NHWC input, got {} ({}-D)", name, dims_to_string(x.dims()),
         x.rank());
  if (x.dim(3) != in_channels)
    fail("{}: input {} has {} channels, the layer expects {}", name, dims_to_string(x.dims()),
         x.dim(3), in_channels);
}

void SeparableConv2d::forward(const Tensor& x, Tensor& y, OutputStats* stats) {
  check_input(x);
  first_step().forward(x, mid_);
  // In place: the activation backward reads the activation's output, which is mid_.
  activation_fwd_f32(options.mid_activation, mid_.data(), mid_.data(), mid_.numel());
  second_step().forward(mid_, y, stats);
}

void SeparableConv2d::backward(const Tensor& x, const Tensor& dy, Tensor* dx,
                               BackwardSplit* split) {
  check_input(x);
  if (mid_.empty()) fail("{}: backward called before forward", name);
  // The intermediate's gradient lives only inside this call: one buffer serves every
  // separable layer of the thread (Xception at batch 8 kept 470 MB of them, one per
  // layer, for the whole run).
  thread_local Tensor t_dmid;
  t_dmid.resize_uninitialized(mid_.dims());
  second_step().backward(mid_, dy, &t_dmid, split);
  activation_bwd_f32(options.mid_activation, mid_.data(), t_dmid.data(), t_dmid.data(),
                     t_dmid.numel());
  first_step().backward(x, t_dmid, dx, split);
}

Tensor SeparableConv2d::forward(const Tensor& x) {
  check_input(x);
  input_ = x;
  cached_ = true;
  Tensor y;
  forward(input_, y);
  return y;
}

Tensor SeparableConv2d::backward(const Tensor& dy) {
  if (!cached_) fail("{}: backward called before forward", name);
  Tensor dx;
  backward(input_, dy, &dx);
  return dx;
}

void SeparableConv2d::zero_grad() {
  depthwise.zero_grad();
  pointwise.zero_grad();
}

ParamList SeparableConv2d::params() {
  ParamList p = first_step().params();
  for (ParamRef& r : second_step().params()) p.push_back(std::move(r));
  return p;
}

}  // namespace xcept
