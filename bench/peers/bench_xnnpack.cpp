// Times an ONNX model in XNNPACK (Debian's libxnnpack-dev, subgraph API) on a fixed input.
//
//   bench_xnnpack MODEL.onnx [--batch 1] [--threads 1] [--input-size 224] [--channels 3]
//                 [--warmup 3] [--repeats 20] [--dump OUT.npy] [--dump-input IN.npy]
//
// A peer of bench_ort.js for bench/compare_peers.sh, and like it outside the xcept library:
// it links XNNPACK, pthreadpool and ONNX's protobuf classes, never libxcept. It translates
// the ONNX graph (NCHW) into one XNNPACK subgraph in NHWC:
//   Conv (dense, grouped, depthwise; a BatchNormalization that alone reads it is folded into
//   its weights), Relu, Clip, Add, MaxPool, GlobalAveragePool, ReduceMean over H and W,
//   Flatten/Reshape of a 1x1 map, Gemm, MatMul, Softmax over the last axis, constant Pad.
// Anything else is an error naming the node and why, and so are the things XNNPACK of 2022
// cannot express: ceil_mode pooling, and reshapes of an HxW map (in NHWC they would need a
// transpose, which it lacks). Clamps are separate nodes: XNNPACK fuses them itself.
//
// The input is bench_ort.js's (the same LCG, the same float values, NCHW), converted to
// NHWC outside the timed region. Prints one JSON line: median/min/max/mean milliseconds of
// xnn_invoke_runtime over the repeats, after the warm-up runs. --dump writes the output (in
// ONNX's layout) and --dump-input the NCHW input as .npy, for a check against ONNX Runtime
// (bench/peers/check_xnnpack.sh). --threads 1 runs without a thread pool, as TFLite does.
#include <xnnpack.h>
#include <pthreadpool.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "onnx/onnx_pb.h"

#ifndef BENCH_XNNPACK_VERSION
#define BENCH_XNNPACK_VERSION "unknown"
#endif

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr uint32_t kInputId = 0, kOutputId = 1;  // the two external values

using Dims = std::vector<size_t>;

size_t count(const Dims& d) { return std::accumulate(d.begin(), d.end(), size_t{1}, std::multiplies<>()); }

std::string str(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

[[noreturn]] void fail(const onnx::NodeProto& n, const std::string& why) {
  throw std::runtime_error("node '" + n.name() + "' (" + n.op_type() + "): " + why);
}

// A constant: an initializer or a Constant node's value, as floats or int64s.
struct Constant {
  Dims dims;
  std::vector<float> f;
  std::vector<int64_t> i;
};

Constant read_tensor(const onnx::TensorProto& t) {
  Constant c;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t{1} << 32)) throw std::runtime_error("tensor '" + t.name() + "': bad dim " + std::to_string(d));
    c.dims.push_back(size_t(d));
  }
  const size_t n = count(c.dims);
  if (t.data_location() == onnx::TensorProto::EXTERNAL) throw std::runtime_error("tensor '" + t.name() + "': external data is not supported");
  auto raw = [&](auto& out) {
    using T = typename std::remove_reference_t<decltype(out)>::value_type;
    if (t.raw_data().size() != n * sizeof(T))
      throw std::runtime_error("tensor '" + t.name() + "': " + str(c.dims) + " needs " + std::to_string(n * sizeof(T)) +
                               " bytes, raw_data has " + std::to_string(t.raw_data().size()));
    out.resize(n);
    std::memcpy(out.data(), t.raw_data().data(), n * sizeof(T));  // little-endian host
  };
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (t.has_raw_data()) raw(c.f); else c.f.assign(t.float_data().begin(), t.float_data().end());
    if (c.f.size() != n) throw std::runtime_error("tensor '" + t.name() + "': " + std::to_string(c.f.size()) + " floats for " + str(c.dims));
  } else if (t.data_type() == onnx::TensorProto::INT64) {
    if (t.has_raw_data()) raw(c.i); else c.i.assign(t.int64_data().begin(), t.int64_data().end());
    if (c.i.size() != n) throw std::runtime_error("tensor '" + t.name() + "': " + std::to_string(c.i.size()) + " ints for " + str(c.dims));
  } else {
    throw std::runtime_error("tensor '" + t.name() + "': data type " + std::to_string(t.data_type()) + " (only float32 and int64)");
  }
  return c;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute()) if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_i(const onnx::NodeProto& n, const char* name, int64_t def) { auto a = attr(n, name); return a ? a->i() : def; }
