#include "kernels/epilogue.h"

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

}  // namespace xcept
