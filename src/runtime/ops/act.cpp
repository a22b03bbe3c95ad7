#include "runtime/ops/act.h"

#include <algorithm>
#include <cmath>

#include "kernels/activation_f32.h"

namespace xcept {

// relu, relu6 and elu go through the training kernels, so inference rounds exactly like
// Graph::forward; the other forms are plain loops the compiler vectorizes.
void apply_act_f32(const Act& act, float* y, int64_t n) {
  switch (act.kind) {
    case Act::Kind::none: return;
    case Act::Kind::relu: relu_fwd_f32(y, y, n); return;
    case Act::Kind::clip:
      if (act.a == 0.0f && act.b == 6.0f) {
        relu6_fwd_f32(y, y, n);
        return;
      }
      for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(y[i], act.a), act.b);
      return;
    case Act::Kind::elu:
      if (act.a > 0.0f) {
        elu_fwd_f32(y, y, n, act.a);
        return;
      }
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : act.a * std::expm1(y[i]);
      return;
    case Act::Kind::leaky_relu:
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : act.a * y[i];
      return;
  }
}

}  // namespace xcept

namespace xcept {

const char* act_name(const Act& act) {
  switch (act.kind) {
    case Act::Kind::none: return "none";
    case Act::Kind::relu: return "relu";
    case Act::Kind::clip: return act.a == 0.0f && act.b == 6.0f ? "relu6" : "clip";
    case Act::Kind::elu: return "elu";
    case Act::Kind::leaky_relu: return "leaky_relu";
  }
  return "?";
}

}  // namespace xcept

namespace xcept {

ActKind act_kind(const Act& act) {
  switch (act.kind) {
    case Act::Kind::none: return ActKind::none;
    case Act::Kind::relu: return ActKind::relu;
    case Act::Kind::clip: return ActKind::clip;
    case Act::Kind::elu: return ActKind::elu;
    case Act::Kind::leaky_relu: return ActKind::leaky_relu;
  }
  return ActKind::none;
}

}  // namespace xcept
