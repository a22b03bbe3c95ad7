// Four rewrites, each a pattern over a step and the producer of one of its inputs:
//   ChannelAffine(Conv2d|Dense(x))        -> Conv2d|Dense with scaled weights and bias
//   Add(Conv2d(x), r), r computed first   -> Conv2d(x) with addend r
//   Activation(Conv2d|Dense|Binary(x))    -> the producer with the activation fused
//   Conv2d 1x1(Conv2d depthwise(x))       -> DwPwConv2d(x), after the others, where the
//                                            kernel's rule says tiling pays
// A producer is only rewritten when the consumer is its output's one reader, so no other
// step sees the changed value. The fused step keeps the producer's position, where all
// its inputs exist, so the order stays valid (a DwPwConv2d whose addend is computed
// between its two convolutions takes the pointwise one's position instead).
#include "runtime/optimize.h"

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/ops/core_ops.h"
#include "runtime/ops/dwpw_conv2d_op.h"

namespace xcept {

namespace {

// Who writes and how many read each value, counted once per pass (each pass rewrites one
// pattern and starts over, so per-value scans would make it cubic in the step count).
struct ValueUses {
  std::vector<int> producer;  // step index writing the value, or -1
  std::vector<int> readers;   // step inputs reading it, plus program outputs naming it
};

ValueUses producers(const Program& p) {
  ValueUses u{std::vector<int>(p.values().size(), -1), std::vector<int>(p.values().size(), 0)};
  for (size_t s = 0; s < p.steps().size(); ++s) {
    u.producer[size_t(p.steps()[s].output)] = int(s);
    for (ValueId in : p.steps()[s].inputs) ++u.readers[size_t(in)];
  }
  for (ValueId o : p.outputs()) ++u.readers[size_t(o)];
  return u;
}

// The step writing `v` when exactly one step reads v (and v is no program output), else -1.
int sole_producer(const Program& p, const ValueUses& u, ValueId v) {
  if (p.value(v).is_constant || u.readers[size_t(v)] != 1) return -1;
  return u.producer[size_t(v)];
}

// w[..][c] *= scale[c] for a weight whose last axis is the output channel; then
// bias = bias * scale + shift.
void scale_last_axis(Tensor& weight, Tensor& bias, const Tensor& scale, const Tensor& shift) {
  const int64_t m = scale.numel();
  float* w = weight.data();
  for (int64_t i = 0; i < weight.numel(); ++i) w[i] *= scale[i % m];
  if (bias.empty()) bias = Tensor({m});
  for (int64_t c = 0; c < m; ++c) bias[c] = bias[c] * scale[c] + shift[c];
}

// Makes the producer step write the consumer's output value and drops the consumer.
void absorb(Program& p, int producer, int consumer) {
  auto& steps = p.steps();
  steps[size_t(producer)].output = steps[size_t(consumer)].output;
  steps.erase(steps.begin() + consumer);
}

bool fold_one_batch_norm(Program& p) {
  const auto prod = producers(p);
  auto& steps = p.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    auto* aff = dynamic_cast<ChannelAffineOp*>(steps[i].op.get());
    if (!aff) continue;
    const ValueId u = steps[i].inputs.at(0);
    const int j = sole_producer(p, prod, u);
    if (j < 0) continue;
    const int64_t rank = int64_t(p.value(u).dims.size());
    if ((aff->axis() < 0 ? aff->axis() + rank : aff->axis()) != rank - 1) continue;
    Op* op = steps[size_t(j)].op.get();
    if (auto* conv = dynamic_cast<Conv2dOp*>(op); conv && conv->act().is_none() &&
                                                 !conv->with_addend()) {
      scale_last_axis(conv->weight(), conv->bias(), aff->scale(), aff->shift());
    } else if (auto* dense = dynamic_cast<DenseOp*>(op); dense && dense->act().is_none()) {
      scale_last_axis(dense->weight(), dense->bias(), aff->scale(), aff->shift());
    } else {
      continue;
    }
    absorb(p, j, int(i));
    return true;
  }
  return false;
}

bool fuse_one_activation(Program& p) {
  const auto prod = producers(p);
  auto& steps = p.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    auto* act = dynamic_cast<ActivationOp*>(steps[i].op.get());
    if (!act) continue;
    const int j = sole_producer(p, prod, steps[i].inputs.at(0));
    if (j < 0) continue;
    Op* op = steps[size_t(j)].op.get();
    if (auto* conv = dynamic_cast<Conv2dOp*>(op); conv && conv->act().is_none())
      conv->set_act(act->act());
    else if (auto* dense = dynamic_cast<DenseOp*>(op); dense && dense->act().is_none())
      dense->set_act(act->act());
    else if (auto* bin = dynamic_cast<BinaryOp*>(op); bin && bin->act().is_none())
      bin->set_act(act->act());
    else
      continue;
    absorb(p, j, int(i));
    return true;
  }
  return false;
}

