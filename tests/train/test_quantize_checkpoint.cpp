// Post-training quantization end to end: the quantization record a checkpoint keeps,
// `xcept quantize`, `xcept eval --precision int8` (accuracy against f32 on the same
// images, per-layer errors) and `xcept bench --precision int8` on every ISA.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_support.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "train/evaluate_runtime.h"
#include "train/quantize_checkpoint.h"
#include "trained_model_support.h"

using namespace xcept;
using test::run_cli;

namespace {

nlohmann::json parse_json(const test::CliRun& r) {
  EXPECT_EQ(r.status, 0) << r.out;
  return nlohmann::json::parse(r.out);
}

// A trained mini-mobilenet (quadrant images, one epoch) in a fresh folder.
struct Trained {
  test::TempDir dir;
  std::string ckpt = test::train_small_checkpoint(dir.str());
  std::string data = dir.str() + "/data";
};

}  // namespace

TEST(QuantizationRecord, JsonRoundTripAndErrorsNameTheField) {
  QuantizationRecord r;
  r.calibration.method = CalibrationMethod::percentile;
  r.calibration.percentile = 99.5;
  r.images = 64;
  r.data = "/data";
  r.quantize.keep_f32 = {"@depthwise", "conv1"};
  r.ranges["conv1_relu"] = {0.f, 6.f};
  r.ranges["input"] = {-1.5f, 2.25f};
  const nlohmann::json j = quantization_to_json(r);
  const QuantizationRecord back = quantization_from_json(j, "f.ckpt");
  EXPECT_EQ(back.calibration.method, CalibrationMethod::percentile);
  EXPECT_EQ(back.calibration.percentile, 99.5);
  EXPECT_EQ(back.images, 64);
  EXPECT_EQ(back.quantize.keep_f32, r.quantize.keep_f32);
  ASSERT_EQ(back.ranges.size(), 2u);
  EXPECT_EQ(back.ranges.at("input").lo, -1.5f);
  EXPECT_EQ(back.ranges.at("conv1_relu").hi, 6.f);

  auto error_of = [](const nlohmann::json& bad) {
    try {
      quantization_from_json(bad, "f.ckpt");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json bad = j;
  bad["ranges"]["input"] = {3, 1};
  EXPECT_NE(error_of(bad).find("'input' is not a finite interval"), std::string::npos);
  bad = j;
  bad["ranges"]["input"] = "wide";
  EXPECT_NE(error_of(bad).find("'input' is not [lo, hi]"), std::string::npos);
  bad = j;
  bad.erase("method");
  EXPECT_NE(error_of(bad).find("no 'method'"), std::string::npos);
  bad = j;
  bad["method"] = "kl";
  EXPECT_NE(error_of(bad).find("unknown calibration method 'kl'"), std::string::npos);
  bad = j;
  bad["images"] = "many";
  EXPECT_NE(error_of(bad).find("'images' has the wrong type"), std::string::npos);
  bad = j;
  bad["version"] = 2;
  EXPECT_NE(error_of(bad).find("version 2"), std::string::npos);
  bad = j;
  bad["keep_f32"] = {"@pointwise"};
  EXPECT_NE(error_of(bad).find("unknown keep-f32 rule '@pointwise'"), std::string::npos);
  EXPECT_NE(error_of(nlohmann::json::array()).find("f.ckpt"), std::string::npos);
}

TEST(QuantizeCli, WritesTheRecordAndEvalComparesInt8WithF32) {
  Trained t;
  const std::string q = t.dir.str() + "/q.ckpt";
  nlohmann::json j = parse_json(run_cli("quantize --checkpoint " + t.ckpt + " --data " + t.data +
                                            " --calibration 64 --method entropy --out " + q +
                                            " --json --threads 1",
                                        false));
  EXPECT_EQ(j["images"], 64);
  EXPECT_EQ(j["int8_steps"], 17);  // 15 convolutions, global pooling, Dense
  EXPECT_TRUE(j["float_steps"].empty()) << j.dump();

  // The file: the same weights, the record added, no optimizer state.
  const Checkpoint in = read_checkpoint(t.ckpt), out = read_checkpoint(q);
  EXPECT_TRUE(out.optimizer_state.empty());
  ASSERT_EQ(out.params.size(), in.params.size());
  for (size_t i = 0; i < in.params.size(); ++i) {
    EXPECT_EQ(out.params[i].name, in.params[i].name);
    EXPECT_EQ(out.params[i].tensor.dims(), in.params[i].tensor.dims());
  }
  const std::optional<QuantizationRecord> rec = checkpoint_quantization(out.meta, q);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->calibration.method, CalibrationMethod::entropy);
  EXPECT_EQ(rec->images, 64);
  EXPECT_EQ(rec->ranges.size(), 18u);  // the input and every step's output
  EXPECT_EQ(out.meta.model, in.meta.model);

  j = parse_json(run_cli("eval --checkpoint " + q + " --data " + t.data +
                             " --precision int8 --json --threads 1",
                         false));
  for (const char* key : {"accuracy", "accuracy_f32", "top1_agreement", "accuracy_delta_points",
                          "precision", "images", "layers", "calibration", "float_steps"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["precision"], "int8");
  EXPECT_EQ(j["images"], 32);
  EXPECT_TRUE(j["calibration"]["from_checkpoint"].get<bool>());
  EXPECT_EQ(j["calibration"]["method"], "entropy");
  EXPECT_NEAR(j["accuracy_delta_points"].get<double>(),
              100 * (j["accuracy"].get<double>() - j["accuracy_f32"].get<double>()), 1e-9);
  // A trained net's decisions mostly survive 8 bits.
  EXPECT_GE(j["top1_agreement"].get<double>(), 0.75);
  // The float program scores what `eval --precision f32` scores (within an image: the
  // int8 comparison runs it without residual or depthwise-pointwise fusion).
  const RuntimeEvalResult f32 = evaluate_checkpoint_runtime(t.ckpt, t.data, Precision::f32);
  EXPECT_NEAR(j["accuracy_f32"].get<double>(), f32.result.accuracy, 1.0 / 32 + 1e-9);
  // One row per layer, under its float name; errors small and finite.
  const nlohmann::json& layers = j["layers"];
  ASSERT_EQ(layers.size(), 17u);
  EXPECT_EQ(layers[0]["step"], "conv1");
  EXPECT_EQ(layers[0]["op"], "QConv2d");
  for (const auto& l : layers) {
    EXPECT_TRUE(l["int8"].get<bool>()) << l.dump();
    EXPECT_GE(l["rel_l2_error"].get<double>(), 0.0) << l.dump();
    EXPECT_LT(l["rel_l2_error"].get<double>(), 0.5) << l.dump();
  }

  // The text form names the layers too.
  test::CliRun r = run_cli("eval --checkpoint " + q + " --data " + t.data + " --precision int8");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("same top-1 class on"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("conv_pw_7"), std::string::npos) << r.out;
}

TEST(QuantizeCli, MixedPrecisionOnTheFlyCalibrationAndErrors) {
  Trained t;
  const std::string q = t.dir.str() + "/q.ckpt";
  nlohmann::json j = parse_json(run_cli("quantize -c " + t.ckpt + " -d " + t.data +
                                            " --calibration 32 --keep-f32 @depthwise "
                                            "--keep-f32 'conv_pw_[67]' -o " + q + " --json",
                                        false));
  int depthwise = 0, pointwise = 0;
  for (const auto& f : j["float_steps"]) {
    depthwise += f["reason"] == "kept in f32 (@depthwise)";
    pointwise += f["reason"] == "kept in f32 (conv_pw_[67])";
  }
  EXPECT_EQ(depthwise, 7);
  EXPECT_EQ(pointwise, 2);
  j = parse_json(run_cli("eval -c " + q + " -d " + t.data + " --precision int8 --json", false));
  for (const auto& l : j["layers"]) {
    const std::string step = l["step"];
    if (step.starts_with("conv_dw_")) {
      EXPECT_FALSE(l["int8"].get<bool>()) << step;
    }
  }
  EXPECT_EQ(j["calibration"]["keep_f32"].size(), 2u);

  // A checkpoint without a record is calibrated on the spot.
  j = parse_json(run_cli("eval -c " + t.ckpt + " -d " + t.data + " --precision int8 --json", false));
  EXPECT_FALSE(j["calibration"]["from_checkpoint"].get<bool>());
  EXPECT_EQ(j["calibration"]["images"], 128);  // all of the 128 training images

  auto fails_with = [&](const std::string& args, const std::string& message) {
    const test::CliRun r = run_cli(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << args << "\n" << r.out;
  };
  const std::string base = "quantize -c " + t.ckpt + " -d " + t.data + " -o " + q;
  fails_with(base + " --method kl", "unknown calibration method 'kl'");
  fails_with(base + " --keep-f32 @pointwise", "unknown keep-f32 rule '@pointwise'");
  fails_with(base + " --method percentile --percentile 0", "percentile 0 is not in (0, 100]");
  fails_with("quantize -c " + t.ckpt + " -d " + t.dir.str() + "/nothing -o " + q,
             t.dir.str() + "/nothing");
  fails_with("eval -c " + t.ckpt + " -d " + t.data + " --precision int4",
             "unknown precision 'int4' (expected f32, bf16 or int8)");
}

// The int8 program on each ISA the CPU runs: dispatch picks that ISA's kernels.
TEST(QuantizeCli, BenchInt8OnEveryIsa) {
  for (const char* isa : {"avx512", "avx2", "generic"}) {
    SCOPED_TRACE(isa);
    const test::CliRun r = run_cli(
        "bench mini-mobilenet --precision int8 --json --repeats 1 --warmup 0 --threads 1", false,
        std::string("XCEPT_MAX_ISA=") + isa);
    const nlohmann::json j = parse_json(r);
    EXPECT_EQ(j["precision_run"], "int8");
    EXPECT_LT(j["rel_l2_error_vs_f32"].get<double>(), 0.2);
    const std::string want =
        std::string(isa) == "avx512" && cpu_has_avx512_vnni() ? "avx512vnni"
        : isa_available(Isa::avx2) && std::string(isa) != "generic" ? "avx2" : "generic";
    int convs = 0;
    for (const auto& l : j["layers"]) {
      if (l["type"].get<std::string>().rfind("QConv2d 1x1", 0) != 0) continue;
      ++convs;
      EXPECT_NE(l["kernel"].get<std::string>().find("gemm_u8s8_" + want), std::string::npos)
          << l.dump();
    }
    EXPECT_EQ(convs, 7);
  }
}
