#include "io/onnx/onnx_export.h"

#include <climits>
#include <cstring>
#include <set>

#include "core/error.h"
#include "io/atomic_file.h"
#include "kernels/conv_shape.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "layers/shape_ops.h"
#include "io/onnx/onnx_builder.h"
#include "onnx/onnx_pb.h"

namespace xcept {

namespace {

using namespace onnx_export;

// A tensor of the ONNX graph: its value name and xcept's per-image dims ({H,W,C} is
// [batch, C, H, W] in the ONNX graph, {N} is [batch, N]).
struct Value {
  std::string name;
  Dims dims;
  bool feature_map() const { return dims.size() == 3; }
};

class Exporter {
 public:
  Exporter(Graph& graph, Builder& b) : graph_(graph), b_(b) {}

  // The ONNX value of every graph node, in node order.
  std::vector<Value> run(const std::string& input_name) {
    std::vector<Value> values(size_t(graph_.num_nodes()));
    for (NodeId id = 0; id < graph_.num_nodes(); ++id) {
      const Dims& dims = graph_.node_dims(id);
      if (dims.size() != 3 && dims.size() != 1)
        fail("ONNX export of '{}': node '{}' has per-image dims {}; only feature maps "
             "{{H,W,C}} and vectors {{N}} can be exported",
             graph_.name(), graph_.node_name(id), dims_to_string(dims));
      Layer* layer = graph_.layer(id);
      if (!layer) {
        values[size_t(id)] = {b_.unique(input_name), dims};
        continue;
      }
      std::vector<Value> in;
      for (NodeId i : graph_.node_inputs(id)) in.push_back(values.at(size_t(i)));
      values[size_t(id)] = {layer_value(*layer, in), dims};
    }
    return values;
  }

 private:
  // Emits one layer; returns the name of its output value.
  std::string layer_value(Layer& l, const std::vector<Value>& in) {
    const std::string& name = l.name();
    if (auto* c = dynamic_cast<Conv2dLayer*>(&l)) return conv(c->conv(), in.at(0), name);
    if (auto* s = dynamic_cast<SeparableConv2dLayer*>(&l)) return separable(*s, in.at(0));
    if (auto* bn = dynamic_cast<BatchNorm*>(&l)) return batch_norm(*bn, in.at(0));
    if (auto* a = dynamic_cast<ActivationLayer*>(&l))
      return activation(a->act(), in.at(0).name, name);
    if (auto* p = dynamic_cast<Pool2D*>(&l)) return pool(*p, in.at(0));
    if (dynamic_cast<GlobalAvgPool2D*>(&l)) {
      expect_feature_map(l, in.at(0));
      std::string pooled = b_.unique(name + "/pool");
      b_.node("GlobalAveragePool", {in[0].name}, pooled);
      onnx::NodeProto* n = b_.node("Flatten", {pooled}, b_.unique(name));
      set_int(n, "axis", 1);
      return n->output(0);
    }
    if (auto* d = dynamic_cast<Dense*>(&l)) return dense(*d, in.at(0));
    if (dynamic_cast<Dropout*>(&l)) return in.at(0).name;  // identity at inference
    if (dynamic_cast<Add*>(&l)) {
      // Chained in input order: the same additions, in the same order, as Add::forward.
      std::string acc = in.at(0).name;
      for (size_t i = 1; i < in.size(); ++i)
        acc = b_.node("Add", {acc, in[i].name},
                      b_.unique(i + 1 == in.size() ? name : name + "/sum" + std::to_string(i)))
                  ->output(0);
      return acc;
    }
    if (dynamic_cast<Concat*>(&l)) {
      std::vector<std::string> names;
      for (const Value& v : in) names.push_back(v.name);
      onnx::NodeProto* n = b_.node("Concat", names, b_.unique(name));
      set_int(n, "axis", 1);  // channels: NCHW's axis 1, or the vector's only axis
      return n->output(0);
    }
    if (dynamic_cast<Flatten*>(&l)) return flatten(in.at(0), name);
    if (auto* s = dynamic_cast<ChannelShuffle*>(&l)) return shuffle(*s, in.at(0));
    if (auto* s = dynamic_cast<ChannelSlice*>(&l)) {
      // Channels are NCHW's axis 1 (or a vector's only axis).
      const std::vector<std::string> inputs = {
          in.at(0).name, b_.int64s(name + "/starts", {s->begin()}),
          b_.int64s(name + "/ends", {s->begin() + s->count()}), b_.int64s(name + "/axes", {1})};
      return b_.node("Slice", inputs, b_.unique(name))->output(0);
    }
    fail("ONNX export of '{}': layer '{}' of type {} has no ONNX translation", graph_.name(),
         name, l.type());
  }