float attr_f(const onnx::NodeProto& n, const char* name, float def) { auto a = attr(n, name); return a ? a->f() : def; }
std::string attr_s(const onnx::NodeProto& n, const char* name, const char* def) { auto a = attr(n, name); return a ? a->s() : def; }
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const char* name, std::vector<int64_t> def) {
  auto a = attr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
}

// The 2-D window of Conv and MaxPool: kernel, strides, dilations and pads, checked.
struct Window {
  size_t kh, kw, sh, sw, dh, dw, top, left, bottom, right;
  Dims out(const onnx::NodeProto& n, const Dims& x, size_t channels) const {
    auto side = [&](size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1) {
      const size_t span = d * (k - 1) + 1;
      if (in + p0 + p1 < span) fail(n, "window " + std::to_string(span) + " exceeds padded input " + std::to_string(in + p0 + p1));
      return (in + p0 + p1 - span) / s + 1;
    };
    return {x[0], side(x[1], kh, sh, dh, top, bottom), side(x[2], kw, sw, dw, left, right), channels};
  }
};

Window window(const onnx::NodeProto& n, std::vector<int64_t> kernel) {
  const std::string auto_pad = attr_s(n, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") fail(n, "auto_pad=" + auto_pad + " is not supported (give explicit pads)");
  kernel = attr_ints(n, "kernel_shape", kernel);
  auto st = attr_ints(n, "strides", {1, 1}), dl = attr_ints(n, "dilations", {1, 1});
  auto pd = attr_ints(n, "pads", {0, 0, 0, 0});
  if (kernel.size() != 2 || st.size() != 2 || dl.size() != 2 || pd.size() != 4) fail(n, "only 2-D windows are supported");
  for (auto v : {kernel[0], kernel[1], st[0], st[1], dl[0], dl[1]}) if (v < 1) fail(n, "kernel, strides and dilations must be >= 1");
  for (auto v : pd) if (v < 0) fail(n, "negative pads are not supported");
  // ONNX pads are [top, left, bottom, right].
  return {size_t(kernel[0]), size_t(kernel[1]), size_t(st[0]), size_t(st[1]), size_t(dl[0]), size_t(dl[1]),
          size_t(pd[0]), size_t(pd[1]), size_t(pd[2]), size_t(pd[3])};
}

void check(xnn_status s, const onnx::NodeProto& n, const char* call) {
  if (s != xnn_status_success) fail(n, std::string(call) + " failed (xnn_status " + std::to_string(int(s)) + ")");
}

// Builds the XNNPACK subgraph of an ONNX graph. Every 4-D value is an NHWC activation; every
// other rank is layout-free (its bytes are the same as in ONNX).
class Translator {
 public:
  Translator(const onnx::ModelProto& model, size_t batch, size_t channels, size_t size);
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  xnn_subgraph_t subgraph() const { return subgraph_.get(); }
  const Dims& input_dims() const { return input_dims_; }    // NHWC
  const Dims& output_dims() const { return output_dims_; }  // XNNPACK's layout
  size_t nodes() const { return nodes_; }

 private:
  struct Value { uint32_t id; Dims dims; };

  void node(const onnx::NodeProto& n);
  void conv(const onnx::NodeProto& n);
  void clamp(const onnx::NodeProto& n, float lo, float hi);
  void clip(const onnx::NodeProto& n);
  void add(const onnx::NodeProto& n);
  void max_pool(const onnx::NodeProto& n);
  void global_average_pool(const onnx::NodeProto& n, bool keepdims);
  void reduce_mean(const onnx::NodeProto& n);
  void reshape(const onnx::NodeProto& n, const std::string& in, const std::string& out, std::vector<int64_t> shape);
  void dense(const onnx::NodeProto& n);
  void softmax(const onnx::NodeProto& n);
  void pad(const onnx::NodeProto& n);

  const Value& act(const onnx::NodeProto& n, int i) const;
  const Constant& constant(const onnx::NodeProto& n, int i) const;
  bool has_input(const onnx::NodeProto& n, int i) const { return n.input_size() > i && !n.input(i).empty(); }
  Value define(const std::string& name, Dims dims);
  uint32_t define_static(std::vector<float> data, const Dims& dims);
  const onnx::NodeProto* sole_batch_norm(const std::string& value) const;

  std::unique_ptr<xnn_subgraph, decltype(&xnn_delete_subgraph)> subgraph_{nullptr, &xnn_delete_subgraph};
  int opset_ = 0;
  std::string output_name_;
  Dims input_dims_, output_dims_;
  size_t nodes_ = 0;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
  std::set<const onnx::NodeProto*> folded_;
  std::deque<std::vector<float>> static_data_;  // weights XNNPACK points into
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
    if (input) throw std::runtime_error("the model has more than one input ('" + input->name() + "', '" + v.name() + "')");
    input = &v;
  }
  if (!input) throw std::runtime_error("the model has no input");
  if (g.output_size() != 1) throw std::runtime_error("the model has " + std::to_string(g.output_size()) + " outputs; this peer runs one");
  output_name_ = g.output(0).name();
  const auto& type = input->type().tensor_type();
  if (type.elem_type() != onnx::TensorProto::FLOAT) throw std::runtime_error("input '" + input->name() + "' is not float32");
  if (type.shape().dim_size() != 4) throw std::runtime_error("input '" + input->name() + "' is not 4-D NCHW");
  const Dims nchw{batch, channels, size, size};
  for (int i = 0; i < 4; ++i) {
    const auto& d = type.shape().dim(i);
    if (d.has_dim_value() && size_t(d.dim_value()) != nchw[size_t(i)])
      throw std::runtime_error("input '" + input->name() + "' has dim " + std::to_string(d.dim_value()) + " at axis " +
                               std::to_string(i) + ", the options ask for " + str(nchw) + " (NCHW)");
  }
  input_dims_ = {batch, size, size, channels};

  xnn_subgraph_t subgraph = nullptr;
  if (xnn_create_subgraph(2, 0, &subgraph) != xnn_status_success) throw std::runtime_error("xnn_create_subgraph failed");
  subgraph_.reset(subgraph);
  uint32_t id = 0;
  if (xnn_define_tensor_value(subgraph_.get(), xnn_datatype_fp32, 4, input_dims_.data(), nullptr, kInputId,
                              XNN_VALUE_FLAG_EXTERNAL_INPUT, &id) != xnn_status_success)
    throw std::runtime_error("defining the input value failed");
  values_[input->name()] = {id, input_dims_};

  for (const auto& n : g.node())
    if (!folded_.count(&n)) node(n);
  auto out = values_.find(output_name_);
  if (out == values_.end()) throw std::runtime_error("no node computes the output '" + output_name_ + "'");
  output_dims_ = out->second.dims;
}

