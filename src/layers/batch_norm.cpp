#include "layers/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "core/threadpool.h"
#include "layers/layer_checks.h"

namespace xcept {
namespace {

// Rows (positions) per reduction chunk. Per-channel sums are taken chunk by chunk into
// separate partials and added in chunk order, so the result is the same bit for bit
// whatever the thread count; doubles keep a 300k-position sum from losing digits.
constexpr int64_t kRowChunk = 2048;

// total[k*c + ch] = sum over rows of the k-th quantity body adds for channel ch.
// body(r0, r1, acc) adds rows [r0, r1) into acc (k*c doubles, zeroed).
template <typename Body>
void reduce_rows(int64_t rows, int64_t c, int k, std::vector<double>& total, Body body) {
  const int64_t chunks = (rows + kRowChunk - 1) / kRowChunk;
  const size_t width = static_cast<size_t>(k * c);
  std::vector<double> partial(static_cast<size_t>(chunks) * width, 0.0);
  parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch)
      body(ch * kRowChunk, std::min(rows, (ch + 1) * kRowChunk), &partial[ch * width]);
  });
  total.assign(width, 0.0);
  for (int64_t ch = 0; ch < chunks; ++ch)
    for (size_t i = 0; i < width; ++i) total[i] += partial[ch * width + i];
}

template <typename Body>
void for_rows(int64_t rows, Body body) {
  parallel_for(rows, kRowChunk, [&](int64_t b, int64_t e) { body(b, e); });
}

}  // namespace

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

void BatchNorm::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) {
  const Tensor& x = *in.at(0);
  const int64_t c = channels_;
  if (x.rank() < 2 || x.dims().back() != c || out.numel() != x.numel())
    fail("{}: input {} does not match the {} channels built", name(), dims_to_string(x.dims()), c);
  const int64_t rows = x.numel() / c;
  const float* xp = x.data();
  mean_.assign(c, 0.f);
  inv_std_.assign(c, 0.f);

  if (training) {
    std::vector<double> sum, sq;
    reduce_rows(rows, c, 1, sum, [&](int64_t r0, int64_t r1, double* acc) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t ch = 0; ch < c; ++ch) acc[ch] += xp[r * c + ch];
    });
    std::vector<double> mean(c);
    for (int64_t ch = 0; ch < c; ++ch) mean[ch] = sum[ch] / double(rows);
    // Second pass about the mean: E[x^2] - E[x]^2 cancels badly for large means.
    reduce_rows(rows, c, 1, sq, [&](int64_t r0, int64_t r1, double* acc) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t ch = 0; ch < c; ++ch) {
          const double d = xp[r * c + ch] - mean[ch];
          acc[ch] += d * d;
        }
    });
    ++updates_;
    const double mom = std::min(double(options_.momentum), 1.0 - 1.0 / double(updates_));
    for (int64_t ch = 0; ch < c; ++ch) {
      const double var = sq[ch] / double(rows);  // biased: see the header
      mean_[ch] = float(mean[ch]);
      inv_std_[ch] = float(1.0 / std::sqrt(var + double(options_.epsilon)));
      moving_mean[ch] = float(mom * moving_mean[ch] + (1.0 - mom) * mean[ch]);
      moving_variance[ch] = float(mom * moving_variance[ch] + (1.0 - mom) * var);
    }
  } else {
    for (int64_t ch = 0; ch < c; ++ch) {
      mean_[ch] = moving_mean[ch];
      inv_std_[ch] = float(1.0 / std::sqrt(double(moving_variance[ch]) + double(options_.epsilon)));
    }
  }

  // y = x * scale + shift, scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
  std::vector<float> scale(c), shift(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    scale[ch] = gamma[ch] * inv_std_[ch];
    shift[ch] = beta[ch] - mean_[ch] * scale[ch];
  }
  float* yp = out.data();
  for_rows(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t ch = 0; ch < c; ++ch) yp[r * c + ch] = xp[r * c + ch] * scale[ch] + shift[ch];
  });
  forward_done_ = true;
  last_training_ = training;
}

void BatchNorm::backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                         const std::vector<Tensor*>& din) {
  if (!forward_done_) fail("{}: backward before forward", name());
  const Tensor& x = *in.at(0);
  const int64_t c = channels_;
  const int64_t rows = x.numel() / c;
  const float* xp = x.data();
  const float* dyp = dout.data();
  const float* mean = mean_.data();
  const float* inv_std = inv_std_.data();

  // sums[ch] = sum dy, sums[c + ch] = sum dy * xhat
  std::vector<double> sums;
  reduce_rows(rows, c, 2, sums, [&](int64_t r0, int64_t r1, double* acc) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float dy = dyp[r * c + ch];
        const float xhat = (xp[r * c + ch] - mean[ch]) * inv_std[ch];
        acc[ch] += dy;
        acc[c + ch] += double(dy) * xhat;
      }
  });
  for (int64_t ch = 0; ch < c; ++ch) {
    grad_beta[ch] += float(sums[ch]);
    grad_gamma[ch] += float(sums[c + ch]);
  }

  Tensor* dx = din.at(0);
  if (!dx) return;
  float* dxp = dx->data();
  std::vector<float> k(c), mean_dy(c, 0.f), mean_dyx(c, 0.f);
  for (int64_t ch = 0; ch < c; ++ch) {
    k[ch] = gamma[ch] * inv_std[ch];
    if (last_training_) {
      // dx = gamma*inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)): the mean and the
      // variance of the batch move with every x.
      mean_dy[ch] = float(sums[ch] / double(rows));
      mean_dyx[ch] = float(sums[c + ch] / double(rows));
    }
  }
  for_rows(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float xhat = (xp[r * c + ch] - mean[ch]) * inv_std[ch];
        dxp[r * c + ch] = k[ch] * (dyp[r * c + ch] - mean_dy[ch] - xhat * mean_dyx[ch]);
      }
  });
}

}  // namespace xcept
