// Knowledge distillation (Hinton, Vinyals and Dean 2015): a student learns from the
// labels and from a trained teacher's softened outputs on the same (augmented) images.
//
//   L = (1 - alpha) * CE(softmax(s), labels) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T))
//
// with s and t the student's and teacher's logits, T the temperature and both terms
// means over the batch. dKL/ds is (softmax(s/T) - softmax(t/T)) / T, so the soft term's
// gradient shrinks as 1/T^2; the T^2 factor (Hinton's section 2) keeps the two terms'
// relative weight independent of T: dL/ds = (1 - alpha) dCE/ds
// + alpha * T * (softmax(s/T) - softmax(t/T)) / batch. KL rather than the cross-entropy
// with the soft targets: the same gradient, and 0 when the student matches the teacher.
//
// The teacher runs through the inference runtime (lower_graph + optimize + Executor):
// no backward, no batch statistics, batch norms folded away.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "runtime/executor.h"
#include "train/checkpoint_model.h"

namespace xcept {

struct DistillOptions {
  std::string teacher;       // checkpoint file; empty: no distillation
  float temperature = 4.f;   // T > 0
  float alpha = 0.9f;        // weight of the soft term, in [0, 1]
};

// Throws xcept::Error for T <= 0 or alpha outside [0, 1].
void check_distill_settings(float temperature, float alpha);

struct DistillLoss {
  double total = 0;  // L above
  double hard = 0;   // CE(softmax(s), labels)
  double soft = 0;   // KL(softmax(t/T) || softmax(s/T)), before the T^2 factor
};

// L of a batch; writes dL/ds into `dlogits` (resized to the logits' dims) when not null.
// Throws xcept::Error when the two logit tensors differ in dims, for labels out of range,
// T <= 0 or alpha outside [0, 1]. Label smoothing applies to the hard term.
DistillLoss distillation_loss(const Tensor& student, const Tensor& teacher,
                              std::span<const int32_t> labels, float temperature, float alpha,
                              Tensor* dlogits, float label_smoothing = 0.f);

// A trained network answering for batches of images, through the inference runtime. The
// images come normalized as the student's training normalizes them (`student`; empty:
// raw pixels in [0, 1]); the teacher's programs start with one per-channel affine that
// takes them to its own normalization, so teacher and student may have been trained
// with different ones.
class Teacher {
 public:
  // Throws xcept::Error naming the file when it cannot be read, or when its model does
  // not take `input` (per image) or does not output `classes` logits.
  Teacher(const std::string& checkpoint, const Dims& input, int64_t classes,
          Normalization student = {});
  const std::string& model() const { return model_.meta.model; }

  // Logits [batch][classes]. A program is compiled per batch size (the last batch of an
  // epoch may be short), once.
  Tensor logits(const Tensor& images);

 private:
  std::string path_;
  CheckpointModel model_;
  Normalization student_;
  std::map<int64_t, Executor> programs_;
};

}  // namespace xcept
