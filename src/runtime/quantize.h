// Post-training quantization of an inference program (docs/quantization.md): given the
// real range of every value (runtime/calibrate.h), each step that has an int8 kernel
// becomes its int8 op (runtime/ops/quant_ops.h), reading and writing uint8 codes. Values
// stay uint8 from one int8 step to the next; the program's input is quantized once, its
// outputs dequantized (a last Dense writes floats from its int32 sums directly). A step
// without an int8 form, or kept in float by the options, runs as it was, with its input
// dequantized and its output quantized again where int8 steps need them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/optimize.h"
#include "runtime/program.h"

namespace xcept {

// The real range [lo, hi] a value was seen to take (or was clipped to) in calibration.
struct ActivationRange {
  float lo = 0.f, hi = 0.f;
};
// By value name (Value::name: stable for a model lowered and optimized the same way).
using ActivationRanges = std::map<std::string, ActivationRange>;

struct QuantizeOptions {
  // Steps to keep in float32 (mixed precision): glob patterns (fnmatch) over step
  // names, or rules: "@depthwise" (every depthwise convolution), "@first" (the first
  // convolution), "@last" (the last step with weights).
  std::vector<std::string> keep_f32;
};

// Why a step ran in float32 in a quantized program.
struct FloatStep {
  std::string step, reason;
};

struct QuantizedProgram {
  Program program;
  std::vector<FloatStep> float_steps;  // steps with weights or data movement left in f32
  int int8_steps = 0;
};

// Throws xcept::Error naming an unknown rule in `keep_f32`.
void validate_quantize_options(const QuantizeOptions& options);

// The optimize() options an f32 program must be compiled with to be quantized (and
// calibrated): batch norm folded and activations fused, but no residual addition fused
// into a convolution and no depthwise-pointwise pair fused (the int8 ops have neither).
OptimizeOptions quantization_optimize_options();

// Consumes `f32` (optimized with quantization_optimize_options()). Throws if
// `keep_f32` holds an unknown rule.
QuantizedProgram quantize_program(Program f32, const ActivationRanges& ranges,
                                  const QuantizeOptions& options = {});

}  // namespace xcept
