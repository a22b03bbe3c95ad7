// The epilogue loops (kernels/epilogue.h) as plain C++ that each kernel file compiles
// with its own ISA flags: included by the generic, avx2 and avx512 files, internal
// linkage (unnamed namespace) and no standard-library templates, so an AVX-512 copy can
// never be linked into a caller on a CPU without it. The loops are branch-free so they
// vectorize at whatever width the including file is built for.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/epilogue.h"

namespace xcept {
namespace {

inline uint32_t epi_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float epi_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// c ? x : y without a branch (see kernels/activation_f32.cpp for why).
inline float epi_blend(bool c, float x, float y) {
  const uint32_t m = 0u - static_cast<uint32_t>(c);
  return epi_float((epi_bits(x) & m) | (epi_bits(y) & ~m));
}

// e^x - 1 for x <= 0, under 1 ulp: the same Cody-Waite + Cephes polynomial as
// kernels/activation_f32.cpp, copied because that one is compiled for the base ISA.
inline float epi_expm1_nonpositive(float x) {
  x = epi_blend(x < -87.0f, -87.0f, x);
  constexpr float kMagic = 12582912.0f;
  const float t = x * 1.44269504088896341f + kMagic;
  const float nf = t - kMagic;
  const float r = (x - nf * 0.693359375f) + nf * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float q = p * r * r + r;
  const uint32_t biased = epi_bits(t) - epi_bits(kMagic) + 127u;
  const float scale = epi_float(biased << 23);
  return scale * q + (scale - 1.0f);
}

// y[j] = act(y[j]) for j < n. NaN stays NaN (comparisons written for it).
inline void epi_act_row(ActKind act, float a, float b, float* __restrict y, int64_t n) {
  switch (act) {
    case ActKind::none: return;
    case ActKind::relu:
      for (int64_t j = 0; j < n; ++j) y[j] = y[j] < 0.0f ? 0.0f : y[j];
      return;
    case ActKind::clip:
      for (int64_t j = 0; j < n; ++j) {
        const float v = y[j] < a ? a : y[j];
        y[j] = v > b ? b : v;
      }
      return;
    case ActKind::leaky_relu:
      for (int64_t j = 0; j < n; ++j) {
        const float v = y[j];
        y[j] = epi_blend(v > 0.0f, v, a * v);
      }
      return;
    case ActKind::elu:
      for (int64_t j = 0; j < n; ++j) {
        const float v = y[j];
        const float neg = a * epi_expm1_nonpositive(epi_blend(v > 0.0f, 0.0f, v));
        y[j] = epi_blend(v > 0.0f, v, neg);
      }
      return;
  }
}

// One row of n outputs: y = act(y + bias + addend); bias and addend may be null.
inline void epi_row(const float* __restrict bias, const float* __restrict addend, ActKind act,
                    float a, float b, float* __restrict y, int64_t n) {
  if (bias && addend) {
    for (int64_t j = 0; j < n; ++j) y[j] = (y[j] + bias[j]) + addend[j];
  } else if (bias) {
    for (int64_t j = 0; j < n; ++j) y[j] += bias[j];
  } else if (addend) {
    for (int64_t j = 0; j < n; ++j) y[j] += addend[j];
  }
  epi_act_row(act, a, b, y, n);
}

// A rows x cols block of a GEMM's C at (i0, j0), row stride ldc (c points at C[i0][j0]).
inline void epi_gemm_block(const GemmEpilogue& e, float* c, int64_t ldc, int64_t i0,
                           int64_t j0, int64_t rows, int64_t cols) {
  const float* bias = e.bias ? e.bias + j0 : nullptr;
  for (int64_t i = 0; i < rows; ++i) {
    const float* add = e.addend ? e.addend + (i0 + i) * e.ld_addend + j0 : nullptr;
    epi_row(bias, add, e.act, e.a, e.b, c + i * ldc, cols);
  }
}

}  // namespace
}  // namespace xcept
