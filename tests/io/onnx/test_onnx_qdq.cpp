// int8 programs as QDQ ONNX and back: `xcept export --precision int8` writes what ONNX
// Runtime's quantizer writes, the importer reads it onto the int8 kernels with the
// model's own encodings, and ONNX Runtime runs the same file as a referee.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "api/model_source.h"
#include "core/error.h"
#include "io/onnx/onnx_export.h"
#include "io/onnx/onnx_import.h"
#include "models/models.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "runtime/executor.h"
#include "runtime/ops/core_ops.h"
#include "runtime/output_error.h"
#include "runtime/quantize.h"
#include "onnx_export_support.h"
#include "cli_test_support.h"
#include "io_test_support.h"

using namespace xcept;
using test::TempDir;

namespace {

struct Quantized {
  std::shared_ptr<Graph> graph;
  Tensor x;  // NHWC [1, h, w, c]
  QuantizedProgram q;
};

Quantized quantized(const std::string& name) {
  models::ModelOptions o;
  o.seed = 3;
  o.classes = 10;
  if (name == "mobilenet") o.input_size = 32, o.alpha = 0.25;
  if (name == "xception") o.input_size = 71, o.middle_repeats = 1, o.alpha = 0.125;
  Quantized m;
  m.graph = std::make_shared<Graph>(models::build_model(name, o));
  test::randomize_state(*m.graph, 7);
  Dims xd{1};
  for (int64_t d : m.graph->node_dims(0)) xd.push_back(d);
  m.x = test::random_tensor(xd, 5);
  const ModelSource src = model_source_of(m.graph);
  m.q = quantize_source(src, 1, [&](const auto& use) { use(m.x); });
  return m;
}

// Steps of the int8 kinds that compute (convolutions, Dense, additions, activations,
// pooling), by op type.
std::map<std::string, int> op_counts(const Program& p) {
  std::map<std::string, int> n;
  for (const Step& s : p.steps())
    for (const char* t : {"QConv2d", "QDense", "QAdd", "QActivation", "QMaxPool2d", "QGlobalAvgPool"})
      if (std::string(s.op->type()) == t) ++n[t];
  return n;
}

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> n;
  for (const auto& node : m.graph().node()) ++n[node.op_type()];
  return n;
}

// The model imported again: the int8 program made from its QuantizeLinear encodings.
QuantizedProgram reimported(const onnx::ModelProto& m, const Dims& nchw) {
  OnnxValueRanges by_id;
  OnnxImportOptions io;
  io.value_ranges = &by_id;
  Program p = import_onnx(m, std::vector<OnnxInput>{{nchw, nullptr}}, io);
  optimize(p, quantization_optimize_options());
  const ActivationRanges ranges = named_ranges(p, by_id);
  return quantize_program(std::move(p), ranges);
}

}  // namespace

TEST(OnnxQdq, ExportIsValidOnnxWithInt8WeightsAndQuantizedActivations) {
  Quantized m = quantized("mini-xception");
  const onnx::ModelProto model = export_onnx_qdq(m.q.program);
  EXPECT_NO_THROW(onnx::checker::check_model(model));
  std::map<std::string, int> ops = op_counts(model);
  int convs = 0;
  for (const Step& s : m.q.program.steps()) convs += std::string(s.op->type()) == "QConv2d";
  ASSERT_GT(convs, 0);
  EXPECT_EQ(ops["Conv"], convs);
  EXPECT_GE(ops["QuantizeLinear"], convs);
  // Each int8 convolution reads 3 DequantizeLinear (input, weights, bias).
  EXPECT_GE(ops["DequantizeLinear"], 3 * convs);
  int int8_weights = 0;
  for (const auto& t : model.graph().initializer())
    int8_weights += t.data_type() == onnx::TensorProto::INT8 && t.dims_size() == 4;
  EXPECT_EQ(int8_weights, convs);
  ASSERT_EQ(model.graph().input_size(), 1);
  const auto& in = model.graph().input(0).type().tensor_type().shape();
  EXPECT_EQ(in.dim(0).dim_param(), "batch");
  EXPECT_EQ(in.dim(1).dim_value(), 1);  // NCHW: Fashion-MNIST's one channel
}

