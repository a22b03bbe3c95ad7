#include "layers/dense.h"

#include <cmath>

#include "core/clock.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "layers/layer_checks.h"

namespace xcept {

Dense::Dense(std::string name, int64_t units, bool use_bias)
    : Layer(std::move(name)), units_(units), use_bias_(use_bias) {
  if (units_ <= 0) fail("{}: Dense units must be positive, got {}", this->name(), units_);
}

Dims Dense::build(const std::vector<Dims>& inputs, Rng& rng) {
  expect_inputs(*this, inputs, 1);
  if (inputs[0].size() != 1)
    fail("{}: Dense expects a vector input, got {} (add Flatten or GlobalAvgPool2D)", name(),
         dims_to_string(inputs[0]));
  expect_sizes(*this, inputs[0]);
  in_ = inputs[0][0];
  checked_mul(in_, units_, name() + " weight");
  weight = Tensor({in_, units_});
  grad_weight = Tensor({in_, units_});
  // Drawn in element order from a SplitMix64 stream seeded by the graph's generator, so a
  // graph seed fixes every layer, on every platform (core/rng.h).
  const double limit = std::sqrt(6.0 / double(in_ + units_));
  SplitMix64 draw(rng());
  for (int64_t i = 0; i < weight.numel(); ++i) weight[i] = float(draw.uniform(-limit, limit));
  if (use_bias_) {
    bias = Tensor({units_});
    grad_bias = Tensor({units_});
  }
  return {units_};
}

ParamList Dense::params() {
  ParamList p{{name() + ".weight", &weight, &grad_weight}};
  if (use_bias_) p.push_back({name() + ".bias", &bias, &grad_bias});
  return p;
}

void Dense::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  if (x.rank() != 2 || x.dim(1) != in_ || out.rank() != 2 || out.dim(0) != x.dim(0) ||
      out.dim(1) != units_)
    fail("{}: input {} does not match the built {} -> {}", name(), dims_to_string(x.dims()), in_,
         units_);
  const int64_t batch = x.dim(0);
  // y[batch][M] = x[batch][N] * W[N][M]
  GemmShape s;
  s.m = batch, s.n = units_, s.k = in_;
  s.lda = in_, s.ldb = units_, s.ldc = units_;
  gemm(s, x.data(), weight.data(), out.data());
  if (use_bias_) {
    float* y = out.data();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < units_; ++j) y[b * units_ + j] += bias[j];
  }
}

void Dense::backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                     const std::vector<Tensor*>& din) {
  const Tensor& x = *in.at(0);
  const int64_t batch = x.dim(0);
  const auto t0 = profiling_ ? Clock::now() : Clock::time_point{};
  // dW[N][M] += x^T[N][batch] * dy[batch][M]   (beta = 1 accumulates)
  GemmShape sw;
  sw.m = in_, sw.n = units_, sw.k = batch;
  sw.trans_a = true;
  sw.lda = in_, sw.ldb = units_, sw.ldc = units_;
  sw.beta = 1.f;
  gemm(sw, x.data(), dout.data(), grad_weight.data());
  if (use_bias_) {
    const float* dy = dout.data();
    for (int64_t j = 0; j < units_; ++j) {
      double acc = 0;
      for (int64_t b = 0; b < batch; ++b) acc += dy[b * units_ + j];
      grad_bias[j] += float(acc);
    }
  }
  if (profiling_)
    backward_weights_ms_ = ms_since(t0);
  if (Tensor* dx = din.at(0)) {
    // dx[batch][N] = dy[batch][M] * W^T[M][N]; W is stored [N][M], i.e. transposed.
    GemmShape sx;
    sx.m = batch, sx.n = in_, sx.k = units_;
    sx.trans_b = true;
    sx.lda = units_, sx.ldb = units_, sx.ldc = in_;
    gemm(sx, dout.data(), weight.data(), dx->data());
  }
}

}  // namespace xcept
