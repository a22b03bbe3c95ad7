#include "layers/merge.h"

#include <algorithm>
#include <cstring>

#include "core/threadpool.h"
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
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i]->numel() != n)
      fail("{}: input {} is {}, output is {}", name(), i, dims_to_string(in[i]->dims()),
           dims_to_string(out.dims()));
  float* y = out.data();
  parallel_for(n, int64_t{1} << 16, [&](int64_t b, int64_t e) {
    const float* x0 = in[0]->data();
    for (int64_t j = b; j < e; ++j) y[j] = x0[j];
    for (size_t i = 1; i < in.size(); ++i) {
      const float* x = in[i]->data();
      for (int64_t j = b; j < e; ++j) y[j] += x[j];
    }
  });
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
  const int64_t rows = out.numel() / out_channels_;
  float* y = out.data();
  parallel_for(rows, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float* dst = y + r * out_channels_;
      for (size_t i = 0; i < in.size(); ++i) {
        const int64_t c = channels_[i];
        std::memcpy(dst, in[i]->data() + r * c, static_cast<size_t>(c) * sizeof(float));
        dst += c;
      }
    }
  });
}

void Concat::backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                      const std::vector<Tensor*>& din) {
  const int64_t rows = dout.numel() / out_channels_;
  const float* dy = dout.data();
  parallel_for(rows, 1024, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* src = dy + r * out_channels_;
      for (size_t i = 0; i < din.size(); ++i) {
        const int64_t c = channels_[i];
        if (din[i])
          std::memcpy(din[i]->data() + r * c, src, static_cast<size_t>(c) * sizeof(float));
        src += c;
      }
    }
  });
}

}  // namespace xcept
