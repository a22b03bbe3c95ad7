#include "runtime/program.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace xcept {

ValueId Program::add_input(std::string name, Dims dims) {
  Value v;
  v.name = std::move(name);
  v.dims = std::move(dims);
  values_.push_back(std::move(v));
  const ValueId id = static_cast<ValueId>(values_.size()) - 1;
  inputs_.push_back(id);
  return id;
}

ValueId Program::add_constant(std::string name, Tensor data) {
  Value v;
  v.name = std::move(name);
  v.dims = data.dims();
  v.constant = std::move(data);
  v.is_constant = true;
  values_.push_back(std::move(v));
  return static_cast<ValueId>(values_.size()) - 1;
}

ValueId Program::add_step(std::string name, std::unique_ptr<Op> op, std::vector<ValueId> inputs) {
  if (!op) fail("{}: step has no op", name);
  std::vector<Dims> in_dims;
  in_dims.reserve(inputs.size());
  for (ValueId v : inputs) {
    if (v < 0 || v >= static_cast<ValueId>(values_.size()))
      fail("{}: input value {} does not exist (the program has {} values)", name, v,
           values_.size());
    in_dims.push_back(values_[static_cast<size_t>(v)].dims);
  }
  Value out;
  out.name = name;
  out.dims = op->output_dims(name, in_dims);
  op->bind(in_dims);
  out.dtype = op->output_dtype();
  out.quant = op->output_quant();
  values_.push_back(std::move(out));
  const ValueId id = static_cast<ValueId>(values_.size()) - 1;
  steps_.push_back(Step{std::move(name), std::move(op), std::move(inputs), id});
  return id;
}

ValueId Program::prepend_input_step(std::string name, std::unique_ptr<Op> op) {
  if (inputs_.size() != 1)
    fail("{}: a step before the input needs a program with one input, not {}", name,
         inputs_.size());
  const ValueId x = inputs_[0];
  const ValueId y = add_step(std::move(name), std::move(op), {x});
  // Move the new (last) step to the front and point every other reader of x at y.
  std::rotate(steps_.begin(), steps_.end() - 1, steps_.end());
  for (size_t s = 1; s < steps_.size(); ++s)
    for (ValueId& v : steps_[s].inputs)
      if (v == x) v = y;
  return y;
}

void Program::mark_output(ValueId v) {
  if (v < 0 || v >= static_cast<ValueId>(values_.size()))
    fail("program output: value {} does not exist (the program has {} values)", v,
         values_.size());
  outputs_.push_back(v);
}

int Program::use_count(ValueId v) const {
  int n = 0;
  for (const Step& s : steps_)
    for (ValueId in : s.inputs) n += in == v;
  for (ValueId o : outputs_) n += o == v;
  return n;
}

int64_t Program::macs() const {
  int64_t total = 0;
  for (const Step& s : steps_) total += s.op->macs();
  return total;
}

}  // namespace xcept
