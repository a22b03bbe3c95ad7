// ONNX (NCHW) -> XNNPACK subgraph (NHWC); see onnx_to_xnnpack.h.
#include "onnx_to_xnnpack.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "onnx_read.h"

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

[[noreturn]] void fail(const onnx::NodeProto& n, const std::string& why) {
  throw std::runtime_error("node '" + n.name() + "' (" + n.op_type() + "): " + why);
}

// The 2-D window of Conv and MaxPool: kernel, strides, dilations and pads, checked.
struct Window {
  size_t kh, kw, sh, sw, dh, dw, top, left, bottom, right;
  Dims out(const onnx::NodeProto& n, const Dims& x, size_t channels) const {
    auto side = [&](size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1) {
      const size_t span = d * (k - 1) + 1;
      if (in + p0 + p1 < span)
        fail(n, "window " + std::to_string(span) + " exceeds padded input " +
                    std::to_string(in + p0 + p1));
      return (in + p0 + p1 - span) / s + 1;
    };
    return {x[0], side(x[1], kh, sh, dh, top, bottom), side(x[2], kw, sw, dw, left, right),
            channels};
  }
};

Window window(const onnx::NodeProto& n, std::vector<int64_t> kernel) {
  const std::string auto_pad = attr_s(n, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    fail(n, "auto_pad=" + auto_pad + " is not supported (give explicit pads)");
  kernel = attr_ints(n, "kernel_shape", kernel);
  auto st = attr_ints(n, "strides", {1, 1}), dl = attr_ints(n, "dilations", {1, 1});
  auto pd = attr_ints(n, "pads", {0, 0, 0, 0});
  if (kernel.size() != 2 || st.size() != 2 || dl.size() != 2 || pd.size() != 4)
    fail(n, "only 2-D windows are supported");
  for (auto v : {kernel[0], kernel[1], st[0], st[1], dl[0], dl[1]})
    if (v < 1) fail(n, "kernel, strides and dilations must be >= 1");
  for (auto v : pd)
    if (v < 0) fail(n, "negative pads are not supported");
  // ONNX pads are [top, left, bottom, right].
  return {size_t(kernel[0]), size_t(kernel[1]), size_t(st[0]), size_t(st[1]), size_t(dl[0]),
          size_t(dl[1]),     size_t(pd[0]),     size_t(pd[1]), size_t(pd[2]), size_t(pd[3])};
}

void check(xnn_status s, const onnx::NodeProto& n, const char* call) {
  if (s != xnn_status_success)
    fail(n, std::string(call) + " failed (xnn_status " + std::to_string(int(s)) + ")");
}

// Builds the XNNPACK subgraph of an ONNX graph. Every 4-D value is an NHWC activation; every
// other rank is layout-free (its bytes are the same as in ONNX).
class Translator {
 public:
  Translator(const onnx::ModelProto& model, size_t batch, size_t channels, size_t size);
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  XnnpackModel release() { return std::move(model_); }

 private:
  struct Value {
    uint32_t id;
    Dims dims;
  };

  void node(const onnx::NodeProto& n);
  // One per supported operator, picked by node().
  void conv(const onnx::NodeProto& n);
  void relu(const onnx::NodeProto& n) { clamp(n, 0.f, kInf); }
  void clip(const onnx::NodeProto& n);
  void add(const onnx::NodeProto& n);
  void max_pool(const onnx::NodeProto& n);
  void global_average_pool(const onnx::NodeProto& n) { mean_hw(n, true); }
  void reduce_mean(const onnx::NodeProto& n);
  void flatten(const onnx::NodeProto& n);
  void reshape(const onnx::NodeProto& n);
  void dense(const onnx::NodeProto& n);
  void softmax(const onnx::NodeProto& n);
  void pad(const onnx::NodeProto& n);
  void batch_norm(const onnx::NodeProto& n);

  void clamp(const onnx::NodeProto& n, float lo, float hi);
  void mean_hw(const onnx::NodeProto& n, bool keepdims);
  void reshape_to(const onnx::NodeProto& n, const std::string& in, const std::string& out,
                  std::vector<int64_t> shape);

  const Value& act(const onnx::NodeProto& n, int i) const;
  const Constant& constant(const onnx::NodeProto& n, int i) const;
  bool has_input(const onnx::NodeProto& n, int i) const {
    return n.input_size() > i && !n.input(i).empty();
  }
  Value define(const std::string& name, Dims dims);
  uint32_t define_static(std::vector<float> data, const Dims& dims);
  const onnx::NodeProto* sole_batch_norm(const std::string& value) const;

  XnnpackModel model_;
  int opset_ = 0;
  std::string output_name_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
  std::set<const onnx::NodeProto*> folded_;
};

Translator::Translator(const onnx::ModelProto& model, size_t batch, size_t channels, size_t size) {
  const onnx::GraphProto& g = model.graph();
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = int(o.version());
  for (const auto& t : g.initializer()) constants_[t.name()] = read_tensor(t);
  for (const auto& n : g.node())
    for (const auto& in : n.input()) readers_[in].push_back(&n);

  const onnx::ValueInfoProto* input = nullptr;
  for (const auto& v : g.input()) {
    if (constants_.count(v.name())) continue;
    if (input)
      throw std::runtime_error("the model has more than one input ('" + input->name() + "', '" +
                               v.name() + "')");
    input = &v;
  }
  if (!input) throw std::runtime_error("the model has no input");
  if (g.output_size() != 1)
    throw std::runtime_error("the model has " + std::to_string(g.output_size()) +
                             " outputs; this peer runs one");
  output_name_ = g.output(0).name();
  const auto& type = input->type().tensor_type();
  if (type.elem_type() != onnx::TensorProto::FLOAT)
    throw std::runtime_error("input '" + input->name() + "' is not float32");
  if (type.shape().dim_size() != 4)
    throw std::runtime_error("input '" + input->name() + "' is not 4-D NCHW");
  const Dims nchw{batch, channels, size, size};
  for (int i = 0; i < 4; ++i) {
    const auto& d = type.shape().dim(i);
    if (d.has_dim_value() && size_t(d.dim_value()) != nchw[size_t(i)])
      throw std::runtime_error("input '" + input->name() + "' has dim " +
                               std::to_string(d.dim_value()) + " at axis " + std::to_string(i) +
                               ", the options ask for " + str(nchw) + " (NCHW)");
  }
  model_.input_dims = {batch, size, size, channels};

  xnn_subgraph_t subgraph = nullptr;
  if (xnn_create_subgraph(2, 0, &subgraph) != xnn_status_success)
    throw std::runtime_error("xnn_create_subgraph failed");
  model_.subgraph.reset(subgraph);
  uint32_t id = 0;
  if (xnn_define_tensor_value(model_.subgraph.get(), xnn_datatype_fp32, 4, model_.input_dims.data(),
                              nullptr, XnnpackModel::kInputId, XNN_VALUE_FLAG_EXTERNAL_INPUT,
                              &id) != xnn_status_success)
    throw std::runtime_error("defining the input value failed");
  values_[input->name()] = {id, model_.input_dims};

  for (const auto& n : g.node())
    if (!folded_.count(&n)) node(n);
  auto out = values_.find(output_name_);
  if (out == values_.end())
    throw std::runtime_error("no node computes the output '" + output_name_ + "'");
  model_.output_dims = out->second.dims;
}

void Translator::node(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    fail(n, "domain '" + n.domain() + "' is not supported");
  if (op == "Constant") {
    const auto* v = attr(n, "value");
    if (!v || !v->has_t()) fail(n, "only a tensor 'value' is supported");
    constants_[n.output(0)] = read_tensor(v->t());
    return;
  }
  using Rule = void (Translator::*)(const onnx::NodeProto&);
  static const std::map<std::string, Rule> rules = {
      {"Conv", &Translator::conv},
      {"Relu", &Translator::relu},
      {"Clip", &Translator::clip},
      {"Add", &Translator::add},
      {"MaxPool", &Translator::max_pool},
      {"GlobalAveragePool", &Translator::global_average_pool},
      {"ReduceMean", &Translator::reduce_mean},
      {"Flatten", &Translator::flatten},
      {"Reshape", &Translator::reshape},
      {"Gemm", &Translator::dense},
      {"MatMul", &Translator::dense},
      {"Softmax", &Translator::softmax},
      {"Pad", &Translator::pad},
      {"BatchNormalization", &Translator::batch_norm},
  };
  auto rule = rules.find(op);
  if (rule == rules.end()) fail(n, "operator not supported by the XNNPACK peer");
  ++model_.nodes;
  (this->*rule->second)(n);
}

// Reached only for a BatchNormalization that conv() did not fold.
void Translator::batch_norm(const onnx::NodeProto& n) {
  fail(n,
       "cannot be folded (its input is not a Conv output read by it alone), and XNNPACK "
       "has no batch-norm node");
}

void Translator::flatten(const onnx::NodeProto& n) {
  if (attr_i(n, "axis", 1) != 1) fail(n, "only axis=1 is supported");
  reshape_to(n, n.input(0), n.output(0), {0, -1});
}

void Translator::reshape(const onnx::NodeProto& n) {
  if (attr_i(n, "allowzero", 0) != 0) fail(n, "allowzero=1 is not supported");
  reshape_to(n, n.input(0), n.output(0), constant(n, 1).i);
}

const Translator::Value& Translator::act(const onnx::NodeProto& n, int i) const {
  if (!has_input(n, i)) fail(n, "missing input " + std::to_string(i));
  auto it = values_.find(n.input(i));
  if (it != values_.end()) return it->second;
  if (constants_.count(n.input(i)))
    fail(n, "input '" + n.input(i) + "' is a constant; the peer needs a computed tensor there");
  fail(n, "input '" + n.input(i) + "' is not computed by an earlier node");
}

const Constant& Translator::constant(const onnx::NodeProto& n, int i) const {
  if (!has_input(n, i)) fail(n, "missing input " + std::to_string(i));
  auto it = constants_.find(n.input(i));
  if (it == constants_.end())
    fail(n, "input '" + n.input(i) + "' must be a constant (initializer or Constant node)");
  return it->second;
}

Translator::Value Translator::define(const std::string& name, Dims dims) {
  const bool is_output = name == output_name_;
  uint32_t id = 0;
  if (xnn_define_tensor_value(model_.subgraph.get(), xnn_datatype_fp32, dims.size(), dims.data(),
                              nullptr, is_output ? XnnpackModel::kOutputId : XNN_INVALID_VALUE_ID,
                              is_output ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0,
                              &id) != xnn_status_success)
    throw std::runtime_error("defining value '" + name + "' " + str(dims) + " failed");
  return values_[name] = {id, std::move(dims)};
}

uint32_t Translator::define_static(std::vector<float> data, const Dims& dims) {
  model_.static_data.push_back(std::move(data));
  uint32_t id = 0;
  if (xnn_define_tensor_value(model_.subgraph.get(), xnn_datatype_fp32, dims.size(), dims.data(),
                              model_.static_data.back().data(), XNN_INVALID_VALUE_ID, 0,
                              &id) != xnn_status_success)
    throw std::runtime_error("defining a static tensor " + str(dims) + " failed");
  return id;
}

// The BatchNormalization node that is the only reader of `value`, with constant parameters.
const onnx::NodeProto* Translator::sole_batch_norm(const std::string& value) const {
  auto it = readers_.find(value);
  if (value == output_name_ || it == readers_.end() || it->second.size() != 1) return nullptr;
  const onnx::NodeProto* bn = it->second[0];
  if (bn->op_type() != "BatchNormalization" || bn->input_size() != 5 || bn->input(0) != value)
    return nullptr;
  for (int i = 1; i < 5; ++i)
    if (!constants_.count(bn->input(i))) return nullptr;
  return bn;
}

void Translator::conv(const onnx::NodeProto& n) {
  const Value x = act(n, 0);
  const Constant& w = constant(n, 1);
  if (x.dims.size() != 4 || w.dims.size() != 4)
    fail(n, "only 2-D convolution (4-D input and weights) is supported");
  const size_t oc = w.dims[0], gic = w.dims[1], kh = w.dims[2], kw = w.dims[3], c = x.dims[3];
  const Window win = window(n, {int64_t(kh), int64_t(kw)});
  if (win.kh != kh || win.kw != kw)
    fail(n, "kernel_shape does not match the weights " + str(w.dims));
  const int64_t group = attr_i(n, "group", 1);
  if (group < 1 || size_t(group) * gic != c || oc % size_t(group))
    fail(n, "weights " + str(w.dims) + " and group " + std::to_string(group) + " do not fit " +
                std::to_string(c) + " input channels");
  const size_t groups = size_t(group);

  std::vector<float> bias(oc, 0.f), scale(oc, 1.f);
  if (has_input(n, 2)) {
    const Constant& b = constant(n, 2);
    if (b.f.size() != oc)
      fail(n, "bias has " + std::to_string(b.f.size()) + " values for " + std::to_string(oc) +
                  " outputs");
    bias = b.f;
  }
  std::string out = n.output(0);
  if (const onnx::NodeProto* bn = sole_batch_norm(out)) {  // fold: y = (conv + b - mean) * s + beta
    if (attr_i(*bn, "training_mode", 0) != 0) fail(*bn, "training_mode=1 is not supported");
    const float eps = attr_f(*bn, "epsilon", 1e-5f);
    const auto &gamma = constants_.at(bn->input(1)).f, &beta = constants_.at(bn->input(2)).f;
    const auto &mean = constants_.at(bn->input(3)).f, &var = constants_.at(bn->input(4)).f;
    if (gamma.size() != oc || beta.size() != oc || mean.size() != oc || var.size() != oc)
      fail(*bn, "parameters do not have " + std::to_string(oc) + " channels");
    for (size_t o = 0; o < oc; ++o) {
      scale[o] = gamma[o] / std::sqrt(var[o] + eps);
      bias[o] = (bias[o] - mean[o]) * scale[o] + beta[o];
    }
    out = bn->output(0);
    folded_.insert(bn);
  }
  const Value y = define(out, win.out(n, x.dims, oc));

  // ONNX weights are OIHW. XNNPACK wants [O, H, W, I] for a convolution and [1, H, W, O]
  // for a depthwise one.
  const bool depthwise = groups == c && gic == 1 && groups > 1;
  std::vector<float> filter(w.f.size());
  for (size_t o = 0; o < oc; ++o)
    for (size_t i = 0; i < gic; ++i)
      for (size_t ky = 0; ky < kh; ++ky)
        for (size_t kx = 0; kx < kw; ++kx) {
          const float v = w.f[((o * gic + i) * kh + ky) * kw + kx] * scale[o];
          filter[depthwise ? (ky * kw + kx) * oc + o : ((o * kh + ky) * kw + kx) * gic + i] = v;
        }
  const uint32_t f =
      define_static(std::move(filter), depthwise ? Dims{1, kh, kw, oc} : Dims{oc, kh, kw, gic});
  const uint32_t b = define_static(std::move(bias), {oc});
  if (depthwise)
    check(xnn_define_depthwise_convolution_2d(model_.subgraph.get(), win.top, win.right, win.bottom,
                                              win.left, kh, kw, win.sh, win.sw, win.dh, win.dw,
                                              oc / c, c, -kInf, kInf, x.id, f, b, y.id, 0),
          n, "xnn_define_depthwise_convolution_2d");
  else
    check(xnn_define_convolution_2d(model_.subgraph.get(), win.top, win.right, win.bottom, win.left,
                                    kh, kw, win.sh, win.sw, win.dh, win.dw, groups, gic,
                                    oc / groups, -kInf, kInf, x.id, f, b, y.id, 0),
          n, "xnn_define_convolution_2d");
}

void Translator::clamp(const onnx::NodeProto& n, float lo, float hi) {
  const Value x = act(n, 0);
  const Value y = define(n.output(0), x.dims);
  check(xnn_define_clamp(model_.subgraph.get(), lo, hi, x.id, y.id, 0), n, "xnn_define_clamp");
}

void Translator::clip(const onnx::NodeProto& n) {
  float bound[2] = {attr_f(n, "min", -kInf), attr_f(n, "max", kInf)};  // opset < 11: attributes
  for (int i = 1; i <= 2; ++i) {
    if (!has_input(n, i)) continue;
    const Constant& c = constant(n, i);
    if (c.f.size() != 1) fail(n, "min and max must be float scalars");
    bound[i - 1] = c.f[0];
  }
  clamp(n, bound[0], bound[1]);
}

void Translator::add(const onnx::NodeProto& n) {
  const Value a = act(n, 0), b = act(n, 1);
  if (a.dims != b.dims)
    fail(n, "inputs " + str(a.dims) + " and " + str(b.dims) +
                " differ; broadcasting is not supported");
  const Value y = define(n.output(0), a.dims);
  check(xnn_define_add2(model_.subgraph.get(), -kInf, kInf, a.id, b.id, y.id, 0), n,
        "xnn_define_add2");
}

void Translator::max_pool(const onnx::NodeProto& n) {
  if (attr_i(n, "ceil_mode", 0) != 0)
    fail(n, "ceil_mode=1: XNNPACK (2022) pools with floor rounding only");
  if (attr_i(n, "storage_order", 0) != 0) fail(n, "storage_order=1 is not supported");
  if (n.output_size() > 1 && !n.output(1).empty()) fail(n, "the Indices output is not supported");
  const Value x = act(n, 0);
  if (x.dims.size() != 4) fail(n, "needs a 4-D input");
  if (!attr(n, "kernel_shape")) fail(n, "kernel_shape is missing");
  const Window win = window(n, {});
  const Value y = define(n.output(0), win.out(n, x.dims, x.dims[3]));
  // XNNPACK's max pooling skips padded positions, as ONNX's (-inf padding) does.
  check(xnn_define_max_pooling_2d(model_.subgraph.get(), win.top, win.right, win.bottom, win.left,
                                  win.kh, win.kw, win.sh, win.sw, win.dh, win.dw, -kInf, kInf, x.id,
                                  y.id, 0),
        n, "xnn_define_max_pooling_2d");
}

void Translator::mean_hw(const onnx::NodeProto& n, bool keepdims) {
  const Value x = act(n, 0);
  if (x.dims.size() != 4) fail(n, "needs a 4-D input");
  const Dims pooled{x.dims[0], 1, 1, x.dims[3]};
  const Value y = keepdims ? define(n.output(0), pooled) : define(n.output(0) + "/nhwc", pooled);
  check(xnn_define_global_average_pooling_2d(model_.subgraph.get(), -kInf, kInf, x.id, y.id, 0), n,
        "xnn_define_global_average_pooling_2d");
  if (!keepdims) reshape_to(n, n.output(0) + "/nhwc", n.output(0), {0, -1});
}

void Translator::reduce_mean(const onnx::NodeProto& n) {
  std::vector<int64_t> axes =
      has_input(n, 1) ? constant(n, 1).i : attr_ints(n, "axes", {});  // opset 18: input
  for (auto& a : axes) a = a < 0 ? a + 4 : a;
  std::sort(axes.begin(), axes.end());
  if (act(n, 0).dims.size() != 4 || axes != std::vector<int64_t>{2, 3})
    fail(n, "only the mean over H and W (axes 2, 3) of a 4-D tensor is supported");
  mean_hw(n, attr_i(n, "keepdims", 1) != 0);
}

// Flatten and Reshape. ONNX shapes are NCHW while a 4-D value here is NHWC, so a reshape
// keeps the bytes only when the input's H and W are 1 and the result is not 4-D; anything
// else needs a transpose, which XNNPACK (2022) does not have.
void Translator::reshape_to(const onnx::NodeProto& n, const std::string& in, const std::string& out,
                            std::vector<int64_t> shape) {
  const Value x = values_.count(in) ? values_.at(in) : act(n, 0);
  Dims logical = x.dims;  // the input's shape as ONNX sees it
  if (x.dims.size() == 4) {
    if (x.dims[1] != 1 || x.dims[2] != 1)
      fail(n, "reshaping an NHWC map " + str(x.dims) +
                  " needs a transpose, which XNNPACK (2022) lacks");
    logical = {x.dims[0], x.dims[3], 1, 1};
  }
  Dims dims;
  size_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && infer < 0) {
      infer = int(i);
      dims.push_back(1);
      continue;
    }
    if (shape[i] == 0 && i < logical.size())
      dims.push_back(logical[i]);
    else if (shape[i] > 0)
      dims.push_back(size_t(shape[i]));
    else
      fail(n, "bad target shape entry " + std::to_string(shape[i]));
    known *= dims.back();
  }
  if (known == 0 || count(logical) % known)
    fail(n, "cannot reshape " + str(logical) + " into the target shape");
  if (infer >= 0) dims[size_t(infer)] = count(logical) / known;
  if (count(dims) != count(logical))
    fail(n, "cannot reshape " + str(logical) + " into " + str(dims));
  if (dims.size() == 4)
    fail(n, "a 4-D result would be NCHW, and XNNPACK (2022) has no transpose to NHWC");
  const Value y = define(out, dims);
  check(xnn_define_static_reshape(model_.subgraph.get(), dims.size(), dims.data(), x.id, y.id, 0),
        n, "xnn_define_static_reshape");
}

