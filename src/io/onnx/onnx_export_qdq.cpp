// An int8 Program as a QDQ ONNX model (onnx_export.h). The program's values are NHWC;
// the model's feature maps are NCHW, so a 4-D value keeps its name and only its
// declared layout changes: every operator here (Conv, pooling, Add, activations) is
// layout-agnostic except reshapes, which get a Transpose to NHWC first.
#include <cmath>
#include <map>

#include "core/error.h"
#include "io/onnx/onnx_builder.h"
#include "io/onnx/onnx_export.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/quant_ops.h"
#include "runtime/ops/tensor_ops.h"
#include "runtime/program.h"

namespace xcept {

namespace {

using namespace onnx_export;

class QdqExporter {
 public:
  QdqExporter(const Program& p, Builder& b) : p_(p), b_(b) {}

  // Returns the ONNX name of the program's output.
  std::string run(const std::string& input_name) {
    if (p_.inputs().size() != 1 || p_.outputs().size() != 1)
      fail("QDQ export: the program has {} inputs and {} outputs; one of each is supported",
           p_.inputs().size(), p_.outputs().size());
    for (const Value& v : p_.values())
      if (v.is_constant)
        fail("QDQ export: value '{}' is a constant of the program; only networks whose "
             "constants are layer weights can be exported",
             v.name);
    names_[p_.inputs()[0]] = b_.unique(input_name);
    for (const Step& s : p_.steps()) step(s);
    return names_.at(p_.outputs()[0]);
  }

 private:
  const Value& value(ValueId v) const { return p_.value(v); }
  const std::string& name(ValueId v) const { return names_.at(v); }

  // Scale and zero-point initializers of uint8 value v's encoding: made once, shared by
  // its QuantizeLinear and every DequantizeLinear of it.
  std::pair<std::string, std::string> encoding(ValueId v, const std::string& base) {
    auto it = enc_.find(v);
    if (it != enc_.end()) return it->second;
    const QuantParams q = value(v).quant;
    const uint8_t zp = uint8_t(q.zero_point);
    return enc_[v] = {b_.floats(base + "_scale", {}, &q.scale),
                      b_.uint8s(base + "_zero_point", {}, &zp)};
  }

  // The float form of a uint8 value (one DequantizeLinear per value, shared by readers).
  std::string dequantized(ValueId v) {
    if (value(v).dtype != DType::u8) return name(v);
    auto it = dq_.find(v);
    if (it != dq_.end()) return it->second;
    const auto [s, z] = encoding(v, name(v));
    const std::string out = b_.unique(name(v) + "_dq");
    b_.node("DequantizeLinear", {name(v), s, z}, out);
    return dq_[v] = out;
  }

  // Quantizes float `x` to the step's output encoding, as the step's output value.
  void quantize_to(const Step& s, const std::string& x) { names_[s.output] = quantize(s, x, s.name); }
  std::string quantize(const Step& s, const std::string& x, const std::string& out) {
    const auto [sc, z] = encoding(s.output, s.name);
    return b_.node("QuantizeLinear", {x, sc, z}, b_.unique(out))->output(0);
  }

  // A float activation after `x` (none: x itself).
  std::string act(const std::string& base, const std::string& x, const Act& a) {
    switch (a.kind) {
      case ActKind::none: return x;
      case ActKind::relu: return b_.node("Relu", {x}, b_.unique(base + "_relu"))->output(0);
      case ActKind::clip: {
        const std::string lo = b_.floats(base + "_min", {}, &a.a);
        const std::string hi = b_.floats(base + "_max", {}, &a.b);
        return b_.node("Clip", {x, lo, hi}, b_.unique(base + "_clip"))->output(0);
      }
      case ActKind::elu: {
        onnx::NodeProto* n = b_.node("Elu", {x}, b_.unique(base + "_elu"));
        set_float(n, "alpha", a.a);
        return n->output(0);
      }
      case ActKind::leaky_relu: {
        onnx::NodeProto* n = b_.node("LeakyRelu", {x}, b_.unique(base + "_leaky_relu"));
        set_float(n, "alpha", a.a);
        return n->output(0);
      }
    }
    return x;
  }

