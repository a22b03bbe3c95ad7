// Batch normalization over the last (channel) axis, with Keras semantics.
//
//   training:  y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta, with mean_B and the
//              biased var_B taken over every position of the batch (N*H*W values per
//              channel); then moving = m * moving + (1 - m) * batch, where the t-th
//              update (t = 1, 2, ...) uses m = min(momentum, 1 - 1/t).
//
// Why m is not simply Keras's momentum: with 0.99 the moving averages keep 0.99^t of
// their initial 0 and 1, so a run of 60 steps trained to 72% evaluated at 11%. With
// m = 1 - 1/t the first 1/(1 - momentum) updates (100 at 0.99) give the plain average of
// the batches seen so far, which a short run can trust; from then on m = momentum and
// the update is Keras's. The count of updates is the layer's; the trainer restores it
// on resume (restore_step) from the checkpoint's step, one update per training step.
//   inference: the same with moving_mean / moving_variance in place of the batch's.
//
// The moving variance is updated with the BIASED batch variance (divide by N*H*W), as
// Keras 3 and the non-fused tf.keras path do. TF2's fused kernel and PyTorch update it with
// the unbiased one (times M/(M-1)); for Xception-sized maps (M in the thousands) the two
// differ by well under 0.1%, but golden comparisons against those need the factor.
//
// params() lists four tensors of C, Keras's order and names: <name>.gamma, .beta
// (trainable), .moving_mean, .moving_variance (grad == nullptr). Keras counts all four as
// parameters. Initial values: gamma 1, beta 0, moving_mean 0, moving_variance 1.
#pragma once

#include <vector>

#include "kernels/activation_f32.h"
#include "layers/layer.h"

namespace xcept {

struct BatchNormOptions {
  float momentum = 0.99f;
  float epsilon = 1e-3f;
};

class BatchNorm : public Layer {
 public:
  explicit BatchNorm(std::string name, BatchNormOptions options = {});
  const char* type() const override { return "BatchNorm"; }

  // Any per-image shape; normalizes the last axis.
  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  // Differentiates the mode of the last forward: in training the batch statistics depend
  // on every input, so dx has the two extra mean terms; in inference BN is affine.
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  ParamList params() override;  // "<name>.gamma", ...
  void restore_step(int64_t steps) override { updates_ = steps; }
  // Synchronized batch norm: in training, mean and variance over every replica's batch
  // (one sum of 2c+1 doubles in forward), and dx's two mean terms likewise (one of 2c in
  // backward); gamma's and beta's gradients stay this replica's share.
  void sync_batch_statistics(CrossReplicaSum* sum) override { sync_ = sum; }

  // A relu or relu6 that follows this batch norm, applied to its output in the same pass
  // (forward) and differentiated from that output (backward); none by default. The graph
  // sets it when the activation is the batch norm's only reader (autograd/graph.h).
  // Accepts none, relu and relu6 (an activation whose output gives its derivative).
  bool fuse_activation(Act act) override;
  // dx is computed after the sums over dy, element by element: in place.
  bool backward_in_place() const override { return true; }
  // A training forward uses the statistics its input's producer left here, when fresh.
  StatsSink* input_stats_sink() override { return &input_stats_; }
  Act fused_activation() const { return fused_; }
  int64_t updates() const { return updates_; }  // training forwards so far

  const BatchNormOptions& options() const { return options_; }
  int64_t channels() const { return channels_; }

  Tensor gamma, beta, moving_mean, moving_variance;
  Tensor grad_gamma, grad_beta;

 private:
  BatchNormOptions options_;
  int64_t channels_ = 0;
  bool forward_done_ = false;
  bool last_training_ = false;
  int64_t updates_ = 0;
  CrossReplicaSum* sync_ = nullptr;
  StatsSink input_stats_;
  int64_t stat_rows_ = 0;  // rows the last training statistics were taken over, all replicas
  Act fused_ = Act::none();
  void combine_replicas(int64_t rows, std::vector<float>& var);
  void set_affine(const float* mean, const float* var);  // scale_, shift_ and inv_std_
  // Statistics the last forward normalized with (batch or moving), and the scale and
  // shift it applied, for backward.
  std::vector<float> mean_, inv_std_, scale_, shift_;
};

}  // namespace xcept
