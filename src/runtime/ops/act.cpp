#include "runtime/ops/act.h"

#include <algorithm>
#include <cmath>

#include "kernels/activation_f32.h"

namespace xcept {

// relu, relu6 and elu go through the training kernels, so inference rounds exactly like
// Graph::forward; the other forms are plain loops the compiler vectorizes.
void apply_act_f32(const Act& act, float* y, int64_t n) {
  switch (act.kind) {
    case ActKind::none: return;
    case ActKind::relu: relu_fwd_f32(y, y, n); return;
    case ActKind::clip:
      if (act.a == 0.0f && act.b == 6.0f) {
        relu6_fwd_f32(y, y, n);
        return;
      }
      for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(y[i], act.a), act.b);
      return;
    case ActKind::elu:
      if (act.a > 0.0f) {
        elu_fwd_f32(y, y, n, act.a);
        return;
      }
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : act.a * std::expm1(y[i]);
      return;
    case ActKind::leaky_relu:
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : act.a * y[i];
      return;
  }
}

}  // namespace xcept

namespace xcept {

const char* act_name(const Act& act) {
  switch (act.kind) {
    case ActKind::none: return "none";
    case ActKind::relu: return "relu";
    case ActKind::clip: return act.a == 0.0f && act.b == 6.0f ? "relu6" : "clip";
    case ActKind::elu: return "elu";
    case ActKind::leaky_relu: return "leaky_relu";
  }
  return "?";
}

}  // namespace xcept
