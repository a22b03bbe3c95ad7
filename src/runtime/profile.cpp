#include "runtime/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/clock.h"
#include "core/error.h"
#include "core/rng.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/dwpw_conv2d_op.h"
#include "runtime/ops/quant_ops.h"

namespace xcept {

std::vector<Tensor> random_inputs(const std::vector<Dims>& dims, uint32_t seed) {
  SplitMix64 rng(seed);
  std::vector<Tensor> xs;
  for (const Dims& d : dims) {
    Tensor& x = xs.emplace_back(d);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(rng.uniform01());
  }
  return xs;
}

std::vector<Tensor> random_inputs(const Program& p, uint32_t seed) {
  std::vector<Dims> dims;
  for (ValueId v : p.inputs()) dims.push_back(p.value(v).dims);
  return random_inputs(dims, seed);
}

ProgramTiming time_program(Executor& ex, const std::vector<const Tensor*>& inputs, int warmup,
                           int repeats) {
  if (repeats <= 0) fail("repeats must be positive, got {}", repeats);
  for (int i = 0; i < warmup; ++i) ex.run(inputs);
  ex.set_profiling(true);
  ProgramTiming t;
  std::vector<std::vector<double>> per_step(ex.program().steps().size());
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    ex.run(inputs);
    t.run_ms.push_back(ms_since(t0));
    for (size_t s = 0; s < per_step.size(); ++s) per_step[s].push_back(ex.step_ms()[s]);
  }
  ex.set_profiling(false);
  for (const auto& v : per_step) t.step_ms.push_back(median(v));
  t.median_ms = median(t.run_ms);
  return t;
}

int64_t step_bytes(const Program& p, const Step& step) {
  auto bytes = [&](ValueId v) {
    int64_t n = 1;
    for (int64_t d : p.value(v).dims) n *= d;
    return n * int64_t(sizeof(float));
  };
  int64_t total = bytes(step.output) + step.op->param_bytes();
  for (ValueId v : std::set<ValueId>(step.inputs.begin(), step.inputs.end())) total += bytes(v);
  return total;
}

namespace {

// " dw3x3/2": a convolution's window and stride.
std::string conv_window(const ConvShape& sh) {
  const char* kind = sh.is_depthwise() && sh.c > 1 ? "dw" : sh.groups > 1 ? "g" : "";
  std::string s = fmt::format(" {}{}x{}", kind, sh.kh, sh.kw);
  if (sh.stride_h > 1 || sh.stride_w > 1) s += fmt::format("/{}", sh.stride_h);
  return s;
}

}  // namespace

std::string describe_op(const Op& op) {
  std::string s = dynamic_cast<const DwPwConv2dOp*>(&op) ? "DwPw" : op.type();
  Act act;
  if (auto* c = dynamic_cast<const Conv2dOp*>(&op)) {
    s += conv_window(c->shape());
    if (c->with_addend()) s += " +add";
    act = c->act();
  } else if (auto* f = dynamic_cast<const DwPwConv2dOp*>(&op)) {
    s += conv_window(f->depthwise().shape());
    if (!f->depthwise().act().is_none()) s += fmt::format("+{}", act_name(f->depthwise().act()));
    s += conv_window(f->pointwise().shape());
    if (f->pointwise().with_addend()) s += " +add";
    act = f->pointwise().act();
  } else if (auto* q = dynamic_cast<const QConv2dOp*>(&op)) {
    s += conv_window(q->shape());
  } else if (auto* d = dynamic_cast<const DenseOp*>(&op)) {
    act = d->act();
  } else if (auto* b = dynamic_cast<const BinaryOp*>(&op)) {
    act = b->act();
  }
  if (!act.is_none()) s += fmt::format(" +{}", act_name(act));
  return s;
}

std::string kernel_of(const Op& op) {
  if (auto* c = dynamic_cast<const Conv2dOp*>(&op)) return c->kernel_name();
  if (auto* f = dynamic_cast<const DwPwConv2dOp*>(&op)) return f->kernel_name();
  if (auto* q = dynamic_cast<const QConv2dOp*>(&op)) return q->kernel_name();
  if (auto* q = dynamic_cast<const QDenseOp*>(&op)) return q->kernel_name();
  return {};
}

}  // namespace xcept
