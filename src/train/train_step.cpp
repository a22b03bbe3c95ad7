#include "train/train_step.h"

#include <cmath>

#include "core/error.h"
#include "train/data_parallel.h"
#include "train/loss.h"

namespace xcept {

constexpr double kDivergedLoss = 1e6;

StepResult train_step(Graph& graph, Optimizer& optimizer, const Tensor& images,
                      std::span<const int32_t> labels, double lr, float label_smoothing,
                      Tensor& dlogits, DataParallel* dp, int64_t global_batch) {
  return train_step(
      graph, optimizer, images, labels, lr,
      [&](const Tensor& logits, Tensor& d) {
        return softmax_cross_entropy(logits, labels, &d, label_smoothing);
      },
      dlogits, dp, global_batch);
}

StepResult train_step(Graph& graph, Optimizer& optimizer, const Tensor& images,
                      std::span<const int32_t> labels, double lr, const LossFn& loss,
                      Tensor& dlogits, DataParallel* dp, int64_t global_batch) {
  graph.zero_grad();
  const Tensor& logits = graph.forward(images, true);
  StepResult r;
  r.loss = loss(logits, dlogits);
  // A cross-entropy of 1e6 gives the true class a probability of e^-1000000: the softmax
  // has saturated and the run has diverged as surely as with a NaN.
  if (!std::isfinite(r.loss) || r.loss > kDivergedLoss)
    fail("the loss is {} (training diverged; try a lower lr)", r.loss);
  r.correct = count_top1_correct(logits, labels);
  if (dp) {
    const float share = float(double(labels.size()) / double(global_batch));
    float* d = dlogits.data();
    for (int64_t i = 0; i < dlogits.numel(); ++i) d[i] *= share;
    dp->begin_backward();
  }
  graph.backward(dlogits);
  if (dp) dp->finish_backward();
  optimizer.step(graph.params(), lr);
  return r;
}

}  // namespace xcept
