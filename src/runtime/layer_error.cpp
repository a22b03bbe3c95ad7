#include "runtime/layer_error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace xcept {

LayerErrorMeter::LayerErrorMeter(Executor& f32, Executor& quantized) : f32_(f32), q_(quantized) {
  const Program& fp = f32_.program();
  const Program& qp = q_.program();
  if (fp.inputs().size() != 1 || qp.inputs().size() != 1)
    fail("per-layer error: both programs need exactly one input");
  if (fp.value(fp.inputs()[0]).dims != qp.value(qp.inputs()[0]).dims)
    fail("per-layer error: the programs take {} and {}", dims_to_string(fp.value(fp.inputs()[0]).dims),
         dims_to_string(qp.value(qp.inputs()[0]).dims));
  for (size_t s = 0; s < fp.steps().size(); ++s)
    f32_step_of_[fp.value(fp.steps()[s].output).name] = int(s);
  match_.assign(qp.steps().size(), -1);
  for (size_t s = 0; s < qp.steps().size(); ++s) {
    const Value& out = qp.value(qp.steps()[s].output);
    const auto it = f32_step_of_.find(out.name);
    if (it != f32_step_of_.end() && fp.value(fp.steps()[size_t(it->second)].output).dims == out.dims)
      match_[s] = it->second;
  }
  saved_.resize(fp.steps().size());
  sums_.resize(qp.steps().size());
  std::vector<bool> wanted(fp.steps().size());
  for (int m : match_)
    if (m >= 0) wanted[size_t(m)] = true;
  f32_.set_observer([this, wanted](int step, const ConstView& out) {
    if (!wanted[size_t(step)]) return;
    Tensor& t = saved_[size_t(step)];
    if (t.dims() != *out.dims) t = Tensor(*out.dims);
    std::memcpy(t.data(), out.data, size_t(t.numel()) * sizeof(float));
  });
  q_.set_observer([this](int step, const ConstView& out) {
    const int m = match_[size_t(step)];
    if (m < 0) return;
    const Value& v = q_.program().value(q_.program().steps()[size_t(step)].output);
    const float* ref = saved_[size_t(m)].data();
    const int64_t n = numel_of(*out.dims);
    Sums& s = sums_[size_t(step)];
    for (int64_t i = 0; i < n; ++i) {
      const double got = v.dtype == DType::u8 ? dequantize_u8(u8_data(out)[i], v.quant) : out.data[i];
      const double d = got - double(ref[i]);
      s.diff2 += d * d;
      s.ref2 += double(ref[i]) * double(ref[i]);
      s.max_diff = std::max(s.max_diff, std::abs(d));
      s.max_ref = std::max(s.max_ref, std::abs(double(ref[i])));
    }
  });
}

LayerErrorMeter::~LayerErrorMeter() {
  f32_.set_observer({});
  q_.set_observer({});
}

LayerErrorMeter::Outputs LayerErrorMeter::run(const Tensor& x) {
  Outputs o;
  o.f32 = std::move(f32_.run({&x}).at(0));
  o.quantized = std::move(q_.run({&x}).at(0));
  return o;
}

std::vector<LayerError> LayerErrorMeter::report() const {
  const Program& qp = q_.program();
  std::vector<LayerError> r;
  for (size_t s = 0; s < qp.steps().size(); ++s) {
    if (match_[s] < 0) continue;
    const Step& st = qp.steps()[s];
    LayerError e;
    e.step = st.name;
    e.op = st.op->type();
    e.int8 = qp.value(st.output).dtype == DType::u8;
    for (ValueId v : st.inputs) e.int8 |= qp.value(v).dtype == DType::u8;
    const Sums& sm = sums_[s];
    auto ratio = [](double num, double den) { return den > 0 ? num / den : (num > 0 ? INFINITY : 0.0); };
    e.rel_l2 = ratio(std::sqrt(sm.diff2), std::sqrt(sm.ref2));
    e.max_rel = ratio(sm.max_diff, sm.max_ref);
    r.push_back(std::move(e));
  }
  return r;
}

}  // namespace xcept
