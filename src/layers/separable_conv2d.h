// Depthwise separable convolution: a depthwise and a pointwise Conv2d in either order,
// with an optional activation between the two steps.
//
//   depthwise_pointwise (MobileNet, TensorFlow's SeparableConv2D): a KxK depthwise conv
//     with multiplier d takes the stride/dilation/padding, C -> C*d; then a 1x1 conv
//     C*d -> M.
//   pointwise_depthwise (the "extreme Inception" module of Xception, Section 3): a 1x1
//     conv C -> M first, then a KxK depthwise conv (multiplier 1) on the M channels with
//     the stride/dilation/padding.
//
// The mid activation is the Figure 10 ablation of the Xception paper (none, relu, elu;
// relu6 is accepted too). The bias, when on, belongs to the second step (the layer's
// output), as in Keras: a bias before the mid activation is not part of either design.
// Members are Conv2d layers named "<name>.depthwise" and "<name>.pointwise", so
// parameters read "block4_sepconv2.pointwise.weight".
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "kernels/activation_f32.h"
#include "layers/conv2d.h"
#include "layers/param.h"

namespace xcept {

enum class SeparableOrder { depthwise_pointwise, pointwise_depthwise };

const char* separable_order_name(SeparableOrder order);  // "depthwise_pointwise", ...

struct SeparableConv2dOptions {
  int64_t out_channels = 0;
  ConvWindow window = ConvWindow::square(3);  // of the depthwise step, whichever order
  SeparableOrder order = SeparableOrder::depthwise_pointwise;
  Act mid_activation = Act::none();  // trainable (Act::trainable); elu carries its alpha
  int64_t depth_multiplier = 1;  // depthwise_pointwise only; must be 1 otherwise
  bool has_bias = true;          // Keras' default; Xception's blocks turn it off
};

class SeparableConv2d {
 public:
  SeparableConv2d() = default;
  // Throws xcept::Error naming the layer for options that can never work. Weights are
  // Glorot-uniform (see Conv2d) from seeds derived from `seed`, one per member.
  SeparableConv2d(std::string name, int64_t in_channels, const SeparableConv2dOptions& options,
                  uint32_t seed);

  std::string name;
  int64_t in_channels = 0;
  SeparableConv2dOptions options;
  Conv2d depthwise;  // "<name>.depthwise"
  Conv2d pointwise;  // "<name>.pointwise"

  // Stateless, as Conv2d's: forward(x, y) keeps the intermediate (after the mid
  // activation) in a buffer of its own, reused across calls, for backward(x, dy, dx)
  // with the same x. dx may be null. Adds into both members' grad_weight / grad_bias.
  // With `stats`, also the per-channel mean and variance of y (kernels/epilogue.h).
  void forward(const Tensor& x, Tensor& y, OutputStats* stats = nullptr);
  void backward(const Tensor& x, const Tensor& dy, Tensor* dx, BackwardSplit* split = nullptr);

  // Cached: x must be 4-D NHWC with in_channels channels; returns [n][ho][wo][out_channels].
  Tensor forward(const Tensor& x);
  // Returns dx.
  Tensor backward(const Tensor& dy);

  void zero_grad();
  ParamList params();  // the first step's parameters, then the second's

  Conv2d& first_step();  // depthwise or pointwise, by order
  Conv2d& second_step();

 private:
  void check_input(const Tensor& x) const;
  Tensor mid_;  // the first step's output (after the mid activation), kept for backward
  Tensor input_;       // the cached API's copy of x
  bool cached_ = false;
};

// Which seed each member draws its weights from; exposed so tests and checkpoints can
// reproduce one member alone. `member` is 0 for depthwise, 1 for pointwise.
uint32_t separable_member_seed(uint32_t seed, int member);

}  // namespace xcept
