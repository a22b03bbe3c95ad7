// An inference program: a straight-line list of steps over float tensors, compiled for one
// set of input shapes (batch included), so every size is known before anything runs.
//
// Two front ends produce programs and one back end runs them:
//   runtime/lower_graph.h  an xcept Graph (trained or fresh)  -> Program
//   io/onnx_import.h       an ONNX model                      -> Program
//   runtime/optimize.h     folds batch norm, fuses activations and residual additions
//   runtime/executor.h     plans buffers once and runs the steps
// So a model imported from ONNX gets exactly the fast path of a model built in xcept.
//
// Values are dense row-major float32 tensors with physical dims (or uint8 codes, in an
// int8 program: runtime/quantize.h). Layout is the front
// end's business: convolution-family ops read and write NHWC ([n][h][w][c]); an ONNX
// importer that keeps NCHW semantics inserts Transpose steps where it needs them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "runtime/op.h"

namespace xcept {

using ValueId = int;

struct Value {
  std::string name;
  Dims dims;
  Tensor constant;  // holds the data when is_constant; planned by the executor otherwise
  bool is_constant = false;
  DType dtype = DType::f32;  // u8: codes of an int8 program, encoded by `quant`
  QuantParams quant;
};

struct Step {
  std::string name;  // the layer or ONNX node it came from
  std::unique_ptr<Op> op;
  std::vector<ValueId> inputs;
  ValueId output = -1;
};

class Program {
 public:
  Program() = default;
  Program(Program&&) noexcept = default;
  Program& operator=(Program&&) noexcept = default;

  ValueId add_input(std::string name, Dims dims);
  ValueId add_constant(std::string name, Tensor data);
  // Appends a step (inputs must exist); its output value is created with the dims
  // op->output_dims() gives and named `name`. Returns the output value.
  ValueId add_step(std::string name, std::unique_ptr<Op> op, std::vector<ValueId> inputs);
  void mark_output(ValueId v);
  // Puts a step reading the program's only input before every other step and points
  // their reads of that input at its output (an input normalization). Returns the output.
  ValueId prepend_input_step(std::string name, std::unique_ptr<Op> op);

  const std::vector<Value>& values() const { return values_; }
  std::vector<Value>& values() { return values_; }
  const Value& value(ValueId v) const { return values_.at(static_cast<size_t>(v)); }
  const std::vector<Step>& steps() const { return steps_; }
  std::vector<Step>& steps() { return steps_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }

  // Passes may rewrite steps_ (replace, erase); they keep values_ indices stable.
  // Number of reads of value v: one per step input slot naming it (a step reading it
  // twice counts twice), plus one per program output naming it.
  int use_count(ValueId v) const;
  int64_t macs() const;  // sum over steps, whole batch

 private:
  std::vector<Value> values_;
  std::vector<Step> steps_;
  std::vector<ValueId> inputs_, outputs_;
};

}  // namespace xcept
