// Summary statistics of repeated measurements: timings (median) and runs over seeds
// (mean and sample standard deviation).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace xcept {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline double mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

// Sample standard deviation (n - 1 in the denominator): the spread of a variant over its
// seeds, as a reader would compute it from results.csv. 0 for fewer than two values.
inline double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

}  // namespace xcept
