// ONNX export: the model passes ONNX's own checker and strict shape inference, weights are
// transposed as documented, and ONNX Runtime computes what Graph::forward computes (when
// node and onnxruntime-node are installed; skipped with a message otherwise).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <cstring>
#include <set>

#include "cli_test_support.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "io_test_support.h"
#include "io/onnx/onnx_export.h"
#include "models/models.h"
#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx_export_support.h"
#include "test_support.h"
#include "train/model_config.h"
#include "onnx/onnx_pb.h"

namespace xcept {
namespace {

using test::TempDir;

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> ops;
  for (const auto& n : m.graph().node()) ++ops[n.op_type()];
  return ops;
}

const onnx::TensorProto& initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return t;
  throw Error("no initializer " + name);
}

std::vector<float> floats_of(const onnx::TensorProto& t) {
  std::vector<float> v(t.raw_data().size() / 4);
  std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
  return v;
}

// The shape a value has after inference: dims as text, the batch as "batch".
std::string inferred_shape(const onnx::ModelProto& m, const std::string& value) {
  auto text = [](const onnx::ValueInfoProto& v) {
    std::string s;
    for (const auto& d : v.type().tensor_type().shape().dim()) {
      if (!s.empty()) s += 'x';
      s += d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value());
    }
    return s;
  };
  for (const auto& v : m.graph().value_info())
    if (v.name() == value) return text(v);
  for (const auto& v : m.graph().output())
    if (v.name() == value) return text(v);
  return "?";
}

void expect_matches_graph(Graph& g, const std::string& model_path, const Tensor& nhwc,
                          const std::string& scratch) {
  const Tensor& ref = g.forward(nhwc, /*training=*/false);
  Tensor got = test::ort_run(model_path, test::nhwc_to_nchw(nhwc), ref.dims(), scratch);
  ASSERT_EQ(got.numel(), ref.numel());
  const double err = test::max_rel_error(got.data(), ref.data(), ref.numel());
  EXPECT_LT(err, 1e-4) << "ONNX Runtime vs Graph::forward on " << g.name();
}

TEST(OnnxExport, EveryLayerPassesOnnxCheckerAndStrictShapeInference) {
  Graph g = test::every_layer_graph();
  test::randomize_state(g, 3);
  onnx::ModelProto m = export_onnx(g);
  EXPECT_EQ(m.ir_version(), kOnnxExportIrVersion);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 13);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  EXPECT_NO_THROW(onnx::shape_inference::InferShapes(
      m, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1, false)));
  EXPECT_EQ(inferred_shape(m, "conv1"), "batchx8x5x6");
  EXPECT_EQ(inferred_shape(m, "dw_mult2"), "batchx16x6x5");
  EXPECT_EQ(inferred_shape(m, "sep_pw_dw"), "batchx12x3x3");
  EXPECT_EQ(inferred_shape(m, "avgpool"), "batchx12x3x3");
  EXPECT_EQ(inferred_shape(m, "flatten"), "batchx216");
  EXPECT_EQ(inferred_shape(m, "split_b"), "batchx3x6x5");
  EXPECT_EQ(inferred_shape(m, "maxpool_ceil"), "batchx3x3x2");
  EXPECT_EQ(inferred_shape(m, "avgpool_pad1"), "batchx3x3x3");
  EXPECT_EQ(inferred_shape(m, "logits"), "batchx7");
  ASSERT_EQ(m.graph().input_size(), 1);
  EXPECT_EQ(m.graph().input(0).type().tensor_type().shape().dim(1).dim_value(), 4);  // NCHW

  std::map<std::string, int> ops = op_counts(m);
  EXPECT_EQ(ops["Conv"], 9);  // conv1, grouped, dw, pw, 2 per separable, pw3
  EXPECT_EQ(ops["BatchNormalization"], 2);
  EXPECT_EQ(ops["Relu"], 2);  // conv1_relu, sep_dw_pw's mid activation
  EXPECT_EQ(ops["Clip"], 1);
  EXPECT_EQ(ops["Elu"], 2);
  EXPECT_EQ(ops["Add"], 2);  // three inputs, chained
  EXPECT_EQ(ops["MaxPool"], 2);
  EXPECT_EQ(ops["AveragePool"], 2);
  EXPECT_EQ(ops["GlobalAveragePool"], 3);
  EXPECT_EQ(ops["Slice"], 2);
  EXPECT_EQ(ops["Gemm"], 1);
  EXPECT_EQ(ops["Transpose"], 3);  // before Flatten, and one per channel shuffle
  EXPECT_EQ(ops.count("Dropout"), 0u);
  for (const auto& n : m.graph().node())
    if (n.op_type() == "AveragePool") {
      bool excludes_pads = false;
      for (const auto& a : n.attribute())
        if (a.name() == "count_include_pad") excludes_pads = a.i() == 0;
      EXPECT_TRUE(excludes_pads) << "xcept's average pooling divides by the taps inside";
    }
}

