// ONNX's convolution family (Conv, pools, batch norm, spatial means) and dense layers
// (Gemm, MatMul). Feature maps go NHWC here; 1-D versions run as 2-D with height 1.
#include <cmath>

#include "io/onnx/onnx_importer.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/tensor_ops.h"

namespace xcept::onnx_import {

namespace {

// Strides, dilations, pads and windows beyond this are not a real model (and would let
// the size arithmetic overflow).
constexpr int64_t kMaxWindow = int64_t{1} << 30;

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

// Two spatial values from an attribute of 1 (1-D, height gets `one_d_value`) or 2 values.
void pair_attr(Importer& im, const char* name, bool one_d, int64_t def, int64_t& h, int64_t& w) {
  auto v = im.attr_ints(name);
  if (!v) { h = w = def; return; }
  const size_t want = one_d ? 1 : 2;
  if (v->size() != want) im.bad("{} has {} values, expected {}", name, v->size(), want);
  if (one_d) { h = 1; w = (*v)[0]; } else { h = (*v)[0]; w = (*v)[1]; }
  if (h < 1 || w < 1) im.bad("{} must be positive", name);
  if (h > kMaxWindow || w > kMaxWindow) im.bad("{} {}x{} is too large", name, h, w);
}

// Resolves strides, dilations, pads and auto_pad for a window of kh x kw over h x w.
Window resolve_window(Importer& im, bool one_d, int64_t kh, int64_t kw, int64_t h, int64_t w,
                      bool dilations_allowed) {
  Window win;
  win.kh = kh, win.kw = kw;
  pair_attr(im, "strides", one_d, 1, win.sh, win.sw);
  if (dilations_allowed) pair_attr(im, "dilations", one_d, 1, win.dh, win.dw);
  else if (im.attr("dilations")) {
    auto d = *im.attr_ints("dilations");
    for (int64_t x : d)
      if (x != 1) im.unsupported("dilations on " + im.node->op_type());
  }
  const std::string ap = im.attr_s("auto_pad", "NOTSET");
  if (ap == "NOTSET") {
    auto p = im.attr_ints("pads").value_or(std::vector<int64_t>(one_d ? 2 : 4, 0));
    if (p.size() != (one_d ? 2u : 4u)) im.bad("pads has {} values, expected {}", p.size(), one_d ? 2 : 4);
    for (int64_t x : p)
      if (x < 0 || x > kMaxWindow) im.bad("pads {} out of range", x);
    if (one_d) win.left = p[0], win.right = p[1];
    else win.top = p[0], win.left = p[1], win.bottom = p[2], win.right = p[3];
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& before, int64_t& after) {
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      const int64_t small = total / 2;
      before = ap == "SAME_UPPER" ? small : total - small;
      after = total - before;
    };
    same(h, kh, win.sh, win.dh, win.top, win.bottom);
    same(w, kw, win.sw, win.dw, win.left, win.right);
  } else if (ap != "VALID") {
    im.bad("auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
  }
  return win;
}

ConvShape window_shape(Importer& im, const Dims& x, int64_t m, int64_t groups, const Window& w) {
  ConvParams p;
  p.out_channels = m;
  p.kernel_h = w.kh, p.kernel_w = w.kw;
  p.stride_h = w.sh, p.stride_w = w.sw;
  p.dilation_h = w.dh, p.dilation_w = w.dw;
  p.padding = Padding::explicit_(w.top, w.left, w.bottom, w.right);
  p.groups = groups;
  return make_conv_shape(im.where(), x[0], x[2], x[3], x[1], p);
}

// A rank-3 (1-D) input as rank 4 with height 1; rank 4 as is.
Val as_2d(Importer& im, Val& x, bool& one_d) {
  const size_t r = x.dims.size();
  if (r != 3 && r != 4)
    im.unsupported(fmt::format("{} with {} spatial dims", im.node->op_type(), int(r) - 2));
  one_d = r == 3;
  return one_d ? im.reshape(x, {x.dims[0], x.dims[1], 1, x.dims[2]}) : x;
}

void set_result(Importer& im, Val y, bool one_d) {
  if (one_d) y = im.reshape(y, {y.dims[0], y.dims[1], y.dims[3]});
  im.set_out(0, std::move(y));
}

void conv(Importer& im) {
  bool one_d = false;
  Val x = as_2d(im, im.in(0), one_d);
  const HostTensor& w = im.const_in(1, "Conv weight");
  if (!w.is_f32()) im.bad("weight must be float");
  if (w.dims.size() != (one_d ? 3u : 4u))
    im.bad("weight {} does not match input {}", dims_to_string(w.dims), dims_to_string(x.dims));
  Tensor w4 = w.f32;
  if (one_d) {
    Tensor t(Dims{w.dims[0], w.dims[1], 1, w.dims[2]});
    std::copy_n(w.f32.data(), w.f32.numel(), t.data());
    w4 = std::move(t);
  }
  const int64_t m = w4.dim(0), kh = w4.dim(2), kw = w4.dim(3);
  if (auto ks = im.attr_ints("kernel_shape")) {
    const std::vector<int64_t> want = one_d ? std::vector<int64_t>{kw} : std::vector<int64_t>{kh, kw};
    if (*ks != want) im.bad("kernel_shape does not match weight {}", dims_to_string(w.dims));
  }
  const int64_t groups = im.attr_i("group", 1);
  if (groups < 1 || x.dims[1] % groups || w4.dim(1) * groups != x.dims[1])
    im.bad("weight {} with group {} does not fit {} input channels", dims_to_string(w.dims),
           groups, x.dims[1]);
  const Window win = resolve_window(im, one_d, kh, kw, x.dims[2], x.dims[3], true);
  const ConvShape s = window_shape(im, x.dims, m, groups, win);
  Tensor bias;
  if (im.has_input(2)) {
    const HostTensor& b = im.const_in(2, "Conv bias");
    if (!b.is_f32() || b.numel() != m) im.bad("bias {} for {} outputs", dims_to_string(b.dims), m);
    bias = Tensor(Dims{m});
    std::copy_n(b.f32.data(), m, bias.data());
  }
  // ONNX OIHW -> HWIO.
  Tensor hwio = permute(w4, {2, 3, 1, 0});
  Val y = im.emit(std::make_unique<Conv2dOp>(s, std::move(hwio), std::move(bias)), {&x},
                  Layout::nhwc, {}, false);
  set_result(im, std::move(y), one_d);
}

void pool(Importer& im) {
  const std::string& t = im.node->op_type();
  const bool is_max = t == "MaxPool" || t == "GlobalMaxPool";
  bool one_d = false;
  Val x = as_2d(im, im.in(0), one_d);
  if (im.output_used(1)) im.unsupported("MaxPool's Indices output");
  if (im.attr_i("storage_order", 0) != 0) im.unsupported("MaxPool storage_order 1");
  Window win;
  bool count_include_pad = false;
  if (t == "GlobalMaxPool") {
    win.kh = x.dims[2], win.kw = x.dims[3];
  } else {
    auto ks = im.attr_ints("kernel_shape");
    if (!ks) im.bad("kernel_shape is required");
    if (ks->size() != (one_d ? 1u : 2u)) im.bad("kernel_shape has {} values", ks->size());
    const int64_t kh = one_d ? 1 : (*ks)[0], kw = ks->back();
    if (kh < 1 || kw < 1 || kh > kMaxWindow || kw > kMaxWindow)
      im.bad("kernel_shape {}x{} out of range", kh, kw);
    win = resolve_window(im, one_d, kh, kw, x.dims[2], x.dims[3], is_max);
    count_include_pad = im.attr_i("count_include_pad", 0) != 0;
    if (im.attr_i("ceil_mode", 0) != 0) {
      // Extend the end padding so the floor rule gives ceil's output; a window that would
      // start in the end padding is dropped (PyTorch's and ONNX's rule).
      auto extend = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t before, int64_t& after) {
        const int64_t span = in + before + after - ((k - 1) * d + 1);
        if (span < 0) return int64_t{0};
        int64_t out = (span + s - 1) / s + 1;
        if ((out - 1) * s >= in + before) --out;
        const int64_t need = (out - 1) * s + (k - 1) * d + 1 - (in + before + after);
        if (need > 0) after += need;
        return std::max<int64_t>(need, 0);
      };
      const int64_t eh = extend(x.dims[2], win.kh, win.sh, win.dh, win.top, win.bottom);
      const int64_t ew = extend(x.dims[3], win.kw, win.sw, win.dw, win.left, win.right);
      if ((eh || ew) && !is_max && count_include_pad)
        im.unsupported("AveragePool ceil_mode with count_include_pad");
    }
  }
  const ConvShape s = window_shape(im, x.dims, x.dims[1], x.dims[1], win);
  const PoolMode mode = is_max              ? PoolMode::max
                        : count_include_pad ? PoolMode::avg_include_pad
                                            : PoolMode::avg_exclude_pad;
  Val y = im.emit(std::make_unique<Pool2dOp>(mode, s),
                  {&x}, Layout::nhwc, {}, false);
  set_result(im, std::move(y), one_d);
}

void global_avg(Importer& im) {
  bool one_d = false;
  Val x = as_2d(im, im.in(0), one_d);
  Val y = im.emit(std::make_unique<GlobalAvgPoolOp>(true), {&x}, Layout::nhwc, {}, false);
  set_result(im, std::move(y), one_d);
}

void reduce_mean(Importer& im) {
  Val& x = im.in(0);
  std::vector<int64_t> axes;
  if (im.opset >= 18) {
    if (im.has_input(1)) axes = im.const_ints(1, "ReduceMean axes");
  } else {
    axes = im.attr_ints("axes").value_or(std::vector<int64_t>{});
  }
  for (int64_t& a : axes)
    if (a < 0) a += static_cast<int64_t>(x.dims.size());
  std::sort(axes.begin(), axes.end());
  if (x.dims.size() != 4 || axes != std::vector<int64_t>{2, 3})
    im.unsupported("ReduceMean other than over axes 2 and 3 of a 4-D input");
  const bool keep = im.attr_i("keepdims", 1) != 0;
  Val y = im.emit(std::make_unique<GlobalAvgPoolOp>(true), {&x}, Layout::nhwc, {}, false);
  if (!keep) y = im.reshape(y, {y.dims[0], y.dims[1]});
  im.set_out(0, std::move(y));
}

void batch_norm(Importer& im) {
  Val& x = im.in(0);
  if (im.attr_i("training_mode", 0) != 0) im.unsupported("BatchNormalization in training mode");
  if (im.opset < 9 && im.attr_i("spatial", 1) == 0) im.unsupported("BatchNormalization spatial=0");
  for (int i = 1; i < 5; ++i)
    if (im.output_used(i)) im.unsupported("BatchNormalization's training outputs");
  if (x.dims.size() < 2) im.bad("input {} has no channel axis", dims_to_string(x.dims));
  const int64_t c = x.dims[1];
  auto param = [&](int i, const char* what) {
    const HostTensor& t = im.const_in(i, what);
    if (!t.is_f32() || t.numel() != c) im.bad("{} {} for {} channels", what, dims_to_string(t.dims), c);
    Tensor r(Dims{c});
    std::copy_n(t.f32.data(), c, r.data());
    return r;
  };
  Tensor gamma = param(1, "BatchNormalization scale"), beta = param(2, "BatchNormalization B");
  Tensor mean = param(3, "BatchNormalization mean"), var = param(4, "BatchNormalization var");
  const float eps = im.attr_f("epsilon", 1e-5f);
  const Layout l = im.preferred(x);
  im.set_out(0, im.emit(make_batch_norm_op(gamma, beta, mean, var, eps, l == Layout::nhwc ? -1 : 1),
                        {&x}, l));
}

// ---- dense

Tensor copy_2d(const Tensor& t, const Dims& d) {
  Tensor r(d);
  std::copy_n(t.data(), t.numel(), r.data());
  return r;
}

void gemm(Importer& im) {
  Val& a = im.in(0);
  Val& b = im.in(1);
  const float alpha = im.attr_f("alpha", 1.f), beta = im.attr_f("beta", 1.f);
  const bool ta = im.attr_i("transA", 0) != 0, tb = im.attr_i("transB", 0) != 0;
  if (a.dims.size() != 2 || b.dims.size() != 2)
    im.bad("Gemm needs 2-D inputs, got {} and {}", dims_to_string(a.dims), dims_to_string(b.dims));
  const int64_t m = ta ? a.dims[1] : a.dims[0], k = ta ? a.dims[0] : a.dims[1];
  const int64_t k2 = tb ? b.dims[1] : b.dims[0], n = tb ? b.dims[0] : b.dims[1];
  if (k != k2) im.bad("Gemm inner sizes differ: {} and {}", dims_to_string(a.dims), dims_to_string(b.dims));
  Val at = ta ? im.emit(std::make_unique<TransposeOp>(std::vector<int>{1, 0}), {&a}, Layout::nchw, "/transA") : a;
  Val y;
  bool c_done = false;
  if (b.constant && b.constant->is_f32() && !a.pure_constant()) {
    Tensor w = tb ? permute(b.constant->f32, {1, 0}) : b.constant->f32;  // [k][n]
    for (int64_t i = 0; i < w.numel(); ++i) w[i] *= alpha;
    Tensor bias;
    if (im.has_input(2)) {
      const Val& c = im.in(2);
      if (c.constant && c.constant->is_f32() && beta != 0.f &&
          (c.dims == Dims{n} || c.dims == Dims{1, n} || dims_numel(c.dims) == 1)) {
        bias = Tensor(Dims{n});
        for (int64_t j = 0; j < n; ++j)
          bias[j] = beta * c.constant->f32[dims_numel(c.dims) == 1 ? 0 : j];
        c_done = true;
      }
    } else {
      c_done = true;
    }
    y = im.emit(std::make_unique<DenseOp>(std::move(w), std::move(bias)), {&at}, Layout::nchw);
  } else {
    Val bt = tb ? im.emit(std::make_unique<TransposeOp>(std::vector<int>{1, 0}), {&b}, Layout::nchw, "/transB") : b;
    y = im.emit(std::make_unique<MatMulOp>(), {&at, &bt}, Layout::nchw, "/matmul");
    if (alpha != 1.f) {
      Tensor s(Dims{});
      s[0] = alpha;
      Val sv = im.constant(HostTensor::from_f32(std::move(s)));
      y = im.emit(std::make_unique<BinaryOp>(BinaryKind::mul), {&y, &sv}, Layout::nchw, "/alpha");
    }
    c_done = !im.has_input(2);
  }
  if (!c_done && beta != 0.f) {
    Val c = im.in(2);
    if (beta != 1.f) {
      Tensor s(Dims{});
      s[0] = beta;
      Val sv = im.constant(HostTensor::from_f32(std::move(s)));
      c = im.emit(std::make_unique<BinaryOp>(BinaryKind::mul), {&c, &sv}, Layout::nchw, "/beta");
    }
    y = im.emit(std::make_unique<BinaryOp>(BinaryKind::add), {&y, &c}, Layout::nchw, "/c");
  }
  (void)m;
  im.set_out(0, std::move(y));
}

void matmul(Importer& im) {
  Val& a0 = im.in(0);
  Val& b0 = im.in(1);
  if (a0.dims.empty() || b0.dims.empty()) im.bad("MatMul of a scalar");
  const bool a1 = a0.dims.size() == 1, b1 = b0.dims.size() == 1;
  Val a = a1 ? im.reshape(a0, {1, a0.dims[0]}) : a0;
  if (b0.constant && b0.constant->is_f32() && b0.dims.size() == 2 && !a.pure_constant()) {
    if (a.dims.back() != b0.dims[0])
      im.bad("MatMul inner sizes differ: {} and {}", dims_to_string(a0.dims), dims_to_string(b0.dims));
    Val y = im.emit(std::make_unique<DenseOp>(copy_2d(b0.constant->f32, b0.dims), Tensor()), {&a},
                    Layout::nchw);
    if (a1) y = im.reshape(y, {y.dims.back()});
    im.set_out(0, std::move(y));
    return;
  }
  Val b = b1 ? im.reshape(b0, {b0.dims[0], 1}) : b0;
  Val y = im.emit(std::make_unique<MatMulOp>(), {&a, &b}, Layout::nchw);
  if (a1 || b1) {
    Dims d = y.dims;
    if (b1) d.pop_back();
    if (a1) d.erase(d.end() - (b1 ? 1 : 2));
    y = im.reshape(y, d);
  }
  im.set_out(0, std::move(y));
}

}  // namespace

void import_conv_family(Importer& im) {
  const std::string& t = im.node->op_type();
  if (t == "Conv") conv(im);
  else if (t == "GlobalAveragePool") global_avg(im);
  else if (t == "BatchNormalization") batch_norm(im);
  else if (t == "ReduceMean") reduce_mean(im);
  else pool(im);
}

void import_dense_family(Importer& im) {
  if (im.node->op_type() == "Gemm") gemm(im);
  else matmul(im);
}

}  // namespace xcept::onnx_import
