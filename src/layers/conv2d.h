// A 2-D convolution layer on float NHWC tensors: forward, backward, parameters.
//
// One class covers normal, grouped, depthwise and pointwise convolution (they differ only
// in ConvParams); the factory functions below say which one a model means. Compute goes
// through the dispatching entry points of kernels/kernels.h, so the fastest kernel row
// the CPU and shape allow runs.
//
// Tensors: x [n][h][w][c], y [n][ho][wo][m]; weight HWIO [kh][kw][c/groups][m]; bias [m].
// Two ways to call it:
//   - stateless, what graph layers use: forward(x, y) writes y (resized only when its dims
//     differ, so a buffer is reused step after step) and backward(x, dy, dx) is given the
//     same x again. Nothing is copied and nothing is allocated once the buffers exist.
//   - cached, for standalone use: forward(x) keeps x and returns y; backward(dy) returns dx.
// Backward ADDS dL/dweight and dL/dbias into grad_weight / grad_bias (the kernels
// accumulate in place; call zero_grad() between steps).
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "kernels/conv_shape.h"
#include "kernels/epilogue.h"
#include "layers/param.h"

namespace xcept {

// The spatial part of a convolution: window, stride, dilation, padding.
struct ConvWindow {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  Padding padding;

  static ConvWindow square(int64_t kernel, int64_t stride = 1,
                           Padding padding = Padding::valid(), int64_t dilation = 1) {
    return {kernel, kernel, stride, stride, dilation, dilation, padding};
  }
  ConvParams with(int64_t out_channels, int64_t groups) const {
    return {out_channels, kernel_h, kernel_w, stride_h,   stride_w,
            dilation_h,   dilation_w, padding, groups};
  }
};

// Where a backward pass spent its time, when the caller asks (profiling).
struct BackwardSplit {
  double data_ms = 0, weights_ms = 0;
};

// Fills `t` from U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio
// 2010), drawing in element order from SplitMix64(seed) (core/rng.h): a seed gives the
// same weights on every platform.
void glorot_uniform_fill(Tensor& t, int64_t fan_in, int64_t fan_out, uint32_t seed);

class Conv2d {
 public:
  Conv2d() = default;
  // Weights are Glorot-uniform with the per-group fans of one output unit:
  // fan_in = kh*kw*c/groups, fan_out = kh*kw*m/groups; bias is zero. Keras computes fans
  // from its kernel tensor instead, which differs for grouped (fan_out = kh*kw*m) and
  // depthwise (fan_in = kh*kw*c, fan_out = kh*kw*multiplier) layers; to match Keras
  // exactly, refill `weight` with glorot_uniform_fill. Throws xcept::Error naming the
  // layer when `config` can never fit an input (bad sizes, groups not dividing).
  Conv2d(std::string name, int64_t in_channels, const ConvParams& config, bool has_bias,
         uint32_t seed);

  std::string name;
  ConvParams config;
  int64_t in_channels = 0;
  bool has_bias = false;
  Tensor weight, bias;            // bias is empty when !has_bias
  Tensor grad_weight, grad_bias;  // same dims as weight, bias

  // x must be 4-D NHWC with in_channels channels; errors name the layer and the shapes.
  // With `stats`, also the per-channel mean and variance of y (kernels/epilogue.h).
  void forward(const Tensor& x, Tensor& y, OutputStats* stats = nullptr);
  // x as given to forward, dy with the dims of y; dx (resized to x's dims when they
  // differ) may be null when no input gradient is wanted.
  // With `split`, adds the time of each part to it.
  void backward(const Tensor& x, const Tensor& dy, Tensor* dx, BackwardSplit* split = nullptr);

  Tensor forward(const Tensor& x);
  Tensor forward(Tensor&& x);  // same, but keeps x itself as the cache instead of a copy
  // dy must have the dims forward returned. Returns dx (dims of the forward input).
  Tensor backward(const Tensor& dy);

  void zero_grad();
  ParamList params();  // "<name>.weight" and, with bias, "<name>.bias"

  // What the last forward saw: its input (the cache) and resolved shape.
  const Tensor& input() const { return input_; }
  const ConvShape& shape() const { return shape_; }

 private:
  ConvShape check_input(const Tensor& x) const;

  Tensor input_;
  ConvShape shape_;
  bool cached_ = false;
};

// Factories: the name of the function is the kind of convolution.
Conv2d normal_conv2d(std::string name, int64_t in_channels, int64_t out_channels,
                     const ConvWindow& window, bool has_bias, uint32_t seed);
// groups must divide both in_channels and out_channels.
Conv2d grouped_conv2d(std::string name, int64_t in_channels, int64_t out_channels,
                      int64_t groups, const ConvWindow& window, bool has_bias, uint32_t seed);
// groups = channels, out = channels * multiplier; weight [kh][kw][1][channels*multiplier].
Conv2d depthwise_conv2d(std::string name, int64_t channels, int64_t multiplier,
                        const ConvWindow& window, bool has_bias, uint32_t seed);
// 1x1, stride 1, no padding: a per-pixel matrix multiply c -> out_channels.
Conv2d pointwise_conv2d(std::string name, int64_t in_channels, int64_t out_channels,
                        bool has_bias, uint32_t seed);

}  // namespace xcept
