#include "runtime/ops/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/checked_math.h"
#include "core/error.h"
#include "kernels/kernels.h"

namespace xcept {

namespace {

std::vector<int64_t> strides_of(const Dims& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

void expect_inputs(const std::string& step, const char* type, std::span<const Dims> in, size_t n) {
  if (in.size() != n) fail("{}: {} takes {} input(s), got {}", step, type, n, in.size());
}

// dst[j] = src[offset + sum_i idx_i * strides[i]] over the multi-index of out_dims, row-major.
void strided_copy(const float* src, int64_t offset, const Dims& out_dims,
                  const std::vector<int64_t>& strides, float* dst) {
  const size_t r = out_dims.size();
  const int64_t total = numel_of(out_dims);
  if (total == 0) return;
  if (r == 0) {
    dst[0] = src[offset];
    return;
  }
  const int64_t inner = out_dims[r - 1], inner_stride = strides[r - 1];
  std::vector<int64_t> idx(r, 0);
  int64_t base = offset;
  for (int64_t done = 0; done < total; done += inner) {
    const float* s = src + base;
    if (inner_stride == 1) std::memcpy(dst, s, static_cast<size_t>(inner) * sizeof(float));
    else for (int64_t j = 0; j < inner; ++j) dst[j] = s[j * inner_stride];
    dst += inner;
    for (size_t a = r - 1; a-- > 0;) {  // advance the outer multi-index
      base += strides[a];
      if (++idx[a] < out_dims[a]) break;
      base -= strides[a] * out_dims[a];
      idx[a] = 0;
    }
  }
}

}  // namespace

// ---- Transpose

Dims TransposeOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Transpose", in, 1);
  const Dims& x = in[0];
  if (perm_.size() != x.size())
    fail("{}: Transpose perm has {} axes but the input {} has {}", step, perm_.size(),
         dims_to_string(x), x.size());
  std::vector<bool> seen(x.size(), false);
  Dims y(x.size());
  for (size_t i = 0; i < perm_.size(); ++i) {
    int p = perm_[i];
    if (p < 0 || p >= static_cast<int>(x.size()) || seen[p])
      fail("{}: Transpose perm is not a permutation of 0..{}", step, x.size() - 1);
    seen[p] = true;
    y[i] = x[p];
  }
  return y;
}

void TransposeOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& x = *in[0].dims;
  auto s = strides_of(x);
  std::vector<int64_t> ps(perm_.size());
  for (size_t i = 0; i < perm_.size(); ++i) ps[i] = s[perm_[i]];
  strided_copy(in[0].data, 0, *out.dims, ps, out.data);
}

// ---- Reshape

Dims ReshapeOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Reshape", in, 1);
  if (numel_of(in[0]) != numel_of(dims_))
    fail("{}: cannot reshape {} into {}: element counts differ", step, dims_to_string(in[0]),
         dims_to_string(dims_));
  return dims_;
}

void ReshapeOp::run(std::span<const ConstView> in, const MutView& out) const {
  if (in[0].data != out.data)
    if (const int64_t n = numel_of(dims_); n > 0)
      std::memcpy(out.data, in[0].data, static_cast<size_t>(n) * sizeof(float));
}

// ---- Softmax

Dims SoftmaxOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, type(), in, 1);
  const int r = static_cast<int>(in[0].size());
  if (axis_ < 0 || axis_ >= std::max(r, 1))
    fail("{}: {} axis {} out of range for {}", step, type(), axis_, dims_to_string(in[0]));
  return in[0];
}

void SoftmaxOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& d = *in[0].dims;
  int64_t outer = 1, len = 1, inner = 1;
  for (int i = 0; i < static_cast<int>(d.size()); ++i) {
    if (i < axis_) outer *= d[i];
    else if (i == axis_ || flatten_tail_) len *= d[i];
    else inner *= d[i];
  }
  const float* x = in[0].data;
  float* y = out.data;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      const float* xs = x + o * len * inner + j;
      float* ys = y + o * len * inner + j;
      float mx = -INFINITY;
      for (int64_t i = 0; i < len; ++i) mx = std::max(mx, xs[i * inner]);
      double sum = 0;
      for (int64_t i = 0; i < len; ++i) sum += std::exp(double(xs[i * inner]) - mx);
      if (log_) {
        const double ls = std::log(sum);
        for (int64_t i = 0; i < len; ++i) ys[i * inner] = float(double(xs[i * inner]) - mx - ls);
      } else {
        for (int64_t i = 0; i < len; ++i)
          ys[i * inner] = float(std::exp(double(xs[i * inner]) - mx) / sum);
      }
    }
}