  // The activation an int8 step fuses, from its clamp on the output codes: codes below
  // the zero point cut are a ReLU, any other cut a Clip to the real values of the cut
  // (clipping in real numbers and then quantizing equals clamping the codes).
  Act fused_act(const QuantOutput& o) const {
    if (o.y_min <= 0 && o.y_max >= 255) return Act::none();
    if (o.y_min == o.q.zero_point && o.y_max >= 255) return Act::relu();
    return Act::clip(o.q.scale * float(o.y_min - o.q.zero_point),
                     o.q.scale * float(o.y_max - o.q.zero_point));
  }

  void conv_attributes(onnx::NodeProto* n, const ConvShape& c) {
    set_ints(n, "kernel_shape", {c.kh, c.kw});
    set_ints(n, "strides", {c.stride_h, c.stride_w});
    set_ints(n, "dilations", {c.dilation_h, c.dilation_w});
    set_ints(n, "pads", {c.pad_top, c.pad_left, c.pad_bottom, c.pad_right});
    set_int(n, "group", c.groups);
  }

  // Per-output-channel int8 weights and int32 bias as DequantizeLinear outputs.
  std::pair<std::string, std::string> q_weights(const std::string& base, const Dims& w_dims,
                                                const std::vector<int8_t>& w, int axis,
                                                const std::vector<float>& w_scale,
                                                const std::vector<int32_t>& bias,
                                                float x_scale) {
    const int64_t m = int64_t(w_scale.size());
    const std::vector<int8_t> zp8(size_t(m), 0);
    const std::string wq = b_.int8s(base + "_w_q", w_dims, w.data());
    const std::string ws = b_.floats(base + "_w_scale", {m}, w_scale.data());
    const std::string wz = b_.int8s(base + "_w_zero_point", {m}, zp8.data());
    onnx::NodeProto* wn = b_.node("DequantizeLinear", {wq, ws, wz}, b_.unique(base + "_w"));
    set_int(wn, "axis", axis);
    std::vector<float> b_scale(static_cast<size_t>(m));
    for (size_t o = 0; o < size_t(m); ++o) b_scale[o] = x_scale * w_scale[o];  // as quantize_bias
    const std::vector<int32_t> zp32(size_t(m), 0);
    const std::string bq = b_.int32s(base + "_b_q", {m}, bias.data());
    const std::string bs = b_.floats(base + "_b_scale", {m}, b_scale.data());
    const std::string bz = b_.int32s(base + "_b_zero_point", {m}, zp32.data());
    onnx::NodeProto* bn = b_.node("DequantizeLinear", {bq, bs, bz}, b_.unique(base + "_b"));
    set_int(bn, "axis", 0);
    return {wn->output(0), bn->output(0)};
  }

  // HWIO codes -> OIHW codes.
  static std::vector<int8_t> codes_to_oihw(const std::vector<int8_t>& w, const ConvShape& c) {
    std::vector<int8_t> out(w.size());
    const int64_t cg = c.cg();
    for (int64_t y = 0; y < c.kh; ++y)
      for (int64_t x = 0; x < c.kw; ++x)
        for (int64_t i = 0; i < cg; ++i)
          for (int64_t o = 0; o < c.m; ++o)
            out[size_t(((o * cg + i) * c.kh + y) * c.kw + x)] =
                w[size_t(((y * c.kw + x) * cg + i) * c.m + o)];
    return out;
  }

  // [n,h,w,c] -> [n, h*w*c] in NHWC order (xcept's Flatten), on either dtype.
  std::string flatten(const std::string& base, const std::string& x, const Dims& from,
                      const Dims& to) {
    if (to.size() != 2 || to[0] != from[0] || numel_of(from) != numel_of(to))
      fail("QDQ export: step '{}' reshapes {} into {}; only flattening to [batch, features] "
           "is supported",
           base, dims_to_string(from), dims_to_string(to));
    std::string src = x;
    if (from.size() == 4 && from[1] * from[2] > 1) {
      onnx::NodeProto* t = b_.node("Transpose", {x}, b_.unique(base + "_to_nhwc"));
      set_ints(t, "perm", {0, 2, 3, 1});
      src = t->output(0);
    }
    return flat(base, src);
  }