// Exported and imported again, the int8 program has the same int8 steps and computes the
// same outputs: the same weight codes (symmetric per channel re-quantizes to itself) and
// the same activation encodings, up to float rounding of the scales.
TEST(OnnxQdq, RoundTripGivesTheSameInt8Program) {
  for (const char* name : {"mini-xception", "mobilenet", "xception"}) {
    SCOPED_TRACE(name);
    Quantized m = quantized(name);
    const onnx::ModelProto model = export_onnx_qdq(m.q.program);
    const Tensor nchw = test::nhwc_to_nchw(m.x);
    QuantizedProgram back = reimported(model, nchw.dims());
    // Every int8 step of the original has its twin (the re-imported program also moves
    // global pooling's flatten as codes: a QReshape of its own).
    EXPECT_EQ(op_counts(back.program), op_counts(m.q.program));
    for (const FloatStep& f : back.float_steps) ADD_FAILURE() << f.step << ": " << f.reason;
    Executor a(std::move(m.q.program)), b(std::move(back.program));
    const Tensor ya = a.run({&m.x}).at(0), yb = b.run({&nchw}).at(0);
    const OutputError e = output_error(yb, ya);
    EXPECT_LT(e.max_rel, 0.02) << "re-imported int8 against the exported one";
    EXPECT_EQ(e.top1_agreement, 1.0);
  }
}

// ONNX Runtime runs the exported file on its own int8 kernels (its QDQ fusions) or as
// float with fake quantization; either way it must agree with xcept's int8 program to
// within a few output quantization steps.
TEST(OnnxQdq, OnnxRuntimeRunsTheExportAsXceptRunsIt) {
  XCEPT_NEED_ORT();
  TempDir dir;
  for (const char* name : {"mini-xception", "mobilenet"}) {
    SCOPED_TRACE(name);
    Quantized m = quantized(name);
    const std::string path = dir.file(std::string(name) + "_int8.onnx");
    save_onnx(export_onnx_qdq(m.q.program), path);
    Executor ex(std::move(m.q.program));
    const Tensor want = ex.run({&m.x}).at(0);
    const Tensor got = test::ort_run(path, test::nhwc_to_nchw(m.x), want.dims(), dir.str());
    ASSERT_EQ(got.numel(), want.numel());
    const OutputError e = output_error(got, want);
    EXPECT_LT(e.max_rel, 0.05) << "ONNX Runtime against xcept's int8 program";
  }
}

TEST(OnnxQdq, ThroughTheCliAndModelSource) {
  TempDir dir;
  const std::string out = dir.file("m_int8.onnx");
  auto [status, text] = test::run_cli("export --model mini-mobilenet --precision int8 --output " + out);
  ASSERT_EQ(status, 0) << text;
  EXPECT_NE(text.find("min-max of one random input"), std::string::npos) << text;
  // `xcept bench` and the facade load it as a QDQ model and quantize with its encodings.
  const ModelSource src = load_model_source(out);
  ASSERT_TRUE(src.onnx);
  EXPECT_TRUE(onnx_has_qdq(*src.onnx));
  QuantizedProgram q = quantize_source(src, 2);
  EXPECT_GT(q.int8_steps, 10);
  EXPECT_TRUE(q.float_steps.empty());
  auto [st2, t2] = test::run_cli("bench " + out + " --precision int8 --repeats 1 --warmup 0");
  EXPECT_EQ(st2, 0) << t2;
  auto [st3, t3] = test::run_cli("export --model mini-mobilenet --precision int4 --output " + out);
  EXPECT_NE(st3, 0);
  EXPECT_NE(t3.find("int4"), std::string::npos) << t3;
}

TEST(OnnxQdq, AStepWithNoOnnxFormIsNamed) {
  Program p;
  const ValueId x = p.add_input("x", {1, 2, 2, 3});
  const ValueId y = p.add_step("joined", std::make_unique<ConcatOp>(3), {x, x});
  p.mark_output(y);
  try {
    export_onnx_qdq(p);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'joined' (Concat)"), std::string::npos) << e.what();
  }
}

namespace {

void add_init(onnx::GraphProto* g, const std::string& name, int type, const Dims& dims,
              const std::vector<int64_t>& ints, const std::vector<float>& floats = {}) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  if (type == onnx::TensorProto::FLOAT)
    for (float f : floats) t->add_float_data(f);
  else
    for (int64_t i : ints) t->add_int32_data(int32_t(i));
}

