#include "train/distill.h"

#include <cmath>

#include "core/error.h"
#include "runtime/lower_graph.h"
#include "runtime/ops/core_ops.h"
#include "runtime/optimize.h"
#include "train/loss.h"

namespace xcept {

void check_distill_settings(float temperature, float alpha) {
  if (!(temperature > 0.f) || !std::isfinite(temperature))
    fail("distillation: temperature must be positive, got {}", temperature);
  if (!(alpha >= 0.f && alpha <= 1.f))
    fail("distillation: alpha (the soft targets' weight) must be in [0, 1], got {}", alpha);
}

DistillLoss distillation_loss(const Tensor& student, const Tensor& teacher,
                              std::span<const int32_t> labels, float temperature, float alpha,
                              Tensor* dlogits, float label_smoothing) {
  check_distill_settings(temperature, alpha);
  if (student.dims() != teacher.dims())
    fail("distillation: student logits {} and teacher logits {} differ",
         dims_to_string(student.dims()), dims_to_string(teacher.dims()));
  DistillLoss r;
  // The hard term writes its gradient first; the soft term's is added to it below.
  r.hard = softmax_cross_entropy(student, labels, dlogits, label_smoothing);
  const int64_t batch = student.dim(0), classes = student.dim(1);
  if (batch == 0) return r;
  const double t = temperature, a = alpha;
  const size_t n = size_t(classes);
  std::vector<double> ls(n), lt(n);  // log softmax(s / T), log softmax(t / T)
  double kl = 0;
  for (int64_t b = 0; b < batch; ++b) {
    log_softmax(student.data() + b * classes, classes, t, ls.data());
    log_softmax(teacher.data() + b * classes, classes, t, lt.data());
    for (size_t k = 0; k < n; ++k) kl += std::exp(lt[k]) * (lt[k] - ls[k]);
    if (dlogits) {
      float* g = dlogits->data() + b * classes;
      for (size_t k = 0; k < n; ++k)
        g[k] = float((1 - a) * double(g[k]) +
                     a * t * (std::exp(ls[k]) - std::exp(lt[k])) / double(batch));
    }
  }
  r.soft = kl / double(batch);
  r.total = (1 - a) * r.hard + a * t * t * r.soft;
  return r;
}

Teacher::Teacher(const std::string& checkpoint, const Dims& input, int64_t classes,
                 Normalization student)
    : path_(checkpoint), model_(load_checkpoint_model(checkpoint)), student_(std::move(student)) {
  const Graph& g = model_.graph;
  if (g.node_dims(0) != input)
    fail("teacher {}: its {} takes {} images, the student {}", path_, model_.meta.model,
         dims_to_string(g.node_dims(0)), dims_to_string(input));
  if (g.node_dims(g.output()) != Dims{classes})
    fail("teacher {}: its {} outputs {}, the student {} classes", path_, model_.meta.model,
         dims_to_string(g.node_dims(g.output())), classes);
  if (!student_.empty() && int64_t(student_.mean.size()) != input.back())
    fail("teacher {}: the student's normalization has {} channels, its images {}", path_,
         student_.mean.size(), input.back());
}

Tensor Teacher::logits(const Tensor& images) {
  const int64_t batch = images.dim(0);
  auto it = programs_.find(batch);
  if (it == programs_.end()) {
    Program p = lower_graph(model_.graph, batch);
    // x_teacher = (x_raw - mean_t) / std_t with x_raw = x * std + mean: one affine per channel.
    const Normalization& own = model_.normalization;
    const Normalization& student = student_;
    const int64_t c = images.dims().back();
    if (!student.empty() || !own.empty()) {
      Tensor scale({c}), shift({c});
      for (int64_t k = 0; k < c; ++k) {
        const size_t i = size_t(k);
        const float s = student.empty() ? 1.f : student.std[i];
        const float m = student.empty() ? 0.f : student.mean[i];
        const float st = own.empty() ? 1.f : own.std[i], mt = own.empty() ? 0.f : own.mean[i];
        scale[k] = s / st;
        shift[k] = (m - mt) / st;
      }
      p.prepend_input_step("teacher_normalization",
                           std::make_unique<ChannelAffineOp>(std::move(scale), std::move(shift)));
    }
    optimize(p);
    it = programs_.emplace(batch, Executor(std::move(p))).first;
  }
  return std::move(it->second.run({&images}).at(0));
}

}  // namespace xcept
