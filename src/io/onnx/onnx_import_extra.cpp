// ONNX operators beyond the convolutional core: reductions, Max/Min/Pow, Expand,
// LayerNormalization, and the shape arithmetic that only runs at import time (Size,
// Equal, Where, Range on constants).
#include <algorithm>
#include <cmath>
#include <map>

#include "io/onnx/onnx_importer.h"
#include "runtime/ops/tensor_ops.h"

namespace xcept::onnx_import {

namespace {

void reduce(Importer& im) {
  static const std::map<std::string, ReduceKind> kinds = {
      {"ReduceSum", ReduceKind::sum},     {"ReduceMean", ReduceKind::mean},
      {"ReduceMax", ReduceKind::max},     {"ReduceMin", ReduceKind::min},
      {"ReduceProd", ReduceKind::prod},   {"ReduceL1", ReduceKind::l1},
      {"ReduceL2", ReduceKind::l2},       {"ReduceSumSquare", ReduceKind::sum_square},
      {"ReduceLogSum", ReduceKind::log_sum}, {"ReduceLogSumExp", ReduceKind::log_sum_exp}};
  const std::string& t = im.node->op_type();
  Val& x = im.in(0);
  if (x.constant && !x.constant->is_f32()) im.unsupported(fmt::format("{} of integers", t));
  const int64_t r = static_cast<int64_t>(x.dims.size());
  const bool axes_input = t == "ReduceSum" ? im.opset >= 13 : im.opset >= 18;
  std::vector<int64_t> axes;
  if (axes_input) {
    if (im.has_input(1)) axes = im.const_ints(1, fmt::format("{} axes", t).c_str());
  } else {
    axes = im.attr_ints("axes").value_or(std::vector<int64_t>{});
  }
  const bool keep = im.attr_i("keepdims", 1) != 0;
  if (axes.empty() && im.attr_i("noop_with_empty_axes", 0) != 0) {
    im.set_out(0, x);
    return;
  }
  std::vector<bool> flags(size_t(r), axes.empty());
  for (int64_t a : axes) flags[size_t(norm_axis(im, a, r, "axis"))] = true;
  if (t == "ReduceMean" && r == 4 && flags == std::vector<bool>{false, false, true, true} &&
      !x.pure_constant()) {
    import_conv_family(im);  // global average pooling, NHWC
    return;
  }
  if (x.is_nhwc() && keep) {
    std::vector<bool> pf(4);
    for (int i = 0; i < 4; ++i) pf[size_t(i)] = flags[size_t(kToNhwc[size_t(i)])];
    im.set_out(0, im.emit(std::make_unique<ReduceOp>(kinds.at(t), pf, true), {&x}, Layout::nhwc));
    return;
  }
  im.set_out(0, im.emit(std::make_unique<ReduceOp>(kinds.at(t), flags, keep), {&x}, Layout::nchw));
}

void max_min_pow(Importer& im) {
  const std::string& t = im.node->op_type();
  const BroadcastKind kind = t == "Max" ? BroadcastKind::max : t == "Min" ? BroadcastKind::min
                                                                          : BroadcastKind::pow;
  std::vector<Val*> ins;
  for (int i = 0; i < im.num_inputs(); ++i)
    if (im.has_input(i)) ins.push_back(&im.in(i));
  if (ins.empty()) im.bad("no inputs");
  if (kind == BroadcastKind::pow && ins.size() != 2) im.bad("Pow takes 2 inputs");
  for (Val* v : ins)
    if (v->constant && !v->constant->is_f32()) im.unsupported(fmt::format("{} of integers", t));
  Val acc = *ins[0];
  for (size_t i = 1; i < ins.size(); ++i)
    acc = im.emit(std::make_unique<BroadcastBinaryOp>(kind), {&acc, ins[i]}, Layout::nchw,
                  ins.size() > 2 ? fmt::format("/{}", i) : std::string());
  im.set_out(0, std::move(acc));
}

void expand(Importer& im) {
  Val& x = im.in(0);
  std::vector<int64_t> shape = im.const_ints(1, "Expand shape");
  for (int64_t d : shape)
    if (d < 0) im.bad("negative size in shape {}", dims_to_string(shape));
  if (x.constant && !x.constant->is_f32()) {
    if (!x.pure_constant()) im.unsupported("Expand of integer run-time data");
  }
  im.set_out(0, im.emit(std::make_unique<ExpandOp>(Dims(shape.begin(), shape.end())), {&x},
                        Layout::nchw));
}

void layer_norm(Importer& im) {
  Val& x = im.in(0);
  if (im.output_used(1) || im.output_used(2)) im.unsupported("LayerNormalization output Mean or InvStdDev");
  const int64_t r = static_cast<int64_t>(x.dims.size());
  const int64_t axis = norm_axis(im, im.attr_i("axis", -1), r, "LayerNormalization axis");
  const float eps = im.attr_f("epsilon", 1e-5f);
  Dims nd(x.dims.begin() + axis, x.dims.end());
  auto param = [&](int i, const char* what) {
    const HostTensor& t = im.const_in(i, what);
    if (!t.is_f32()) im.bad("{} must be float", what);
    // Broadcast to the normalized shape.
    ExpandOp e(nd);
    Dims od = e.output_dims(im.where(), std::span<const Dims>(&t.dims, 1));
    if (od != nd) im.bad("{} {} does not broadcast to {}", what, dims_to_string(t.dims), dims_to_string(nd));
    Tensor out(nd);
    ConstView v{t.f32.data(), &t.f32.dims()};
    e.run(std::span<const ConstView>(&v, 1), {out.data(), &out.dims()});
    return out;
  };
  Tensor scale = param(1, "LayerNormalization scale");
  Tensor bias = im.has_input(2) ? param(2, "LayerNormalization bias") : Tensor();
  im.set_out(0, im.emit(std::make_unique<LayerNormOp>(int(axis), eps, std::move(scale), std::move(bias)),
                        {&x}, Layout::nchw));
}

// Shape arithmetic that only ever runs at import time: Size, Equal, Where, Range on
// constants (elementwise results broadcast as NumPy does).
void size_node(Importer& im) {
  im.set_out(0, im.constant(HostTensor::from_i64({}, {dims_numel(im.in(0).dims)})));
}

double elem(const HostTensor& t, int64_t i) {
  return t.is_f32() ? double(t.f32[i]) : double(t.i64[size_t(i)]);
}

void equal_where(Importer& im) {
  const std::string& t = im.node->op_type();
  std::vector<const HostTensor*> ins;
  for (int i = 0; i < im.num_inputs(); ++i) {
    Val& v = im.in(i);
    if (!v.pure_constant()) im.unsupported(fmt::format("{} on run-time data", t));
    ins.push_back(&*v.constant);
  }
  if (ins.size() != (t == "Where" ? 3u : 2u)) im.bad("{} inputs", ins.size());
  Dims d = ins[0]->dims;
  for (size_t i = 1; i < ins.size(); ++i) d = broadcast_dims(im, d, ins[i]->dims);
  std::vector<std::vector<int64_t>> src;
  for (const HostTensor* h : ins) src.push_back(broadcast_src(h->dims, d));
  const int64_t n = dims_numel(d);
  if (t == "Equal") {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j)
      v[size_t(j)] = elem(*ins[0], src[0][size_t(j)]) == elem(*ins[1], src[1][size_t(j)]);
    im.set_out(0, im.constant(HostTensor::from_i64(d, std::move(v))));
    return;
  }
  if (ins[1]->is_f32() != ins[2]->is_f32()) im.bad("Where mixes float and integer values");
  if (ins[1]->is_f32()) {
    Tensor y(d);
    for (int64_t j = 0; j < n; ++j)
      y[j] = float(elem(*ins[0], src[0][size_t(j)]) != 0 ? elem(*ins[1], src[1][size_t(j)])
                                                         : elem(*ins[2], src[2][size_t(j)]));
    im.set_out(0, im.constant(HostTensor::from_f32(std::move(y))));
  } else {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j)
      v[size_t(j)] = elem(*ins[0], src[0][size_t(j)]) != 0 ? ins[1]->i64[size_t(src[1][size_t(j)])]
                                                           : ins[2]->i64[size_t(src[2][size_t(j)])];
    im.set_out(0, im.constant(HostTensor::from_i64(d, std::move(v))));
  }
}