void Translator::node(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (!n.domain().empty() && n.domain() != "ai.onnx") fail(n, "domain '" + n.domain() + "' is not supported");
  if (op == "Constant") {
    const auto* v = attr(n, "value");
    if (!v || !v->has_t()) fail(n, "only a tensor 'value' is supported");
    constants_[n.output(0)] = read_tensor(v->t());
    return;
  }
  ++nodes_;
  if (op == "Conv") conv(n);
  else if (op == "Relu") clamp(n, 0.f, kInf);
  else if (op == "Clip") clip(n);
  else if (op == "Add") add(n);
  else if (op == "MaxPool") max_pool(n);
  else if (op == "GlobalAveragePool") global_average_pool(n, true);
  else if (op == "ReduceMean") reduce_mean(n);
  else if (op == "Flatten") {
    if (attr_i(n, "axis", 1) != 1) fail(n, "only axis=1 is supported");
    reshape(n, n.input(0), n.output(0), {0, -1});
  } else if (op == "Reshape") {
    if (attr_i(n, "allowzero", 0) != 0) fail(n, "allowzero=1 is not supported");
    reshape(n, n.input(0), n.output(0), constant(n, 1).i);
  } else if (op == "Gemm" || op == "MatMul") dense(n);
  else if (op == "Softmax") softmax(n);
  else if (op == "Pad") pad(n);
  else if (op == "BatchNormalization")
    fail(n, "cannot be folded (its input is not a Conv output read by it alone), and XNNPACK has no batch-norm node");
  else fail(n, "operator not supported by the XNNPACK peer");
}

