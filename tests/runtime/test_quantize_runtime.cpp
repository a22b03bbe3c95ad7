// Post-training quantization through the runtime: calibration methods, the quantized
// program against the same program on the `_ref` kernels (equal bytes), against f32
// (close), uint8 values in the executor's plan, and mixed precision.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "models/models.h"
#include "runtime/calibrate.h"
#include "runtime/executor.h"
#include "runtime/layer_error.h"
#include "runtime/lower_graph.h"
#include "runtime/ops/quant_ops.h"
#include "runtime/output_error.h"
#include "runtime/quantize.h"
#include "runtime_test_support.h"

using namespace xcept;

namespace {

// A small model with every int8 op: stems, depthwise (strides 1 and 2), pointwise,
// residual additions, max pooling, global pooling and Dense.
struct Model {
  Graph graph;
  Tensor x;
};

Model small_model(const std::string& name, int64_t batch = 2) {
  models::ModelOptions o;
  o.seed = 5;
  if (name == "xception") o.input_size = 71, o.middle_repeats = 1, o.alpha = 0.25, o.classes = 10;
  if (name == "mobilenet") o.input_size = 32, o.alpha = 0.25, o.classes = 10;
  Model m{models::build_model(name, o), {}};
  Dims xd{batch};
  for (int64_t d : m.graph.node_dims(0)) xd.push_back(d);
  m.x = test::random_tensor(xd, 9, 0.f, 1.f);
  return m;
}

Program f32_program(Graph& g, int64_t batch) {
  Program p = lower_graph(g, batch);
  optimize(p, quantization_optimize_options());
  return p;
}

ActivationRanges calibrate_on(Graph& g, const Tensor& x, CalibrationMethod method) {
  Executor ex(f32_program(g, x.dim(0)));
  CalibrationOptions o;
  o.method = method;
  return calibrate(ex, [&](const auto& use) { use(x); }, o);
}

}  // namespace

TEST(Calibration, MethodsOnAHistogram) {
  // 1000 values spread over [0, 1) and one outlier at 100: 2048 bins over [0, 100].
  std::vector<double> hist(2048, 0.0);
  for (int i = 0; i < 1000; ++i) hist[size_t(i * 20 / 1000)] += 1;  // bins 0..19
  hist[2047] = 1;
  CalibrationOptions o;
  o.method = CalibrationMethod::minmax;
  ActivationRange r = range_from_histogram(0.f, 100.f, hist, o);
  EXPECT_EQ(r.lo, 0.f);
  EXPECT_EQ(r.hi, 100.f);
  o.method = CalibrationMethod::percentile;
  o.percentile = 99.9;  // 999.999 of 1001 values: bin 19's upper edge
  r = range_from_histogram(0.f, 100.f, hist, o);
  EXPECT_NEAR(r.hi, 20 * 100.f / 2048, 1e-4);
  o.percentile = 100;
  EXPECT_EQ(range_from_histogram(0.f, 100.f, hist, o).hi, 100.f);
  // Entropy on a bulk falling off like a ReLU output's (exponential, scale 30 bins) with
  // the outlier: clips the outlier, keeps the bulk's tail (its 99th percentile is near
  // bin 138, 6.7 in real units).
  std::vector<double> tail(2048, 0.0);
  for (size_t j = 0; j < tail.size(); ++j) tail[j] = std::floor(1e4 * std::exp(-double(j) / 30));
  tail[2047] = 1;
  o.method = CalibrationMethod::entropy;
  r = range_from_histogram(0.f, 100.f, tail, o);
  EXPECT_GT(r.hi, 6.7f);
  EXPECT_LT(r.hi, 50.f);
  // Signed: the same threshold on both sides, within the seen range.
  const ActivationRange s = range_from_histogram(-100.f, 100.f, tail, o);
  EXPECT_GT(s.hi, 6.7f);
  EXPECT_LT(s.hi, 50.f);
  EXPECT_EQ(s.lo, -s.hi);
  EXPECT_EQ(range_from_histogram(-3.f, 100.f, tail, o).lo, -3.f);
  // A histogram that quantizes without loss at full range is not clipped.
  EXPECT_EQ(range_from_histogram(0.f, 100.f, hist, o).hi, 100.f);
  EXPECT_EQ(parse_calibration_method("entropy"), CalibrationMethod::entropy);
  EXPECT_THROW(parse_calibration_method("kl"), Error);
}

