// Scalar activations, forward and derivative, templated so gradient checks can run in
// double. The oracle for kernels/activation_f32.h; derivatives here take the INPUT x
// (the textbook form), so tests also cross-check the f32 kernels' output-based backward.
#pragma once

#include <cmath>

#include "kernels/activation_f32.h"

namespace xcept::ref {

template <typename T>
T activation_fwd(const Act& a, T x) {
  const T alpha = T(a.a), hi = T(a.b);
  switch (a.kind) {
    case ActKind::none: return x;
    case ActKind::relu: return x > T(0) ? x : T(0);
    case ActKind::clip: return x <= alpha ? alpha : (x >= hi ? hi : x);
    case ActKind::elu: return x > T(0) ? x : alpha * std::expm1(x);
    case ActKind::leaky_relu: return x > T(0) ? x : alpha * x;
  }
  return x;
}

// d activation / dx at x; at the kinks of relu/relu6 the derivative is taken as 0 and at
// x == 0 of elu as 1, matching the f32 kernels.
template <typename T>
T activation_deriv(const Act& a, T x) {
  const T alpha = T(a.a), hi = T(a.b);
  switch (a.kind) {
    case ActKind::none: return T(1);
    case ActKind::relu: return x > T(0) ? T(1) : T(0);
    case ActKind::clip: return (x > alpha && x < hi) ? T(1) : T(0);
    case ActKind::elu: return x >= T(0) ? T(1) : alpha * std::exp(x);
    case ActKind::leaky_relu: return x > T(0) ? T(1) : alpha;
  }
  return T(1);
}

}  // namespace xcept::ref