bool fuse_one_residual_add(Program& p) {
  const auto prod = producers(p);
  auto& steps = p.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    auto* add = dynamic_cast<BinaryOp*>(steps[i].op.get());
    if (!add || add->kind() != BinaryKind::add || steps[i].inputs.size() != 2) continue;
    const ValueId a = steps[i].inputs[0], b = steps[i].inputs[1];
    const Dims& out = p.value(steps[i].output).dims;
    if (a == b || p.value(a).dims != out || p.value(b).dims != out) continue;
    // The convolution must run after the other operand exists, so that it can read it
    // in place of the Add. Moving a convolution later instead would keep its input alive
    // longer (Xception's shortcut convolutions: more memory for one saved pass).
    int best = -1, operand = -1;
    for (int k = 0; k < 2; ++k) {
      const int j = sole_producer(p, prod, steps[i].inputs[size_t(k)]);
      if (j < 0 || prod.producer[size_t(steps[i].inputs[size_t(1 - k)])] > j) continue;
      auto* conv = dynamic_cast<Conv2dOp*>(steps[size_t(j)].op.get());
      if (!conv || conv->with_addend() || !conv->act().is_none()) continue;
      if (j > best) best = j, operand = k;
    }
    if (best < 0) continue;
    Step& fused = steps[size_t(best)];
    auto* conv = static_cast<Conv2dOp*>(fused.op.get());
    conv->set_with_addend(true);
    conv->set_act(add->act());
    fused.inputs.push_back(steps[i].inputs[size_t(1 - operand)]);
    absorb(p, best, int(i));
    return true;
  }
  return false;
}

// The fused step is named after the separable layer both came from ("b.depthwise" and
// "b" -> "b"), else after both ("conv_dw_1+conv_pw_1").
std::string fused_name(const std::string& dw, const std::string& pw) {
  return dw.starts_with(pw + ".") ? pw : dw + "+" + pw;
}

bool fuse_one_depthwise_pointwise(Program& p, bool always) {
  const auto prod = producers(p);
  auto& steps = p.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    auto* pw = dynamic_cast<Conv2dOp*>(steps[i].op.get());
    if (!pw) continue;
    const int j = sole_producer(p, prod, steps[i].inputs.at(0));
    if (j < 0) continue;
    auto* dw = dynamic_cast<Conv2dOp*>(steps[size_t(j)].op.get());
    if (!dw || dw->with_addend() || !dwconv_pwconv_chain(dw->shape(), pw->shape())) continue;
    if (!always && !dwconv_pwconv_fusion_pays(dw->shape(), pw->shape())) continue;
    // The fused step reads the depthwise input and the pointwise addend. It takes the
    // depthwise step's place when the addend exists by then (Xception's residual: the
    // block input), else the pointwise one's, where both exist.
    std::vector<ValueId> inputs = steps[size_t(j)].inputs;
    bool at_depthwise = true;
    if (pw->with_addend()) {
      const ValueId addend = steps[i].inputs.at(1);
      inputs.push_back(addend);
      at_depthwise = prod.producer[size_t(addend)] < j;
    }
    Step fused;
    fused.name = fused_name(steps[size_t(j)].name, steps[i].name);
    fused.op = std::make_unique<DwPwConv2dOp>(
        std::unique_ptr<Conv2dOp>(static_cast<Conv2dOp*>(steps[size_t(j)].op.release())),
        std::unique_ptr<Conv2dOp>(static_cast<Conv2dOp*>(steps[i].op.release())));
    fused.inputs = std::move(inputs);
    fused.output = steps[i].output;
    steps[at_depthwise ? size_t(j) : i] = std::move(fused);
    steps.erase(steps.begin() + (at_depthwise ? std::ptrdiff_t(i) : std::ptrdiff_t(j)));
    return true;
  }
  return false;
}

}  // namespace

void optimize(Program& program, const OptimizeOptions& options) {
  if (options.fold_batch_norm)
    while (fold_one_batch_norm(program)) {
    }
  if (options.fuse_residual_add)
    while (fuse_one_residual_add(program)) {
    }
  if (options.fuse_activations)
    while (fuse_one_activation(program)) {
    }
  if (options.fuse_depthwise_pointwise)
    while (fuse_one_depthwise_pointwise(program, options.fuse_depthwise_pointwise_always)) {
    }
}

}  // namespace xcept