  void expect_feature_map(const Layer& l, const Value& v) {
    if (!v.feature_map())
      fail("ONNX export of '{}': {} '{}' needs a feature map {{H,W,C}}, got {}", graph_.name(),
           l.type(), l.name(), dims_to_string(v.dims));
  }

  // One convolution; `in` is its input value with per-image dims {H,W,C}.
  std::string conv(Conv2d& c, const Value& in, const std::string& out_base) {
    if (!in.feature_map())
      fail("ONNX export of '{}': convolution '{}' reads {}, not a feature map", graph_.name(),
           c.name, dims_to_string(in.dims));
    const ConvShape s = make_conv_shape(c.name, 1, in.dims[0], in.dims[1], in.dims[2], c.config);
    std::vector<float> w = hwio_to_oihw(c.weight);
    std::vector<std::string> inputs = {
        in.name, b_.floats(c.name + ".weight", {s.m, s.cg(), s.kh, s.kw}, w.data())};
    if (c.has_bias) inputs.push_back(b_.floats(c.name + ".bias", {s.m}, c.bias.data()));
    onnx::NodeProto* n = b_.node("Conv", inputs, b_.unique(out_base));
    set_ints(n, "kernel_shape", {s.kh, s.kw});
    set_ints(n, "strides", {s.stride_h, s.stride_w});
    set_ints(n, "dilations", {s.dilation_h, s.dilation_w});
    set_ints(n, "pads", {s.pad_top, s.pad_left, s.pad_bottom, s.pad_right});
    set_int(n, "group", s.groups);
    return n->output(0);
  }

  std::string separable(SeparableConv2dLayer& l, const Value& in) {
    SeparableConv2d& sep = l.separable();
    Conv2d& first = sep.first_step();
    const ConvShape s1 =
        make_conv_shape(first.name, 1, in.dims.at(0), in.dims.at(1), in.dims.at(2), first.config);
    std::string mid = conv(first, in, first.name);
    mid = activation(sep.options.mid_activation, mid,
                     l.name() + "/mid_" + act_name(sep.options.mid_activation));
    return conv(sep.second_step(), {mid, {s1.ho, s1.wo, s1.m}}, l.name());
  }

  // The layers' trainable activations (Act::trainable).
  std::string activation(const Act& act, const std::string& in, const std::string& out_base) {
    if (act.is_none()) return in;
    if (act.kind == ActKind::relu) return b_.node("Relu", {in}, b_.unique(out_base))->output(0);
    if (act.is_relu6()) {
      const auto& bounds = b_.relu6_bounds();
      return b_.node("Clip", {in, bounds[0], bounds[1]}, b_.unique(out_base))->output(0);
    }
    if (act.kind == ActKind::elu) {
      onnx::NodeProto* n = b_.node("Elu", {in}, b_.unique(out_base));
      set_float(n, "alpha", act.a);
      return n->output(0);
    }
    fail("ONNX export: activation {} is not one a layer holds", act_name(act));
  }

  std::string batch_norm(BatchNorm& bn, const Value& in) {
    const std::string& name = bn.name();
    const int64_t c = bn.channels();
    std::vector<std::string> inputs = {in.name,
                                       b_.floats(name + ".gamma", {c}, bn.gamma.data()),
                                       b_.floats(name + ".beta", {c}, bn.beta.data()),
                                       b_.floats(name + ".moving_mean", {c}, bn.moving_mean.data()),
                                       b_.floats(name + ".moving_variance", {c},
                                                 bn.moving_variance.data())};
    onnx::NodeProto* n = b_.node("BatchNormalization", inputs, b_.unique(name));
    set_float(n, "epsilon", bn.options().epsilon);
    set_float(n, "momentum", bn.options().momentum);
    return n->output(0);
  }