  std::string flat(const std::string& base, const std::string& x) {
    onnx::NodeProto* f = b_.node("Flatten", {x}, b_.unique(base));
    set_int(f, "axis", 1);
    return f->output(0);
  }

  void step(const Step& s) {
    const Op* op = s.op.get();
    const ValueId x = s.inputs.empty() ? -1 : s.inputs[0];
    auto out = [&](const std::string& n) { names_[s.output] = n; };
    if (dynamic_cast<const QuantizeOp*>(op)) return quantize_to(s, name(x));
    if (dynamic_cast<const DequantizeOp*>(op)) return out(dequantized(x));
    if (const auto* c = dynamic_cast<const QConv2dOp*>(op)) {
      const ConvShape& sh = c->shape();
      const auto [w, b] = q_weights(s.name, {sh.m, sh.cg(), sh.kh, sh.kw}, codes_to_oihw(c->weight(), sh),
                                    0, c->weight_scale(), c->bias(), c->input_quant().scale);
      onnx::NodeProto* n = b_.node("Conv", {dequantized(x), w, b}, b_.unique(s.name + "_conv"));
      conv_attributes(n, sh);
      return quantize_to(s, act(s.name, n->output(0), fused_act(c->quant_output())));
    }
    if (const auto* d = dynamic_cast<const QDenseOp*>(op)) {
      if (value(x).dims.size() != 2)
        fail("QDQ export: step '{}' is a Dense layer on {}; only [batch, features] inputs are "
             "supported",
             s.name, dims_to_string(value(x).dims));
      const auto [w, b] = q_weights(s.name, {d->in_features(), d->out_features()}, d->weight(), 1,
                                    d->weight_scale(), d->bias(), d->input_quant().scale);
      const std::string y = b_.node("Gemm", {dequantized(x), w, b}, b_.unique(s.name + "_gemm"))->output(0);
      if (d->float_output()) return out(y);
      return quantize_to(s, act(s.name, y, fused_act(d->quant_output())));
    }
    if (const auto* a = dynamic_cast<const QAddOp*>(op)) {
      const std::string y =
          b_.node("Add", {dequantized(s.inputs[0]), dequantized(s.inputs[1])}, b_.unique(s.name + "_add"))
              ->output(0);
      return quantize_to(s, act(s.name, y, fused_act(a->quant_output())));
    }
    if (const auto* a = dynamic_cast<const QActivationOp*>(op)) {
      // Written out even where the output encoding's saturation would do it (a zero
      // point of 0): a DequantizeLinear -> QuantizeLinear pair with nothing between would
      // read as a mere re-encoding of the same value.
      Act f = fused_act(a->quant_output());
      if (f.is_none()) f = Act::relu();
      return quantize_to(s, act(s.name, dequantized(x), f));
    }
    if (const auto* m = dynamic_cast<const QMaxPoolOp*>(op)) {
      onnx::NodeProto* n = b_.node("MaxPool", {dequantized(x)}, b_.unique(s.name + "_pool"));
      pool_attributes(n, m->window());
      return quantize_to(s, n->output(0));
    }
    if (const auto* g = dynamic_cast<const QGlobalAvgPoolOp*>(op)) {
      const std::string y = b_.node("GlobalAveragePool", {dequantized(x)}, b_.unique(s.name + "_gap"))->output(0);
      if (g->keep_dims()) return quantize_to(s, y);
      // Quantized before the Flatten, which then moves codes: every float operator's
      // output is a QuantizeLinear input, as importers (ours too) expect of QDQ.
      return out(flat(s.name, quantize(s, y, s.name + "_q")));
    }
    if (const auto* r = dynamic_cast<const QReshapeOp*>(op))  // on the codes: bytes unchanged
      return out(flatten(s.name, name(x), value(x).dims, r->dims()));
    float_step(s);
  }

  void pool_attributes(onnx::NodeProto* n, const ConvShape& w) {
    set_ints(n, "kernel_shape", {w.kh, w.kw});
    set_ints(n, "strides", {w.stride_h, w.stride_w});
    set_ints(n, "pads", {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right});
  }