// ---- Pad

PadOp::PadOp(PadKind kind, std::vector<int64_t> before, std::vector<int64_t> after, float value)
    : kind_(kind), before_(std::move(before)), after_(std::move(after)), value_(value) {}

Dims PadOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Pad", in, 1);
  const Dims& x = in[0];
  if (before_.size() != x.size() || after_.size() != x.size())
    fail("{}: Pad has pads for {} axes but the input {} has {}", step, before_.size(),
         dims_to_string(x), x.size());
  Dims y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (before_[i] < 0 || after_[i] < 0)
      fail("{}: negative pads are not supported (axis {})", step, i);
    if (kind_ == PadKind::reflect && (before_[i] >= x[i] || after_[i] >= x[i]) &&
        (before_[i] || after_[i]))
      fail("{}: reflect pad {}+{} needs more than {} elements on axis {}", step, before_[i],
           after_[i], x[i], i);
    if (kind_ == PadKind::edge && x[i] == 0 && (before_[i] || after_[i]))
      fail("{}: edge pad of an empty axis {}", step, i);
    if (before_[i] > kMaxElements || after_[i] > kMaxElements)
      fail("{}: pads {}+{} on axis {} are too large", step, before_[i], after_[i], i);
    y[i] = x[i] + before_[i] + after_[i];
  }
  return y;
}

void PadOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& x = *in[0].dims;
  const Dims& y = *out.dims;
  const size_t r = x.size();
  const int64_t total = numel_of(y);
  if (total == 0) return;
  if (r == 0) {
    out.data[0] = in[0].data[0];
    return;
  }
  // Per axis: the source index of each output index, or -1 (constant padding).
  std::vector<std::vector<int64_t>> map(r);
  for (size_t a = 0; a < r; ++a) {
    map[a].resize(static_cast<size_t>(y[a]));
    for (int64_t i = 0; i < y[a]; ++i) {
      int64_t s = i - before_[a];
      if (s < 0 || s >= x[a]) {
        if (kind_ == PadKind::constant) s = -1;
        else if (kind_ == PadKind::edge) s = std::clamp<int64_t>(s, 0, x[a] - 1);
        else s = s < 0 ? -s : 2 * (x[a] - 1) - s;
      }
      map[a][i] = s;
    }
  }
  const auto xs = strides_of(x);
  const int64_t inner = y[r - 1];
  std::vector<int64_t> idx(r, 0);
  float* dst = out.data;
  for (int64_t done = 0; done < total; done += inner) {
    int64_t base = 0;
    bool valid = true;
    for (size_t a = 0; a + 1 < r; ++a) {
      int64_t s = map[a][idx[a]];
      if (s < 0) { valid = false; break; }
      base += s * xs[a];
    }
    const auto& m = map[r - 1];
    for (int64_t j = 0; j < inner; ++j)
      dst[j] = (valid && m[j] >= 0) ? in[0].data[base + m[j]] : value_;
    dst += inner;
    for (size_t a = r - 1; a-- > 0;) {
      if (++idx[a] < y[a]) break;
      idx[a] = 0;
    }
  }
}

// ---- Gather

Dims GatherOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Gather", in, 1);
  const Dims& x = in[0];
  if (axis_ < 0 || axis_ >= static_cast<int>(x.size()))
    fail("{}: Gather axis {} out of range for {}", step, axis_, dims_to_string(x));
  for (int64_t i : indices_)
    if (i < 0 || i >= x[axis_])
      fail("{}: Gather index {} out of range for axis {} of {}", step, i, axis_,
           dims_to_string(x));
  Dims y(x.begin(), x.begin() + axis_);
  y.insert(y.end(), indices_dims_.begin(), indices_dims_.end());
  y.insert(y.end(), x.begin() + axis_ + 1, x.end());
  return y;
}

void GatherOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& x = *in[0].dims;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis_; ++i) outer *= x[i];
  for (size_t i = axis_ + 1; i < x.size(); ++i) inner *= x[i];
  const int64_t n = x[axis_];
  if (outer == 0 || inner == 0 || indices_.empty()) return;  // empty output: nothing to copy
  float* dst = out.data;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t idx : indices_) {
      std::memcpy(dst, in[0].data + (o * n + idx) * inner, static_cast<size_t>(inner) * 4);
      dst += inner;
    }
}

