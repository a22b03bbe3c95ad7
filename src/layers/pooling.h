// Spatial pooling on NHWC maps: MaxPool2D, AvgPool2D (window, stride, valid/same padding
// with TensorFlow's rule, or PyTorch's symmetric padding and ceil_mode) and
// GlobalAvgPool2D ({H,W,C} -> {C}).
//
// Padding never enters a result: max pooling takes the max of the taps inside the input,
// average pooling divides by the number of those taps (TF/Keras; PyTorch's default
// count_include_pad=True would divide by the full window instead). With 'same', every
// window holds at least one real tap, so neither is ever empty.
// Ties in max pooling send the whole gradient to the first maximal tap in window order
// (row-major), as TF does; backward recomputes that choice from the input, so nothing
// is stored between forward and backward.
#pragma once

#include "kernels/conv_shape.h"
#include "layers/layer.h"

namespace xcept {

struct PoolWindow {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  PadMode padding = PadMode::valid;  // valid, same, or explicit_pads (PyTorch's rule below)
  // explicit_pads: PyTorch's nn.MaxPool2d(padding=(pad_h, pad_w), ceil_mode): pad_h rows
  // before and after (at most half the window), and with ceil_mode the output length
  // rounded up instead of down, the extra window reaching into padding at the end (but
  // starting inside the input or the leading padding). SqueezeNet's pools are
  // 3x3 stride 2 with ceil_mode, ShuffleNet's 3x3 stride 2 with padding 1.
  int64_t pad_h = 0, pad_w = 0;
  bool ceil_mode = false;

  // Keras's default stride is the pool size.
  static PoolWindow square(int64_t kernel, int64_t stride, PadMode padding = PadMode::valid) {
    return {kernel, kernel, stride, stride, padding};
  }
  static PoolWindow torch(int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode = false) {
    return {kernel, kernel, stride, stride, PadMode::explicit_pads, pad, pad, ceil_mode};
  }
};

// What max and average pooling share: the window and the resolved geometry.
class Pool2D : public Layer {
 public:
  Pool2D(std::string name, const PoolWindow& window);
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  const PoolWindow& window() const { return window_; }
  // The window as the kernel table's pooling rows take it, for a batch of `batch` of the
  // built input (after build).
  // Its pads are resolved (explicit), so readers never redo the padding rule.
  ConvShape window_shape(int64_t batch) const;

 protected:
  // The window for x, checking x and y against the built dims.
  ConvShape checked_shape(const Tensor& x, const Tensor& y) const;

  PoolWindow window_;
  int64_t h_ = 0, w_ = 0, c_ = 0, ho_ = 0, wo_ = 0;
  AxisPads pads_h_, pads_w_;  // resolved at build
};

class MaxPool2D : public Pool2D {
 public:
  using Pool2D::Pool2D;
  const char* type() const override { return "MaxPool2D"; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
};

class AvgPool2D : public Pool2D {
 public:
  using Pool2D::Pool2D;
  const char* type() const override { return "AvgPool2D"; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
};

class GlobalAvgPool2D : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "GlobalAvgPool2D"; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;

 private:
  int64_t h_ = 0, w_ = 0, c_ = 0;
};

}  // namespace xcept
