#include "runtime/quantize.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/quant_ops.h"
#include "runtime/ops/tensor_ops.h"

namespace xcept {

OptimizeOptions quantization_optimize_options() {
  OptimizeOptions o;
  o.fuse_residual_add = false;
  o.fuse_depthwise_pointwise = false;
  return o;
}

void validate_quantize_options(const QuantizeOptions& options) {
  for (const std::string& k : options.keep_f32)
    if (k.starts_with("@") && k != "@depthwise" && k != "@first" && k != "@last")
      fail("unknown keep-f32 rule '{}' (expected @depthwise, @first, @last or a step-name pattern)", k);
}

namespace {

bool has_weights(const Op& op) {
  return dynamic_cast<const Conv2dOp*>(&op) || dynamic_cast<const DenseOp*>(&op);
}

// The activations an int8 step fuses: a clamp in real numbers, [lo, hi].
std::optional<std::pair<float, float>> clamp_of(const Act& a) {
  switch (a.kind) {
    case ActKind::none: return std::pair{-INFINITY, INFINITY};
    case ActKind::relu: return std::pair{0.f, INFINITY};
    case ActKind::clip: return std::pair{a.a, a.b};
    default: return std::nullopt;  // elu, leaky relu: no int8 form
  }
}

class Quantizer {
 public:
  Quantizer(Program& f32, const ActivationRanges& ranges, const QuantizeOptions& options)
      : f32_(f32), ranges_(ranges), options_(options),
        as_f32_(f32.values().size(), -1), as_u8_(f32.values().size(), -1) {
    validate_quantize_options(options_);
    int last = -1;
    for (size_t s = 0; s < f32_.steps().size(); ++s)
      if (has_weights(*f32_.steps()[s].op)) {
        if (first_weighted_ < 0) first_weighted_ = int(s);
        last = int(s);
      }
    last_weighted_ = last;
  }

  QuantizedProgram run() {
    for (ValueId v : f32_.inputs()) as_f32_[size_t(v)] = out_.program.add_input(name(v), f32_.value(v).dims);
    for (size_t v = 0; v < f32_.values().size(); ++v)
      if (f32_.values()[v].is_constant)
        as_f32_[v] = out_.program.add_constant(f32_.values()[v].name, f32_.values()[v].constant);
    for (size_t s = 0; s < f32_.steps().size(); ++s) convert(int(s));
    for (ValueId v : f32_.outputs()) out_.program.mark_output(get_f32(v));
    return std::move(out_);
  }

 private:
  const std::string& name(ValueId v) const { return f32_.value(v).name; }

  std::optional<QuantParams> calibrated(ValueId v) const {
    const auto it = ranges_.find(name(v));
    if (it == ranges_.end()) return std::nullopt;
    return choose_quant_params(it->second.lo, it->second.hi);
  }

  QuantOutput output(ValueId v, const Act& act) const {
    QuantOutput o;
    o.q = *calibrated(v);
    const auto c = clamp_of(act);
    quant_clamp(c->first, c->second, o.q, &o.y_min, &o.y_max);
    return o;
  }

  // The value as uint8 codes: quantized from its float form on first use.
  ValueId get_u8(ValueId v) {
    if (as_u8_[size_t(v)] < 0)
      as_u8_[size_t(v)] = add(name(v) + "/quantize", name(v) + "/quantize",
                              std::make_unique<QuantizeOp>(*calibrated(v)), {get_f32(v)});
    return as_u8_[size_t(v)];
  }
  // The value as floats: dequantized from its codes on first use.
  ValueId get_f32(ValueId v) {
    if (as_f32_[size_t(v)] < 0) {
      const ValueId u = as_u8_[size_t(v)];
      if (u < 0) fail("quantize: value '{}' has no producer", name(v));
      as_f32_[size_t(v)] = add(name(v) + "/dequantize", name(v) + "/dequantize",
                               std::make_unique<DequantizeOp>(out_.program.value(u).quant), {u});
    }
    return as_f32_[size_t(v)];
  }
  QuantParams encoding(ValueId u8_value) const { return out_.program.value(u8_value).quant; }

  ValueId add(const std::string& step, const std::string& value, std::unique_ptr<Op> op,
              std::vector<ValueId> in) {
    const ValueId id = out_.program.add_step(step, std::move(op), std::move(in));
    out_.program.values()[size_t(id)].name = value;
    return id;
  }

  // Why step s must stay in float32 ("" if it need not).
  std::string keep_reason(int s) const {
    const Step& st = f32_.steps()[size_t(s)];
    for (const std::string& k : options_.keep_f32) {
      const auto* conv = dynamic_cast<const Conv2dOp*>(st.op.get());
      if ((k == "@depthwise" && conv && conv->shape().is_depthwise() && conv->shape().groups > 1) ||
          (k == "@first" && s == first_weighted_) || (k == "@last" && s == last_weighted_) ||
          (!k.starts_with("@") && fnmatch(k.c_str(), st.name.c_str(), 0) == 0))
        return "kept in f32 (" + k + ")";
    }
    for (ValueId v : st.inputs)
      if (!calibrated(v) && as_u8_[size_t(v)] < 0) return "no calibrated range for '" + name(v) + "'";
    return "";
  }