TEST(OnnxExport, ConvolutionWeightsAreOihwAndSamePaddingIsExplicit) {
  // Depthwise with multiplier 2 on 3 channels: HWIO [3][3][1][6] -> OIHW [6][1][3][3],
  // group 3; 'same' at stride 2 on 8x7 pads (0,1) rows and (1,1) columns (TF: the odd
  // pixel goes at the end).
  Graph g("dw", 1);
  NodeId x = g.input({8, 7, 3});
  NodeId d = g.add<Conv2dLayer>({x}, "dw", ConvParams{6, 3, 3, 2, 2, 1, 1, Padding::same(), 3},
                                false);
  g.set_output(d);
  auto* layer = dynamic_cast<Conv2dLayer*>(g.layer(d));
  const Tensor& w = layer->conv().weight;
  onnx::ModelProto m = export_onnx(g);
  std::vector<float> oihw = floats_of(initializer(m, "dw.weight"));
  ASSERT_EQ(int64_t(oihw.size()), w.numel());
  for (int64_t o = 0; o < 6; ++o)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t xx = 0; xx < 3; ++xx)
        ASSERT_EQ(oihw[size_t((o * 3 + y) * 3 + xx)], w[(y * 3 + xx) * 6 + o]) << o << y << xx;
  const onnx::NodeProto& conv = m.graph().node(0);
  std::map<std::string, std::vector<int64_t>> attrs;
  for (const auto& a : conv.attribute())
    attrs[a.name()] = a.ints().empty() ? std::vector<int64_t>{a.i()}
                                       : std::vector<int64_t>(a.ints().begin(), a.ints().end());
  EXPECT_EQ(attrs["group"], std::vector<int64_t>{3});
  EXPECT_EQ(attrs["pads"], (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(attrs["strides"], (std::vector<int64_t>{2, 2}));
}

TEST(OnnxExport, UnsupportedLayerAndBadNamesFailNamingThem) {
  struct Odd : Layer {
    using Layer::Layer;
    const char* type() const override { return "Odd"; }
    Dims build(const std::vector<Dims>& in, Rng&) override { return in[0]; }
    void forward(const std::vector<const Tensor*>&, Tensor&, bool) override {}
    void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor&,
                  const std::vector<Tensor*>&) override {}
  };
  Graph g("odd", 1);
  NodeId x = g.input({4, 4, 2});
  g.set_output(g.add(std::make_unique<Odd>("strange_node"), {x}));
  try {
    export_onnx(g);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("strange_node"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Odd"), std::string::npos) << e.what();
  }
  Graph ok = test::every_layer_graph();
  OnnxExportOptions same;
  same.input_name = same.output_name = "x";
  EXPECT_THROW(export_onnx(ok, same), Error);
}

// Layers that vanish (Dropout) may leave the output equal to the input; a model of
// vectors has no layout to convert.
TEST(OnnxExport, DegenerateGraphsStillHaveNamedInputAndOutput) {
  Graph id("identity", 1);
  NodeId x = id.input({3, 3, 2});
  id.set_output(id.add<Dropout>({x}, "drop", 0.5f, 1));
  onnx::ModelProto m = export_onnx(id);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  ASSERT_EQ(m.graph().node_size(), 1);
  EXPECT_EQ(m.graph().node(0).op_type(), "Identity");
  EXPECT_EQ(m.graph().output(0).name(), "logits");

  Graph vec("vectors", 1);
  NodeId v = vec.input({6});
  NodeId d = vec.add<Dense>({v}, "fc1", 4);
  NodeId b = vec.add<BatchNorm>({d}, "bn");
  NodeId s = vec.add<ChannelShuffle>({b}, "shuffle", 2);
  vec.set_output(vec.add<Dropout>({s}, "drop", 0.1f, 1));
  onnx::ModelProto mv = export_onnx(vec);
  EXPECT_NO_THROW(onnx::checker::check_model(mv));
  EXPECT_NO_THROW(onnx::shape_inference::InferShapes(
      mv, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1, false)));
  EXPECT_EQ(inferred_shape(mv, "logits"), "batchx4");
  EXPECT_EQ(mv.graph().input(0).type().tensor_type().shape().dim_size(), 2);
}