// ---- Slice

Dims SliceOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Slice", in, 1);
  const Dims& x = in[0];
  if (starts_.size() != x.size() || steps_.size() != x.size() || out_dims_.size() != x.size())
    fail("{}: Slice resolved for {} axes but the input {} has {}", step, starts_.size(),
         dims_to_string(x), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (out_dims_[i] == 0) continue;
    const int64_t last = starts_[i] + (out_dims_[i] - 1) * steps_[i];
    if (starts_[i] < 0 || starts_[i] >= x[i] || last < 0 || last >= x[i])
      fail("{}: Slice of axis {} reads outside {}", step, i, dims_to_string(x));
  }
  return out_dims_;
}

void SliceOp::run(std::span<const ConstView> in, const MutView& out) const {
  const auto s = strides_of(*in[0].dims);
  int64_t offset = 0;
  std::vector<int64_t> st(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    offset += starts_[i] * s[i];
    st[i] = steps_[i] * s[i];
  }
  strided_copy(in[0].data, offset, out_dims_, st, out.data);
}

// ---- MatMul

Dims MatMulOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "MatMul", in, 2);
  const Dims &a = in[0], &b = in[1];
  if (a.size() < 2 || b.size() < 2)
    fail("{}: MatMul needs rank >= 2 operands, got {} and {}", step, dims_to_string(a),
         dims_to_string(b));
  const int64_t m = a[a.size() - 2], k = a.back(), k2 = b[b.size() - 2], n = b.back();
  if (k != k2)
    fail("{}: MatMul inner sizes differ: {} and {}", step, dims_to_string(a), dims_to_string(b));
  const size_t r = std::max(a.size(), b.size());
  Dims y(r);
  for (size_t i = 0; i + 2 < r; ++i) {
    int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1)
      fail("{}: MatMul batch dims of {} and {} do not broadcast", step, dims_to_string(a),
           dims_to_string(b));
    y[i] = da == 1 ? db : da;
  }
  y[r - 2] = m;
  y[r - 1] = n;
  checked_mul(numel_of(y), k, step);  // the MACs must fit (bind counts them)
  return y;
}

void MatMulOp::bind(std::span<const Dims> in) {
  const Dims &a = in[0], &b = in[1];
  const size_t r = std::max(a.size(), b.size());
  int64_t batch = 1;  // broadcast batch dims, as output_dims resolved them
  for (size_t i = 0; i + 2 < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    batch *= std::max(da, db);
  }
  macs_ = batch * a[a.size() - 2] * a.back() * b.back();
}

void MatMulOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims &a = *in[0].dims, &b = *in[1].dims, &y = *out.dims;
  const size_t r = y.size();
  const int64_t m = y[r - 2], n = y[r - 1], k = a.back();
  Dims batch(y.begin(), y.end() - 2);
  // Batch strides of a and b in matrices, 0 where broadcast.
  auto bstrides = [&](const Dims& d) {
    std::vector<int64_t> s(batch.size(), 0);
    int64_t acc = 1;
    for (size_t i = batch.size(); i-- > 0;) {
      const size_t j = i + d.size() - r;  // wraps when d has fewer axes
      const int64_t di = (i + d.size() >= r) ? d[j] : 1;
      s[i] = di == 1 ? 0 : acc;
      acc *= di;
    }
    return s;
  };
  const auto sa = bstrides(a), sb = bstrides(b);
  const int64_t nb = numel_of(batch);
  std::vector<int64_t> idx(batch.size(), 0);
  GemmShape g;
  g.m = m, g.n = n, g.k = k, g.lda = k, g.ldb = n, g.ldc = n;
  for (int64_t t = 0; t < nb; ++t) {
    int64_t oa = 0, ob = 0;
    for (size_t i = 0; i < batch.size(); ++i) oa += idx[i] * sa[i], ob += idx[i] * sb[i];
    float* c = out.data + t * m * n;
    if (k == 0) std::fill_n(c, m * n, 0.f);
    else if (m && n) gemm(g, in[0].data + oa * m * k, in[1].data + ob * k * n, c);
    for (size_t i = batch.size(); i-- > 0;) {
      if (++idx[i] < batch[i]) break;
      idx[i] = 0;
    }
  }
}

