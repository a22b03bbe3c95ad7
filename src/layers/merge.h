// Nodes that join branches: Add (residual connections, any number of same-shape inputs)
// and Concat (along the last, channel axis: Inception branches; inputs may differ only
// in that axis, and their channels follow in input order).
#pragma once

#include "layers/layer.h"

namespace xcept {

class Add : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Add"; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;  // >= 2 inputs
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  // Every input's gradient is dout: the first input takes dout's buffer itself.
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  bool backward_in_place() const override { return true; }
};

class Concat : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Concat"; }
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;  // >= 2 inputs
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;

 private:
  std::vector<int64_t> channels_;  // per input
  int64_t out_channels_ = 0;
};

}  // namespace xcept
