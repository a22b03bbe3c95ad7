// The elementwise tail a producing op applies to its output before storing it
// (fused activation). relu6 is clip(0, 6).
#pragma once

#include <cstdint>

#include "kernels/epilogue.h"

namespace xcept {

struct Act {
  enum class Kind { none, relu, clip, elu, leaky_relu };
  Kind kind = Kind::none;
  float a = 0.0f, b = 0.0f;  // clip: [a, b]; elu, leaky_relu: alpha = a

  static Act none() { return {}; }
  static Act relu() { return {Kind::relu, 0.0f, 0.0f}; }
  static Act relu6() { return {Kind::clip, 0.0f, 6.0f}; }
  static Act clip(float lo, float hi) { return {Kind::clip, lo, hi}; }
  static Act elu(float alpha) { return {Kind::elu, alpha, 0.0f}; }
  static Act leaky_relu(float alpha) { return {Kind::leaky_relu, alpha, 0.0f}; }
  bool is_none() const { return kind == Kind::none; }
};

// y[i] = act(y[i]) for i < n, in place.
void apply_act_f32(const Act& act, float* y, int64_t n);

// The kernels' form of the same activation, for fused epilogues (kernels/epilogue.h).
ActKind act_kind(const Act& act);

// "none", "relu", "relu6", "clip", "elu", "leaky_relu": for tables and messages.
const char* act_name(const Act& act);

}  // namespace xcept
