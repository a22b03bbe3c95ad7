// Activations: Act, the one description of an activation and its parameters that
// layers, the kernels' fused epilogues (kernels/epilogue.h) and runtime ops share, and
// the elementwise kernels on float arrays, forward and backward.
//
// Backward takes the forward OUTPUT y (not the input): for relu, relu6 and elu (alpha > 0)
// the output determines the derivative, so the forward may run in place and a layer
// keeps only one tensor for both its next consumer and its own backward:
//   relu : dx = dy           where y > 0,      else 0
//   relu6: dx = dy           where 0 < y < 6,  else 0   (zero at both kinks, like TF)
//   elu  : dx = dy * (y + a) where y < 0,      else dy  (alpha * e^x = y + alpha)
// In-place calls (y == x, dx == dy) are allowed; other overlaps are not.
// Large arrays are split over the thread pool.
#pragma once

#include <cstdint>
#include <string_view>

namespace xcept {

// relu: max(0, v); clip: min(max(v, a), b) (relu6 is clip 0..6);
// elu: v > 0 ? v : a * (e^v - 1); leaky_relu: v > 0 ? v : a * v.
enum class ActKind { none, relu, clip, elu, leaky_relu };

const char* act_kind_name(ActKind k);

struct Act {
  ActKind kind = ActKind::none;
  float a = 0.0f, b = 0.0f;  // clip: [a, b]; elu, leaky_relu: alpha = a

  static constexpr Act none() { return {}; }
  static constexpr Act relu() { return {ActKind::relu, 0.0f, 0.0f}; }
  static constexpr Act relu6() { return {ActKind::clip, 0.0f, 6.0f}; }
  static constexpr Act clip(float lo, float hi) { return {ActKind::clip, lo, hi}; }
  static constexpr Act elu(float alpha = 1.0f) { return {ActKind::elu, alpha, 0.0f}; }
  static constexpr Act leaky_relu(float alpha) { return {ActKind::leaky_relu, alpha, 0.0f}; }
  constexpr bool is_none() const { return kind == ActKind::none; }
  constexpr bool is_relu6() const { return kind == ActKind::clip && a == 0.0f && b == 6.0f; }
  // What a training layer can differentiate from its output (see below): none, relu,
  // relu6 and elu with alpha > 0.
  constexpr bool trainable() const {
    return kind == ActKind::none || kind == ActKind::relu || is_relu6() ||
           (kind == ActKind::elu && a > 0.0f);
  }
  friend constexpr bool operator==(const Act&, const Act&) = default;
};

// "none", "relu", "relu6", "clip", "elu", "leaky_relu": for files, tables and messages.
const char* act_name(const Act& act);
// The trainable activations by name (none, relu, relu6, elu with `elu_alpha`); throws
// xcept::Error naming the bad value.
Act parse_act(std::string_view name, float elu_alpha = 1.0f);

void relu_fwd_f32(const float* x, float* y, int64_t n);
void relu_bwd_f32(const float* y, const float* dy, float* dx, int64_t n);
void relu6_fwd_f32(const float* x, float* y, int64_t n);
void relu6_bwd_f32(const float* y, const float* dy, float* dx, int64_t n);
// alpha must be > 0 (otherwise y would not determine the derivative); throws if not.
void elu_fwd_f32(const float* x, float* y, int64_t n, float alpha = 1.0f);
void elu_bwd_f32(const float* y, const float* dy, float* dx, int64_t n, float alpha = 1.0f);

// By Act, through the kernel table's act_fwd / act_bwd rows (kernels/kernels.h); `none`
// copies (forward) or passes dy through (backward). The forward takes any Act; the
// backward the trainable ones (throws otherwise).
void activation_fwd_f32(const Act& act, const float* x, float* y, int64_t n);
void activation_bwd_f32(const Act& act, const float* y, const float* dy, float* dx, int64_t n);

}  // namespace xcept