void range(Importer& im) {
  const HostTensor& a = im.const_in(0, "Range start");
  const HostTensor& b = im.const_in(1, "Range limit");
  const HostTensor& c = im.const_in(2, "Range delta");
  if (a.numel() != 1 || b.numel() != 1 || c.numel() != 1) im.bad("Range takes scalars");
  const double start = elem(a, 0), limit = elem(b, 0), delta = elem(c, 0);
  if (delta == 0) im.bad("Range delta 0");
  const double count = std::max(0.0, std::ceil((limit - start) / delta));
  if (count > double(int64_t{1} << 24)) im.unsupported("Range of more than 2^24 elements");
  const int64_t n = static_cast<int64_t>(count);
  if (a.is_f32()) {
    Tensor y(Dims{n});
    for (int64_t i = 0; i < n; ++i) y[i] = float(start + double(i) * delta);
    im.set_out(0, im.constant(HostTensor::from_f32(std::move(y))));
  } else {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      int64_t step = 0;
      if (__builtin_mul_overflow(i, c.i64[0], &step) ||
          __builtin_add_overflow(a.i64[0], step, &v[size_t(i)]))
        im.bad("Range overflows int64");
    }
    im.set_out(0, im.constant(HostTensor::from_i64({n}, std::move(v))));
  }
}

}  // namespace

bool import_extra_node(Importer& im, const onnx::NodeProto& node) {
  using H = void (*)(Importer&);
  static const std::map<std::string, H> handlers = {
      {"ReduceMean", reduce}, {"ReduceSum", reduce}, {"ReduceMax", reduce},
      {"ReduceMin", reduce}, {"ReduceProd", reduce}, {"ReduceL1", reduce}, {"ReduceL2", reduce},
      {"ReduceSumSquare", reduce}, {"ReduceLogSum", reduce}, {"ReduceLogSumExp", reduce},
      {"Max", max_min_pow}, {"Min", max_min_pow}, {"Pow", max_min_pow}, {"Expand", expand},
      {"LayerNormalization", layer_norm}, {"Size", size_node}, {"Equal", equal_where},
      {"Where", equal_where}, {"Range", range}};
  auto it = handlers.find(node.op_type());
  if (it == handlers.end()) return import_quant_node(im, node);
  it->second(im);
  return true;
}

}  // namespace xcept::onnx_import