const Translator::Value& Translator::act(const onnx::NodeProto& n, int i) const {
  if (!has_input(n, i)) fail(n, "missing input " + std::to_string(i));
  auto it = values_.find(n.input(i));
  if (it != values_.end()) return it->second;
  if (constants_.count(n.input(i))) fail(n, "input '" + n.input(i) + "' is a constant; the peer needs a computed tensor there");
  fail(n, "input '" + n.input(i) + "' is not computed by an earlier node");
}

const Constant& Translator::constant(const onnx::NodeProto& n, int i) const {
  if (!has_input(n, i)) fail(n, "missing input " + std::to_string(i));
  auto it = constants_.find(n.input(i));
  if (it == constants_.end()) fail(n, "input '" + n.input(i) + "' must be a constant (initializer or Constant node)");
  return it->second;
}

Translator::Value Translator::define(const std::string& name, Dims dims) {
  const bool is_output = name == output_name_;
  uint32_t id = 0;
  if (xnn_define_tensor_value(subgraph_.get(), xnn_datatype_fp32, dims.size(), dims.data(), nullptr,
                              is_output ? kOutputId : XNN_INVALID_VALUE_ID,
                              is_output ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0, &id) != xnn_status_success)
    throw std::runtime_error("defining value '" + name + "' " + str(dims) + " failed");
  return values_[name] = {id, std::move(dims)};
}

uint32_t Translator::define_static(std::vector<float> data, const Dims& dims) {
  static_data_.push_back(std::move(data));
  uint32_t id = 0;
  if (xnn_define_tensor_value(subgraph_.get(), xnn_datatype_fp32, dims.size(), dims.data(), static_data_.back().data(),
                              XNN_INVALID_VALUE_ID, 0, &id) != xnn_status_success)
    throw std::runtime_error("defining a static tensor " + str(dims) + " failed");
  return id;
}

// The BatchNormalization node that is the only reader of `value`, with constant parameters.
const onnx::NodeProto* Translator::sole_batch_norm(const std::string& value) const {
  auto it = readers_.find(value);
  if (value == output_name_ || it == readers_.end() || it->second.size() != 1) return nullptr;
  const onnx::NodeProto* bn = it->second[0];
  if (bn->op_type() != "BatchNormalization" || bn->input_size() != 5 || bn->input(0) != value) return nullptr;
  for (int i = 1; i < 5; ++i) if (!constants_.count(bn->input(i))) return nullptr;
  return bn;
}

