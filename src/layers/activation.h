// An elementwise activation as a graph node: relu, relu6 or elu (none = identity), any
// shape. The math lives in kernels/activation_f32.h; its backward reads the forward
// OUTPUT, which the graph keeps anyway, so this layer stores nothing.
#pragma once

#include "kernels/activation_f32.h"
#include "layers/layer.h"

namespace xcept {

class ActivationLayer : public Layer {
 public:
  // A trainable Act (Act::trainable: elu's alpha, Keras' default 1, must be > 0).
  ActivationLayer(std::string name, Act act);
  const char* type() const override { return "Activation"; }

  const Act& act() const { return act_; }
  bool is_activation(Act* act) const override {
    *act = act_;
    return true;
  }

  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  bool backward_in_place() const override { return true; }

 private:
  Act act_;
};

}  // namespace xcept
