// The activation rows' oracles: kernels/reference/activation_ref.h's scalar forms in
// double. The backward recovers x from the output y, as the fast rows do (relu and
// relu6: y's position against the kinks; elu: y < 0 means x = log1p(y / alpha)).
#include <cmath>

#include "kernels/kernels.h"
#include "kernels/reference/activation_ref.h"

namespace xcept {

void act_fwd_f32_ref(const ActShape& s, const float* x, float* y) {
  for (int64_t i = 0; i < s.n; ++i) y[i] = float(ref::activation_fwd<double>(s.act, x[i]));
}

void act_bwd_f32_ref(const ActShape& s, const float* y, const float* dy, float* dx) {
  const Act& a = s.act;
  for (int64_t i = 0; i < s.n; ++i) {
    const double v = y[i];
    double d = 1.0;
    if (a.kind == ActKind::relu) d = v > 0 ? 1.0 : 0.0;
    else if (a.kind == ActKind::clip) d = v > a.a && v < a.b ? 1.0 : 0.0;
    else if (a.kind == ActKind::elu) d = v < 0 ? v + double(a.a) : 1.0;  // alpha e^x = y + alpha
    dx[i] = float(double(dy[i]) * d);
  }
}

}  // namespace xcept