TEST(Calibration, RecordsTheInputAndEveryStepOutput) {
  Model m = small_model("mini-mobilenet");
  Program p = f32_program(m.graph, 2);
  std::vector<std::string> names;
  for (const Step& s : p.steps()) names.push_back(p.value(s.output).name);
  const std::string input = p.value(p.inputs()[0]).name;
  Executor ex(std::move(p));
  int passes = 0;
  const ActivationRanges r = calibrate(ex, [&](const auto& use) { ++passes, use(m.x); });
  EXPECT_EQ(passes, 1);
  ASSERT_TRUE(r.count(input));
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < m.x.numel(); ++i) lo = std::min(lo, m.x[i]), hi = std::max(hi, m.x[i]);
  EXPECT_EQ(r.at(input).lo, lo);
  EXPECT_EQ(r.at(input).hi, hi);
  for (const std::string& n : names) EXPECT_TRUE(r.count(n)) << n;
  CalibrationOptions o;
  o.method = CalibrationMethod::percentile;
  passes = 0;
  calibrate(ex, [&](const auto& use) { ++passes, use(m.x); }, o);
  EXPECT_EQ(passes, 2);  // the range first, then the histograms
}

// The quantized program on its prepared kernels (VNNI/AVX2/generic, packed weights)
// equals the same program on the `_ref` rows, byte for byte at every int8 step.
TEST(QuantizedProgram, EqualsTheReferenceKernels) {
  for (const char* name : {"mini-xception", "mobilenet"}) {
    SCOPED_TRACE(name);
    Model m = small_model(name);
    const ActivationRanges ranges = calibrate_on(m.graph, m.x, CalibrationMethod::minmax);
    QuantizedProgram fast = quantize_program(f32_program(m.graph, 2), ranges);
    QuantizedProgram ref = quantize_program(f32_program(m.graph, 2), ranges);
    EXPECT_TRUE(fast.float_steps.empty()) << fast.float_steps[0].step << ": " << fast.float_steps[0].reason;
    int convs = 0;
    for (Step& s : ref.program.steps()) {
      if (auto* c = dynamic_cast<QConv2dOp*>(s.op.get())) c->use_reference_kernel(true), ++convs;
      if (auto* d = dynamic_cast<QDenseOp*>(s.op.get())) d->use_reference_kernel(true);
    }
    EXPECT_GT(convs, 5);
    ExecutorOptions poison;
    poison.poison_arena = true;
    Executor a(std::move(fast.program), poison), b(std::move(ref.program), poison);
    // Every int8 step's codes, compared as they are written.
    std::vector<std::vector<uint8_t>> codes;
    a.set_observer([&](int s, const ConstView& out) {
      if (a.program().value(a.program().steps()[size_t(s)].output).dtype != DType::u8) return;
      int64_t n = 1;
      for (int64_t d : *out.dims) n *= d;
      codes.emplace_back(u8_data(out), u8_data(out) + n);
    });
    size_t seen = 0;
    b.set_observer([&](int s, const ConstView& out) {
      const Step& st = b.program().steps()[size_t(s)];
      if (b.program().value(st.output).dtype != DType::u8) return;
      ASSERT_LT(seen, codes.size());
      const std::vector<uint8_t>& want = codes[seen++];
      ASSERT_TRUE(std::equal(want.begin(), want.end(), u8_data(out))) << st.name;
    });
    const Tensor ya = a.run({&m.x}).at(0), yb = b.run({&m.x}).at(0);
    EXPECT_EQ(seen, codes.size());
    ASSERT_EQ(ya.dims(), yb.dims());
    for (int64_t i = 0; i < ya.numel(); ++i) ASSERT_EQ(ya[i], yb[i]) << i;
  }
}

