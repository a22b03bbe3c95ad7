// Training batch norm, [rows][c] f32: the plain loops, in double, that the batch-norm
// rows of the kernel table are tested against (two passes for the variance; the
// activation's gradient as a separate step, as an unfused graph would take it).
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"

namespace xcept {

namespace {

double ref_act(Act act, double v) {
  if (act.kind == ActKind::relu) return std::max(v, 0.0);
  if (act.is_relu6()) return std::min(std::max(v, 0.0), 6.0);
  return v;
}

}  // namespace

void batch_norm_stats_nhwc_f32_ref(const BatchNormShape& s, const float* x, float* mean,
                                   float* var) {
  for (int64_t j = 0; j < s.c; ++j) {
    double sum = 0;
    for (int64_t r = 0; r < s.rows; ++r) sum += x[r * s.c + j];
    const double m = sum / double(std::max<int64_t>(s.rows, 1));
    double sq = 0;
    for (int64_t r = 0; r < s.rows; ++r) sq += (x[r * s.c + j] - m) * (x[r * s.c + j] - m);
    mean[j] = float(m);
    var[j] = float(sq / double(std::max<int64_t>(s.rows, 1)));
  }
}

void batch_norm_fwd_nhwc_f32_ref(const BatchNormShape& s, const float* x, const float* scale,
                                 const float* shift, Act act, float* y) {
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t j = 0; j < s.c; ++j)
      y[r * s.c + j] = float(ref_act(act, double(x[r * s.c + j]) * scale[j] + shift[j]));
}

void batch_norm_bwd_nhwc_f32_ref(const BatchNormShape& s, const BatchNormBackward& b) {
  const int64_t n = s.rows * s.c;
  std::vector<double> g(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = i % s.c;
    const double v = b.act == Act::none() ? 0.0 : double(b.x[i]) * b.scale[j] + b.shift[j];
    const bool pass = b.act == Act::relu()    ? v > 0
                      : b.act == Act::relu6() ? v > 0 && v < 6
                                                   : true;
    g[size_t(i)] = pass ? b.dy[i] : 0.0;
  }
  std::vector<double> sums(size_t(2 * s.c));  // sum of g, then of g*xhat, per channel
  for (int64_t j = 0; j < s.c; ++j) {
    double sg = 0, sgx = 0;
    for (int64_t r = 0; r < s.rows; ++r) {
      const int64_t i = r * s.c + j;
      sg += g[size_t(i)];
      sgx += g[size_t(i)] * (double(b.x[i]) - b.mean[j]) * b.inv_std[j];
    }
    b.grad_beta[j] += float(sg);
    b.grad_gamma[j] += float(sgx);
    sums[size_t(j)] = sg;
    sums[size_t(s.c + j)] = sgx;
  }
  if (!b.dx) return;
  if (b.combine_sums) b.combine_sums(sums.data());
  const double rows = double(std::max<int64_t>(b.stat_rows > 0 ? b.stat_rows : s.rows, 1));
  for (int64_t j = 0; j < s.c; ++j) {
    const double k = double(b.gamma[j]) * b.inv_std[j];
    const double mg = b.training ? sums[size_t(j)] / rows : 0;
    const double mgx = b.training ? sums[size_t(s.c + j)] / rows : 0;
    for (int64_t r = 0; r < s.rows; ++r) {
      const int64_t i = r * s.c + j;
      const double xhat = (double(b.x[i]) - b.mean[j]) * b.inv_std[j];
      b.dx[i] = float(k * (g[size_t(i)] - mg - xhat * mgx));
    }
  }
}

}  // namespace xcept