// ---- Unary

void apply_unary_f32(UnaryKind kind, float a, float b, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    float r = v;
    switch (kind) {
      case UnaryKind::sigmoid: r = 1.f / (1.f + std::exp(-v)); break;
      case UnaryKind::tanh: r = std::tanh(v); break;
      case UnaryKind::exp: r = std::exp(v); break;
      case UnaryKind::log: r = std::log(v); break;
      case UnaryKind::neg: r = -v; break;
      case UnaryKind::abs: r = std::fabs(v); break;
      case UnaryKind::sqrt: r = std::sqrt(v); break;
      case UnaryKind::reciprocal: r = 1.f / v; break;
      case UnaryKind::softplus: r = v > 20.f ? v : std::log1p(std::exp(v)); break;
      case UnaryKind::softsign: r = v / (1.f + std::fabs(v)); break;
      case UnaryKind::selu: r = v > 0 ? b * v : b * (a * std::exp(v) - a); break;
      case UnaryKind::hard_sigmoid: r = std::clamp(a * v + b, 0.f, 1.f); break;
      case UnaryKind::floor: r = std::floor(v); break;
      case UnaryKind::ceil: r = std::ceil(v); break;
      case UnaryKind::hard_swish: r = v * std::clamp(v / 6.f + 0.5f, 0.f, 1.f); break;
      case UnaryKind::celu: r = std::max(0.f, v) + std::min(0.f, a * std::expm1(v / a)); break;
      case UnaryKind::thresholded_relu: r = v > a ? v : 0.f; break;
    }
    y[i] = r;
  }
}

Dims UnaryOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Unary", in, 1);
  return in[0];
}

void UnaryOp::run(std::span<const ConstView> in, const MutView& out) const {
  apply_unary_f32(kind_, a_, b_, in[0].data, out.data, numel_of(*out.dims));
}

// ---- Reduce

Dims ReduceOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Reduce", in, 1);
  if (reduce_.size() != in[0].size())
    fail("{}: Reduce has flags for {} axes but the input {} has {}", step, reduce_.size(),
         dims_to_string(in[0]), in[0].size());
  Dims y;
  for (size_t i = 0; i < reduce_.size(); ++i) {
    if (reduce_[i] && in[0][i] == 0 && (kind_ == ReduceKind::max || kind_ == ReduceKind::min))
      fail("{}: max/min over an empty axis {}", step, i);
    if (!reduce_[i]) y.push_back(in[0][i]);
    else if (keep_dims_) y.push_back(1);
  }
  return y;
}

void ReduceOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& x = *in[0].dims;
  // Output element of each input element: the input's multi-index with reduced axes 0.
  Dims kept(x.size());
  for (size_t i = 0; i < x.size(); ++i) kept[i] = reduce_[i] ? 1 : x[i];
  const auto ks = strides_of(kept);
  const int64_t n_out = numel_of(kept), n_in = numel_of(x);
  const int64_t count = n_out ? n_in / std::max<int64_t>(n_out, 1) : 0;
  std::vector<double> acc(static_cast<size_t>(n_out));
  double init = 0;
  if (kind_ == ReduceKind::max) init = -INFINITY;
  else if (kind_ == ReduceKind::min) init = INFINITY;
  else if (kind_ == ReduceKind::prod) init = 1;
  std::fill(acc.begin(), acc.end(), init);
  // log_sum_exp: subtract the max first, for range.
  std::vector<double> mx;
  if (kind_ == ReduceKind::log_sum_exp) mx.assign(acc.size(), -INFINITY);
  std::vector<int64_t> idx(x.size(), 0);
  for (int pass = kind_ == ReduceKind::log_sum_exp ? 0 : 1; pass < 2; ++pass) {
    std::fill(idx.begin(), idx.end(), 0);
    for (int64_t j = 0; j < n_in; ++j) {
      int64_t o = 0;
      for (size_t a = 0; a < x.size(); ++a)
        if (!reduce_[a]) o += idx[a] * ks[a];
      const double v = in[0].data[j];
      double& s = acc[static_cast<size_t>(o)];
      if (pass == 0) {
        mx[size_t(o)] = std::max(mx[size_t(o)], v);
      } else {
        switch (kind_) {
          case ReduceKind::sum: case ReduceKind::mean: case ReduceKind::log_sum: s += v; break;
          case ReduceKind::max: s = std::max(s, v); break;
          case ReduceKind::min: s = std::min(s, v); break;
          case ReduceKind::prod: s *= v; break;
          case ReduceKind::l1: s += std::fabs(v); break;
          case ReduceKind::l2: case ReduceKind::sum_square: s += v * v; break;
          case ReduceKind::log_sum_exp: s += std::exp(v - mx[size_t(o)]); break;
        }
      }
      for (size_t a = x.size(); a-- > 0;) {
        if (++idx[a] < x[a]) break;
        idx[a] = 0;
      }
    }
  }
  for (int64_t o = 0; o < n_out; ++o) {
    double s = acc[size_t(o)];
    if (kind_ == ReduceKind::mean) s /= double(count);
    else if (kind_ == ReduceKind::l2) s = std::sqrt(s);
    else if (kind_ == ReduceKind::log_sum) s = std::log(s);
    else if (kind_ == ReduceKind::log_sum_exp) s = std::log(s) + mx[size_t(o)];
    out.data[o] = static_cast<float>(s);
  }
}

