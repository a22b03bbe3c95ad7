#include "layers/activation.h"

#include "layers/layer_checks.h"

namespace xcept {

ActivationLayer::ActivationLayer(std::string name, Act act)
    : Layer(std::move(name)), act_(act) {
  if (!act_.trainable())
    fail("{}: activation {} (alpha {}) cannot be trained: the layers take none, relu, relu6 "
         "and elu with alpha > 0",
         this->name(), act_name(act_), act_.a);
}

Dims ActivationLayer::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_sizes(*this, inputs[0]);
  return inputs[0];
}

void ActivationLayer::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  if (x.numel() != out.numel())
    fail("{}: input {} and output {} differ in size", name(), dims_to_string(x.dims()),
         dims_to_string(out.dims()));
  activation_fwd_f32(act_, x.data(), out.data(), x.numel());
}

void ActivationLayer::backward(const std::vector<const Tensor*>&, const Tensor& out,
                               const Tensor& dout, const std::vector<Tensor*>& din) {
  if (Tensor* dx = din.at(0))
    activation_bwd_f32(act_, out.data(), dout.data(), dx->data(), out.numel());
}

}  // namespace xcept