void add_io(onnx::ValueInfoProto* v, const std::string& name, const Dims& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace

// A QOperator model, as ONNX Runtime's quantizer writes in that format: QuantizeLinear,
// QLinearConv (int8 weights per output channel, int32 bias), DequantizeLinear. It runs on
// the int8 kernels and matches the operators' definition, computed here in double, to
// one output code.
TEST(OnnxQdq, QLinearConvModelRunsOnTheInt8KernelsAsDefined) {
  using onnx::TensorProto;
  const int64_t c = 4, m = 8, h = 6, w = 6;
  const float xs = 0.01f, ys = 0.05f;
  const int64_t xz = 128, yz = 100;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> code(-127, 127), bias(-2000, 2000);
  std::vector<int64_t> wq(static_cast<size_t>(m * c * 9)), bq(static_cast<size_t>(m));
  std::vector<float> ws(static_cast<size_t>(m));
  for (int64_t o = 0; o < m; ++o) {
    for (int64_t i = 0; i < c * 9; ++i) wq[size_t(o * c * 9 + i)] = code(rng);
    wq[size_t(o * c * 9)] = 127;  // each channel's largest code: symmetric per channel
    ws[size_t(o)] = 0.002f * float(o + 1);
    bq[size_t(o)] = bias(rng);
  }
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("qlinearconv");
  add_io(g->add_input(), "x", {1, c, h, w});
  add_io(g->add_output(), "y", {1, m, h, w});
  add_init(g, "xs", TensorProto::FLOAT, {}, {}, {xs});
  add_init(g, "xz", TensorProto::UINT8, {}, {xz});
  add_init(g, "w", TensorProto::INT8, {m, c, 3, 3}, wq);
  add_init(g, "ws", TensorProto::FLOAT, {m}, {}, ws);
  add_init(g, "wz", TensorProto::INT8, {m}, std::vector<int64_t>(size_t(m), 0));
  add_init(g, "ys", TensorProto::FLOAT, {}, {}, {ys});
  add_init(g, "yz", TensorProto::UINT8, {}, {yz});
  add_init(g, "b", TensorProto::INT32, {m}, bq);
  auto node = [&](const char* op, std::vector<std::string> in, const std::string& out) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  node("QuantizeLinear", {"x", "xs", "xz"}, "xq");
  onnx::NodeProto* conv = node("QLinearConv", {"xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"}, "yq");
  onnx::AttributeProto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  node("DequantizeLinear", {"yq", "ys", "yz"}, "y");
  EXPECT_NO_THROW(onnx::checker::check_model(model));

  QuantizedProgram q = reimported(model, {1, c, h, w});
  EXPECT_EQ(op_counts(q.program)["QConv2d"], 1);
  for (const FloatStep& f : q.float_steps) ADD_FAILURE() << f.step << ": " << f.reason;
  const Tensor x = test::random_tensor({1, c, h, w}, 4);
  Executor ex(std::move(q.program));
  const Tensor y = ex.run({&x}).at(0);
  ASSERT_EQ(y.dims(), (Dims{1, m, h, w}));

  auto xcode = [&](int64_t i, int64_t yy, int64_t xx) -> double {  // dequantized input
    if (yy < 0 || yy >= h || xx < 0 || xx >= w) return 0.0;
    const double v = std::nearbyint(double(x[(i * h + yy) * w + xx]) / xs) + double(xz);
    return (std::clamp(v, 0.0, 255.0) - double(xz)) * xs;
  };
  int64_t off_by_more = 0;
  for (int64_t o = 0; o < m; ++o)
    for (int64_t yy = 0; yy < h; ++yy)
      for (int64_t xx = 0; xx < w; ++xx) {
        double acc = double(bq[size_t(o)]) * xs * ws[size_t(o)];
        for (int64_t i = 0; i < c; ++i)
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx)
              acc += xcode(i, yy + ky - 1, xx + kx - 1) *
                     double(wq[size_t(((o * c + i) * 3 + ky) * 3 + kx)]) * ws[size_t(o)];
        const double want = (std::clamp(std::nearbyint(acc / ys) + double(yz), 0.0, 255.0) - double(yz)) * ys;
        off_by_more += std::abs(double(y[(o * h + yy) * w + xx]) - want) > 1.01 * ys;
      }
  EXPECT_EQ(off_by_more, 0) << "outputs more than one code away from the definition";
}
