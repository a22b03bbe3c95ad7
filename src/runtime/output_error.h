// How far outputs of a reduced-precision run are from the float32 run of the same
// program: what `xcept bench --precision bf16` and `xcept eval --precision bf16` report.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace xcept {

struct OutputError {
  // max_i |a_i - b_i| / max_i |b_i| over the whole tensor: the worst error, on the scale
  // of the largest reference output (so near-zero outputs do not blow it up).
  double max_rel = 0;
  // Mean over the rows (first dim: the images) of ||a_r - b_r||_2 / ||b_r||_2.
  double mean_rel_l2 = 0;
  // Fraction of rows whose largest entry (the first, on ties) is at the same index.
  double top1_agreement = 1;
};

// `a` against the reference `b`; throws xcept::Error when the dims differ or are not
// [rows][...] with at least one row. A zero reference gives 0 for equal tensors and
// infinity otherwise; a NaN in either makes max_rel and mean_rel_l2 NaN.
OutputError output_error(const Tensor& a, const Tensor& b);

// Index of the largest of `row[0..n)` (the first, on ties), as count_top1_correct picks it.
int64_t argmax_row(const float* row, int64_t n);

}  // namespace xcept
