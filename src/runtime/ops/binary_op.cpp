// BinaryOp: elementwise add/sub/mul/div with NumPy broadcasting. The dims are first
// right-aligned and runs of axes that broadcast the same way are merged, so the common
// cases (equal shapes, a per-channel vector, a scalar) become one or two flat loops.
#include <algorithm>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

namespace {

template <BinaryKind K>
inline float apply(float a, float b) {
  if constexpr (K == BinaryKind::add) return a + b;
  if constexpr (K == BinaryKind::sub) return a - b;
  if constexpr (K == BinaryKind::mul) return a * b;
  return a / b;
}

// Output dims and, per merged axis, the element strides of a and b (0: broadcast).
struct Broadcast {
  Dims dims, sa, sb;
};

Broadcast plan_broadcast(const Dims& a, const Dims& b, const Dims& out) {
  const size_t r = out.size();
  Dims da(r, 1), db(r, 1);
  std::copy(a.begin(), a.end(), da.begin() + static_cast<ptrdiff_t>(r - a.size()));
  std::copy(b.begin(), b.end(), db.begin() + static_cast<ptrdiff_t>(r - b.size()));
  Broadcast p;
  // Merge axis i into the previous one when both operands treat them alike.
  for (size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;
    const bool ba = da[i] == 1, bb = db[i] == 1;
    if (!p.dims.empty()) {
      const bool pa = p.sa.back() == 0, pb = p.sb.back() == 0;
      if (pa == ba && pb == bb) {
        p.dims.back() *= out[i];
        p.sa.back() = ba ? 0 : 1;
        p.sb.back() = bb ? 0 : 1;
        continue;
      }
    }
    p.dims.push_back(out[i]);
    p.sa.push_back(ba ? 0 : 1);
    p.sb.push_back(bb ? 0 : 1);
  }
  if (p.dims.empty()) {
    p.dims = {1};
    p.sa = {1};
    p.sb = {1};
  }
  // Turn the 0/1 flags into element strides, innermost first.
  int64_t ea = 1, eb = 1;
  for (size_t i = p.dims.size(); i-- > 0;) {
    const bool ra = p.sa[i] != 0, rb = p.sb[i] != 0;
    p.sa[i] = ra ? ea : 0;
    p.sb[i] = rb ? eb : 0;
    if (ra) ea *= p.dims[i];
    if (rb) eb *= p.dims[i];
  }
  return p;
}

template <BinaryKind K>
void run_kind(const Broadcast& p, const float* a, const float* b, float* y, const Act& act) {
  const size_t r = p.dims.size();
  const int64_t inner = p.dims[r - 1], ia = p.sa[r - 1], ib = p.sb[r - 1];
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < r; ++i) rows *= p.dims[i];
  parallel_for(rows, std::max<int64_t>(1, 16384 / inner), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t oa = 0, ob = 0, rem = row;
      for (size_t i = r - 1; i-- > 0;) {
        const int64_t idx = rem % p.dims[i];
        rem /= p.dims[i];
        oa += idx * p.sa[i];
        ob += idx * p.sb[i];
      }
      const float* ar = a + oa;
      const float* br = b + ob;
      float* yr = y + row * inner;
      if (ia == 1 && ib == 1)
        for (int64_t j = 0; j < inner; ++j) yr[j] = apply<K>(ar[j], br[j]);
      else if (ia == 1)
        for (int64_t j = 0; j < inner; ++j) yr[j] = apply<K>(ar[j], br[0]);
      else if (ib == 1)
        for (int64_t j = 0; j < inner; ++j) yr[j] = apply<K>(ar[0], br[j]);
      else
        for (int64_t j = 0; j < inner; ++j) yr[j] = apply<K>(ar[0], br[0]);
      activation_fwd_f32(act, yr, yr, inner);
    }
  });
}

}  // namespace

const char* BinaryOp::type() const {
  switch (kind_) {
    case BinaryKind::add: return "Add";
    case BinaryKind::sub: return "Sub";
    case BinaryKind::mul: return "Mul";
    case BinaryKind::div: return "Div";
  }
  return "?";
}

Dims BinaryOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 2) fail("{}: {} takes 2 inputs, got {}", step, type(), in.size());
  const Dims& a = in[0];
  const Dims& b = in[1];
  Dims out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      fail("{}: {} cannot broadcast {} with {}", step, type(), dims_to_string(a),
           dims_to_string(b));
    out[out.size() - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

void BinaryOp::run(std::span<const ConstView> in, const MutView& out) const {
  for (int64_t d : *out.dims)
    if (d == 0) return;  // nothing to compute (and no row length to divide by)
  const Broadcast p = plan_broadcast(*in[0].dims, *in[1].dims, *out.dims);
  const float* a = in[0].data;
  const float* b = in[1].data;
  if (kind_ == BinaryKind::add && act_.kind == ActKind::none && p.dims.size() == 1 &&
      p.sa[0] == 1 && p.sb[0] == 1) {
    // Two whole operands: the kernel table's add, the one the training layer runs.
    add_fwd({p.dims[0]}, a, b, out.data);
    return;
  }
  switch (kind_) {
    case BinaryKind::add: run_kind<BinaryKind::add>(p, a, b, out.data, act_); break;
    case BinaryKind::sub: run_kind<BinaryKind::sub>(p, a, b, out.data, act_); break;
    case BinaryKind::mul: run_kind<BinaryKind::mul>(p, a, b, out.data, act_); break;
    case BinaryKind::div: run_kind<BinaryKind::div>(p, a, b, out.data, act_); break;
  }
}

}  // namespace xcept