  std::string pool(Pool2D& p, const Value& in) {
    expect_feature_map(p, in);
    const ConvShape s = p.window_shape(1);  // pads resolved, ceil_mode included
    const bool max = dynamic_cast<MaxPool2D*>(&p) != nullptr;
    onnx::NodeProto* n = b_.node(max ? "MaxPool" : "AveragePool", {in.name}, b_.unique(p.name()));
    set_ints(n, "kernel_shape", {s.kh, s.kw});
    set_ints(n, "strides", {s.stride_h, s.stride_w});
    set_ints(n, "pads", {s.pad_top, s.pad_left, s.pad_bottom, s.pad_right});
    if (!max) set_int(n, "count_include_pad", 0);  // divide by the taps inside the input
    return n->output(0);
  }

  std::string dense(Dense& d, const Value& in) {
    if (in.feature_map())
      fail("ONNX export of '{}': Dense '{}' reads a feature map {}; flatten or pool it first",
           graph_.name(), d.name(), dims_to_string(in.dims));
    std::vector<std::string> inputs = {
        in.name, b_.floats(d.name() + ".weight", d.weight.dims(), d.weight.data())};
    if (!d.bias.empty())
      inputs.push_back(b_.floats(d.name() + ".bias", d.bias.dims(), d.bias.data()));
    return b_.node("Gemm", inputs, b_.unique(d.name()))->output(0);
  }

  // xcept flattens NHWC; ONNX's Flatten of NCHW would order by channel first, so the map
  // goes back to NHWC before it (not needed when it is a single pixel).
  std::string flatten(const Value& in, const std::string& name) {
    if (!in.feature_map()) return in.name;
    std::string x = in.name;
    if (in.dims[0] * in.dims[1] > 1) {
      onnx::NodeProto* t = b_.node("Transpose", {x}, b_.unique(name + "/to_nhwc"));
      set_ints(t, "perm", {0, 2, 3, 1});
      x = t->output(0);
    }
    onnx::NodeProto* n = b_.node("Flatten", {x}, b_.unique(name));
    set_int(n, "axis", 1);
    return n->output(0);
  }

  // Channels viewed as [g][C/g], transposed to [C/g][g]; 0 in a Reshape shape keeps the
  // (dynamic) batch size.
  std::string shuffle(ChannelShuffle& s, const Value& in) {
    const std::string& name = s.name();
    const int64_t g = s.groups(), c = in.dims.back();
    std::vector<int64_t> split = {0, g, c / g}, merged = {0, c}, perm = {0, 2, 1};
    if (in.feature_map()) {
      split.insert(split.end(), {in.dims[0], in.dims[1]});
      merged.insert(merged.end(), {in.dims[0], in.dims[1]});
      perm.insert(perm.end(), {3, 4});
    }
    std::string x = b_.node("Reshape", {in.name, b_.int64s(name + "/split_shape", split)},
                            b_.unique(name + "/split"))
                        ->output(0);
    onnx::NodeProto* t = b_.node("Transpose", {x}, b_.unique(name + "/transpose"));
    set_ints(t, "perm", perm);
    return b_.node("Reshape", {t->output(0), b_.int64s(name + "/merge_shape", merged)},
                   b_.unique(name))
        ->output(0);
  }

  Graph& graph_;
  Builder& b_;
};

}  // namespace

onnx::ModelProto export_onnx(Graph& graph, const OnnxExportOptions& options) {
  if (graph.num_nodes() == 0 || graph.output() < 0)
    fail("ONNX export of '{}': the graph has no input or no output set", graph.name());
  check_io_names(graph.name(), options);

  onnx::ModelProto model = new_model(options);

  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph.name());
  Builder b(g);
  b.unique(options.output_name);  // reserved: the last value is renamed to it below
  std::vector<Value> values = Exporter(graph, b).run(options.input_name);

  const Value& in = values.at(0);
  const Value& out = values.at(size_t(graph.output()));
  set_io(g->add_input(), in.name, in.dims);
  if (out.name == in.name) b.node("Identity", {in.name}, options.output_name);
  else rename_value(g, out.name, options.output_name);
  set_io(g->add_output(), options.output_name, out.dims);
  return model;
}

void save_onnx(const onnx::ModelProto& model, const std::string& path) {
  const size_t bytes = model.ByteSizeLong();
  if (bytes > size_t(INT_MAX))
    fail("{}: the ONNX model is {} bytes, over protobuf's 2 GiB limit", path, bytes);
  std::string data;
  if (!model.SerializeToString(&data)) fail("{}: the ONNX model cannot be serialized", path);

  write_file_atomic(path, data);
}

}  // namespace xcept