// Gemm (alpha and beta folded into the constants) and MatMul by a constant matrix.
void Translator::dense(const onnx::NodeProto& n) {
  const bool gemm = n.op_type() == "Gemm";
  const Value a = act(n, 0);
  const Constant& b = constant(n, 1);
  if (a.dims.size() != 2 || b.dims.size() != 2)
    fail(n, "only a 2-D input times a 2-D constant is supported");
  if (gemm && attr_i(n, "transA", 0) != 0) fail(n, "transA=1 is not supported");
  const bool trans_b = gemm && attr_i(n, "transB", 0) != 0;
  const size_t k = trans_b ? b.dims[1] : b.dims[0], m = trans_b ? b.dims[0] : b.dims[1];
  if (a.dims[1] != k) fail(n, "input " + str(a.dims) + " does not fit weights " + str(b.dims));
  const float alpha = gemm ? attr_f(n, "alpha", 1.f) : 1.f,
              beta = gemm ? attr_f(n, "beta", 1.f) : 1.f;
  std::vector<float> weights(m * k);  // XNNPACK wants [output, input]
  for (size_t o = 0; o < m; ++o)
    for (size_t i = 0; i < k; ++i)
      weights[o * k + i] = alpha * (trans_b ? b.f[o * k + i] : b.f[i * m + o]);
  uint32_t bias = XNN_INVALID_VALUE_ID;
  if (gemm && has_input(n, 2)) {
    const Constant& c = constant(n, 2);
    if (c.f.size() != m || (c.dims.size() == 2 && c.dims[0] != 1) || c.dims.size() > 2)
      fail(n, "only a bias of " + std::to_string(m) + " values ([M] or [1, M]) is supported");
    std::vector<float> scaled(c.f);
    for (float& v : scaled) v *= beta;
    bias = define_static(std::move(scaled), {m});
  }
  const uint32_t w = define_static(std::move(weights), {m, k});
  const Value y = define(n.output(0), {a.dims[0], m});
  check(xnn_define_fully_connected(model_.subgraph.get(), -kInf, kInf, a.id, w, bias, y.id, 0), n,
        "xnn_define_fully_connected");
}

