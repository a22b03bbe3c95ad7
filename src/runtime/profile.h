// Timing a program step by step over repeated runs, and what each step must at least
// move through memory: the measurements behind `xcept bench`, `xcept summary --bench`
// and `xcept convs --bench` (and measure.h in the public API). Benchmarks, not tests:
// nothing here is asserted on.
#pragma once

#include <string>
#include <vector>

#include "core/stats.h"  // median
#include "runtime/executor.h"

namespace xcept {

struct ProgramTiming {
  std::vector<double> run_ms;   // each timed run, whole program
  std::vector<double> step_ms;  // median per step
  double median_ms = 0;
};

// Uniform [0, 1) values for every input of `p`, from `seed`: what benchmarks time on.
std::vector<Tensor> random_inputs(const Program& p, uint32_t seed = 1);
// The same for inputs of these dims (an int8 program calibrates on them before it exists).
std::vector<Tensor> random_inputs(const std::vector<Dims>& dims, uint32_t seed = 1);

// `warmup` untimed runs, then `repeats` profiled ones on `inputs`.
ProgramTiming time_program(Executor& ex, const std::vector<const Tensor*>& inputs, int warmup,
                           int repeats);

// Bytes a step must move at least: each input it reads (constants included) and its
// output once, and its parameters once.
int64_t step_bytes(const Program& p, const Step& step);

// "Conv2d dw3x3/2 +add +relu6": what a step runs, with what it fused.
// "DwPw dw3x3+relu6 1x1 +relu6": a fused pair (DwPwConv2d), the depthwise act first.
std::string describe_op(const Op& op);
// The kernel a prepared convolution step runs ("" for other ops).
std::string kernel_of(const Op& op);

}  // namespace xcept
