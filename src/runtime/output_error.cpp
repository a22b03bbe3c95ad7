#include "runtime/output_error.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace xcept {

namespace {

double ratio(double num, double den) {
  if (std::isnan(num) || std::isnan(den)) return std::numeric_limits<double>::quiet_NaN();
  if (den > 0) return num / den;
  return num > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

}  // namespace

int64_t argmax_row(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return best;
}

OutputError output_error(const Tensor& a, const Tensor& b) {
  if (a.dims() != b.dims())
    fail("output_error: outputs are {} and {}; they must have the same dims",
         dims_to_string(a.dims()), dims_to_string(b.dims()));
  if (a.dims().empty() || a.dim(0) <= 0 || a.numel() == 0)
    fail("output_error: outputs are {}; expected [rows][...] with at least one row",
         dims_to_string(a.dims()));
  const int64_t rows = a.dim(0), cols = a.numel() / rows;
  double max_diff = 0, max_ref = 0, rel_l2_sum = 0;
  int64_t agree = 0;
  bool nan_seen = false;  // std::max would drop a NaN; a broken run must not look exact
  for (int64_t r = 0; r < rows; ++r) {
    const float* pa = a.data() + r * cols;
    const float* pb = b.data() + r * cols;
    double diff2 = 0, ref2 = 0;
    for (int64_t i = 0; i < cols; ++i) {
      const double d = double(pa[i]) - double(pb[i]);
      nan_seen |= std::isnan(d);
      max_diff = std::max(max_diff, std::abs(d));
      max_ref = std::max(max_ref, std::abs(double(pb[i])));
      diff2 += d * d;
      ref2 += double(pb[i]) * double(pb[i]);
    }
    rel_l2_sum += ratio(std::sqrt(diff2), std::sqrt(ref2));
    agree += argmax_row(pa, cols) == argmax_row(pb, cols);
  }
  OutputError e;
  e.max_rel = nan_seen ? std::numeric_limits<double>::quiet_NaN() : ratio(max_diff, max_ref);
  e.mean_rel_l2 = rel_l2_sum / double(rows);
  e.top1_agreement = double(agree) / double(rows);
  return e;
}

}  // namespace xcept