// ---- broadcasting helpers

namespace {

// Strides of `in` read as `out` (right-aligned, 0 on broadcast axes).
std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out) {
  const auto s = strides_of(in);
  std::vector<int64_t> r(out.size(), 0);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) r[off + i] = in[i] == 1 ? 0 : s[i];
  return r;
}

Dims broadcast_out(const std::string& step, const Dims& a, const Dims& b) {
  const size_t r = std::max(a.size(), b.size());
  Dims d(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t y = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (x != y && x != 1 && y != 1)
      fail("{}: dims {} and {} do not broadcast", step, dims_to_string(a), dims_to_string(b));
    d[i] = x == 1 ? y : x;
  }
  return d;
}

}  // namespace

Dims BroadcastBinaryOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, type(), in, 2);
  return broadcast_out(step, in[0], in[1]);
}

void BroadcastBinaryOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& y = *out.dims;
  const int64_t n = numel_of(y);
  if (n == 0) return;
  Tensor a(y), b(y);
  strided_copy(in[0].data, 0, y, broadcast_strides(*in[0].dims, y), a.data());
  strided_copy(in[1].data, 0, y, broadcast_strides(*in[1].dims, y), b.data());
  for (int64_t i = 0; i < n; ++i) {
    switch (kind_) {
      case BroadcastKind::max: out.data[i] = std::max(a[i], b[i]); break;
      case BroadcastKind::min: out.data[i] = std::min(a[i], b[i]); break;
      case BroadcastKind::pow: out.data[i] = std::pow(a[i], b[i]); break;
    }
  }
}

Dims ExpandOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "Expand", in, 1);
  return broadcast_out(step, in[0], dims_);
}

void ExpandOp::run(std::span<const ConstView> in, const MutView& out) const {
  strided_copy(in[0].data, 0, *out.dims, broadcast_strides(*in[0].dims, *out.dims), out.data);
}

Dims LayerNormOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_inputs(step, "LayerNorm", in, 1);
  const Dims& x = in[0];
  if (axis_ < 0 || axis_ >= static_cast<int>(x.size()))
    fail("{}: LayerNorm axis {} out of range for {}", step, axis_, dims_to_string(x));
  int64_t inner = 1;
  for (size_t i = size_t(axis_); i < x.size(); ++i) inner *= x[i];
  if (scale_.numel() != inner || (!bias_.empty() && bias_.numel() != inner))
    fail("{}: LayerNorm scale {} / bias {} do not match the {} normalized elements", step,
         dims_to_string(scale_.dims()), dims_to_string(bias_.dims()), inner);
  return x;
}

void LayerNormOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& x = *in[0].dims;
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < x.size(); ++i) (int(i) < axis_ ? outer : inner) *= x[i];
  for (int64_t o = 0; o < outer; ++o) {
    const float* xs = in[0].data + o * inner;
    float* ys = out.data + o * inner;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i) mean += xs[i];
    mean /= double(inner);
    for (int64_t i = 0; i < inner; ++i) var += (xs[i] - mean) * (xs[i] - mean);
    var /= double(inner);
    const double inv = 1.0 / std::sqrt(var + eps_);
    for (int64_t i = 0; i < inner; ++i)
      ys[i] = float((xs[i] - mean) * inv * scale_[i] + (bias_.empty() ? 0.0 : bias_[i]));
  }
}

}  // namespace xcept
