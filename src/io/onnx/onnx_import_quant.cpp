// QuantizeLinear and DequantizeLinear: the QDQ format (ONNX Runtime's quantizer writes
// it; so does `xcept export --precision int8`). The imported program stays float: a
// QuantizeLinear -> DequantizeLinear pair on an activation is an identity whose encoding
// is recorded (OnnxImportOptions::value_ranges), and the quantization pass
// (runtime/quantize.h) later gives that value exactly the model's scale and zero point.
// Quantized weights (integer initializers through DequantizeLinear) are constants and
// are dequantized now; the int8 program quantizes them again per output channel, which
// gives back the same codes for symmetric per-channel weights (ONNX Runtime's default)
// and a finer encoding otherwise. See docs/quantization.md, "ONNX QDQ".
#include <cmath>

#include "io/onnx/onnx_importer.h"
#include "runtime/ops/core_ops.h"

namespace xcept::onnx_import {

namespace {

using onnx::TensorProto;

// Scale and zero point of QuantizeLinear/DequantizeLinear (inputs 1 and 2): per tensor
// (scalars) or per axis (1-D, one entry per index of `axis` of the data).
struct Encoding {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t axis = 1, qmin = 0, qmax = 255;
  int64_t inner = 1, axis_len = 1;  // per axis: elements after the axis, and its length
  size_t at(int64_t flat) const {   // the entry for element `flat`
    return scale.size() == 1 ? 0 : size_t((flat / inner) % axis_len);
  }
};

Encoding read_encoding(Importer& im, const Dims& data_dims, int32_t codes_type) {
  Encoding e;
  const HostTensor& s = im.const_in(1, "scale");
  if (!s.is_f32()) im.bad("scale '{}' must be float", im.node->input(1));
  e.scale.assign(s.f32.data(), s.f32.data() + s.numel());
  if (im.has_input(2)) {
    const HostTensor& z = im.const_in(2, "zero point");
    if (z.is_f32()) im.bad("zero point '{}' must be an integer tensor", im.node->input(2));
    if (z.numel() != s.numel())
      im.bad("zero point has {} entries, scale {}", z.numel(), s.numel());
    e.zero_point = z.i64;
    if (z.onnx_type) codes_type = z.onnx_type;
  } else {
    e.zero_point.assign(e.scale.size(), 0);
  }
  if (codes_type == TensorProto::INT8) e.qmin = -128, e.qmax = 127;
  else if (codes_type == TensorProto::INT32) e.qmin = INT32_MIN, e.qmax = INT32_MAX;
  else if (codes_type != TensorProto::UINT8 && codes_type != 0)
    im.unsupported(fmt::format("quantized data type {} (uint8, int8 or int32)", codes_type));
  if (e.scale.empty()) im.bad("scale '{}' is empty", im.node->input(1));
  for (float v : e.scale)
    if (!(v > 0.f) || !std::isfinite(v)) im.bad("scale {} must be positive and finite", v);
  if (e.scale.size() > 1) {  // a one-element 1-D scale is taken as per tensor
    e.axis = norm_axis(im, im.attr_i("axis", 1), int64_t(data_dims.size()), "axis");
    if (s.dims.size() != 1 || s.dims[0] != data_dims[size_t(e.axis)])
      im.bad("per-axis scale {} does not match axis {} of {}", dims_to_string(s.dims), e.axis,
             dims_to_string(data_dims));
    e.axis_len = data_dims[size_t(e.axis)];
    for (size_t d = size_t(e.axis) + 1; d < data_dims.size(); ++d) e.inner *= data_dims[d];
  }
  return e;
}

bool is_graph_output(Importer& im, const std::string& name) {
  for (const auto& o : im.model().graph().output())
    if (o.name() == name) return true;
  return false;
}

void quantize_linear(Importer& im) {
  Val& x = im.in(0);
  const Encoding e = read_encoding(im, x.dims, TensorProto::UINT8);
  if (x.pure_constant()) {
    if (!x.constant->is_f32()) im.bad("input '{}' must be float", im.node->input(0));
    const Tensor& f = x.constant->f32;
    std::vector<int64_t> q(size_t(f.numel()));
    for (int64_t i = 0; i < f.numel(); ++i) {
      const size_t c = e.at(i);
      const double v = std::nearbyint(double(f[i]) / double(e.scale[c])) + double(e.zero_point[c]);
      q[size_t(i)] = int64_t(std::clamp(v, double(e.qmin), double(e.qmax)));
    }
    HostTensor h = HostTensor::from_i64(x.dims, std::move(q));
    h.onnx_type = e.qmin < 0 ? TensorProto::INT8 : TensorProto::UINT8;
    im.set_out(0, im.constant(std::move(h)));
    return;
  }
  if (is_graph_output(im, im.node->output(0)))
    im.unsupported("a quantized graph output (programs return float)");
  if (e.scale.size() != 1)
    im.unsupported("per-axis quantization of a value computed at run time (activations "
                   "are quantized per tensor)");
  const float s = e.scale[0];
  const auto z = float(e.zero_point[0]);
  const ActivationRange r{s * (float(e.qmin) - z), s * (float(e.qmax) - z)};
  if (x.range && (x.range->lo != r.lo || x.range->hi != r.hi)) {
    // Quantized again with another encoding (DequantizeLinear -> QuantizeLinear): a value
    // of its own, re-encoded by an identity step, so that each keeps its encoding.
    Val y = im.emit(std::make_unique<ActivationOp>(Act::none()), {&x}, im.preferred(x),
                    "/requantize", false);
    y.range = r;
    im.record_range(y);
    im.set_out(0, y);
    return;
  }
  x.range = r;
  im.record_range(x);
  im.set_out(0, x);  // the real value, whose encoding the int8 program will use
}

void dequantize_linear(Importer& im) {
  Val& x = im.in(0);
  if (x.pure_constant()) {
    const HostTensor& q = *x.constant;
    if (q.is_f32()) im.bad("input '{}' must be an integer tensor", im.node->input(0));
    const Encoding e = read_encoding(im, x.dims, q.onnx_type ? q.onnx_type : TensorProto::UINT8);
    Tensor f(x.dims);
    for (int64_t i = 0; i < f.numel(); ++i) {
      const size_t c = e.at(i);
      f[i] = float(double(q.i64[size_t(i)] - e.zero_point[c]) * double(e.scale[c]));
    }
    im.set_out(0, im.constant(HostTensor::from_f32(std::move(f))));
    return;
  }
  // A value the model quantized, possibly moved as codes since (a reshape or max pooling
  // keeps the encoding): the real value, with this node's encoding.
  const Encoding e = read_encoding(im, x.dims, TensorProto::UINT8);
  if (e.scale.size() != 1) im.unsupported("per-axis dequantization of a value computed at run time");
  Val y = x;
  const float s = e.scale[0];
  const auto z = float(e.zero_point[0]);
  y.range = ActivationRange{s * (float(e.qmin) - z), s * (float(e.qmax) - z)};
  im.record_range(y);
  im.set_out(0, y);
}

}  // namespace

bool import_quant_node(Importer& im, const onnx::NodeProto& node) {
  if (node.op_type() == "QuantizeLinear") quantize_linear(im);
  else if (node.op_type() == "DequantizeLinear") dequantize_linear(im);
  else return false;
  return true;
}

}  // namespace xcept::onnx_import

