// An elementwise activation as a graph node: relu, relu6 or elu (none = identity), any
// shape. The math lives in kernels/activation_f32.h; its backward reads the forward
// OUTPUT, which the graph keeps anyway, so this layer stores nothing.
#pragma once

#include "kernels/activation_f32.h"
#include "layers/layer.h"

namespace xcept {

class ActivationLayer : public Layer {
 public:
  // alpha is elu's negative saturation (Keras default 1) and must be > 0.
  ActivationLayer(std::string name, Activation kind, float alpha = 1.0f);
  const char* type() const override { return "Activation"; }

  Activation kind() const { return kind_; }
  bool is_activation(Activation* kind) const override {
    *kind = kind_;
    return true;
  }
  float alpha() const { return alpha_; }

  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  bool backward_in_place() const override { return true; }

 private:
  Activation kind_;
  float alpha_;
};

}  // namespace xcept