void Translator::conv(const onnx::NodeProto& n) {
  const Value x = act(n, 0);
  const Constant& w = constant(n, 1);
  if (x.dims.size() != 4 || w.dims.size() != 4) fail(n, "only 2-D convolution (4-D input and weights) is supported");
  const size_t oc = w.dims[0], gic = w.dims[1], kh = w.dims[2], kw = w.dims[3], c = x.dims[3];
  const Window win = window(n, {int64_t(kh), int64_t(kw)});
  if (win.kh != kh || win.kw != kw) fail(n, "kernel_shape does not match the weights " + str(w.dims));
  const int64_t group = attr_i(n, "group", 1);
  if (group < 1 || size_t(group) * gic != c || oc % size_t(group))
    fail(n, "weights " + str(w.dims) + " and group " + std::to_string(group) + " do not fit " + std::to_string(c) + " input channels");
  const size_t groups = size_t(group);

  std::vector<float> bias(oc, 0.f), scale(oc, 1.f);
  if (has_input(n, 2)) {
    const Constant& b = constant(n, 2);
    if (b.f.size() != oc) fail(n, "bias has " + std::to_string(b.f.size()) + " values for " + std::to_string(oc) + " outputs");
    bias = b.f;
  }
  std::string out = n.output(0);
  if (const onnx::NodeProto* bn = sole_batch_norm(out)) {  // fold: y = (conv + b - mean) * s + beta
    if (attr_i(*bn, "training_mode", 0) != 0) fail(*bn, "training_mode=1 is not supported");
    const float eps = attr_f(*bn, "epsilon", 1e-5f);
    const auto& gamma = constants_.at(bn->input(1)).f, &beta = constants_.at(bn->input(2)).f;
    const auto& mean = constants_.at(bn->input(3)).f, &var = constants_.at(bn->input(4)).f;
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
  const uint32_t f = define_static(std::move(filter), depthwise ? Dims{1, kh, kw, oc} : Dims{oc, kh, kw, gic});
  const uint32_t b = define_static(std::move(bias), {oc});
  if (depthwise)
    check(xnn_define_depthwise_convolution_2d(subgraph_.get(), win.top, win.right, win.bottom, win.left, kh, kw, win.sh, win.sw,
                                              win.dh, win.dw, oc / c, c, -kInf, kInf, x.id, f, b, y.id, 0),
          n, "xnn_define_depthwise_convolution_2d");
  else
    check(xnn_define_convolution_2d(subgraph_.get(), win.top, win.right, win.bottom, win.left, kh, kw, win.sh, win.sw, win.dh,
                                    win.dw, groups, gic, oc / groups, -kInf, kInf, x.id, f, b, y.id, 0),
          n, "xnn_define_convolution_2d");
}

void Translator::clamp(const onnx::NodeProto& n, float lo, float hi) {
  const Value x = act(n, 0);
  const Value y = define(n.output(0), x.dims);
  check(xnn_define_clamp(subgraph_.get(), lo, hi, x.id, y.id, 0), n, "xnn_define_clamp");
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
  if (a.dims != b.dims) fail(n, "inputs " + str(a.dims) + " and " + str(b.dims) + " differ; broadcasting is not supported");
  const Value y = define(n.output(0), a.dims);
  check(xnn_define_add2(subgraph_.get(), -kInf, kInf, a.id, b.id, y.id, 0), n, "xnn_define_add2");
}

void Translator::max_pool(const onnx::NodeProto& n) {
  if (attr_i(n, "ceil_mode", 0) != 0) fail(n, "ceil_mode=1: XNNPACK (2022) pools with floor rounding only");
  if (attr_i(n, "storage_order", 0) != 0) fail(n, "storage_order=1 is not supported");
  if (n.output_size() > 1 && !n.output(1).empty()) fail(n, "the Indices output is not supported");
  const Value x = act(n, 0);
  if (x.dims.size() != 4) fail(n, "needs a 4-D input");
  if (!attr(n, "kernel_shape")) fail(n, "kernel_shape is missing");
  const Window win = window(n, {});
  const Value y = define(n.output(0), win.out(n, x.dims, x.dims[3]));
  // XNNPACK's max pooling skips padded positions, as ONNX's (-inf padding) does.
  check(xnn_define_max_pooling_2d(subgraph_.get(), win.top, win.right, win.bottom, win.left, win.kh, win.kw, win.sh, win.sw,
                                  win.dh, win.dw, -kInf, kInf, x.id, y.id, 0),
        n, "xnn_define_max_pooling_2d");
}

void Translator::global_average_pool(const onnx::NodeProto& n, bool keepdims) {
  const Value x = act(n, 0);
  if (x.dims.size() != 4) fail(n, "needs a 4-D input");
  const Dims pooled{x.dims[0], 1, 1, x.dims[3]};
  const Value y = keepdims ? define(n.output(0), pooled) : define(n.output(0) + "/nhwc", pooled);
  check(xnn_define_global_average_pooling_2d(subgraph_.get(), -kInf, kInf, x.id, y.id, 0), n,
        "xnn_define_global_average_pooling_2d");
  if (!keepdims) reshape(n, n.output(0) + "/nhwc", n.output(0), {0, -1});
}

void Translator::reduce_mean(const onnx::NodeProto& n) {
  std::vector<int64_t> axes = has_input(n, 1) ? constant(n, 1).i : attr_ints(n, "axes", {});  // opset 18: input
  for (auto& a : axes) a = a < 0 ? a + 4 : a;
  std::sort(axes.begin(), axes.end());
  if (act(n, 0).dims.size() != 4 || axes != std::vector<int64_t>{2, 3})
    fail(n, "only the mean over H and W (axes 2, 3) of a 4-D tensor is supported");
  global_average_pool(n, attr_i(n, "keepdims", 1) != 0);
}

// Flatten and Reshape. ONNX shapes are NCHW while a 4-D value here is NHWC, so a reshape
// keeps the bytes only when the input's H and W are 1 and the result is not 4-D; anything
// else needs a transpose, which XNNPACK (2022) does not have.
void Translator::reshape(const onnx::NodeProto& n, const std::string& in, const std::string& out,
                         std::vector<int64_t> shape) {
  const Value x = values_.count(in) ? values_.at(in) : act(n, 0);
  Dims logical = x.dims;  // the input's shape as ONNX sees it
  if (x.dims.size() == 4) {
    if (x.dims[1] != 1 || x.dims[2] != 1)
      fail(n, "reshaping an NHWC map " + str(x.dims) + " needs a transpose, which XNNPACK (2022) lacks");
    logical = {x.dims[0], x.dims[3], 1, 1};
  }
  Dims dims;
  size_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && infer < 0) { infer = int(i); dims.push_back(1); continue; }
    if (shape[i] == 0 && i < logical.size()) dims.push_back(logical[i]);
    else if (shape[i] > 0) dims.push_back(size_t(shape[i]));
    else fail(n, "bad target shape entry " + std::to_string(shape[i]));
    known *= dims.back();
  }
  if (known == 0 || count(logical) % known) fail(n, "cannot reshape " + str(logical) + " into the target shape");
  if (infer >= 0) dims[size_t(infer)] = count(logical) / known;
  if (count(dims) != count(logical)) fail(n, "cannot reshape " + str(logical) + " into " + str(dims));
  if (dims.size() == 4) fail(n, "a 4-D result would be NCHW, and XNNPACK (2022) has no transpose to NHWC");
  const Value y = define(out, dims);
  check(xnn_define_static_reshape(subgraph_.get(), dims.size(), dims.data(), x.id, y.id, 0), n, "xnn_define_static_reshape");
}

