#include "layers/shape_ops.h"

#include <algorithm>
#include <cstring>

#include "core/threadpool.h"
#include "layers/layer_checks.h"

namespace xcept {

Dims Flatten::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  return {expect_sizes(*this, inputs[0])};
}

// NHWC is already the flattened order: both directions are a copy.
void Flatten::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  if (x.numel() != out.numel())
    fail("{}: input {} and output {} differ in size", name(), dims_to_string(x.dims()),
         dims_to_string(out.dims()));
  if (x.numel()) std::memcpy(out.data(), x.data(), static_cast<size_t>(x.numel()) * sizeof(float));
}

void Flatten::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                       const std::vector<Tensor*>& din) {
  if (Tensor* dx = din.at(0); dx && dout.numel())
    std::memcpy(dx->data(), dout.data(), static_cast<size_t>(dout.numel()) * sizeof(float));
}

ChannelShuffle::ChannelShuffle(std::string name, int64_t groups)
    : Layer(std::move(name)), groups_(groups) {
  if (groups_ <= 0)
    fail("{}: channel-shuffle groups must be positive, got {}", this->name(), groups_);
}

Dims ChannelShuffle::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_sizes(*this, inputs[0]);
  channels_ = inputs[0].back();
  if (channels_ % groups_ != 0)
    fail("{}: input {} has {} channels, not divisible by {} groups", name(),
         dims_to_string(inputs[0]), channels_, groups_);
  return inputs[0];
}

namespace {

// y[j*g + i] = x[i*cpg + j] per row (inverse: swap the roles of g and cpg).
void shuffle_rows(const float* x, float* y, int64_t rows, int64_t g, int64_t cpg) {
  const int64_t c = g * cpg;
  parallel_for(rows, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      for (int64_t j = 0; j < cpg; ++j)
        for (int64_t i = 0; i < g; ++i) yr[j * g + i] = xr[i * cpg + j];
    }
  });
}

}  // namespace

void ChannelShuffle::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  if (x.numel() != out.numel() || x.dims().back() != channels_)
    fail("{}: input {} does not match the built {} channels", name(), dims_to_string(x.dims()),
         channels_);
  shuffle_rows(x.data(), out.data(), x.numel() / channels_, groups_, channels_ / groups_);
}

void ChannelShuffle::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                              const std::vector<Tensor*>& din) {
  // The inverse permutation is the shuffle with [C/g][g] read as the groups.
  if (Tensor* dx = din.at(0))
    shuffle_rows(dout.data(), dx->data(), dout.numel() / channels_, channels_ / groups_, groups_);
}

ChannelSlice::ChannelSlice(std::string name, int64_t begin, int64_t count)
    : Layer(std::move(name)), begin_(begin), count_(count) {
  if (begin_ < 0 || count_ <= 0)
    fail("{}: channel slice [{}, +{}) needs begin >= 0 and count > 0", this->name(), begin_,
         count_);
}

Dims ChannelSlice::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_sizes(*this, inputs[0]);
  channels_ = inputs[0].back();
  if (begin_ + count_ > channels_)
    fail("{}: channels [{}, {}) do not fit in input {}", name(), begin_, begin_ + count_,
         dims_to_string(inputs[0]));
  Dims out = inputs[0];
  out.back() = count_;
  return out;
}

void ChannelSlice::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  const int64_t rows = x.numel() / channels_;
  if (x.dims().back() != channels_ || out.numel() != rows * count_)
    fail("{}: input {} / output {} do not match the built {} -> {} channels", name(),
         dims_to_string(x.dims()), dims_to_string(out.dims()), channels_, count_);
  const float* xp = x.data() + begin_;
  float* yp = out.data();
  const int64_t c = channels_, k = count_;
  parallel_for(rows, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) std::copy_n(xp + r * c, k, yp + r * k);
  });
}

void ChannelSlice::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                            const std::vector<Tensor*>& din) {
  Tensor* dx = din.at(0);
  if (!dx) return;
  const int64_t c = channels_, k = count_, b0 = begin_, rows = dout.numel() / k;
  const float* dy = dout.data();
  float* d = dx->data();
  parallel_for(rows, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float* row = d + r * c;
      std::fill(row, row + b0, 0.f);
      std::copy_n(dy + r * k, k, row + b0);
      std::fill(row + b0 + k, row + c, 0.f);
    }
  });
}

}  // namespace xcept
