// Classification loss on logits [batch][classes] with integer labels.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace xcept {

// Mean over the batch of the cross-entropy between softmax(logits) and the target
//   t = (1 - s) * onehot(label) + s / classes     (s = label_smoothing, Keras/PyTorch rule)
// computed with the row max subtracted, in double. If `dlogits` is not null it is resized
// to logits' dims and receives dL/dlogits = (softmax - t) / batch.
// Throws xcept::Error for a label outside [0, classes) (naming the label, its index and
// the class count), a label count other than the batch, or s outside [0, 1].
double softmax_cross_entropy(const Tensor& logits, std::span<const int32_t> labels, Tensor* dlogits,
                             float label_smoothing = 0.f);

// log softmax(row / temperature) into out[0..classes), in double, with the row max
// subtracted first (no overflow; the largest term is exactly 1, so the log never sees 0).
void log_softmax(const float* row, int64_t classes, double temperature, double* out);

// How many rows have their largest logit (the first, on ties) at the label's index.
int64_t count_top1_correct(const Tensor& logits, std::span<const int32_t> labels);

}  // namespace xcept