  // A step the program runs in float32.
  void float_step(const Step& s) {
    const Op* op = s.op.get();
    const ValueId x = s.inputs.empty() ? -1 : s.inputs[0];
    std::string y;
    if (const auto* c = dynamic_cast<const Conv2dOp*>(op)) {
      if (c->with_addend())
        fail("QDQ export: step '{}' adds a residual inside its convolution; quantized "
             "programs are compiled without that fusion",
             s.name);
      const ConvShape& sh = c->shape();
      const std::vector<float> w = hwio_to_oihw(c->weight());
      std::vector<std::string> in{name(x), b_.floats(s.name + "_w", {sh.m, sh.cg(), sh.kh, sh.kw}, w.data())};
      if (!c->bias().empty()) in.push_back(b_.floats(s.name + "_b", {sh.m}, c->bias().data()));
      onnx::NodeProto* n = b_.node("Conv", in, b_.unique(s.name + "_conv"));
      conv_attributes(n, sh);
      y = act(s.name, n->output(0), c->act());
    } else if (const auto* d = dynamic_cast<const DenseOp*>(op)) {
      std::vector<std::string> in{name(x), b_.floats(s.name + "_w", d->weight().dims(), d->weight().data())};
      if (!d->bias().empty()) in.push_back(b_.floats(s.name + "_b", d->bias().dims(), d->bias().data()));
      y = act(s.name, b_.node("Gemm", in, b_.unique(s.name + "_gemm"))->output(0), d->act());
    } else if (const auto* a = dynamic_cast<const ActivationOp*>(op)) {
      y = act(s.name, name(x), a->act());
    } else if (const auto* p = dynamic_cast<const Pool2dOp*>(op)) {
      const bool max = p->mode() == PoolMode::max;
      onnx::NodeProto* n = b_.node(max ? "MaxPool" : "AveragePool", {name(x)},
                                   b_.unique(s.name + "_pool"));
      pool_attributes(n, p->window());
      if (!max) set_int(n, "count_include_pad", p->mode() == PoolMode::avg_include_pad ? 1 : 0);
      y = n->output(0);
    } else if (const auto* g = dynamic_cast<const GlobalAvgPoolOp*>(op)) {
      y = b_.node("GlobalAveragePool", {name(x)}, b_.unique(s.name + "_gap"))->output(0);
      if (!g->keep_dims()) y = flat(s.name + "_flatten", y);
    } else if (const auto* r = dynamic_cast<const ReshapeOp*>(op)) {
      y = flatten(s.name, name(x), value(x).dims, r->dims());
    } else if (const auto* b = dynamic_cast<const BinaryOp*>(op); b && b->kind() == BinaryKind::add &&
                                                                 value(s.inputs[0]).dims == value(s.inputs[1]).dims) {
      y = act(s.name, b_.node("Add", {name(s.inputs[0]), name(s.inputs[1])}, b_.unique(s.name + "_add"))->output(0),
              b->act());
    } else {
      fail("QDQ export: step '{}' ({}) runs in float32 and has no ONNX form in the QDQ exporter",
           s.name, op->type());
    }
    names_[s.output] = y;
  }

  const Program& p_;
  Builder& b_;
  std::map<ValueId, std::string> names_, dq_;
  std::map<ValueId, std::pair<std::string, std::string>> enc_;
};

}  // namespace

onnx::ModelProto export_onnx_qdq(const Program& program, const OnnxExportOptions& options) {
  check_io_names("int8 program", options);
  onnx::ModelProto model = new_model(options);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("xcept_int8");
  Builder b(g);
  b.unique(options.output_name);  // reserved: the last value is renamed to it below
  const std::string out = QdqExporter(program, b).run(options.input_name);

  const Dims& xd = program.value(program.inputs()[0]).dims;   // NHWC [n,h,w,c] or [n,f]
  const Dims& yd = program.value(program.outputs()[0]).dims;  // [n, classes]
  const Dims x_per_image(xd.begin() + 1, xd.end()), y_per_image(yd.begin() + 1, yd.end());
  set_io(g->add_input(), options.input_name, x_per_image);
  if (out == options.input_name) b.node("Identity", {out}, options.output_name);
  else rename_value(g, out, options.output_name);
  set_io(g->add_output(), options.output_name, y_per_image);
  return model;
}

}  // namespace xcept
