// `xcept bench` and `xcept peak` end to end: the JSON keys scripts read, and errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_support.h"
#include "core/cpu_features.h"

using xcept::test::CliRun;
using xcept::test::run_cli;

TEST(CliBench, JsonHasLatencyPeakPlanAndLayers) {
  CliRun r = run_cli("bench mini-mobilenet --repeats 2 --warmup 1 --json --threads 1", false);
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"median_ms", "min_ms", "max_ms", "images_per_s", "peak_gflops",
                          "planned_bytes", "macs"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_GT(j["median_ms"].get<double>(), 0);
  EXPECT_LE(j["min_ms"].get<double>(), j["max_ms"].get<double>());
  EXPECT_GT(j["peak_gflops"].get<double>(), 0);
  EXPECT_GT(j["planned_bytes"].get<int64_t>(), 0);
  ASSERT_TRUE(j["layers"].is_array());
  ASSERT_FALSE(j["layers"].empty());
  int64_t macs = 0;
  for (const auto& l : j["layers"]) {
    for (const char* key : {"name", "type", "ms", "macs", "gflops", "percent_of_peak"})
      EXPECT_TRUE(l.contains(key)) << key;
    macs += l["macs"].get<int64_t>();
  }
  EXPECT_EQ(macs, j["macs"].get<int64_t>());
  EXPECT_EQ(j["layers"][0]["name"], "conv1");
}

TEST(CliBench, TableAndErrors) {
  CliRun r = run_cli("bench mini-mobilenet --repeats 1 --warmup 0 --threads 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("images/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("conv_pw_1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("% of the measured FMA peak"), std::string::npos) << r.out;
  // Without AVX512_BF16 (forced here through XCEPT_MAX_ISA) bf16 runs as f32 and says so.
  r = run_cli("bench mini-mobilenet --precision bf16 --repeats 1 --warmup 0 --threads 1",
              true, "XCEPT_MAX_ISA=avx2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("ran as f32: no AVX512_BF16"), std::string::npos) << r.out;
  r = run_cli("bench mini-mobilenet --precision f16");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("unknown precision"), std::string::npos) << r.out;
  r = run_cli("bench no-such-model");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("unknown model"), std::string::npos) << r.out;
  r = run_cli("peak --json --threads 1", false);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_GT(nlohmann::json::parse(r.out)["peak_gflops"].get<double>(), 0);
}

TEST(CliBench, Bf16ReportsItsErrorAgainstF32) {
  // --bf16-even-if-slower: bf16 must run wherever the CPU has it, fast or not.
  CliRun r = run_cli("bench mini-mobilenet --precision bf16 --bf16-even-if-slower --repeats 1 "
                     "--warmup 0 --json --threads 1",
                     false);
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"rel_error_vs_f32", "rel_l2_error_vs_f32", "top1_agreement_vs_f32",
                          "precision_run"})
    ASSERT_TRUE(j.contains(key)) << key;
  if (xcept::cpu_has_avx512_bf16() && xcept::isa_available(xcept::Isa::avx512)) {
    EXPECT_EQ(j["precision_run"], "bf16");  // the CPU can: it must not fall back silently
  }
  const double max_rel = j["rel_error_vs_f32"].get<double>();
  const double rel_l2 = j["rel_l2_error_vs_f32"].get<double>();
  if (j["precision_run"] == "bf16") {  // bf16 rounding moves outputs, but only a little
    EXPECT_GT(max_rel, 0);
    EXPECT_LT(max_rel, 0.05);
    EXPECT_GT(rel_l2, 0);
    EXPECT_LT(rel_l2, 0.05);
  } else {  // no AVX512_BF16 (or XCEPT_MAX_ISA below avx512): bf16 ran as f32
    EXPECT_EQ(max_rel, 0);
    EXPECT_EQ(rel_l2, 0);
  }
  r = run_cli("bench mini-mobilenet --precision bf16 --repeats 1 --warmup 0 --threads 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("max|a-b|/max|b|"), std::string::npos) << r.out;
  r = run_cli("bench mini-mobilenet --repeats 1 --warmup 0 --json --threads 1", false);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(nlohmann::json::parse(r.out).contains("rel_error_vs_f32"));  // f32: nothing to compare
}

TEST(CliBench, TrainJsonHasStepTimesLayerSplitAndMemory) {
  CliRun r = run_cli(
      "bench mini-mobilenet --train --batch 4 --repeats 2 --warmup 1 --json --threads 2 "
      "--input-size 16",
      false);
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["mode"], "train");
  for (const char* key : {"median_ms", "images_per_s", "peak_rss_bytes", "cpu_utilisation",
                          "percent_of_peak", "forward_macs_per_image", "cpu"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_GT(j["median_ms"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_bytes"].get<int64_t>(), 0);
  EXPECT_NEAR(j["images_per_s"].get<double>(), 4e3 / j["median_ms"].get<double>(), 1e-6);
  ASSERT_TRUE(j["layers"].is_array());
  bool any_weights_time = false;
  int64_t macs = 0;
  for (const auto& l : j["layers"]) {
    for (const char* key : {"forward_ms", "backward_data_ms", "backward_weights_ms"})
      EXPECT_GE(l[key].get<double>(), 0) << l["name"] << " " << key;
    if (l["backward_weights_ms"].get<double>() > 0) any_weights_time = true;
    macs += l["macs"].get<int64_t>();
  }
  EXPECT_TRUE(any_weights_time) << "no layer reported a weight-gradient time";
  EXPECT_EQ(macs, 4 * j["forward_macs_per_image"].get<int64_t>());

  r = run_cli("bench mini-mobilenet --train --precision bf16 --threads 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("--train runs in f32"), std::string::npos) << r.out;
  r = run_cli("bench mini-mobilenet --train --optimizer nadam --threads 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("nadam"), std::string::npos) << r.out;
}