namespace xcept {

bool onnx_has_qdq(const onnx::ModelProto& model) {
  for (const auto& n : model.graph().node())
    if (n.op_type() == "QuantizeLinear") return true;
  return onnx_has_qoperators(model);
}

namespace {

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op,
                          const std::vector<std::string>& in, const std::string& out,
                          int64_t axis = -1) {
  onnx::NodeProto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(out);
  for (const std::string& i : in) n->add_input(i);
  n->add_output(out);
  if (axis >= 0) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  return n;
}

}  // namespace

bool onnx_has_qoperators(const onnx::ModelProto& model) {
  for (const auto& n : model.graph().node())
    if (n.domain().empty() && (n.op_type() == "QLinearConv" || n.op_type() == "QLinearMatMul"))
      return true;
  return false;
}

// QLinearConv(x, xs, xz, w, ws, wz, ys, yz[, B]) is DequantizeLinear of x and w (and of
// B at xs * ws), a float Conv with the node's attributes, and QuantizeLinear to (ys, yz);
// QLinearMatMul the same around MatMul (b's scale per column: axis 1). Node order is
// kept (the graph stays topologically sorted).
onnx::ModelProto qoperators_as_qdq(const onnx::ModelProto& model, const std::string& model_name) {
  onnx::ModelProto out = model;
  onnx::GraphProto& g = *out.mutable_graph();
  g.clear_node();
  for (const onnx::NodeProto& n : model.graph().node()) {
    const bool conv = n.op_type() == "QLinearConv", matmul = n.op_type() == "QLinearMatMul";
    if (!n.domain().empty() || (!conv && !matmul)) {
      *g.add_node() = n;
      continue;
    }
    const int need = 8;
    if (n.input_size() < need || n.output_size() != 1)
      fail("{}: node '{}' ({}): needs {} inputs and one output, has {} and {}", model_name,
           n.name(), n.op_type(), need, n.input_size(), n.output_size());
    const std::string base = (n.name().empty() ? n.output(0) : n.name()) + "/qdq";
    auto in = [&](int i) { return n.input(i); };
    // A 1-D weight scale is per output channel: Conv's axis 0, MatMul's last axis (1).
    const int64_t w_axis = conv ? 0 : 1;
    add_node(g, "DequantizeLinear", {in(0), in(1), in(2)}, base + "/x");
    add_node(g, "DequantizeLinear", {in(3), in(4), in(5)}, base + "/w", w_axis);
    std::vector<std::string> args{base + "/x", base + "/w"};
    if (conv && n.input_size() > 8 && !in(8).empty()) {
      add_node(g, "Mul", {in(1), in(4)}, base + "/b_scale");
      add_node(g, "DequantizeLinear", {in(8), base + "/b_scale"}, base + "/b", 0);
      args.push_back(base + "/b");
    }
    onnx::NodeProto* op = add_node(g, conv ? "Conv" : "MatMul", args, base + "/y");
    if (conv)
      for (const auto& a : n.attribute()) *op->add_attribute() = a;
    add_node(g, "QuantizeLinear", {base + "/y", in(6), in(7)}, n.output(0));
  }
  return out;
}

ActivationRanges named_ranges(const Program& program, const OnnxValueRanges& ranges) {
  ActivationRanges out;
  for (const auto& [id, r] : ranges) out[program.value(id).name] = r;
  return out;
}

}  // namespace xcept
