// What a forward kernel applies to its output while the tile is still in cache:
//   y = act(conv(x, w) + bias + addend)
// bias per output channel, addend a tensor laid out like y (a residual branch), then an
// elementwise activation. Fusing it saves one or two full passes over y per layer.
// The activation is kernels/activation_f32.h's ActKind with its parameters a and b.
#pragma once

#include <cstdint>

#include "kernels/activation_f32.h"

namespace xcept {

// Per-channel mean and biased variance of a convolution's output (after its epilogue):
// the statistics a training batch norm after the layer needs, taken by a kernel that can
// while the output is still in cache (conv2d_fwd computes them in a pass of their own
// for the others).
struct OutputStats {
  float* mean = nullptr;  // [m]
  float* var = nullptr;   // [m]
};

struct ConvEpilogue {
  const float* bias = nullptr;    // [m] or null
  const float* addend = nullptr;  // dense like y ([n][ho][wo][m]) or null; must not overlap y
  ActKind act = ActKind::none;
  float a = 0.f, b = 0.f;         // activation parameters (see ActKind)
  OutputStats* stats = nullptr;   // null: none wanted

  ConvEpilogue() = default;
  // A bias alone converts implicitly: training code, which never fuses, passes a bias
  // pointer (or nullptr) where an epilogue is expected.
  ConvEpilogue(const float* bias_) : bias(bias_) {}  // NOLINT(google-explicit-constructor)
  ConvEpilogue(const float* bias_, const float* addend_, ActKind act_, float a_ = 0.f,
               float b_ = 0.f)
      : bias(bias_), addend(addend_), act(act_), a(a_), b(b_) {}

  // Anything beyond the bias (which kernels fold into their accumulators).
  bool has_post() const { return addend != nullptr || act != ActKind::none; }
};

// The GEMM form, for C [m x n]: C = act(A*B + beta*C + bias[j] + addend[i*ld_addend + j]).
struct GemmEpilogue {
  const float* bias = nullptr;    // [n] or null
  const float* addend = nullptr;  // [m x n] with row stride ld_addend, or null
  int64_t ld_addend = 0;
  ActKind act = ActKind::none;
  float a = 0.f, b = 0.f;
};

}  // namespace xcept
