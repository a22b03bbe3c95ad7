// The ONNX importer on models exported from PyTorch (tests/data/onnx, made by
// tools/make_onnx_fixtures.py) and on hand-built graphs for the error paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "io_test_support.h"
#include "onnx_graph_builder.h"
#include "onnx_test_support.h"
#include "runtime/ops/tensor_ops.h"
#include "test_support.h"
#include "onnx/onnx_pb.h"

namespace xcept {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(XCEPT_SOURCE_DIR) / "tests" / "data" / "onnx";

struct FixtureRun {
  double rel_error = 0;
  int transposes = 0;
  Dims out_dims;
};

// Imports, optimizes and runs a fixture; error of the output relative to its scale.
FixtureRun run_fixture(const std::string& name) {
  const fs::path dir = kFixtures / name;
  onnx::ModelProto model = load_onnx_model((dir / "model.onnx").string());
  HostTensor x = read_tensor_pb((dir / "test_data_set_0" / "input_0.pb").string());
  HostTensor y = read_tensor_pb((dir / "test_data_set_0" / "output_0.pb").string());
  OnnxImportOptions opt;
  opt.model_name = name;
  Program p = import_onnx(model, std::vector<OnnxInput>{{x.dims, nullptr}}, opt);
  optimize(p);
  FixtureRun r;
  for (const Step& s : p.steps()) r.transposes += std::string(s.op->type()) == "Transpose";
  Executor ex(std::move(p));
  std::vector<Tensor> out = ex.run({&x.f32});
  EXPECT_EQ(out.size(), 1u);
  r.out_dims = out[0].dims();
  EXPECT_EQ(out[0].dims(), y.dims);
  if (out[0].dims() == y.dims)
    r.rel_error = test::max_rel_error(out[0].data(), y.f32.data(), y.f32.numel());
  return r;
}

TEST(OnnxImport, GroupedConvNetMatchesTorch) {
  FixtureRun r = run_fixture("grouped_conv");
  EXPECT_LT(r.rel_error, 1e-4);
  EXPECT_EQ(r.out_dims, (Dims{2, 10}));
  // Into NHWC once at the first convolution, back once before Flatten (H, W > 1).
  EXPECT_EQ(r.transposes, 2);
}

TEST(OnnxImport, MobileNetBlockMatchesTorch) {
  FixtureRun r = run_fixture("mobilenet_block");
  EXPECT_LT(r.rel_error, 1e-4);
  EXPECT_EQ(r.transposes, 2);  // in, and the NCHW graph output
}

TEST(OnnxImport, MiniXceptionMatchesTorch) {
  FixtureRun r = run_fixture("mini_xception");
  EXPECT_LT(r.rel_error, 1e-4);
  // Only the input is transposed: residual adds, pools and GAP stay NHWC, and Flatten
  // of a 1x1 map needs no reordering.
  EXPECT_EQ(r.transposes, 1);
}

TEST(OnnxImport, FixturesPassAsBackendCases) {
  for (const char* name : {"grouped_conv", "mobilenet_block", "mini_xception"}) {
    test::CaseResult r = test::run_onnx_case(kFixtures / name, 1e-4, 1e-5);
    EXPECT_EQ(r.kind, test::CaseResult::pass) << name << ": " << r.message;
  }
}

}  // namespace
}  // namespace xcept