// Gemm (alpha and beta folded into the constants) and MatMul by a constant matrix.
void Translator::dense(const onnx::NodeProto& n) {
  const bool gemm = n.op_type() == "Gemm";
  const Value a = act(n, 0);
  const Constant& b = constant(n, 1);
  if (a.dims.size() != 2 || b.dims.size() != 2) fail(n, "only a 2-D input times a 2-D constant is supported");
  if (gemm && attr_i(n, "transA", 0) != 0) fail(n, "transA=1 is not supported");
  const bool trans_b = gemm && attr_i(n, "transB", 0) != 0;
  const size_t k = trans_b ? b.dims[1] : b.dims[0], m = trans_b ? b.dims[0] : b.dims[1];
  if (a.dims[1] != k) fail(n, "input " + str(a.dims) + " does not fit weights " + str(b.dims));
  const float alpha = gemm ? attr_f(n, "alpha", 1.f) : 1.f, beta = gemm ? attr_f(n, "beta", 1.f) : 1.f;
  std::vector<float> weights(m * k);  // XNNPACK wants [output, input]
  for (size_t o = 0; o < m; ++o)
    for (size_t i = 0; i < k; ++i) weights[o * k + i] = alpha * (trans_b ? b.f[o * k + i] : b.f[i * m + o]);
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
  check(xnn_define_fully_connected(subgraph_.get(), -kInf, kInf, a.id, w, bias, y.id, 0), n, "xnn_define_fully_connected");
}

