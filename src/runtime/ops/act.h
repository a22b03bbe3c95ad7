// The elementwise tail a producing op applies to its output before storing it
// (fused activation). relu6 is clip(0, 6).
#pragma once

#include <cstdint>

#include "kernels/epilogue.h"

namespace xcept {

// The activation kind is the kernels' ActKind (kernels/epilogue.h): one enum for fused
// epilogues and standalone steps alike; Act adds its parameters.
struct Act {
  ActKind kind = ActKind::none;
  float a = 0.0f, b = 0.0f;  // clip: [a, b]; elu, leaky_relu: alpha = a

  static Act none() { return {}; }
  static Act relu() { return {ActKind::relu, 0.0f, 0.0f}; }
  static Act relu6() { return {ActKind::clip, 0.0f, 6.0f}; }
  static Act clip(float lo, float hi) { return {ActKind::clip, lo, hi}; }
  static Act elu(float alpha) { return {ActKind::elu, alpha, 0.0f}; }
  static Act leaky_relu(float alpha) { return {ActKind::leaky_relu, alpha, 0.0f}; }
  bool is_none() const { return kind == ActKind::none; }
};

// y[i] = act(y[i]) for i < n, in place.
void apply_act_f32(const Act& act, float* y, int64_t n);

// "none", "relu", "relu6", "clip", "elu", "leaky_relu": for tables and messages.
const char* act_name(const Act& act);

}  // namespace xcept
