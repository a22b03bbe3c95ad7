// Evaluation through the inference runtime (`xcept eval --precision`): f32 through the
// runtime scores exactly what the training graph scores, bf16 is compared with f32 on the
// same images, and output_error measures what it claims.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/error.h"
#include "kernels/gemm_bf16.h"
#include "quadrant_data_support.h"
#include "runtime/output_error.h"
#include "train/evaluate_runtime.h"

using namespace xcept;

namespace {

Tensor rows_of(Dims dims, std::vector<float> v) {
  Tensor t(std::move(dims));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = v.at(size_t(i));
  return t;
}

// One small mini-mobilenet trained on the quadrant data, shared by the tests below.
class EvalRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new test::TempDir;
    data_ = tmp_->str() + "/data";
    std::filesystem::create_directories(data_);
    test::write_quadrant_idx(data_, "train", 1024, 1);
    test::write_quadrant_idx(data_, "t10k", 100, 2);
    TrainConfig c;
    c.model = "mini-mobilenet";
    c.model_options.alpha = 0.25;
    c.data_dir = data_;
    c.out_dir = tmp_->str() + "/run";
    c.epochs = 6;  // enough steps for batch norm's moving statistics (momentum 0.99) to settle
    c.batch_size = 16;
    c.schedule.base_lr = 3e-3;
    c.seed = 7;
    train(c);
    ckpt_ = c.out_dir + "/last.ckpt";
  }
  static void TearDownTestSuite() { delete tmp_; }

  static test::TempDir* tmp_;
  static std::string data_, ckpt_;
};
test::TempDir* EvalRuntimeTest::tmp_ = nullptr;
std::string EvalRuntimeTest::data_, EvalRuntimeTest::ckpt_;

}  // namespace

TEST(OutputError, MaxRelativeMeanL2AndTop1) {
  Tensor ref = rows_of({2, 3}, {1, 2, 4, -8, 0, 2});
  Tensor got = rows_of({2, 3}, {1, 2.5f, 4, -8, 1, 0.5f});
  OutputError e = output_error(got, ref);
  EXPECT_DOUBLE_EQ(e.max_rel, 1.5 / 8);  // |0.5 - 2| over max |ref| = 8
  const double row1 = 0.5 / std::sqrt(21.0), row2 = std::sqrt(1 + 2.25) / std::sqrt(68.0);
  EXPECT_NEAR(e.mean_rel_l2, (row1 + row2) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(e.top1_agreement, 0.5);  // row 2 moves its largest entry from 2 to 1
}

TEST(OutputError, EqualZeroNanAndBadDims) {
  Tensor a = rows_of({1, 2}, {3, -1});
  OutputError same = output_error(a, a);
  EXPECT_EQ(same.max_rel, 0);
  EXPECT_EQ(same.mean_rel_l2, 0);
  EXPECT_EQ(same.top1_agreement, 1);
  Tensor zero({1, 2});
  EXPECT_EQ(output_error(zero, zero).max_rel, 0);
  EXPECT_TRUE(std::isinf(output_error(a, zero).max_rel));
  Tensor nan = rows_of({1, 2}, {NAN, -1});
  EXPECT_TRUE(std::isnan(output_error(nan, a).max_rel));
  EXPECT_TRUE(std::isnan(output_error(nan, a).mean_rel_l2));
  EXPECT_THROW(output_error(a, Tensor({2, 1})), Error);
}

TEST_F(EvalRuntimeTest, RuntimeF32ScoresWhatTheGraphScores) {
  EvalResult graph = evaluate_checkpoint(ckpt_, data_);
  ASSERT_EQ(graph.images, 100);
  ASSERT_GT(graph.accuracy, 0.6);  // chance is 0.25: the net learned something
  // 24 does not divide 100: the last batch is padded and its extra rows ignored.
  for (int64_t batch : {int64_t(256), int64_t(24)}) {
    RuntimeEvalResult r = evaluate_checkpoint_runtime(ckpt_, data_, Precision::f32, batch);
    EXPECT_EQ(r.result.images, 100);
    EXPECT_DOUBLE_EQ(r.result.accuracy, graph.accuracy) << "batch " << batch;
    EXPECT_NEAR(r.result.loss, graph.loss, 1e-4) << "batch " << batch;
    EXPECT_FALSE(r.f32.has_value());
    EXPECT_EQ(r.precision_run, Precision::f32);
  }
  RuntimeEvalResult first = evaluate_checkpoint_runtime(ckpt_, data_, Precision::f32, 16, 40);
  EXPECT_EQ(first.result.images, 40);
}

TEST_F(EvalRuntimeTest, Bf16IsComparedWithF32OnTheSameImages) {
  RuntimeEvalResult f32 = evaluate_checkpoint_runtime(ckpt_, data_, Precision::f32, 32);
  RuntimeEvalResult r = evaluate_checkpoint_runtime(ckpt_, data_, Precision::bf16, 32);
  ASSERT_TRUE(r.f32.has_value());
  // eval studies accuracy: it runs bf16 wherever the CPU has it, fast or not.
  if (bf16_gemm_available()) {
    EXPECT_EQ(r.precision_run, Precision::bf16);
  }
  EXPECT_EQ(r.result.images, 100);
  EXPECT_EQ(r.f32->images, 100);
  EXPECT_DOUBLE_EQ(r.f32->accuracy, f32.result.accuracy);
  EXPECT_GE(r.top1_agreement, 0.0);
  EXPECT_LE(r.top1_agreement, 1.0);
  EXPECT_GE(r.top1_agreement, 0.95);  // a trained net's decisions survive bf16 rounding
  EXPECT_NEAR(r.accuracy_delta_points, 100 * (r.result.accuracy - r.f32->accuracy), 1e-9);
  if (r.precision_run == Precision::f32) {  // no AVX512_BF16: the same program twice
    EXPECT_EQ(r.top1_agreement, 1.0);
    EXPECT_DOUBLE_EQ(r.result.loss, r.f32->loss);
  } else {
    EXPECT_NE(r.result.loss, r.f32->loss);  // bf16 really ran
    EXPECT_NEAR(r.result.loss, r.f32->loss, 0.05);
  }
}

TEST_F(EvalRuntimeTest, CliReportsBothPrecisionsAndRejectsBadOnes) {
  using test::run_cli;
  test::CliRun r = run_cli("eval --checkpoint " + ckpt_ + " --data " + data_ +
                               " --precision bf16 --json --threads 1",
                           false);
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"accuracy", "accuracy_f32", "top1_agreement", "accuracy_delta_points",
                          "precision", "precision_run", "images"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_EQ(j["images"], 100);

  r = run_cli("eval --checkpoint " + ckpt_ + " --data " + data_ + " --precision f32 --json", false);
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), evaluate_checkpoint(ckpt_, data_).accuracy);
  EXPECT_FALSE(j.contains("top1_agreement"));

  r = run_cli("eval --checkpoint " + ckpt_ + " --data " + data_ + " --precision bf16");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("same top-1 class on"), std::string::npos) << r.out;

  r = run_cli("eval --checkpoint " + ckpt_ + " --data " + data_ + " --precision f16");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("unknown precision 'f16'"), std::string::npos) << r.out;
}
