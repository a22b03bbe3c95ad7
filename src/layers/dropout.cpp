#include "layers/dropout.h"

#include <cstring>

#include "layers/layer_checks.h"

namespace xcept {

Dropout::Dropout(std::string name, float rate, uint64_t seed)
    : Layer(std::move(name)), rate_(rate), gen_(seed) {
  if (!(rate_ >= 0.f && rate_ < 1.f))
    fail("{}: dropout rate must be in [0, 1), got {}", this->name(), rate_);
}

Dims Dropout::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_sizes(*this, inputs[0]);
  return inputs[0];
}

void Dropout::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) {
  const Tensor& x = *in.at(0);
  const int64_t n = x.numel();
  if (out.numel() != n)
    fail("{}: input {} and output {} differ in size", name(), dims_to_string(x.dims()),
         dims_to_string(out.dims()));
  if (!training || rate_ == 0.f) {
    mask_.clear();
    if (n) std::memcpy(out.data(), x.data(), static_cast<size_t>(n) * sizeof(float));
    return;
  }
  // u in [0, 1) from the top 53 bits: the same on every platform, unlike
  // std::uniform_real_distribution whose algorithm the standard leaves open.
  const double rate = rate_;
  const float keep_scale = float(1.0 / (1.0 - rate));
  mask_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double u = double(gen_() >> 11) * 0x1.0p-53;
    mask_[i] = u < rate ? 0.f : keep_scale;
  }
  const float* xp = x.data();
  float* yp = out.data();
  for (int64_t i = 0; i < n; ++i) yp[i] = xp[i] * mask_[i];
}

void Dropout::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                       const std::vector<Tensor*>& din) {
  Tensor* dx = din.at(0);
  if (!dx) return;
  const int64_t n = dout.numel();
  if (mask_.empty()) {
    if (n && dx != &dout)
      std::memcpy(dx->data(), dout.data(), static_cast<size_t>(n) * sizeof(float));
    return;
  }
  if (int64_t(mask_.size()) != n) fail("{}: backward does not match the last forward", name());
  for (int64_t i = 0; i < n; ++i) (*dx)[i] = dout[i] * mask_[i];
}

}  // namespace xcept