TEST(OnnxExport, SaveReplacesAtomicallyAndNamesThePathOnFailure) {
  TempDir dir;
  Graph g = test::every_layer_graph();
  onnx::ModelProto m = export_onnx(g);
  const std::string path = dir.file("m.onnx");
  { std::ofstream(path) << "old"; }
  save_onnx(m, path);
  onnx::ModelProto back;
  std::ifstream f(path, std::ios::binary);
  ASSERT_TRUE(back.ParseFromIstream(&f));
  EXPECT_EQ(back.graph().node_size(), m.graph().node_size());
  for (const auto& e : std::filesystem::directory_iterator(dir.str()))
    EXPECT_EQ(e.path().filename(), "m.onnx") << "temporary file left behind";
  try {
    save_onnx(m, dir.file("missing/m.onnx"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/m.onnx"), std::string::npos) << e.what();
  }
}

TEST(OnnxExport, EveryLayerMatchesOnnxRuntime) {
  XCEPT_NEED_ORT();
  TempDir dir;
  Graph g = test::every_layer_graph();
  test::randomize_state(g, 5);
  const std::string path = dir.file("every_layer.onnx");
  save_onnx(export_onnx(g), path);
  // Batch 3: the batch dimension is symbolic.
  expect_matches_graph(g, path, test::random_tensor({3, 9, 11, 4}, 11), dir.str());
}

// The zoo's full-size architectures, narrowed (alpha) and shrunk so the test stays fast:
// Xception's entry/middle/exit flows with residual 1x1 convolutions and 'same' max
// pooling, MobileNet's stride-2 depthwise steps and relu6, SqueezeNet's fire modules and
// ceil_mode pools, ShuffleNet's grouped convolutions, shuffles and channel split, and
// MobileNet v2's inverted residuals.
TEST(OnnxExport, ZooModelsMatchOnnxRuntime) {
  XCEPT_NEED_ORT();
  TempDir dir;
  struct Case {
    const char* model;
    double alpha;
    int64_t size;
  };
  for (const Case& c : {Case{"xception", 0.125, 71}, Case{"mobilenet", 0.25, 64},
                        Case{"squeezenet-1.0", 0.25, 66}, Case{"shufflenet", 0.25, 66},
                        Case{"shufflenet-v2", 0.5, 66}, Case{"mobilenet-v2", 0.25, 66}}) {
    SCOPED_TRACE(c.model);
    models::ModelOptions mo;
    mo.alpha = c.alpha;
    mo.input_size = c.size;
    mo.classes = 10;
    mo.middle_repeats = 2;
    Graph g = models::build_model(c.model, mo);
    test::randomize_state(g, 21);
    const std::string path = dir.file(std::string(c.model) + ".onnx");
    save_onnx(export_onnx(g), path);
    expect_matches_graph(g, path, test::random_tensor({2, c.size, c.size, 3}, 8), dir.str());
  }
}

using test::run_cli;

TEST(OnnxExport, CheckpointThroughTheCliKeepsWeightsAndOutputs) {
  TempDir dir;
  models::ModelOptions mo;
  mo.order = SeparableOrder::pointwise_depthwise;
  mo.mid_activation = Act::relu();
  mo.middle_repeats = 1;
  Graph g = models::build_model("mini-xception", mo);
  test::randomize_state(g, 9);
  CheckpointMeta meta;
  meta.model = "mini-xception";
  meta.model_config = model_options_to_json(mo);
  meta.extra["normalize"] = {{"mean", {0.5}}, {"std", {0.25}}};
  const std::string ckpt = dir.file("m.ckpt"), out = dir.file("m.onnx");
  write_checkpoint(ckpt, meta, g.params(), {});

  auto [status, text] = run_cli("export --checkpoint " + ckpt + " --output " + out);
  ASSERT_EQ(status, 0) << text;
  onnx::ModelProto m;
  std::ifstream f(out, std::ios::binary);
  ASSERT_TRUE(m.ParseFromIstream(&f));
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  std::map<std::string, std::string> props;
  for (const auto& p : m.metadata_props()) props[p.key()] = p.value();
  EXPECT_EQ(props["xcept.model"], "mini-xception");
  EXPECT_NE(props["xcept.normalize"].find("0.25"), std::string::npos);
  // The classifier's weights carry over unchanged ([N][M] is Gemm's B).
  for (const ParamRef& p : g.params())
    if (p.name.find("predictions") != std::string::npos || p.name == "fc.weight") {
      std::vector<float> saved = floats_of(initializer(m, p.name));
      ASSERT_EQ(int64_t(saved.size()), p.value->numel()) << p.name;
      for (int64_t i = 0; i < p.value->numel(); ++i) ASSERT_EQ(saved[size_t(i)], (*p.value)[i]);
    }
  XCEPT_NEED_ORT();
  const Dims& in = g.node_dims(0);
  expect_matches_graph(g, out, test::random_tensor({2, in[0], in[1], in[2]}, 4), dir.str());
}

TEST(OnnxExport, ZooModelThroughTheCliAndBadArguments) {
  TempDir dir;
  const std::string out = dir.file("mm.onnx");
  auto [status, text] =
      run_cli("export --model mini-mobilenet --alpha 0.5 --seed 3 --output " + out);
  ASSERT_EQ(status, 0) << text;
  EXPECT_NE(text.find("opset 13"), std::string::npos) << text;
  onnx::ModelProto m;
  std::ifstream f(out, std::ios::binary);
  ASSERT_TRUE(m.ParseFromIstream(&f));
  EXPECT_NO_THROW(onnx::checker::check_model(m));

  auto [s2, t2] = run_cli("export --output " + out);
  EXPECT_NE(s2, 0);
  EXPECT_NE(t2.find("exactly one of --checkpoint and --model"), std::string::npos) << t2;
  auto [s3, t3] = run_cli("export --model no-such-model --output " + out);
  EXPECT_NE(s3, 0);
  EXPECT_NE(t3.find("no-such-model"), std::string::npos) << t3;
  auto [s4, t4] = run_cli("export --checkpoint " + dir.file("none.ckpt") + " --output " + out);
  EXPECT_NE(s4, 0);
  EXPECT_NE(t4.find("none.ckpt"), std::string::npos) << t4;
}

}  // namespace
}  // namespace xcept