void Translator::softmax(const onnx::NodeProto& n) {
  const Value x = act(n, 0);
  const int64_t rank = int64_t(x.dims.size());
  int64_t axis = attr_i(n, "axis", opset_ >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (rank == 4 || axis != rank - 1)
    fail(n, "only a softmax over the last axis of a non-4-D tensor is supported");
  const Value y = define(n.output(0), x.dims);
  check(xnn_define_softmax(model_.subgraph.get(), x.id, y.id, 0), n, "xnn_define_softmax");
}

void Translator::pad(const onnx::NodeProto& n) {
  const Value x = act(n, 0);
  if (attr_s(n, "mode", "constant") != "constant") fail(n, "only mode=constant is supported");
  if (has_input(n, 3)) fail(n, "the axes input is not supported");
  const std::vector<int64_t> pads = has_input(n, 1) ? constant(n, 1).i : attr_ints(n, "pads", {});
  float value = attr_f(n, "value", 0.f);
  if (has_input(n, 2)) {
    const Constant& c = constant(n, 2);
    if (c.f.size() != 1) fail(n, "constant_value must be a float scalar");
    value = c.f[0];
  }
  const size_t rank = x.dims.size();
  if (pads.size() != 2 * rank) fail(n, "needs " + std::to_string(2 * rank) + " pads");
  for (auto p : pads)
    if (p < 0) fail(n, "negative pads (cropping) are not supported");
  Dims pre(rank), post(rank), dims(rank);
  for (size_t i = 0; i < rank; ++i) {  // NCHW axis order -> NHWC for 4-D values
    const size_t onnx_axis = rank == 4 ? std::vector<size_t>{0, 2, 3, 1}[i] : i;
    pre[i] = size_t(pads[onnx_axis]);
    post[i] = size_t(pads[onnx_axis + rank]);
    dims[i] = x.dims[i] + pre[i] + post[i];
  }
  const Value y = define(n.output(0), dims);
  check(xnn_define_static_constant_pad(model_.subgraph.get(), pre.data(), post.data(), value, x.id,
                                       y.id, 0),
        n, "xnn_define_static_constant_pad");
}

}  // namespace

XnnpackModel onnx_to_xnnpack(const onnx::ModelProto& model, size_t batch, size_t channels,
                             size_t size) {
  return Translator(model, batch, channels, size).release();
}
