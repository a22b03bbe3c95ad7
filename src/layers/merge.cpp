#include "layers/merge.h"

#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"
#include "layers/layer_checks.h"

namespace xcept {

Dims Add::build(const std::vector<Dims>& inputs, Rng&) {
  expect_at_least_inputs(*this, inputs, 2);
  expect_sizes(*this, inputs[0]);
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i] != inputs[0])
      fail("{}: input {} is {}, input 0 is {}", name(), i, dims_to_string(inputs[i]),
           dims_to_string(inputs[0]));
  return inputs[0];
}

void Add::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const int64_t n = out.numel();
  if (in.size() < 2) fail("{}: {} inputs, Add takes at least 2", name(), in.size());
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i]->numel() != n)
      fail("{}: input {} is {}, output is {}", name(), i, dims_to_string(in[i]->dims()),
           dims_to_string(out.dims()));
  // A chain of two-operand adds, as the runtime lowers an n-input Add: the same kernel in
  // the same order, so both paths give the same bits.
  add_fwd({n}, in[0]->data(), in[1]->data(), out.data());
  for (size_t i = 2; i < in.size(); ++i) add_fwd({n}, out.data(), in[i]->data(), out.data());
}

void Add::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                   const std::vector<Tensor*>& din) {
  const size_t bytes = static_cast<size_t>(dout.numel()) * sizeof(float);
  for (Tensor* dx : din)
    if (dx && dx != &dout && bytes) std::memcpy(dx->data(), dout.data(), bytes);
}

Dims Concat::build(const std::vector<Dims>& inputs, Rng&) {
  expect_at_least_inputs(*this, inputs, 2);
  const Dims& d0 = inputs[0];
  expect_sizes(*this, d0);
  channels_.clear();
  out_channels_ = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Dims& d = inputs[i];
    expect_sizes(*this, d);
    if (d.size() != d0.size() || !std::equal(d.begin(), d.end() - 1, d0.begin()))
      fail(
          "{}: input {} is {}, input 0 is {}; Concat joins the last axis, so the others must "
          "agree",
          name(), i, dims_to_string(d), dims_to_string(d0));
    channels_.push_back(d.back());
    out_channels_ += d.back();
  }
  Dims out = d0;
  out.back() = out_channels_;
  return out;
}

void Concat::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  if (in.size() != channels_.size())
    fail("{}: {} inputs, built with {}", name(), in.size(), channels_.size());
  std::vector<const float*> x;
  for (const Tensor* t : in) x.push_back(t->data());
  concat_fwd({out.numel() / out_channels_, channels_}, x.data(), out.data());
}

void Concat::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                      const std::vector<Tensor*>& din) {
  std::vector<float*> dx;
  for (Tensor* t : din) dx.push_back(t ? t->data() : nullptr);
  concat_bwd({dout.numel() / out_channels_, channels_}, dout.data(), dx.data());
}

}  // namespace xcept
