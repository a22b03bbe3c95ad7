// Where an int8 program loses precision: the relative error of every step's output
// against the float program it was quantized from, on the same inputs. The quantized
// program keeps the float program's value names (runtime/quantize.h), so each of its
// steps is matched to the float step that computed the same value; uint8 outputs are
// dequantized before the comparison. `xcept eval --precision int8` prints the result.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/executor.h"

namespace xcept {

struct LayerError {
  std::string step;  // the step's (and its output value's) name
  std::string op;    // the quantized program's op type ("QConv2d", "Conv2d" if kept float)
  bool int8 = false;  // the step ran on uint8 codes
  // sqrt(sum (q - f)^2 / sum f^2) over every element of every input seen: one number per
  // layer, weighted like the layer's output.
  double rel_l2 = 0;
  // max |q - f| / max |f| over the same elements.
  double max_rel = 0;
};

// Runs a float program and its quantized form side by side and accumulates, per step of
// the quantized one, its output's error against the float value of the same name.
// Both executors must outlive the meter; it replaces their step observers while it lives.
// Memory: one copy of every matched float value of a batch.
class LayerErrorMeter {
 public:
  LayerErrorMeter(Executor& f32, Executor& quantized);
  ~LayerErrorMeter();
  LayerErrorMeter(const LayerErrorMeter&) = delete;
  LayerErrorMeter& operator=(const LayerErrorMeter&) = delete;

  struct Outputs {
    Tensor f32, quantized;  // each program's first output
  };
  // Runs both programs on `x` (their one input) and adds this batch to the errors.
  Outputs run(const Tensor& x);

  // Steps in the quantized program's order (helpers that only convert between float
  // and codes are left out).
  std::vector<LayerError> report() const;

 private:
  struct Sums {
    double diff2 = 0, ref2 = 0, max_diff = 0, max_ref = 0;
  };
  Executor& f32_;
  Executor& q_;
  std::map<std::string, int> f32_step_of_;  // value name -> step of the float program
  std::vector<int> match_;                  // per quantized step: float step, or -1
  std::vector<Tensor> saved_;               // per float step: its output this batch
  std::vector<Sums> sums_;                  // per quantized step
};

}  // namespace xcept
