// Calibration for post-training quantization: the real range of every value of an f32
// program (its input and every step's output) over sample batches, as runtime/quantize.h
// takes it. Three methods (docs/quantization.md):
//   minmax      the smallest and largest value seen;
//   percentile  clip |x| at a percentile of its histogram (outliers lose, the bulk gains
//               resolution);
//   entropy     clip |x| where the quantized histogram is closest to the float one in
//               KL divergence (TensorRT's method; 255 levels for non-negative values,
//               128 for each side of signed ones).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "runtime/executor.h"
#include "runtime/quantize.h"

namespace xcept {

enum class CalibrationMethod { minmax, percentile, entropy };
const char* calibration_method_name(CalibrationMethod m);
// Throws xcept::Error naming the bad value.
CalibrationMethod parse_calibration_method(std::string_view name);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::minmax;
  double percentile = 99.99;  // percentile: of |x|, in (0, 100]
  int bins = 2048;            // histogram bins over [0, max |x|]
};

// Hands each calibration batch (the program's one input) to `use`; called once for
// minmax, twice for the histogram methods (the first pass finds each value's range).
using CalibrationBatches = std::function<void(const std::function<void(const Tensor&)>& use)>;

// Runs `f32` (a float program, compiled with quantization_optimize_options()) on the
// batches and returns the range of its input and of every step output, by value name.
ActivationRanges calibrate(Executor& f32, const CalibrationBatches& batches,
                           const CalibrationOptions& options = {});

// What a method makes of one value: seen range [lo, hi] and the histogram of |x| over
// [0, max(|lo|, |hi|)] in equal bins. Exposed for tests.
ActivationRange range_from_histogram(float lo, float hi, const std::vector<double>& hist_abs,
                                     const CalibrationOptions& options);

}  // namespace xcept