  void convert(int s) {
    Step& st = f32_.steps()[size_t(s)];
    const ValueId out = st.output;
    std::string reason = keep_reason(s);
    const bool is_output = f32_.use_count(out) == 1 &&
                           std::count(f32_.outputs().begin(), f32_.outputs().end(), out) == 1;
    std::unique_ptr<Op> q;
    std::vector<ValueId> in;
    bool f32_result = false;
    if (reason.empty()) q = int8_op(st, is_output, in, f32_result, reason);
    if (q) {
      ++out_.int8_steps;
      const ValueId id = add(st.name, name(out), std::move(q), std::move(in));
      (f32_result ? as_f32_ : as_u8_)[size_t(out)] = id;
      return;
    }
    if (has_weights(*st.op) || !reason.empty())
      out_.float_steps.push_back({st.name, reason.empty() ? "no int8 kernel" : reason});
    for (ValueId v : st.inputs) in.push_back(get_f32(v));
    as_f32_[size_t(out)] = add(st.name, name(out), std::move(st.op), std::move(in));
  }

  // The int8 form of a step, or null (reason set when it is worth telling).
  std::unique_ptr<Op> int8_op(Step& st, bool is_output, std::vector<ValueId>& in,
                              bool& f32_result, std::string& reason) {
    Op* op = st.op.get();
    const ValueId out = st.output;
    auto inputs_u8 = [&] {
      for (ValueId v : st.inputs) in.push_back(get_u8(v));
    };
    // Data movement keeps the codes and their encoding, so it goes int8 only where its
    // input already is: quantizing for it alone would add a pass, not remove one.
    const ValueId x = st.inputs.empty() ? -1 : st.inputs[0];
    if (const auto* p = dynamic_cast<const Pool2dOp*>(op)) {
      if (p->mode() != PoolMode::max || as_u8_[size_t(x)] < 0) return nullptr;
      inputs_u8();
      return std::make_unique<QMaxPoolOp>(p->window(), encoding(in[0]));
    }
    if (const auto* r = dynamic_cast<const ReshapeOp*>(op)) {
      if (as_u8_[size_t(x)] < 0) return nullptr;
      inputs_u8();
      return std::make_unique<QReshapeOp>(r->dims(), encoding(in[0]));
    }
    auto* d = dynamic_cast<DenseOp*>(op);
    if (!calibrated(out) && !(d && is_output)) {
      if (has_weights(*op)) reason = "no calibrated range for its output";
      return nullptr;
    }
    if (const auto* c = dynamic_cast<const Conv2dOp*>(op)) {
      if (c->with_addend() || !clamp_of(c->act())) {
        reason = "activation or addend without an int8 form";
        return nullptr;
      }
      // Only the oracle's plain loops take this shape (grouped, or a depthwise window
      // other than 3x3): far slower than the float kernels, so it stays float.
      if (pick_qconv2d_fwd(c->shape()).is_reference()) {
        reason = "no int8 kernel for " + c->shape().to_string();
        return nullptr;
      }
      inputs_u8();
      return std::make_unique<QConv2dOp>(c->shape(), c->weight(), c->bias(), encoding(in[0]),
                                         output(out, c->act()));
    }
    if (d) {
      if (!clamp_of(d->act())) {
        reason = "activation without an int8 form";
        return nullptr;
      }
      // A program output with no range: the last layer writes floats from its sums.
      f32_result = is_output && (!calibrated(out) || d->act().is_none());
      inputs_u8();
      return std::make_unique<QDenseOp>(d->weight(), d->bias(), encoding(in[0]),
                                        f32_result ? QuantOutput{} : output(out, d->act()),
                                        f32_result);
    }
    if (const auto* b = dynamic_cast<const BinaryOp*>(op)) {
      if (b->kind() != BinaryKind::add || !clamp_of(b->act()) ||
          f32_.value(st.inputs[0]).dims != f32_.value(st.inputs[1]).dims)
        return nullptr;
      inputs_u8();
      return std::make_unique<QAddOp>(encoding(in[0]), encoding(in[1]), output(out, b->act()));
    }
    if (const auto* a = dynamic_cast<const ActivationOp*>(op)) {
      if (!clamp_of(a->act())) return nullptr;
      inputs_u8();
      return std::make_unique<QActivationOp>(encoding(in[0]), output(out, a->act()));
    }
    if (const auto* g = dynamic_cast<const GlobalAvgPoolOp*>(op)) {
      inputs_u8();
      return std::make_unique<QGlobalAvgPoolOp>(encoding(in[0]), *calibrated(out), g->keep_dims());
    }
    return nullptr;
  }

  Program& f32_;
  const ActivationRanges& ranges_;
  const QuantizeOptions& options_;
  QuantizedProgram out_;
  std::vector<ValueId> as_f32_, as_u8_;
  int first_weighted_ = -1, last_weighted_ = -1;
};

}  // namespace

QuantizedProgram quantize_program(Program f32, const ActivationRanges& ranges,
                                  const QuantizeOptions& options) {
  return Quantizer(f32, ranges, options).run();
}

}  // namespace xcept
