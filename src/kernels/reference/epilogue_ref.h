// The epilogue (kernels/epilogue.h) one element at a time, in double: the oracle for
// the fused epilogues of the fast kernels.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/epilogue.h"

namespace xcept::ref {

inline double activation(ActKind k, double a, double b, double v) {
  switch (k) {
    case ActKind::none: return v;
    case ActKind::relu: return v < 0 ? 0 : v;
    case ActKind::clip: return v < a ? a : (v > b ? b : v);
    case ActKind::elu: return v > 0 ? v : a * std::expm1(v);
    case ActKind::leaky_relu: return v > 0 ? v : a * v;
  }
  return v;
}

// y[p][j] = act(y[p][j] + bias[j] + addend[p][j]) over `rows` dense rows of n.
inline void apply_epilogue(const ConvEpilogue& e, float* y, int64_t rows, int64_t n) {
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t j = 0; j < n; ++j) {
      double v = y[p * n + j];
      if (e.bias) v += e.bias[j];
      if (e.addend) v += e.addend[p * n + j];
      y[p * n + j] = float(activation(e.act, e.a, e.b, v));
    }
}

}  // namespace xcept::ref
