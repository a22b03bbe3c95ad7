// The ONNX operators the importer understands, one handler each. A handler reads its
// node through the Importer, emits runtime steps (or folds constants) and sets outputs.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "core/checked_math.h"
#include "io/onnx/onnx_importer.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/tensor_ops.h"

namespace xcept::onnx_import {


int64_t norm_axis(Importer& im, int64_t axis, int64_t rank, const char* what) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) im.bad("{} {} is out of range for rank {}", what, axis, rank);
  return a;
}

namespace {

using onnx::TensorProto;

// ---- pass-through, constants, shapes

void identity(Importer& im) {
  if (im.node->op_type() == "Dropout") {
    if (im.output_used(1)) im.unsupported("Dropout's mask output");
    if (im.has_input(2)) {
      const HostTensor& t = im.const_in(2, "Dropout training_mode");
      if ((t.is_f32() ? t.f32[0] != 0 : t.i64.at(0) != 0)) im.unsupported("Dropout in training mode");
    }
  }
  im.set_out(0, im.in(0));
}

void constant_node(Importer& im) {
  const auto* a = im.node->attribute_size() == 1 ? &im.node->attribute(0) : nullptr;
  if (!a) im.bad("Constant needs exactly one attribute, has {}", im.node->attribute_size());
  const std::string& n = a->name();
  HostTensor t;
  if (n == "value") {
    t = tensor_from_proto(a->t(), im.where() + ": value", im.options().base_dir);
  } else if (n == "value_float") {
    Tensor f(Dims{});
    f[0] = a->f();
    t = HostTensor::from_f32(std::move(f));
  } else if (n == "value_floats") {
    Tensor f(Dims{a->floats_size()});
    for (int i = 0; i < a->floats_size(); ++i) f[i] = a->floats(i);
    t = HostTensor::from_f32(std::move(f));
  } else if (n == "value_int") {
    t = HostTensor::from_i64({}, {a->i()});
  } else if (n == "value_ints") {
    t = HostTensor::from_i64({a->ints_size()}, {a->ints().begin(), a->ints().end()});
  } else {
    im.unsupported("Constant attribute " + n);
  }
  im.set_out(0, im.constant(std::move(t)));
}

void shape_node(Importer& im) {
  const Dims& d = im.in(0).dims;
  const int64_t r = static_cast<int64_t>(d.size());
  int64_t start = im.attr_i("start", 0), end = im.attr_i("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, start, r);
  std::vector<int64_t> v(d.begin() + start, d.begin() + end);
  im.set_out(0, im.constant(HostTensor::from_i64({end - start}, std::move(v))));
}

void constant_of_shape(Importer& im) {
  std::vector<int64_t> shape = im.const_ints(0, "ConstantOfShape shape");
  Dims dims(shape.begin(), shape.end());
  int64_t total = 1;
  for (int64_t x : dims) {
    if (x < 0) im.bad("negative size in shape {}", dims_to_string(dims));
    total = checked_mul(total, x, im.where());
  }
  if (total > (int64_t{1} << 28)) im.unsupported(fmt::format("ConstantOfShape of {}", dims_to_string(dims)));
  HostTensor value = HostTensor::from_f32(Tensor(Dims{1}));
  if (const auto* a = im.attr("value"))
    value = tensor_from_proto(a->t(), im.where() + ": value", {});
  if (value.numel() != 1) im.bad("value must have one element");
  if (value.is_f32()) {
    Tensor f(dims);
    f.fill(value.f32[0]);
    im.set_out(0, im.constant(HostTensor::from_f32(std::move(f))));
  } else {
    im.set_out(0, im.constant(HostTensor::from_i64(
                      dims, std::vector<int64_t>(size_t(dims_numel(dims)), value.i64[0]))));
  }
}

void cast(Importer& im) {
  Val& x = im.in(0);
  const int64_t to = im.attr_i("to", 0);
  const bool to_float = to == TensorProto::FLOAT || to == TensorProto::DOUBLE;
  const bool to_int = to == TensorProto::INT64 || to == TensorProto::INT32;
  if (!to_float && !to_int) im.unsupported(fmt::format("Cast to data type {}", to));
  if (x.pure_constant()) {
    const HostTensor& c = *x.constant;
    if (c.is_f32() && to_int) {
      std::vector<int64_t> v(size_t(c.numel()));
      for (int64_t i = 0; i < c.numel(); ++i) {
        const float f = c.f32[i];
        if (!(f >= -9.2e18f && f <= 9.2e18f)) im.bad("cannot cast {} to an integer", f);
        v[size_t(i)] = static_cast<int64_t>(f);
      }
      im.set_out(0, im.constant(HostTensor::from_i64(c.dims, std::move(v))));
    } else if (!c.is_f32() && to_float) {
      Tensor f(c.dims);
      for (int64_t i = 0; i < c.numel(); ++i) f[i] = static_cast<float>(c.i64[size_t(i)]);
      im.set_out(0, im.constant(HostTensor::from_f32(std::move(f))));
    } else {
      im.set_out(0, x);
    }
    return;
  }
  if (!to_float) im.unsupported(fmt::format("Cast of run-time data to data type {}", to));
  im.set_out(0, x);
}

// ---- reshaping

void reshape_node(Importer& im) {
  Val& x = im.in(0);
  std::vector<int64_t> shape;
  if (im.opset < 5) shape = im.attr_ints("shape").value_or(std::vector<int64_t>{});
  else shape = im.const_ints(1, "Reshape shape");
  const bool allowzero = im.attr_i("allowzero", 0) != 0;
  Dims dims(shape.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t s = shape[i];
    if (s == 0 && !allowzero) {
      if (i >= x.dims.size()) im.bad("shape {} copies axis {} of {}", dims_to_string(shape), i, dims_to_string(x.dims));
      s = x.dims[i];
    }
    if (s == -1) {
      if (infer >= 0) im.bad("shape {} has two -1", dims_to_string(shape));
      infer = static_cast<int>(i);
      continue;
    }
    if (s < 0) im.bad("shape {} has a negative size", dims_to_string(shape));
    dims[i] = s;
    known = checked_mul(known, s, im.where());  // shapes come from the file
  }
  if (infer >= 0) {
    const int64_t n = dims_numel(x.dims);
    if (known == 0 || n % known) im.bad("cannot reshape {} to {}", dims_to_string(x.dims), dims_to_string(shape));
    dims[size_t(infer)] = n / known;
  }
  im.set_out(0, im.reshape(x, dims));
}

void flatten(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  int64_t axis = im.attr_i("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) im.bad("Flatten axis {} out of range for rank {}", axis, r);
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= x.dims[size_t(i)];
  im.set_out(0, im.reshape(x, {a, b}));
}

std::vector<int64_t> axes_of(Importer& im, const char* what) {
  if (im.opset >= 13) {
    if (!im.has_input(1)) return {};
    return im.const_ints(1, what);
  }
  return im.attr_ints("axes").value_or(std::vector<int64_t>{});
}

void squeeze(Importer& im) {
  Val& x = im.in(0);
  std::vector<int64_t> axes = axes_of(im, "Squeeze axes");
  const int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<bool> drop(size_t(r), false);
  if (axes.empty()) {
    for (int64_t i = 0; i < r; ++i) drop[size_t(i)] = x.dims[size_t(i)] == 1;
  } else {
    for (int64_t a : axes) {
      a = norm_axis(im, a, r, "Squeeze axis");
      if (x.dims[size_t(a)] != 1) im.bad("cannot squeeze axis {} of {}", a, dims_to_string(x.dims));
      drop[size_t(a)] = true;
    }
  }
  Dims d;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[size_t(i)]) d.push_back(x.dims[size_t(i)]);
  im.set_out(0, im.reshape(x, d));
}

void unsqueeze(Importer& im) {
  Val& x = im.in(0);
  std::vector<int64_t> axes = axes_of(im, "Unsqueeze axes");
  const int64_t r = static_cast<int64_t>(x.dims.size() + axes.size());
  std::vector<bool> add(size_t(r), false);
  for (int64_t a : axes) {
    a = norm_axis(im, a, r, "Unsqueeze axis");
    if (add[size_t(a)]) im.bad("Unsqueeze axis {} repeated", a);
    add[size_t(a)] = true;
  }
  Dims d;
  size_t k = 0;
  for (int64_t i = 0; i < r; ++i) d.push_back(add[size_t(i)] ? 1 : x.dims[k++]);
  im.set_out(0, im.reshape(x, d));
}

void transpose(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<int64_t> p = im.attr_ints("perm").value_or(std::vector<int64_t>{});
  if (p.empty())
    for (int64_t i = r - 1; i >= 0; --i) p.push_back(i);
  if (static_cast<int64_t>(p.size()) != r) im.bad("perm has {} axes, input {} has {}", p.size(), dims_to_string(x.dims), r);
  std::vector<bool> seen(p.size(), false);
  for (int64_t a : p) {
    if (a < 0 || a >= r || seen[size_t(a)]) im.bad("perm {} is not a permutation of {} axes", dims_to_string(p), r);
    seen[size_t(a)] = true;
  }
  std::vector<int> perm(p.begin(), p.end());
  if (x.is_nhwc()) {  // permute the NHWC value directly
    std::vector<int> phys(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) phys[i] = kToNchw.at(size_t(perm[i]));
    Val y = im.emit(std::make_unique<TransposeOp>(phys), {&x}, Layout::nhwc);
    // emit took the result as NHWC; it is in fact the logical result: relabel.
    Val out;
    out.dims = permute_dims(x.dims, perm);
    out.nchw = y.nhwc;
    im.set_out(0, out);
    return;
  }
  im.set_out(0, im.emit(std::make_unique<TransposeOp>(perm), {&x}, Layout::nchw));
}

// ---- slicing and gathering

void gather(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  const int64_t axis = norm_axis(im, im.attr_i("axis", 0), r, "Gather axis");
  const HostTensor& it = im.const_in(1, "Gather indices");
  if (it.is_f32()) im.bad("Gather indices must be integers");
  std::vector<int64_t> idx = it.i64;
  const int64_t n = x.dims[size_t(axis)];
  for (int64_t& i : idx) {
    if (i < -n || i >= n) im.bad("Gather index {} out of range for axis {} of {}", i, axis, dims_to_string(x.dims));
    if (i < 0) i += n;
  }
  im.set_out(0, im.emit(std::make_unique<GatherOp>(int(axis), idx, it.dims), {&x}, Layout::nchw));
}

void slice(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (im.opset < 10) {
    starts = im.attr_ints("starts").value_or(std::vector<int64_t>{});
    ends = im.attr_ints("ends").value_or(std::vector<int64_t>{});
    axes = im.attr_ints("axes").value_or(std::vector<int64_t>{});
  } else {
    starts = im.const_ints(1, "Slice starts");
    ends = im.const_ints(2, "Slice ends");
    if (im.has_input(3)) axes = im.const_ints(3, "Slice axes");
    if (im.has_input(4)) steps = im.const_ints(4, "Slice steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    im.bad("starts, ends, axes and steps differ in length");
  std::vector<int64_t> st(size_t(r), 0), sp(size_t(r), 1);
  Dims od = x.dims;
  std::vector<bool> seen(size_t(r), false);
  for (size_t k = 0; k < starts.size(); ++k) {
    const int64_t a = norm_axis(im, axes[k], r, "Slice axis");
    if (seen[size_t(a)]) im.bad("Slice axis {} repeated", a);
    seen[size_t(a)] = true;
    const int64_t d = x.dims[size_t(a)], step = steps[k];
    if (step == 0) im.bad("Slice step 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s = s < -d ? 0 : s + d;  // written this way so INT64_MIN cannot overflow
    if (e < 0) e = e < -d ? -1 : e + d;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
    } else {
      if (starts[k] < -d) s = -1;
      s = std::clamp<int64_t>(s, -1, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
    }
    // Written so that no step (even INT64_MIN) overflows: a step past the range takes one.
    int64_t n = 0;
    if (step > 0 && e > s) n = 1 + (e - s - 1) / step;
    else if (step < 0 && s > e) n = 1 + (s - e - 1) / (step == INT64_MIN ? INT64_MAX : -step);
    st[size_t(a)] = n ? s : 0;
    sp[size_t(a)] = step;
    od[size_t(a)] = n;
  }
  if (x.is_nhwc()) {
    std::vector<int64_t> pst(4), psp(4);
    for (int i = 0; i < 4; ++i) pst[size_t(i)] = st[size_t(kToNhwc[size_t(i)])], psp[size_t(i)] = sp[size_t(kToNhwc[size_t(i)])];
    im.set_out(0, im.emit(std::make_unique<SliceOp>(pst, psp, permute_dims(od, kToNhwc)), {&x},
                          Layout::nhwc));
    return;
  }
  im.set_out(0, im.emit(std::make_unique<SliceOp>(st, sp, od), {&x}, Layout::nchw));
}

void concat(Importer& im) {
  std::vector<Val*> ins;
  for (int i = 0; i < im.num_inputs(); ++i)
    if (im.has_input(i)) ins.push_back(&im.in(i));
  if (ins.empty()) im.bad("Concat has no inputs");
  const int64_t r = static_cast<int64_t>(ins[0]->dims.size());
  const int64_t axis = norm_axis(im, im.attr_i("axis", r == 1 ? 0 : 1), r, "Concat axis");
  bool nhwc = false;
  if (r == 4)
    for (Val* v : ins) nhwc |= v->is_nhwc();
  if (nhwc)
    im.set_out(0, im.emit(std::make_unique<ConcatOp>(nhwc_pos(axis)), ins, Layout::nhwc));
  else
    im.set_out(0, im.emit(std::make_unique<ConcatOp>(int(axis)), ins, Layout::nchw));
}

void pad(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<int64_t> pads;
  float value = 0.f;
  std::string mode = im.attr_s("mode", "constant");
  if (im.opset < 11) {
    pads = im.attr_ints("pads").value_or(std::vector<int64_t>{});
    value = im.attr_f("value", 0.f);
  } else {
    pads = im.const_ints(1, "Pad pads");
    if (im.has_input(2)) {
      const HostTensor& c = im.const_in(2, "Pad constant_value");
      if (c.numel() != 1) im.bad("constant_value must have one element");
      value = c.is_f32() ? c.f32[0] : float(c.i64[0]);
    }
  }
  std::vector<int64_t> axes;
  if (im.has_input(3)) {
    for (int64_t a : im.const_ints(3, "Pad axes")) axes.push_back(norm_axis(im, a, r, "Pad axis"));
  } else {
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size()) im.bad("pads has {} values for {} axes", pads.size(), axes.size());
  std::vector<int64_t> before(size_t(r), 0), after(size_t(r), 0);
  for (size_t k = 0; k < axes.size(); ++k) {
    before[size_t(axes[k])] = pads[k];
    after[size_t(axes[k])] = pads[k + axes.size()];
    if (pads[k] < 0 || pads[k + axes.size()] < 0) im.unsupported("Pad with negative pads (cropping)");
    if (pads[k] > kMaxElements || pads[k + axes.size()] > kMaxElements) im.bad("pads {} too large", pads[k]);
  }
  PadKind kind;
  if (mode == "constant") kind = PadKind::constant;
  else if (mode == "reflect") kind = PadKind::reflect;
  else if (mode == "edge") kind = PadKind::edge;
  else im.unsupported("Pad mode " + mode);
  if (x.is_nhwc()) {
    std::vector<int64_t> pb(4), pa(4);
    for (int i = 0; i < 4; ++i) pb[size_t(i)] = before[size_t(kToNhwc[size_t(i)])], pa[size_t(i)] = after[size_t(kToNhwc[size_t(i)])];
    im.set_out(0, im.emit(std::make_unique<PadOp>(kind, pb, pa, value), {&x}, Layout::nhwc));
    return;
  }
  im.set_out(0, im.emit(std::make_unique<PadOp>(kind, before, after, value), {&x}, Layout::nchw));
}

// ---- elementwise

}  // namespace

std::vector<int64_t> broadcast_src(const Dims& in, const Dims& out) {
  const size_t r = out.size(), off = r - in.size();
  std::vector<int64_t> src(size_t(dims_numel(out)));
  std::vector<int64_t> idx(r, 0);
  for (size_t j = 0; j < src.size(); ++j) {
    int64_t s = 0;
    for (size_t a = off; a < r; ++a) s = s * in[a - off] + (in[a - off] == 1 ? 0 : idx[a]);
    src[j] = s;
    for (size_t a = r; a-- > 0;) {
      if (++idx[a] < out[a]) break;
      idx[a] = 0;
    }
  }
  return src;
}

Dims broadcast_dims(Importer& im, const Dims& a, const Dims& b) {
  const size_t r = std::max(a.size(), b.size());
  Dims d(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t y = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (x != y && x != 1 && y != 1) im.bad("dims {} and {} do not broadcast", dims_to_string(a), dims_to_string(b));
    d[i] = x == 1 ? y : x;
  }
  return d;
}

namespace {

void int_binary(Importer& im, const std::string& type, const HostTensor& a, const HostTensor& b) {
  if (a.is_f32() || b.is_f32()) im.bad("mixes float and integer inputs");
  const Dims d = broadcast_dims(im, a.dims, b.dims);
  const auto sa = broadcast_src(a.dims, d), sb = broadcast_src(b.dims, d);
  std::vector<int64_t> v(sa.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t x = a.i64[size_t(sa[i])], y = b.i64[size_t(sb[i])];
    bool overflow = false;
    if (type == "Add") overflow = __builtin_add_overflow(x, y, &v[i]);
    else if (type == "Sub") overflow = __builtin_sub_overflow(x, y, &v[i]);
    else if (type == "Mul") overflow = __builtin_mul_overflow(x, y, &v[i]);
    else {
      if (y == 0) im.bad("integer division by zero");
      overflow = x == INT64_MIN && y == -1;
      if (!overflow) v[i] = x / y;
    }
    if (overflow) im.bad("integer overflow in {} {} {}", x, type, y);
  }
  im.set_out(0, im.constant(HostTensor::from_i64(d, std::move(v))));
}

// a (op) b with NumPy broadcasting, in NHWC when a rank-4 operand already is and the
// other is constant or rank 4 too.
Val binary_vals(Importer& im, BinaryKind kind, Val& a, Val& b, const std::string& suffix = {}) {
  const Dims out = broadcast_dims(im, a.dims, b.dims);
  bool nhwc = out.size() == 4 && (a.is_nhwc() || b.is_nhwc());
  Val pa, pb;  // rank-4 versions of constants for NHWC
  Val* ops[2] = {&a, &b};
  if (nhwc) {
    for (Val*& v : ops) {
      if (v->dims.size() == 4) continue;
      if (v->runtime()) { nhwc = false; break; }
      Dims d(4 - v->dims.size(), 1);
      d.insert(d.end(), v->dims.begin(), v->dims.end());
      Val& slot = v == &a ? pa : pb;
      slot = im.reshape(*v, d);
      v = &slot;
    }
  }
  if (!nhwc) ops[0] = &a, ops[1] = &b;
  return im.emit(std::make_unique<BinaryOp>(kind), {ops[0], ops[1]},
                 nhwc ? Layout::nhwc : Layout::nchw, suffix);
}

void binary(Importer& im) {
  const std::string& type = im.node->op_type();
  Val& a = im.in(0);
  Val& b = im.in(1);
  if (im.opset < 7 && im.attr("broadcast")) im.unsupported("legacy broadcast attribute");
  if ((a.constant && !a.constant->is_f32()) || (b.constant && !b.constant->is_f32())) {
    if (!a.pure_constant() || !b.pure_constant()) im.unsupported("integer arithmetic on run-time data");
    int_binary(im, type, *a.constant, *b.constant);
    return;
  }
  const BinaryKind kind = type == "Add" ? BinaryKind::add : type == "Sub" ? BinaryKind::sub
                          : type == "Mul" ? BinaryKind::mul : BinaryKind::div;
  im.set_out(0, binary_vals(im, kind, a, b));
}

// Sum and Mean of any number of inputs, as a chain of additions.
void variadic(Importer& im) {
  std::vector<Val*> ins;
  for (int i = 0; i < im.num_inputs(); ++i)
    if (im.has_input(i)) ins.push_back(&im.in(i));
  if (ins.empty()) im.bad("no inputs");
  for (Val* v : ins)
    if (v->constant && !v->constant->is_f32()) im.unsupported(fmt::format("{} of integers", im.node->op_type()));
  Val acc = *ins[0];
  for (size_t i = 1; i < ins.size(); ++i)
    acc = binary_vals(im, BinaryKind::add, acc, *ins[i], fmt::format("/{}", i));
  if (im.node->op_type() == "Mean" && ins.size() > 1) {
    Tensor s(Dims{});
    s[0] = 1.f / float(ins.size());
    Val sv = im.constant(HostTensor::from_f32(std::move(s)));
    acc = binary_vals(im, BinaryKind::mul, acc, sv, "/mean");
  }
  im.set_out(0, std::move(acc));
}

// PRelu: relu(x) + slope * (x - relu(x)), slope broadcast like a binary operand.
void prelu(Importer& im) {
  Val& x = im.in(0);
  Val slope = im.in(1);
  // Before opset 7 a 1-D slope of C values is per channel (axis 1), not NumPy-broadcast.
  if (im.opset < 7 && slope.dims.size() == 1 && x.dims.size() > 2 && slope.dims[0] == x.dims[1] &&
      slope.dims[0] != 1) {
    Dims d(x.dims.size() - 1, 1);
    d[0] = slope.dims[0];
    slope = im.reshape(slope, d);
  }
  Val r = im.emit(std::make_unique<ActivationOp>(Act::relu()), {&x}, im.preferred(x), "/relu");
  Val neg = binary_vals(im, BinaryKind::sub, x, r, "/neg");
  Val scaled = binary_vals(im, BinaryKind::mul, neg, slope, "/scaled");
  im.set_out(0, binary_vals(im, BinaryKind::add, r, scaled));
}

void activation(Importer& im) {
  const std::string& t = im.node->op_type();
  Val& x = im.in(0);
  Act act;
  if (t == "Relu") {
    act = Act::relu();
  } else if (t == "LeakyRelu") {
    act = Act::leaky_relu(im.attr_f("alpha", 0.01f));
  } else if (t == "Elu") {
    act = Act::elu(im.attr_f("alpha", 1.0f));
  } else {  // Clip
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (im.opset < 11) {
      lo = im.attr_f("min", lo);
      hi = im.attr_f("max", hi);
    } else {
      auto bound = [&](int i, const char* what, float def) {
        if (!im.has_input(i)) return def;
        const HostTensor& c = im.const_in(i, what);
        if (c.numel() != 1 || !c.is_f32()) im.bad("{} must be one float", what);
        return c.f32[0];
      };
      lo = bound(1, "Clip min", lo);
      hi = bound(2, "Clip max", hi);
    }
    act = Act::clip(lo, hi);
  }
  im.set_out(0, im.emit(std::make_unique<ActivationOp>(act), {&x}, im.preferred(x)));
}

void unary(Importer& im) {
  static const std::map<std::string, UnaryKind> kinds = {
      {"Sigmoid", UnaryKind::sigmoid}, {"Tanh", UnaryKind::tanh},   {"Exp", UnaryKind::exp},
      {"Log", UnaryKind::log},         {"Neg", UnaryKind::neg},     {"Abs", UnaryKind::abs},
      {"Sqrt", UnaryKind::sqrt},       {"Reciprocal", UnaryKind::reciprocal},
      {"Softplus", UnaryKind::softplus}, {"Softsign", UnaryKind::softsign},
      {"Selu", UnaryKind::selu},       {"HardSigmoid", UnaryKind::hard_sigmoid},
      {"Floor", UnaryKind::floor},     {"Ceil", UnaryKind::ceil},
      {"HardSwish", UnaryKind::hard_swish}, {"Celu", UnaryKind::celu},
      {"ThresholdedRelu", UnaryKind::thresholded_relu}};
  const std::string& t = im.node->op_type();
  const UnaryKind k = kinds.at(t);
  float a = 0.f, b = 0.f;
  if (k == UnaryKind::selu) {
    a = im.attr_f("alpha", 1.67326319217681884765625f);
    b = im.attr_f("gamma", 1.05070102214813232421875f);
  } else if (k == UnaryKind::hard_sigmoid) {
    a = im.attr_f("alpha", 0.2f);
    b = im.attr_f("beta", 0.5f);
  } else if (k == UnaryKind::celu || k == UnaryKind::thresholded_relu) {
    a = im.attr_f("alpha", 1.f);
  }
  Val& x = im.in(0);
  if (x.constant && !x.constant->is_f32()) im.unsupported(fmt::format("{} of integers", t));
  im.set_out(0, im.emit(std::make_unique<UnaryOp>(k, a, b), {&x}, im.preferred(x)));
}

void softmax(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  const bool legacy = im.opset < 13;
  const int64_t axis = norm_axis(im, im.attr_i("axis", legacy ? 1 : -1), std::max<int64_t>(r, 1), "Softmax axis");
  const bool log = im.node->op_type() == "LogSoftmax";
  if (x.is_nhwc() && !legacy) {  // one axis: normalize it where NHWC keeps it
    im.set_out(0, im.emit(std::make_unique<SoftmaxOp>(nhwc_pos(axis), false, log), {&x}, Layout::nhwc));
    return;
  }
  im.set_out(0, im.emit(std::make_unique<SoftmaxOp>(int(axis), legacy, log), {&x}, Layout::nchw));
}

void split(Importer& im) {
  Val& x = im.in(0);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  const int64_t axis = norm_axis(im, im.attr_i("axis", 0), r, "Split axis");
  const int64_t d = x.dims[size_t(axis)];
  std::vector<int64_t> sizes;
  if (im.opset >= 13) {
    if (im.has_input(1)) sizes = im.const_ints(1, "Split split");
  } else {
    sizes = im.attr_ints("split").value_or(std::vector<int64_t>{});
  }
  const int64_t n = im.node->output_size();
  if (sizes.empty()) {
    const int64_t parts = im.attr_i("num_outputs", n);
    if (parts < 1) im.bad("Split into {} parts", parts);
    const int64_t each = (d + parts - 1) / parts;
    if (im.opset < 18 && d % parts) im.bad("axis of {} does not split into {} equal parts", d, parts);
    for (int64_t i = 0, left = d; i < parts; ++i, left -= each) sizes.push_back(std::min(each, std::max<int64_t>(left, 0)));
  }
  if (static_cast<int64_t>(sizes.size()) != n) im.bad("{} split sizes for {} outputs", sizes.size(), n);
  int64_t start = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (sizes[size_t(i)] < 0) im.bad("negative split size");
    std::vector<int64_t> st(size_t(r), 0), sp(size_t(r), 1);
    Dims od = x.dims;
    st[size_t(axis)] = start;
    od[size_t(axis)] = sizes[size_t(i)];
    start += sizes[size_t(i)];
    if (start > d) im.bad("split sizes add up to more than {}", d);
    if (!im.output_used(int(i))) continue;
    const std::string sfx = fmt::format("/{}", i);
    if (x.is_nhwc()) {
      std::vector<int64_t> pst(4), psp(4, 1);
      for (int k = 0; k < 4; ++k) pst[size_t(k)] = st[size_t(kToNhwc[size_t(k)])];
      im.set_out(int(i), im.emit(std::make_unique<SliceOp>(pst, psp, permute_dims(od, kToNhwc)),
                                 {&x}, Layout::nhwc, sfx));
    } else {
      im.set_out(int(i), im.emit(std::make_unique<SliceOp>(st, sp, od), {&x}, Layout::nchw, sfx));
    }
  }
  if (start != d) im.bad("split sizes add up to {}, not {}", start, d);
}

}  // namespace

bool import_node(Importer& im, const onnx::NodeProto& node) {
  using H = void (*)(Importer&);
  static const std::map<std::string, H> handlers = {
      {"Identity", identity}, {"Dropout", identity}, {"Constant", constant_node},
      {"Shape", shape_node}, {"ConstantOfShape", constant_of_shape}, {"Cast", cast},
      {"Reshape", reshape_node}, {"Flatten", flatten}, {"Squeeze", squeeze},
      {"Unsqueeze", unsqueeze}, {"Transpose", transpose}, {"Gather", gather},
      {"Slice", slice}, {"Concat", concat}, {"Pad", pad},
      {"Add", binary}, {"Sub", binary}, {"Mul", binary}, {"Div", binary},
      {"Relu", activation}, {"LeakyRelu", activation}, {"Elu", activation}, {"Clip", activation},
      {"Sigmoid", unary}, {"Tanh", unary}, {"Exp", unary}, {"Log", unary}, {"Neg", unary},
      {"Abs", unary}, {"Sqrt", unary}, {"Reciprocal", unary}, {"Softplus", unary},
      {"Softsign", unary}, {"Selu", unary}, {"HardSigmoid", unary}, {"Floor", unary},
      {"Ceil", unary}, {"Softmax", softmax}, {"LogSoftmax", softmax},
      {"Conv", import_conv_family}, {"MaxPool", import_conv_family},
      {"AveragePool", import_conv_family}, {"GlobalAveragePool", import_conv_family},
      {"GlobalMaxPool", import_conv_family}, {"BatchNormalization", import_conv_family},
      {"Split", split}, {"Sum", variadic}, {"Mean", variadic}, {"PRelu", prelu},
      {"HardSwish", unary}, {"Celu", unary}, {"ThresholdedRelu", unary},
      {"Gemm", import_dense_family}, {"MatMul", import_dense_family}};
  auto it = handlers.find(node.op_type());
  if (it == handlers.end()) return import_extra_node(im, node);
  it->second(im);
  return true;
}

}  // namespace xcept::onnx_import