namespace xcept {
namespace {

using test::OnnxGraphBuilder;
using test::error_of;

Tensor iota(const Dims& d, float scale = 0.1f) {
  Tensor t(d);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(i % 17) * scale - 0.7f;
  return t;
}

std::string unsupported_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const OnnxUnsupported& e) {
    return e.what();
  } catch (const Error& e) {
    ADD_FAILURE() << "expected OnnxUnsupported, got Error: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected OnnxUnsupported";
  return "";
}

std::vector<Tensor> run_model(const onnx::ModelProto& m, const std::vector<Tensor>& ins) {
  std::vector<HostTensor> h;
  for (const auto& t : ins) h.push_back(HostTensor::from_f32(t));
  Program p = import_onnx(m, h);
  optimize(p);
  Executor ex(std::move(p));
  std::vector<const Tensor*> args;
  for (const auto& t : ins) args.push_back(&t);
  return ex.run(args);
}

// ---- model files

TEST(OnnxImportErrors, TruncatedModelFileNamesTheFile) {
  test::TempDir dir;
  auto bytes = test::read_bytes((kFixtures / "mini_xception" / "model.onnx").string());
  ASSERT_GT(bytes.size(), 1000u);
  bytes.resize(bytes.size() / 2);
  const std::string path = dir.file("cut.onnx");
  test::write_bytes(path, bytes);
  const std::string msg = error_of([&] { load_onnx_model(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("parse"), std::string::npos) << msg;
  test::write_bytes(path, {});
  EXPECT_NE(error_of([&] { load_onnx_model(path); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([&] { load_onnx_model(dir.file("missing.onnx")); }).find("missing.onnx"),
            std::string::npos);
}

// ---- tensors

TEST(OnnxTensors, BadDimsAreRefusedWithTheShape) {
  onnx::TensorProto t = tensor_to_proto(iota({2, 3}), "w");
  t.set_dims(1, -3);
  std::string msg = error_of([&] { tensor_from_proto(t, "m.onnx: initializer 'w'"); });
  EXPECT_NE(msg.find("negative"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;

  t = tensor_to_proto(iota({2, 3}), "w");
  t.mutable_raw_data()->resize(20);  // 6 floats need 24 bytes
  msg = error_of([&] { tensor_from_proto(t, "m.onnx: initializer 'w'"); });
  EXPECT_NE(msg.find("raw_data has 20 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2x3"), std::string::npos) << msg;

  t = tensor_to_proto(iota({2, 3}), "w");
  t.set_dims(0, int64_t{1} << 40);
  t.set_dims(1, int64_t{1} << 40);
  msg = error_of([&] { tensor_from_proto(t, "big"); });
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;

  onnx::TensorProto f;
  f.set_data_type(onnx::TensorProto::FLOAT);
  f.add_dims(4);
  f.add_float_data(1.f);
  msg = error_of([&] { tensor_from_proto(f, "f"); });
  EXPECT_NE(msg.find("float_data has 1 values but dims 4 need 4"), std::string::npos) << msg;

  f.set_data_type(onnx::TensorProto::STRING);
  msg = error_of([&] { tensor_from_proto(f, "s"); });
  EXPECT_NE(msg.find("STRING"), std::string::npos) << msg;
}

TEST(OnnxTensors, IntegerAndFloatForms) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT32);
  t.add_dims(3);
  for (int v : {4, -1, 7}) t.add_int32_data(v);
  HostTensor h = tensor_from_proto(t, "i32");
  ASSERT_FALSE(h.is_f32());
  EXPECT_EQ(h.i64, (std::vector<int64_t>{4, -1, 7}));
  onnx::TensorProto r;
  r.set_data_type(onnx::TensorProto::INT64);
  r.add_dims(2);
  int64_t raw[2] = {-5, int64_t{1} << 40};
  r.set_raw_data(std::string(reinterpret_cast<const char*>(raw), sizeof raw));
  EXPECT_EQ(tensor_from_proto(r, "i64").i64, (std::vector<int64_t>{-5, int64_t{1} << 40}));
  Tensor x = iota({2, 2, 3});
  HostTensor back = read_tensor_pb_from_bytes(tensor_to_proto(x, "x").SerializeAsString(), "x.pb");
  ASSERT_TRUE(back.is_f32());
  EXPECT_EQ(back.dims, x.dims());
  EXPECT_EQ(test::max_rel_error(back.f32.data(), x.data(), x.numel()), 0.0);
  EXPECT_NE(error_of([&] { read_tensor_pb_from_bytes("\xff\xff\xff", "junk.pb"); }).find("junk.pb"),
            std::string::npos);
}

TEST(OnnxTensors, ExternalDataIsCheckedAndConfinedToTheModelFolder) {
  test::TempDir dir;
  std::vector<uint8_t> bytes(8, 0);  // 8 bytes of header, then 4 floats
  Tensor x = iota({4});
  const auto* p = reinterpret_cast<const uint8_t*>(x.data());
  bytes.insert(bytes.end(), p, p + 16);
  test::write_bytes(dir.file("weights.bin"), bytes);
  auto ext = [&](const std::string& loc, const std::string& offset) {
    onnx::TensorProto t;
    t.set_name("w");
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(4);
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto* kv = t.add_external_data();
    kv->set_key("location");
    kv->set_value(loc);
    kv = t.add_external_data();
    kv->set_key("offset");
    kv->set_value(offset);
    return t;
  };
  HostTensor h = tensor_from_proto(ext("weights.bin", "8"), "w", dir.str());
  EXPECT_EQ(test::max_rel_error(h.f32.data(), x.data(), 4), 0.0);
  EXPECT_NE(error_of([&] { tensor_from_proto(ext("../weights.bin", "8"), "w", dir.str()); })
                .find("leaves the model's folder"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tensor_from_proto(ext("/etc/passwd", "0"), "w", dir.str()); })
                .find("absolute"),
            std::string::npos);
  const std::string msg =
      error_of([&] { tensor_from_proto(ext("weights.bin", "12"), "w", dir.str()); });
  EXPECT_NE(msg.find("fewer than offset 12 + 16 bytes"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { tensor_from_proto(ext("weights.bin", "-1"), "w", dir.str()); })
                .find("offset"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tensor_from_proto(ext("weights.bin", "8"), "w"); }).find("external"),
            std::string::npos);
}

TEST(OnnxTensors, NpyRoundTripAndBadFiles) {
  test::TempDir dir;
  Tensor x = iota({2, 3, 5});
  write_tensor_file(dir.file("x.npy"), x);
  HostTensor back = read_tensor_file(dir.file("x.npy"));
  ASSERT_TRUE(back.is_f32());
  EXPECT_EQ(back.dims, x.dims());
  EXPECT_EQ(test::max_rel_error(back.f32.data(), x.data(), x.numel()), 0.0);
  write_tensor_file(dir.file("x.pb"), x, "x");
  EXPECT_EQ(read_tensor_file(dir.file("x.pb")).dims, x.dims());
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.npy.tmp." + std::to_string(::getpid()))));

  // The same file as NumPy writes it, int64 and 1-D.
  std::string h = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
  h.append(118 - h.size() - 1, ' ');
  h += '\n';
  std::string npy = std::string("\x93NUMPY\x01\x00", 8) + char(h.size()) + char(0) + h;
  int64_t v[3] = {1, -2, 3};
  npy.append(reinterpret_cast<const char*>(v), sizeof v);
  HostTensor iv = read_npy_from_bytes(npy, "i.npy");
  EXPECT_EQ(iv.i64, (std::vector<int64_t>{1, -2, 3}));

  std::string bytes = npy_bytes(x);
  EXPECT_NE(error_of([&] { read_npy_from_bytes(bytes.substr(0, bytes.size() - 4), "cut.npy"); })
                .find("cut.npy: .npy shape 2x3x5 of '<f4' needs 120 data bytes but the file has 116"),
            std::string::npos);
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_NE(error_of([&] { read_npy_from_bytes(fortran, "f.npy"); }).find("fortran_order"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_npy_from_bytes("not numpy", "n.npy"); }).find("n.npy"),
            std::string::npos);
  std::string huge = bytes;
  huge.replace(huge.find("(2, 3, 5)"), 9, "(99999999999, 99999999999)");
  EXPECT_NE(error_of([&] { read_npy_from_bytes(huge, "h.npy"); }).find("h.npy"), std::string::npos);
}

// ---- graphs

TEST(OnnxImportErrors, UnsupportedOperatorIsNamed) {
  OnnxGraphBuilder b(13);
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("FancyOp", {"r"}, {"y"}, "mystery_node");
  b.output("y");
  const std::string msg = unsupported_of([&] { import_onnx(b.model(), {HostTensor::from_f32(iota({1, 4}))}); });
  EXPECT_NE(msg.find("FancyOp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mystery_node"), std::string::npos) << msg;
}

TEST(OnnxImportErrors, DanglingInputsCyclesAndDuplicateOutputs) {
  {
    OnnxGraphBuilder b(13);
    b.input("x", {1, 4});
    b.node("Add", {"x", "nowhere"}, {"y"}, "adder");
    b.output("y");
    const std::string msg = error_of([&] { import_onnx(b.model(), {HostTensor::from_f32(iota({1, 4}))}); });
    EXPECT_NE(msg.find("'nowhere'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("adder"), std::string::npos) << msg;
  }
  {
    OnnxGraphBuilder b(13);
    b.input("x", {1, 4});
    b.node("Add", {"x", "b"}, {"a"}, "first");
    b.node("Relu", {"a"}, {"b"}, "second");
    b.output("b");
    const std::string msg = error_of([&] { import_onnx(b.model(), {HostTensor::from_f32(iota({1, 4}))}); });
    EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
  }
  {
    OnnxGraphBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"}, "one");
    b.node("Neg", {"x"}, {"y"}, "two");
    b.output("y");
    const std::string msg = error_of([&] { import_onnx(b.model(), {HostTensor::from_f32(iota({1, 4}))}); });
    EXPECT_NE(msg.find("produced by two nodes"), std::string::npos) << msg;
  }
  {
    OnnxGraphBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"});
    b.output("y");
    const std::string msg = error_of([&] { import_onnx(b.model(), {HostTensor::from_f32(iota({2, 4}))}); });
    EXPECT_NE(msg.find("input 'x' declared 1x4 but given 2x4"), std::string::npos) << msg;
  }
}

// PyTorch's flatten as exported by older opsets: Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape. It all folds at import time, leaving one Reshape step.
TEST(OnnxImport, ShapeArithmeticFoldsToConstants) {
  OnnxGraphBuilder b(13);
  b.input("x", {2, 3, 4, 4});
  b.init_i64("zero", {}, {0});
  b.init_i64("axes0", {1}, {0});
  b.init_i64("minus1", {1}, {-1});
  b.node("Shape", {"x"}, {"s"});
  b.node("Gather", {"s", "zero"}, {"n"});
  b.node("Unsqueeze", {"n", "axes0"}, {"n1"});
  auto& c = b.node("Concat", {"n1", "minus1"}, {"shape"});
  OnnxGraphBuilder::attr_i(c, "axis", 0);
  b.node("Reshape", {"x", "shape"}, {"y"});
  b.output("y");
  Tensor x = iota({2, 3, 4, 4});
  Program p = import_onnx(b.model(), std::vector<OnnxInput>{{x.dims(), nullptr}});
  ASSERT_EQ(p.steps().size(), 1u);
  EXPECT_STREQ(p.steps()[0].op->type(), "Reshape");
  auto out = run_model(b.model(), {x});
  EXPECT_EQ(out[0].dims(), (Dims{2, 48}));
  EXPECT_EQ(test::max_rel_error(out[0].data(), x.data(), x.numel()), 0.0);
}

// Softmax before opset 13 coerces to 2-D at `axis`; from 13 on it normalizes one axis.
TEST(OnnxImport, SoftmaxAxisSemanticsFollowTheOpset) {
  Tensor x = iota({2, 3, 4});
  for (int opset : {11, 13}) {
    OnnxGraphBuilder b(opset);
    b.input("x", {2, 3, 4});
    OnnxGraphBuilder::attr_i(b.node("Softmax", {"x"}, {"y"}), "axis", 1);
    b.output("y");
    Tensor y = run_model(b.model(), {x})[0];
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t k = 0; k < (opset < 13 ? 1 : 4); ++k) {
        double sum = 0;
        const int64_t len = opset < 13 ? 12 : 3, stride = opset < 13 ? 1 : 4;
        double mx = -1e30;
        for (int64_t i = 0; i < len; ++i) mx = std::max(mx, double(x[n * 12 + k + i * stride]));
        for (int64_t i = 0; i < len; ++i) sum += std::exp(x[n * 12 + k + i * stride] - mx);
        for (int64_t i = 0; i < len; ++i) {
          const double want = std::exp(x[n * 12 + k + i * stride] - mx) / sum;
          EXPECT_NEAR(y[n * 12 + k + i * stride], want, 1e-6) << "opset " << opset;
        }
      }
  }
}

// ONNX node tests pass Conv weights as graph inputs: with their values given they are
// constants; without, the importer says which slot needs one.
TEST(OnnxImport, WeightsGivenAsGraphInputsBecomeConstants) {
  OnnxGraphBuilder b(13);
  b.input("x", {1, 2, 5, 5});
  b.input("w", {3, 2, 3, 3});
  auto& n = b.node("Conv", {"x", "w"}, {"y"}, "conv");
  OnnxGraphBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
  b.output("y");
  Tensor x = iota({1, 2, 5, 5}), w = iota({3, 2, 3, 3}, 0.05f);
  const std::string msg = unsupported_of([&] {
    import_onnx(b.model(), std::vector<OnnxInput>{{x.dims(), nullptr}, {w.dims(), nullptr}});
  });
  EXPECT_NE(msg.find("Conv weight 'w'"), std::string::npos) << msg;
  auto out = run_model(b.model(), {x, w});
  ASSERT_EQ(out[0].dims(), (Dims{1, 3, 5, 5}));
  // Centre pixel of output channel 1 by hand.
  double want = 0;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) want += x[c * 25 + (1 + i) * 5 + (1 + j)] * w[((1 * 2 + c) * 3 + i) * 3 + j];
  EXPECT_NEAR(out[0][25 + 2 * 5 + 2], want, 1e-5);
}

TEST(OnnxImport, ReshapeZeroAndMinusOneAndNhwcValuesStayCorrect) {
  // conv (NHWC inside) -> Reshape [0, -1]: the reshape must see NCHW order.
  OnnxGraphBuilder b(13);
  b.input("x", {1, 2, 3, 3});
  b.init("w", iota({4, 2, 1, 1}, 0.3f));
  b.init_i64("shape", {2}, {0, -1});
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Reshape", {"c", "shape"}, {"y"});
  b.output("y");
  Tensor x = iota({1, 2, 3, 3});
  Tensor y = run_model(b.model(), {x})[0];
  ASSERT_EQ(y.dims(), (Dims{1, 36}));
  Tensor w = iota({4, 2, 1, 1}, 0.3f);
  for (int m = 0; m < 4; ++m)
    for (int p = 0; p < 9; ++p)
      EXPECT_NEAR(y[m * 9 + p], x[p] * w[m * 2] + x[9 + p] * w[m * 2 + 1], 1e-6);
}

}  // namespace
}  // namespace xcept

