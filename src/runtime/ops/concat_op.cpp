// ConcatOp: each output row (the dims before the axis) is the inputs' rows side by side.
#include <vector>

#include "core/error.h"
#include "kernels/kernels.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

Dims ConcatOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.empty()) fail("{}: Concat needs at least 1 input", step);
  const int64_t rank = static_cast<int64_t>(in[0].size());
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 0 || axis >= rank)
    fail("{}: Concat axis {} is outside input {}", step, axis_, dims_to_string(in[0]));
  Dims out = in[0];
  const size_t ax = static_cast<size_t>(axis);
  for (size_t k = 1; k < in.size(); ++k) {
    bool fits = in[k].size() == in[0].size();
    for (size_t i = 0; fits && i < in[0].size(); ++i) fits = i == ax || in[k][i] == in[0][i];
    if (!fits)
      fail("{}: Concat input {} is {}, which differs from {} outside axis {}", step, k,
           dims_to_string(in[k]), dims_to_string(in[0]), axis_);
    out[ax] += in[k][ax];
  }
  return out;
}

void ConcatOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& od = *out.dims;
  const int64_t rank = static_cast<int64_t>(od.size());
  const size_t ax = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < ax; ++i) outer *= od[i];
  for (size_t i = ax + 1; i < od.size(); ++i) inner *= od[i];
  // Rows of the dims before the axis: the kernel table's concatenation, which the
  // training layer runs too.
  std::vector<int64_t> lens;
  std::vector<const float*> x;
  for (const ConstView& v : in) {
    lens.push_back((*v.dims)[ax] * inner);
    x.push_back(v.data);
  }
  concat_fwd({outer, lens}, x.data(), out.data);
}

}  // namespace xcept