TEST(QuantizedProgram, CloseToFloatWithUint8ValuesPlanned) {
  Model m = small_model("mobilenet", 4);
  Executor f32(f32_program(m.graph, 4));
  const Tensor want = f32.run({&m.x}).at(0);
  for (CalibrationMethod method :
       {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    SCOPED_TRACE(calibration_method_name(method));
    QuantizedProgram q =
        quantize_program(f32_program(m.graph, 4), calibrate_on(m.graph, m.x, method));
    EXPECT_GT(q.int8_steps, 20);
    Executor ex(std::move(q.program));
    int u8_values = 0;
    for (const Value& v : ex.program().values()) u8_values += v.dtype == DType::u8;
    EXPECT_GT(u8_values, 20);
    // Activations take a byte each in the arena.
    int64_t u8_planned = 0;
    for (const PlannedValue& pv : ex.plan()) {
      const Value& v = ex.program().value(pv.value);
      if (v.dtype != DType::u8) continue;
      int64_t n = 1;
      for (int64_t d : v.dims) n *= d;
      EXPECT_EQ(pv.bytes, n) << v.name;
      ++u8_planned;
    }
    EXPECT_GT(u8_planned, 20);
    EXPECT_LT(ex.planned_bytes(), f32.planned_bytes());
    const OutputError e = output_error(ex.run({&m.x}).at(0), want);
    EXPECT_LT(e.mean_rel_l2, 0.25);
  }
}

TEST(QuantizedProgram, MixedPrecisionByRuleAndName) {
  Model m = small_model("mobilenet");
  const ActivationRanges ranges = calibrate_on(m.graph, m.x, CalibrationMethod::minmax);
  QuantizeOptions o;
  o.keep_f32 = {"@depthwise", "conv1", "@last"};
  QuantizedProgram q = quantize_program(f32_program(m.graph, 2), ranges, o);
  int depthwise = 0;
  bool stem = false, last = false;
  for (const FloatStep& f : q.float_steps) {
    depthwise += f.reason == "kept in f32 (@depthwise)";
    stem |= f.step == "conv1";
    last |= f.reason == "kept in f32 (@last)";
  }
  EXPECT_EQ(depthwise, 13);  // MobileNet's 13 depthwise layers
  EXPECT_TRUE(stem);
  EXPECT_TRUE(last);
  for (const Step& s : q.program.steps()) {
    if (const auto* c = dynamic_cast<const QConv2dOp*>(s.op.get())) {
      EXPECT_FALSE(c->shape().is_depthwise() && c->shape().groups > 1) << s.name;
    }
  }
  Executor ex(std::move(q.program));
  EXPECT_EQ(ex.run({&m.x}).at(0).dims(), (Dims{2, 10}));
  o.keep_f32 = {"@pointwise"};
  EXPECT_THROW(quantize_program(f32_program(m.graph, 2), ranges, o), Error);
  // A value with no range keeps its readers in float.
  ActivationRanges partial = ranges;
  partial.erase(partial.begin());
  EXPECT_NO_THROW(quantize_program(f32_program(m.graph, 2), partial));
}


// The per-layer report: a float program against itself is exact; against its int8 form
// every int8 step is reported under its float name, and the last step's error is the
// error of the program's output.
TEST(LayerErrorMeter, MatchesStepsByValueName) {
  Model m = small_model("mini-xception");
  Executor f32(f32_program(m.graph, 2)), same(f32_program(m.graph, 2));
  {
    LayerErrorMeter meter(f32, same);
    meter.run(m.x);
    const std::vector<LayerError> r = meter.report();
    EXPECT_EQ(r.size(), f32.program().steps().size());
    for (const LayerError& e : r) {
      EXPECT_EQ(e.rel_l2, 0.0) << e.step;
      EXPECT_FALSE(e.int8) << e.step;
    }
  }
  const ActivationRanges ranges = calibrate_on(m.graph, m.x, CalibrationMethod::minmax);
  Executor q(quantize_program(f32_program(m.graph, 2), ranges).program);
  LayerErrorMeter meter(f32, q);
  const LayerErrorMeter::Outputs out = meter.run(m.x);
  const std::vector<LayerError> r = meter.report();
  int convs = 0;
  for (const LayerError& e : r) {
    EXPECT_TRUE(e.step.find("/quantize") == std::string::npos) << e.step;
    EXPECT_TRUE(std::isfinite(e.rel_l2)) << e.step;
    convs += e.op == std::string("QConv2d");
    EXPECT_TRUE(e.int8) << e.step;
  }
  EXPECT_GT(convs, 5);
  ASSERT_FALSE(r.empty());
  double diff2 = 0, ref2 = 0;
  for (int64_t i = 0; i < out.f32.numel(); ++i) {
    diff2 += std::pow(double(out.quantized[i]) - out.f32[i], 2);
    ref2 += std::pow(double(out.f32[i]), 2);
  }
  EXPECT_GT(r.back().rel_l2, 0.0);
  EXPECT_NEAR(r.back().rel_l2, std::sqrt(diff2 / ref2), 1e-9);
  EXPECT_EQ(r.back().step, f32.program().steps().back().name);
}

// Shapes only the oracle takes (ShuffleNet's grouped 1x1 convolutions) stay in float,
// saying why; the channel shuffles, slices and concatenations around them run in float
// between quantize and dequantize steps, and the whole stays close to f32.
TEST(QuantizedProgram, GroupedConvolutionsStayFloat) {
  for (const char* name : {"mini-shufflenet", "mini-shufflenet-v2", "mini-mobilenet-v2"}) {
    SCOPED_TRACE(name);
    Model m = small_model(name);
    Executor f32(f32_program(m.graph, 2));
    QuantizedProgram q = quantize_program(
        f32_program(m.graph, 2), calibrate_on(m.graph, m.x, CalibrationMethod::minmax));
    int grouped = 0;
    for (const FloatStep& f : q.float_steps) grouped += f.reason.starts_with("no int8 kernel for");
    if (std::string(name) == "mini-shufflenet") {
      EXPECT_GT(grouped, 0);
    } else {
      EXPECT_EQ(grouped, 0);  // depthwise 3x3 and dense 1x1 only
    }
    EXPECT_GT(q.int8_steps, 10);
    Executor ex(std::move(q.program));
    const OutputError e = output_error(ex.run({&m.x}).at(0), f32.run({&m.x}).at(0));
    EXPECT_LT(e.mean_rel_l2, 0.25);
  }
}
