#include "kernels/activation_f32.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

namespace xcept {
namespace {

// These loops are memory bound; below ~256 KB the pool's wake-up costs more than it saves.
constexpr int64_t kGrain = int64_t{1} << 16;

template <typename F>
void split(int64_t n, F&& body) {
  if (n < 2 * kGrain) {
    body(int64_t{0}, n);
    return;
  }
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) { body(begin, end); });
}

// c ? a : b as bit operations. A plain ?: lets GCC sink the arm's arithmetic under a
// branch; with -ftrapping-math (the default) it then refuses to if-convert it back, and
// the loop stays scalar. Both arms computed, no branch: the loop vectorizes.
inline float blend(bool c, float a, float b) {
  const uint32_t m = 0u - static_cast<uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & m) |
                              (std::bit_cast<uint32_t>(b) & ~m));
}

// e^x - 1 for x <= 0, branch-free and call-free so the loop vectorizes (std::expm1
// would not). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, then the Cephes expf
// polynomial. Written as 2^n q + (2^n - 1) with q = e^r - 1 so that small |x| keeps
// full relative precision instead of cancelling in (1 + q) - 1. Measured against double
// expm1 on every float in [-100, 0]: under 1 ulp.
inline float expm1_nonpositive(float x) {
  x = blend(x < -87.0f, -87.0f, x);  // keeps 2^n normal; NaN passes through
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
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
  // n sits in the low mantissa bits of t. Unsigned math: no UB even for NaN lanes.
  const uint32_t biased = std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(kMagic) + 127u;
  const float scale = std::bit_cast<float>(biased << 23);
  return scale * q + (scale - 1.0f);
}

void check_alpha(float alpha) {
  if (!(alpha > 0.0f)) fail("elu: alpha must be > 0, got {}", alpha);
}

}  // namespace

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

const char* act_name(const Act& act) {
  return act.is_relu6() ? "relu6" : act_kind_name(act.kind);
}

Act parse_act(std::string_view name, float elu_alpha) {
  if (name == "none") return Act::none();
  if (name == "relu") return Act::relu();
  if (name == "relu6") return Act::relu6();
  if (name == "elu") {
    check_alpha(elu_alpha);
    return Act::elu(elu_alpha);
  }
  fail("unknown activation '{}' (expected none, relu, relu6 or elu)", name);
}

// Comparisons are written so a NaN input stays NaN rather than turning into 0. Both
// sides of each select are computed unconditionally: a load or multiply under a branch
// keeps GCC from if-converting, and the loop stays scalar.
void relu_fwd_f32(const float* x, float* y, int64_t n) {
  split(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
  });
}

void relu_bwd_f32(const float* y, const float* dy, float* dx, int64_t n) {
  split(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float g = dy[i];
      dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
  });
}

void relu6_fwd_f32(const float* x, float* y, int64_t n) {
  split(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = x[i] < 0.0f ? 0.0f : x[i];
      y[i] = v > 6.0f ? 6.0f : v;
    }
  });
}

void relu6_bwd_f32(const float* y, const float* dy, float* dx, int64_t n) {
  split(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = y[i], g = dy[i];
      dx[i] = ((v > 0.0f) & (v < 6.0f)) ? g : 0.0f;  // & not &&: no branch, vectorizes
    }
  });
}

void elu_fwd_f32(const float* x, float* y, int64_t n, float alpha) {
  check_alpha(alpha);
  split(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = x[i];
      const float neg = alpha * expm1_nonpositive(blend(v > 0.0f, 0.0f, v));
      y[i] = blend(v > 0.0f, v, neg);
    }
  });
}

void elu_bwd_f32(const float* y, const float* dy, float* dx, int64_t n, float alpha) {
  check_alpha(alpha);
  split(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = y[i], g = dy[i];
      const float neg = g * (v + alpha);
      dx[i] = blend(v < 0.0f, neg, g);
    }
  });
}

// The table rows (kernels/table/act_fwd.inc, act_bwd.inc).
void act_fwd_f32(const ActShape& s, const float* x, float* y) {
  const Act& act = s.act;
  const int64_t n = s.n;
  switch (act.kind) {
    case ActKind::none:
      if (x != y && n > 0) std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case ActKind::relu: return relu_fwd_f32(x, y, n);
    case ActKind::clip:
      if (act.is_relu6()) return relu6_fwd_f32(x, y, n);
      split(n, [=](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) y[i] = std::min(std::max(x[i], act.a), act.b);
      });
      return;
    case ActKind::elu:
      if (act.a > 0.0f) return elu_fwd_f32(x, y, n, act.a);
      split(n, [=](int64_t b, int64_t e) {  // alpha <= 0 (an ONNX model's): plain expm1
        for (int64_t i = b; i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : act.a * std::expm1(x[i]);
      });
      return;
    case ActKind::leaky_relu:
      split(n, [=](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : act.a * x[i];
      });
      return;
  }
}

void act_bwd_f32(const ActShape& s, const float* y, const float* dy, float* dx) {
  // Its predicate (act_trainable) admits only the kinds below; activation_bwd_f32 names
  // any other before dispatch.
  const Act& act = s.act;
  const int64_t n = s.n;
  switch (act.kind) {
    case ActKind::none:
      if (dx != dy && n > 0) std::memcpy(dx, dy, static_cast<size_t>(n) * sizeof(float));
      return;
    case ActKind::relu: return relu_bwd_f32(y, dy, dx, n);
    case ActKind::clip: return relu6_bwd_f32(y, dy, dx, n);  // trainable clip: relu6
    case ActKind::elu: return elu_bwd_f32(y, dy, dx, n, act.a);
    case ActKind::leaky_relu: return;
  }
}

}  // namespace xcept
