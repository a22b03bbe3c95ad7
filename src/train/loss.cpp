#include "train/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace xcept {
namespace {

void check(const char* what, const Tensor& logits, std::span<const int32_t> labels) {
  if (logits.rank() != 2 || logits.dim(1) <= 0)
    fail("{}: logits must be [batch][classes], got {}", what, dims_to_string(logits.dims()));
  const int64_t batch = logits.dim(0), classes = logits.dim(1);
  if (int64_t(labels.size()) != batch)
    fail("{}: {} labels for a batch of {}", what, labels.size(), batch);
  for (int64_t i = 0; i < batch; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      fail("{}: label {} at index {} is outside [0, {}) classes", what, labels[i], i, classes);
}

}  // namespace

double softmax_cross_entropy(const Tensor& logits, std::span<const int32_t> labels, Tensor* dlogits,
                             float label_smoothing) {
  check("softmax_cross_entropy", logits, labels);
  if (!(label_smoothing >= 0.f && label_smoothing <= 1.f))
    fail("softmax_cross_entropy: label smoothing must be in [0, 1], got {}", label_smoothing);
  const int64_t batch = logits.dim(0), classes = logits.dim(1);
  if (dlogits && dlogits->dims() != logits.dims()) *dlogits = Tensor(logits.dims());
  const double s = label_smoothing;
  const double off = s / double(classes);  // target of every class but the label's, and
  const double on = 1.0 - s + off;         // of the label's
  std::vector<double> lp(static_cast<size_t>(classes));
  double total = 0;
  for (int64_t b = 0; b < batch; ++b) {
    log_softmax(logits.data() + b * classes, classes, 1.0, lp.data());
    const int32_t label = labels[b];
    double loss = 0;
    for (int64_t k = 0; k < classes; ++k) {
      const double t = k == label ? on : off;
      if (t != 0) loss -= t * lp[k];
    }
    total += loss;
    if (dlogits) {
      float* g = dlogits->data() + b * classes;
      for (int64_t k = 0; k < classes; ++k) {
        const double t = k == label ? on : off;
        g[k] = float((std::exp(lp[k]) - t) / double(batch));
      }
    }
  }
  return batch ? total / double(batch) : 0.0;
}

void log_softmax(const float* row, int64_t classes, double temperature, double* out) {
  double mx = row[0];
  for (int64_t k = 1; k < classes; ++k) mx = std::max(mx, double(row[k]));
  // log softmax_k = (x_k - max)/T - log(sum exp((x_j - max)/T)): every exponent <= 0.
  double sum = 0;
  for (int64_t k = 0; k < classes; ++k) {
    out[k] = (double(row[k]) - mx) / temperature;
    sum += std::exp(out[k]);
  }
  const double log_sum = std::log(sum);
  for (int64_t k = 0; k < classes; ++k) out[k] -= log_sum;
}

int64_t count_top1_correct(const Tensor& logits, std::span<const int32_t> labels) {
  check("count_top1_correct", logits, labels);
  const int64_t batch = logits.dim(0), classes = logits.dim(1);
  int64_t correct = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = logits.data() + b * classes;
    int64_t best = 0;
    for (int64_t k = 1; k < classes; ++k)
      if (row[k] > row[best]) best = k;
    correct += best == labels[b];
  }
  return correct;
}

}  // namespace xcept
