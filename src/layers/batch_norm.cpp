#include "layers/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"
#include "layers/cross_replica.h"
#include "layers/layer_checks.h"

namespace xcept {
BatchNorm::BatchNorm(std::string name, BatchNormOptions options)
    : Layer(std::move(name)), options_(options) {
  if (!(options_.momentum >= 0.f && options_.momentum <= 1.f))
    fail("{}: batch-norm momentum must be in [0, 1], got {}", this->name(), options_.momentum);
  if (!(options_.epsilon > 0.f))
    fail("{}: batch-norm epsilon must be > 0, got {}", this->name(), options_.epsilon);
}

Dims BatchNorm::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_sizes(*this, inputs[0]);
  channels_ = inputs[0].back();
  gamma = Tensor({channels_});
  gamma.fill(1.f);
  beta = Tensor({channels_});
  moving_mean = Tensor({channels_});
  moving_variance = Tensor({channels_});
  moving_variance.fill(1.f);
  updates_ = 0;  // fresh statistics, fresh count
  grad_gamma = Tensor({channels_});
  grad_beta = Tensor({channels_});
  return inputs[0];
}

ParamList BatchNorm::params() {
  return {{name() + ".gamma", &gamma, &grad_gamma},
          {name() + ".beta", &beta, &grad_beta},
          {name() + ".moving_mean", &moving_mean, nullptr},
          {name() + ".moving_variance", &moving_variance, nullptr}};
}

// y = act(x * scale + shift) with the fold the inference runtime uses
// (kernels/kernels.h batch_norm_fold); backward also needs 1/sqrt(var + eps).
void BatchNorm::set_affine(const float* mean, const float* var) {
  const int64_t c = channels_;
  scale_.resize(size_t(c));
  shift_.resize(size_t(c));
  batch_norm_fold(c, gamma.data(), beta.data(), mean, var, options_.epsilon, scale_.data(),
                  shift_.data(), inv_std_.data());
}

void BatchNorm::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) {
  const Tensor& x = *in.at(0);
  const int64_t c = channels_;
  if (x.rank() < 2 || x.dims().back() != c || out.numel() != x.numel())
    fail("{}: input {} does not match the {} channels built", name(), dims_to_string(x.dims()), c);
  const BatchNormShape s{x.numel() / c, c};
  mean_.resize(size_t(c));
  inv_std_.resize(size_t(c));
  if (training) {
    std::vector<float> var(static_cast<size_t>(c));
    if (input_stats_.fresh && int64_t(input_stats_.mean.size()) == c) {
      // Taken by the producing layer while its output was in cache.
      std::copy(input_stats_.mean.begin(), input_stats_.mean.end(), mean_.begin());
      std::copy(input_stats_.var.begin(), input_stats_.var.end(), var.begin());
    } else {
      batch_norm_stats(s, x.data(), mean_.data(), var.data());
    }
    input_stats_.fresh = false;
    stat_rows_ = s.rows;
    if (sync_) combine_replicas(s.rows, var);
    ++updates_;
    const double mom = std::min(double(options_.momentum), 1.0 - 1.0 / double(updates_));
    for (int64_t ch = 0; ch < c; ++ch) {
      const double v = var[size_t(ch)];  // biased: see the header
      moving_mean[ch] = float(mom * moving_mean[ch] + (1.0 - mom) * mean_[size_t(ch)]);
      moving_variance[ch] = float(mom * moving_variance[ch] + (1.0 - mom) * v);
    }
    set_affine(mean_.data(), var.data());
  } else {
    std::copy(moving_mean.data(), moving_mean.data() + c, mean_.begin());
    set_affine(moving_mean.data(), moving_variance.data());
  }
  batch_norm_fwd(s, x.data(), scale_.data(), shift_.data(), fused_, out.data());
  forward_done_ = true;
  last_training_ = training;
}

void BatchNorm::backward(const std::vector<const Tensor*>& in, const Tensor& /*out*/,
                         const Tensor& dout, const std::vector<Tensor*>& din) {
  if (!forward_done_) fail("{}: backward before forward", name());
  const Tensor& x = *in.at(0);
  BatchNormBackward b;
  b.x = x.data();
  b.dy = dout.data();
  b.scale = scale_.data();
  b.shift = shift_.data();
  b.mean = mean_.data();
  b.inv_std = inv_std_.data();
  b.gamma = gamma.data();
  b.act = fused_;
  b.training = last_training_;
  b.grad_gamma = grad_gamma.data();
  b.grad_beta = grad_beta.data();
  b.dx = din.at(0) ? din[0]->data() : nullptr;
  if (sync_ && last_training_) {
    b.stat_rows = stat_rows_;
    b.combine_sums = [this](double* sums) { sync_->sum(sums, 2 * channels_); };
  }
  batch_norm_bwd({x.numel() / channels_, channels_}, b);
}

// Every replica's (rows, mean, biased variance) -> the global batch's, through sums of
// n, n*mean and n*(var + mean^2) in double: the variance is E[x^2] - mean^2, which
// cancels only when |mean| exceeds the standard deviation by ~2^14, far past anything
// batch norm sees with float data.
void BatchNorm::combine_replicas(int64_t rows, std::vector<float>& var) {
  const int64_t c = channels_;
  std::vector<double> s(size_t(1 + 2 * c));
  s[0] = double(rows);
  for (int64_t j = 0; j < c; ++j) {
    const double n = double(rows), m = mean_[size_t(j)], v = var[size_t(j)];
    s[size_t(1 + j)] = n * m;
    s[size_t(1 + c + j)] = n * (v + m * m);
  }
  sync_->sum(s.data(), int64_t(s.size()));
  stat_rows_ = int64_t(s[0]);
  const double n = std::max(s[0], 1.0);
  for (int64_t j = 0; j < c; ++j) {
    const double m = s[size_t(1 + j)] / n;
    mean_[size_t(j)] = float(m);
    var[size_t(j)] = float(std::max(s[size_t(1 + c + j)] / n - m * m, 0.0));
  }
}

bool BatchNorm::fuse_activation(Act act) {
  if (act != Act::none() && act != Act::relu() && act != Act::relu6())
    return false;
  fused_ = act;
  return true;
}

}  // namespace xcept