void Translator::softmax(const onnx::NodeProto& n) {
  const Value x = act(n, 0);
  const int64_t rank = int64_t(x.dims.size());
  int64_t axis = attr_i(n, "axis", opset_ >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (rank == 4 || axis != rank - 1) fail(n, "only a softmax over the last axis of a non-4-D tensor is supported");
  const Value y = define(n.output(0), x.dims);
  check(xnn_define_softmax(subgraph_.get(), x.id, y.id, 0), n, "xnn_define_softmax");
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
  for (auto p : pads) if (p < 0) fail(n, "negative pads (cropping) are not supported");
  Dims pre(rank), post(rank), dims(rank);
  for (size_t i = 0; i < rank; ++i) {  // NCHW axis order -> NHWC for 4-D values
    const size_t onnx_axis = rank == 4 ? std::vector<size_t>{0, 2, 3, 1}[i] : i;
    pre[i] = size_t(pads[onnx_axis]);
    post[i] = size_t(pads[onnx_axis + rank]);
    dims[i] = x.dims[i] + pre[i] + post[i];
  }
  const Value y = define(n.output(0), dims);
  check(xnn_define_static_constant_pad(subgraph_.get(), pre.data(), post.data(), value, x.id, y.id, 0), n,
        "xnn_define_static_constant_pad");
}

// bench_ort.js's input: the same LCG in doubles (as JavaScript computes it), NCHW order.
std::vector<float> lcg_input(size_t n) {
  std::vector<float> data(n);
  double s = 12345;
  for (size_t i = 0; i < n; ++i) {
    s = std::fmod(s * 1103515245.0 + 12345.0, 4294967296.0);  // (s * a + c) >>> 0
    data[i] = float(double(uint32_t(s) >> 8) / double(1 << 24) * 2.0 - 1.0);
  }
  return data;
}

// [N, C, H, W] <-> [N, H, W, C]; `nhwc` gives the direction.
std::vector<float> transpose(const std::vector<float>& x, size_t n, size_t c, size_t hw, bool to_nhwc) {
  std::vector<float> y(x.size());
  for (size_t b = 0; b < n; ++b)
    for (size_t ch = 0; ch < c; ++ch)
      for (size_t p = 0; p < hw; ++p) {
        const size_t nchw = (b * c + ch) * hw + p, nhwc = (b * hw + p) * c + ch;
        if (to_nhwc) y[nhwc] = x[nchw]; else y[nchw] = x[nhwc];
      }
  return y;
}

// A float32 .npy file, written to a temporary name and renamed.
void write_npy(const std::string& path, const Dims& dims, const float* data) {
  std::string shape;
  for (size_t d : dims) shape += std::to_string(d) + ", ";
  if (dims.size() > 1) shape.resize(shape.size() - 2);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    const uint16_t len = uint16_t(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    f.write(reinterpret_cast<const char*>(&len), 2);
    f << header;
    f.write(reinterpret_cast<const char*>(data), std::streamsize(count(dims) * sizeof(float)));
    if (!f) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

struct Options {
  std::string model, dump, dump_input;
  size_t batch = 1, threads = 1, input_size = 224, channels = 3, warmup = 3, repeats = 20;
};

int run(const Options& o) {
  onnx::ModelProto model;
  {
    std::ifstream in(o.model, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open");
    if (!model.ParseFromIstream(&in)) throw std::runtime_error("not an ONNX model (protobuf parse failed)");
  }
  if (xnn_initialize(nullptr) != xnn_status_success) throw std::runtime_error("xnn_initialize failed");
  Translator graph(model, o.batch, o.channels, o.input_size);

  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(
      o.threads > 1 ? pthreadpool_create(o.threads) : nullptr, &pthreadpool_destroy);
  if (o.threads > 1 && !pool) throw std::runtime_error("pthreadpool_create failed");
  xnn_runtime_t runtime_raw = nullptr;
  if (xnn_create_runtime_v2(graph.subgraph(), pool.get(), 0, &runtime_raw) != xnn_status_success)
    throw std::runtime_error("xnn_create_runtime_v2 failed");
  std::unique_ptr<xnn_runtime, decltype(&xnn_delete_runtime)> runtime(runtime_raw, &xnn_delete_runtime);

  const Dims& in = graph.input_dims();
  const size_t hw = in[1] * in[2];
  const std::vector<float> nchw = lcg_input(count(in));
  std::vector<float> input = transpose(nchw, in[0], in[3], hw, true);
  input.resize(input.size() + XNN_EXTRA_BYTES / sizeof(float));  // XNNPACK may read past the end
  std::vector<float> output(count(graph.output_dims()) + XNN_EXTRA_BYTES / sizeof(float));
  const xnn_external_value external[2] = {{kInputId, input.data()}, {kOutputId, output.data()}};
  if (xnn_setup_runtime(runtime.get(), 2, external) != xnn_status_success) throw std::runtime_error("xnn_setup_runtime failed");

  auto invoke = [&] {
    if (xnn_invoke_runtime(runtime.get()) != xnn_status_success) throw std::runtime_error("xnn_invoke_runtime failed");
  };
  for (size_t i = 0; i < o.warmup; ++i) invoke();
  std::vector<double> ms;
  for (size_t i = 0; i < o.repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    invoke();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }

  if (!o.dump_input.empty()) write_npy(o.dump_input, {in[0], in[3], in[1], in[2]}, nchw.data());
  if (!o.dump.empty()) {
    const Dims& d = graph.output_dims();
    output.resize(count(d));
    if (d.size() == 4) write_npy(o.dump, {d[0], d[3], d[1], d[2]}, transpose(output, d[0], d[3], d[1] * d[2], false).data());
    else write_npy(o.dump, d, output.data());
  }

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t r = sorted.size();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const nlohmann::json j = {
      {"runtime", "xnnpack"}, {"version", BENCH_XNNPACK_VERSION}, {"model", o.model}, {"batch", o.batch},
      {"threads", o.threads}, {"input", {in[0], in[3], in[1], in[2]}}, {"warmup", o.warmup}, {"repeats", o.repeats},
      {"xnn_nodes", graph.nodes()},
      {"median_ms", r % 2 ? sorted[r / 2] : (sorted[r / 2 - 1] + sorted[r / 2]) / 2},
      {"min_ms", sorted.front()}, {"max_ms", sorted.back()},
      {"mean_ms", std::accumulate(ms.begin(), ms.end(), 0.0) / double(r)},
      {"peak_rss_mb", double(usage.ru_maxrss) / 1024.0}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Times an ONNX model in XNNPACK (subgraph API, NHWC) on a fixed pseudo-random input"};
  app.add_option("model", o.model, "ONNX model (as exported by xcept)")->required();
  app.add_option("--batch", o.batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "threads (pthreadpool)")->check(CLI::Range(1, 256));
  app.add_option("--input-size", o.input_size, "input height and width")->check(CLI::Range(1, 8192));
  app.add_option("--channels", o.channels, "input channels")->check(CLI::Range(1, 65536));
  app.add_option("--warmup", o.warmup, "untimed runs first")->check(CLI::Range(0, 100000));
  app.add_option("--repeats", o.repeats, "timed runs")->check(CLI::Range(1, 100000));
  app.add_option("--dump", o.dump, "write the output of the last run here (.npy, ONNX layout)");
  app.add_option("--dump-input", o.dump_input, "write the NCHW input here (.npy)");
  CLI11_PARSE(app, argc, argv);
  if (o.batch > 65536) {
    std::fprintf(stderr, "bench_xnnpack: --batch %zu is too large\n", o.batch);
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_xnnpack: %s: %s\n", o.model.c_str(), e.what());
    return 1;
  }
}