namespace xcept {
namespace {

// Layout propagation: the same operator after an identity 1x1 convolution (so its input is
// NHWC inside the program) must give what it gives on the NCHW graph input directly.
class NhwcPropagation : public ::testing::TestWithParam<int> {};

TEST_P(NhwcPropagation, OpAfterConvMatchesOpOnNchwInput) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t n = pick(1, 2), c = pick(1, 5), h = pick(2, 6), w = pick(2, 6);
  const Dims xd{n, c, h, w};
  Tensor x(xd);
  auto vals = test::random_vector<float>(x.numel(), uint32_t(GetParam()) + 7);
  std::copy(vals.begin(), vals.end(), x.data());
  Tensor eye(Dims{c, c, 1, 1});
  for (int64_t i = 0; i < c; ++i) eye[i * c + i] = 1.f;

  // Builds `in -> op -> out` into b, with op's extra initializers and attributes.
  const int kind = GetParam() % 9;
  // Draws the op's parameters from its own generator, so both graphs get the same op.
  const std::mt19937 op_seed(rng());
  auto add_op = [&](OnnxGraphBuilder& b, const std::string& in) {
    rng = op_seed;
    switch (kind) {
      case 0: {  // per-channel constant
        Tensor k = iota({c, 1, 1}, 0.3f);
        b.init("k", k);
        b.node("Mul", {in, "k"}, {"y"});
        break;
      }
      case 1: {
        auto& nd = b.node("Concat", {in, in}, {"y"});
        OnnxGraphBuilder::attr_i(nd, "axis", pick(-4, 3));
        break;
      }
      case 2: {
        const int64_t axis = pick(1, 3);
        b.init_i64("st", {1}, {pick(0, 1)});
        b.init_i64("en", {1}, {100});
        b.init_i64("ax", {1}, {axis});
        b.init_i64("sp", {1}, {pick(1, 2)});
        b.node("Slice", {in, "st", "en", "ax", "sp"}, {"y"});
        break;
      }
      case 3: {
        std::vector<int64_t> pads(8);
        for (int i = 0; i < 8; ++i) pads[size_t(i)] = i % 4 == 0 ? 0 : pick(0, 1);
        b.init_i64("pads", {8}, pads);
        b.node("Pad", {in, "pads"}, {"y"});
        break;
      }
      case 4: {
        std::vector<int64_t> perm{0, 1, 2, 3};
        std::shuffle(perm.begin(), perm.end(), rng);
        OnnxGraphBuilder::attr_ints(b.node("Transpose", {in}, {"y"}), "perm", perm);
        break;
      }
      case 5: {
        auto& nd = b.node("ReduceMax", {in}, {"y"});
        OnnxGraphBuilder::attr_ints(nd, "axes", {pick(1, 3)});
        OnnxGraphBuilder::attr_i(nd, "keepdims", pick(0, 1));
        break;
      }
      case 6: {
        OnnxGraphBuilder::attr_i(b.node("Softmax", {in}, {"y"}), "axis", 1);
        break;
      }
      case 7: {
        b.node("Flatten", {in}, {"y"});
        break;
      }
      default: {
        b.init("k", iota({1, 1, 1, w}, 0.2f));  // broadcast along W only
        b.node("Add", {in, "k"}, {"y"});
        break;
      }
    }
  };
  OnnxGraphBuilder direct(13), after_conv(13);
  direct.input("x", xd);
  add_op(direct, "x");
  direct.output("y");
  after_conv.input("x", xd);
  after_conv.init("eye", eye);
  after_conv.node("Conv", {"x", "eye"}, {"c"});
  add_op(after_conv, "c");
  after_conv.output("y");
  Tensor want = run_model(direct.model(), {x})[0];
  Tensor got = run_model(after_conv.model(), {x})[0];
  ASSERT_EQ(got.dims(), want.dims()) << "kind " << kind;
  EXPECT_LT(test::max_rel_error(got.data(), want.data(), want.numel()), 1e-6) << "kind " << kind;
}

INSTANTIATE_TEST_SUITE_P(Random, NhwcPropagation, ::testing::Range(0, 45));

}  // namespace
}  // namespace xcept

namespace xcept {
namespace {

// A graph output that also feeds later elementwise (in-place capable) steps must keep
// its value.
TEST(OnnxImport, IntermediateGraphOutputsKeepTheirValues) {
  OnnxGraphBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.node("Neg", {"x"}, {"c"});
  b.node("Relu", {"c"}, {"r"});
  b.node("Sigmoid", {"r"}, {"s"});
  b.node("Neg", {"s"}, {"y"});
  b.output("r");
  b.output("y");
  Tensor x = iota({1, 3, 4, 4});
  auto out = run_model(b.model(), {x});
  ASSERT_EQ(out.size(), 2u);
  for (int64_t i = 0; i < out[0].numel(); ++i) {
    EXPECT_GE(out[0][i], 0.f) << i;
    EXPECT_NEAR(out[1][i], -1.f / (1.f + std::exp(-out[0][i])), 1e-6) << i;
  }
}

}  // namespace
}  // namespace xcept
