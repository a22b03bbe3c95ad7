// Measured costs as text, the same columns for `xcept convs --bench` and
// `xcept summary --bench`.
#pragma once

#include <string>

#include "xcept/measure.h"

namespace xcept::cli {

// "measured on 2 thread(s), batch 1, median of 10 runs; roofline: ..." with a newline.
std::string roofline_line(const Roofline& r, const MeasureOptions& o);
// The columns every measured row ends with: ms, GFLOP/s, bytes, FLOP/B, bound, % of bound.
std::string measured_header();
std::string measured_cells(const MeasuredCost& c);

}  // namespace xcept::cli
