// Helpers for the runtime tests: random tensors and running one op on its own.
#pragma once

#include <memory>
#include <vector>

#include "core/tensor.h"
#include "runtime/op.h"
#include "test_support.h"

namespace xcept::test {

inline Tensor random_tensor(const Dims& dims, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(dims);
  auto v = random_vector<float>(t.numel(), seed, lo, hi);
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

// Runs `op` on `inputs` into a fresh output (dims from output_dims).
inline Tensor run_op(const Op& op, const std::vector<const Tensor*>& inputs);

// As a program runs it: bound to the input dims first (Op::bind), so macs() counts them.
inline Tensor run_op(Op& op, const std::vector<const Tensor*>& inputs) {
  std::vector<Dims> dims;
  for (const Tensor* t : inputs) dims.push_back(t->dims());
  op.output_dims("test", dims);
  op.bind(dims);
  return run_op(static_cast<const Op&>(op), inputs);
}

inline Tensor run_op(const Op& op, const std::vector<const Tensor*>& inputs) {
  std::vector<Dims> dims;
  std::vector<ConstView> views;
  for (const Tensor* t : inputs) dims.push_back(t->dims());
  Tensor out(op.output_dims("test", dims));
  for (size_t i = 0; i < inputs.size(); ++i) views.push_back({inputs[i]->data(), &dims[i]});
  op.run(views, MutView{out.data(), &out.dims()});
  return out;
}

}  // namespace xcept::test
