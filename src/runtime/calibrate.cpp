#include "runtime/calibrate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace xcept {

const char* calibration_method_name(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::minmax: return "minmax";
    case CalibrationMethod::percentile: return "percentile";
    case CalibrationMethod::entropy: return "entropy";
  }
  return "?";
}

CalibrationMethod parse_calibration_method(std::string_view name) {
  for (CalibrationMethod m :
       {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy})
    if (name == calibration_method_name(m)) return m;
  fail("unknown calibration method '{}' (expected minmax, percentile or entropy)", name);
}

namespace {

// Replaces zeros by eps, taking the mass from the non-zero bins (MXNet's
// _smooth_distribution), so that KL stays finite where Q misses a bin P holds.
void smooth(std::vector<double>& d) {
  constexpr double eps = 1e-4;
  size_t zeros = 0;
  for (double v : d) zeros += v == 0;
  if (zeros == 0 || zeros == d.size()) return;
  const double take = eps * double(zeros) / double(d.size() - zeros);
  for (double& v : d) v = v == 0 ? eps : v - take;
}

// KL(P || Q) for clipping at bin `i` (TensorRT's entropy calibration, as MXNet writes
// it): P is the first i bins with every outlier folded into its last; Q is the same i
// bins without the outliers, merged into `levels` levels and spread back uniformly over
// the bins P holds anything in. Both normalized and smoothed.
double clipped_kl(const std::vector<double>& hist, size_t i, size_t levels) {
  std::vector<double> p(hist.begin(), hist.begin() + long(i));
  for (size_t j = i; j < hist.size(); ++j) p[i - 1] += hist[j];
  std::vector<double> q(i, 0.0);
  for (size_t l = 0; l < levels; ++l) {
    const size_t b0 = l * i / levels, b1 = (l + 1) * i / levels;
    double total = 0;
    size_t nonzero = 0;
    for (size_t j = b0; j < b1; ++j) total += hist[j], nonzero += p[j] > 0;
    for (size_t j = b0; j < b1; ++j) q[j] = p[j] > 0 ? total / double(nonzero) : 0.0;
  }
  double sp = 0, sq = 0;
  for (size_t j = 0; j < i; ++j) sp += p[j], sq += q[j];
  if (sp <= 0 || sq <= 0) return std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < i; ++j) p[j] /= sp, q[j] /= sq;
  smooth(p);
  smooth(q);
  double kl = 0;
  for (size_t j = 0; j < i; ++j)
    if (p[j] > 0) kl += p[j] * std::log(p[j] / q[j]);
  return kl;
}

struct Observed {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  std::vector<double> hist;  // of |x| over [0, amax]
  float amax() const { return std::max(std::fabs(lo), std::fabs(hi)); }

  void range(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(x[i])) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  }
  void histogram(const float* x, int64_t n, int bins) {
    if (hist.empty()) hist.assign(size_t(bins), 0.0);
    const float a = amax();
    if (!(a > 0)) return;
    const float per_bin = float(bins) / a;
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const int b = std::min(bins - 1, int(std::fabs(x[i]) * per_bin));
      hist[size_t(b)] += 1;
    }
  }
};

}  // namespace

ActivationRange range_from_histogram(float lo, float hi, const std::vector<double>& hist,
                                     const CalibrationOptions& o) {
  const float amax = std::max(std::fabs(lo), std::fabs(hi));
  if (o.method == CalibrationMethod::minmax || hist.empty() || !(amax > 0)) return {lo, hi};
  const size_t bins = hist.size();
  double total = 0;
  for (double h : hist) total += h;
  if (total <= 0) return {lo, hi};
  size_t cut = bins;  // clip at the upper edge of bin cut - 1
  if (o.method == CalibrationMethod::percentile) {
    if (!(o.percentile > 0 && o.percentile <= 100))
      fail("calibration percentile {} is not in (0, 100]", o.percentile);
    const double want = total * o.percentile / 100;
    double seen = 0;
    for (cut = 0; cut < bins; ++cut) {
      seen += hist[cut];
      if (seen >= want) break;
    }
    cut = std::min(bins, cut + 1);
  } else {
    // Non-negative values use all 255 levels on [0, t]; signed ones 128 per side. The
    // bin at zero takes its neighbour's count, as NVIDIA's pytorch-quantization does: a
    // ReLU output is zero for half its elements or more, and that spike, exactly
    // representable at any clip, would otherwise dominate the divergence and pull the
    // clip far into the bulk.
    const size_t levels = lo >= 0 ? 255 : 128;
    std::vector<double> h = hist;
    if (h.size() > 1) h[0] = h[1];
    double best = std::numeric_limits<double>::infinity();
    // Candidate cuts every bins/256 bins from `levels` up, and the unclipped range.
    const size_t step = std::max<size_t>(1, bins / 256);
    for (size_t i = std::min(levels, bins);; i = std::min(bins, i + step)) {
      const double kl = clipped_kl(h, i, std::min(levels, i));
      if (kl <= best) best = kl, cut = i;  // the widest of equal clips
      if (i == bins) break;
    }
  }
  const float t = amax * float(cut) / float(bins);
  return {std::max(lo, -t), std::min(hi, t)};
}

ActivationRanges calibrate(Executor& ex, const CalibrationBatches& batches,
                           const CalibrationOptions& o) {
  const Program& p = ex.program();
  if (p.inputs().size() != 1) fail("calibration needs a program with one input, got {}", p.inputs().size());
  if (o.bins < 16) fail("calibration needs at least 16 histogram bins, got {}", o.bins);
  if (o.method == CalibrationMethod::percentile && !(o.percentile > 0 && o.percentile <= 100))
    fail("calibration percentile {} is not in (0, 100]", o.percentile);
  const ValueId input = p.inputs()[0];
  std::vector<Observed> seen(p.values().size());
  bool histograms = false;
  auto observe = [&](size_t value, const ConstView& v) {
    if (histograms)
      seen[value].histogram(v.data, numel_of(*v.dims), o.bins);
    else
      seen[value].range(v.data, numel_of(*v.dims));
  };
  ex.set_observer([&](int step, const ConstView& out) {
    observe(size_t(p.steps()[size_t(step)].output), out);
  });
  auto pass = [&] {
    int64_t images = 0;
    batches([&](const Tensor& x) {
      observe(size_t(input), {x.data(), &x.dims()});
      ex.run({&x});
      images += x.numel() > 0 ? 1 : 0;
    });
    if (images == 0) fail("calibration got no batches");
  };
  try {
    pass();
    if (o.method != CalibrationMethod::minmax) {
      histograms = true;
      pass();
    }
  } catch (...) {
    ex.set_observer({});
    throw;
  }
  ex.set_observer({});

  ActivationRanges ranges;
  for (size_t v = 0; v < seen.size(); ++v) {
    const Observed& s = seen[v];
    if (!(s.lo <= s.hi)) continue;  // never observed (constants) or never finite
    ranges[p.values()[v].name] = range_from_histogram(s.lo, s.hi, s.hist, o);
  }
  return ranges;
}

}  // namespace xcept
