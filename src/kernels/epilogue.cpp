#include "kernels/epilogue.h"

#include <cmath>

#include "core/error.h"

namespace xcept {

const char* act_kind_name(ActKind k) {
  switch (k) {
    case ActKind::none: return "none";
    case ActKind::relu: return "relu";
    case ActKind::clip: return "clip";
    case ActKind::elu: return "elu";
    case ActKind::leaky_relu: return "leaky_relu";
  }
  return "?";
}

void check_epilogue(const char* where, ActKind act, float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    fail("{}: activation {} has a NaN parameter (a={}, b={})", where, act_kind_name(act), a, b);
  if (act == ActKind::clip && a > b)
    fail("{}: clip range [{}, {}] is empty", where, a, b);
}

}  // namespace xcept
