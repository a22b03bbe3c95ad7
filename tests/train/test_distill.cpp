// Knowledge distillation: Hinton's loss (values, limits, the T^2 scaling, finite-difference
// gradients), the teacher through the inference runtime (its own normalization), and a
// distilled training run end to end, through the library and the CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cli_test_support.h"
#include "io/checkpoint.h"
#include "io_test_support.h"
#include "layer_test_support.h"
#include "test_support.h"
#include "trained_model_support.h"
#include "train/checkpoint_model.h"
#include "train/distill.h"
#include "train/loss.h"
#include "train/trainer.h"

using namespace xcept;

namespace {

Tensor logits_of(Dims dims, std::vector<float> v) {
  Tensor t(std::move(dims));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = v[size_t(i)];
  return t;
}

TEST(DistillLoss, HandComputedValues) {
  // Student [0, 0], teacher [ln 3, 0], label 0. At T = 1: p_t = (3/4, 1/4), p_s = (1/2, 1/2).
  const Tensor s = logits_of({1, 2}, {0.f, 0.f}), t = logits_of({1, 2}, {float(std::log(3.0)), 0.f});
  const std::vector<int32_t> labels = {0};
  DistillLoss l = distillation_loss(s, t, labels, 1.f, 0.5f, nullptr);
  const double kl1 = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
  EXPECT_NEAR(l.hard, std::log(2.0), 1e-7);
  EXPECT_NEAR(l.soft, kl1, 1e-7);
  EXPECT_NEAR(l.total, 0.5 * std::log(2.0) + 0.5 * kl1, 1e-7);
  // At T = 2 the teacher softens to (sqrt 3, 1) / (1 + sqrt 3); the soft term is x T^2.
  l = distillation_loss(s, t, labels, 2.f, 0.5f, nullptr);
  const double p = std::sqrt(3.0) / (1 + std::sqrt(3.0));
  const double kl2 = p * std::log(2 * p) + (1 - p) * std::log(2 * (1 - p));
  EXPECT_NEAR(l.soft, kl2, 1e-7);
  EXPECT_NEAR(l.total, 0.5 * std::log(2.0) + 0.5 * 4 * kl2, 1e-7);
}

TEST(DistillLoss, LimitsAndTemperatureScaling) {
  const Tensor s = logits_of({2, 3}, {0.5f, -1.f, 2.f, 0.f, 0.3f, -0.2f});
  const Tensor t = logits_of({2, 3}, {1.5f, 0.f, -1.f, 0.2f, 0.1f, 0.4f});
  const std::vector<int32_t> labels = {2, 0};
  // alpha 0: plain cross-entropy, value and gradient.
  Tensor d, dce;
  DistillLoss l = distillation_loss(s, t, labels, 3.f, 0.f, &d);
  EXPECT_DOUBLE_EQ(l.total, softmax_cross_entropy(s, labels, &dce));
  for (int64_t i = 0; i < d.numel(); ++i) EXPECT_FLOAT_EQ(d[i], dce[i]);
  // A student that matches its teacher has nothing left to learn from it.
  l = distillation_loss(s, s, labels, 3.f, 1.f, &d);
  EXPECT_NEAR(l.total, 0, 1e-12);
  for (int64_t i = 0; i < d.numel(); ++i) EXPECT_NEAR(d[i], 0, 1e-9);
  // Hinton's high-temperature limit: with the T^2 factor the soft gradient tends to
  // ((s - mean s) - (t - mean t)) / (classes * batch), whatever T (without it, 1/T^2 of that).
  for (float T : {50.f, 200.f}) {
    distillation_loss(s, t, labels, T, 1.f, &d);
    for (int64_t b = 0; b < 2; ++b) {
      double ms = 0, mt = 0;
      for (int64_t k = 0; k < 3; ++k) ms += s[b * 3 + k] / 3.0, mt += t[b * 3 + k] / 3.0;
      for (int64_t k = 0; k < 3; ++k) {
        const double want = ((s[b * 3 + k] - ms) - (t[b * 3 + k] - mt)) / (3 * 2);
        EXPECT_NEAR(d[b * 3 + k], want, 0.02 * std::fabs(want) + 1e-4) << "T " << T;
      }
    }
  }
  EXPECT_THROW(distillation_loss(s, t, labels, 0.f, 0.5f, nullptr), Error);
  EXPECT_THROW(distillation_loss(s, t, labels, 2.f, 1.5f, nullptr), Error);
  EXPECT_THROW(distillation_loss(s, logits_of({1, 3}, {0, 0, 0}), labels, 2.f, 0.5f, nullptr),
               Error);
}

TEST(DistillLoss, GradientMatchesFiniteDifferences) {
  const int64_t batch = 3, classes = 5;
  std::vector<double> x(size_t(batch * classes));
  const std::vector<float> r = test::random_vector<float>(batch * classes, 1, -2.f, 2.f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = r[i];
  const Tensor teacher =
      logits_of({batch, classes}, test::random_vector<float>(batch * classes, 2, -3.f, 3.f));
  const std::vector<int32_t> labels = {4, 0, 2};
  for (float T : {1.f, 4.f}) {
    Tensor s({batch, classes}), d;
    auto loss = [&] {
      for (size_t i = 0; i < x.size(); ++i) s[int64_t(i)] = float(x[i]);
      return distillation_loss(s, teacher, labels, T, 0.7f, nullptr, 0.1f).total;
    };
    loss();
    distillation_loss(s, teacher, labels, T, 0.7f, &d, 0.1f);
    std::vector<double> analytic(d.data(), d.data() + d.numel());
    // Logits in float: eps 1e-2 keeps the rounding noise (~1e-7 / 1e-2) and the
    // truncation error (~eps^2) both near 1e-5.
    EXPECT_LT(test::gradient_check(x, analytic, loss, 1e-2), 1e-3) << "T " << T;
  }
}

// One teacher (test::train_small_checkpoint) for the suite. (ctest runs each test in a
// process of its own, so the suite is one test: the teacher trains once.)
class DistillTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new test::TempDir;
    teacher_ = new std::string(test::train_small_checkpoint(tmp_->str()));
  }
  static void TearDownTestSuite() {
    delete tmp_;
    delete teacher_;
    tmp_ = nullptr;
    teacher_ = nullptr;
  }
  static std::string data() { return tmp_->str() + "/data"; }
  static std::string teacher() { return *teacher_; }
  static TrainConfig student(const std::string& out) {
    TrainConfig c;
    c.model = "mini-mobilenet";
    c.model_options.alpha = 0.25;
    c.data_dir = data();
    c.out_dir = tmp_->str() + "/" + out;
    c.epochs = 2;
    c.batch_size = 24;  // 128 = 5 x 24 + 8: a short last batch (a second teacher program)
    c.schedule.base_lr = 3e-3;
    c.seed = 5;
    return c;
  }
  static test::TempDir* tmp_;
  static std::string* teacher_;
};

test::TempDir* DistillTrainTest::tmp_ = nullptr;
std::string* DistillTrainTest::teacher_ = nullptr;

TEST_F(DistillTrainTest, TeacherInTheRuntimeAndADistilledRun) {
  // The teacher runs through the runtime, in its own normalization.
  const std::string ckpt = teacher();
  CheckpointModel m = load_checkpoint_model(ckpt);
  ASSERT_FALSE(m.normalization.empty());  // trained with normalization
  Teacher teacher(ckpt, {8, 8, 1}, 10);  // IDX folders have the MNIST family's 10 classes
  EXPECT_EQ(teacher.model(), "mini-mobilenet");
  // Raw pixels in (no student normalization): the teacher normalizes them its own way.
  const Tensor raw = test::random_tensor({5, 8, 8, 1}, 3, 0.f, 1.f);
  Tensor normalized(raw.dims());
  for (int64_t i = 0; i < raw.numel(); ++i) normalized[i] = (raw[i] - m.normalization.mean[0]) / m.normalization.std[0];
  const Tensor want = m.graph.forward(normalized, false);
  const Tensor got = teacher.logits(raw);
  ASSERT_EQ(got.dims(), (Dims{5, 10}));
  EXPECT_LT(test::max_rel_error(got.data(), want.data(), want.numel()), 1e-4);
  // A student normalizing with other statistics gets the same answer.
  Tensor other(raw.dims());
  for (int64_t i = 0; i < raw.numel(); ++i) other[i] = (raw[i] - 0.25f) / 2.f;
  Teacher for_other(ckpt, {8, 8, 1}, 10, Normalization{{0.25f}, {2.f}});
  const Tensor again = for_other.logits(other);
  EXPECT_LT(test::max_rel_error(again.data(), want.data(), want.numel()), 1e-4);

  std::string msg = test::error_of([&] { Teacher(ckpt, {28, 28, 1}, 10); });
  EXPECT_NE(msg.find("teacher " + ckpt), std::string::npos) << msg;
  EXPECT_NE(msg.find("8x8x1"), std::string::npos) << msg;
  msg = test::error_of([&] { Teacher(ckpt, {8, 8, 1}, 4); });
  EXPECT_NE(msg.find("4 classes"), std::string::npos) << msg;

  // A distilled student learns and records its teacher.
  TrainConfig sc = student("student");
  sc.distill.teacher = ckpt;
  sc.distill.temperature = 4;
  sc.distill.alpha = 0.7f;
  std::vector<std::string> notes;
  TrainCallbacks cb;
  cb.on_note = [&](const std::string& s) { notes.push_back(s); };
  TrainResult r = train(sc, cb);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_GT(r.epochs.back().test_accuracy, 0.5);  // chance is 0.25
  bool noted = false;
  for (const std::string& n : notes) noted |= n.find("distilling from") != std::string::npos;
  EXPECT_TRUE(noted);
  const Checkpoint ck = read_checkpoint(sc.out_dir + "/last.ckpt");
  EXPECT_EQ(ck.meta.extra.at("distill").at("teacher"), sc.distill.teacher);
  EXPECT_FLOAT_EQ(ck.meta.extra.at("distill").at("alpha").get<float>(), 0.7f);

  // The CLI's flags reach the same loop; bad settings fail before any training.
  auto [status, text] = test::run_cli(
      "train --model mini-mobilenet --alpha 0.25 --data " + data() + " --epochs 1 --batch-size 32 --limit-train 64 "
      "--teacher " + sc.distill.teacher + " --distill-temperature 2 --distill-alpha 0.5 --out " +
      tmp_->str() + "/cli --threads 1");
  EXPECT_EQ(status, 0) << text;
  EXPECT_NE(text.find("distilling from"), std::string::npos) << text;
  // --init-from: training starts from the checkpoint's weights and architecture (alpha
  // 0.25, though this command line names none). With a learning rate of 1e-9 the weights
  // it writes are still the checkpoint's.
  auto ft = test::run_cli("train --init-from " + ckpt + " --data " + data() +
                          " --epochs 1 --batch-size 32 --limit-train 64 --optimizer sgd --lr 1e-9 --out " +
                          tmp_->str() + "/ft --threads 1");
  ASSERT_EQ(ft.status, 0) << ft.out;
  EXPECT_NE(ft.out.find("starting from the weights of"), std::string::npos) << ft.out;
  const Checkpoint from = read_checkpoint(ckpt), tuned = read_checkpoint(tmp_->str() + "/ft/last.ckpt");
  EXPECT_EQ(tuned.meta.model, "mini-mobilenet");
  EXPECT_EQ(tuned.meta.model_config.at("alpha"), from.meta.model_config.at("alpha"));
  int compared = 0;
  ASSERT_EQ(tuned.params.size(), from.params.size());
  for (size_t p = 0; p < from.params.size(); ++p) {
    const std::string& name = from.params[p].name;
    ASSERT_EQ(tuned.params[p].name, name);
    if (name.find("moving") != std::string::npos) continue;  // batch statistics move
    const Tensor& w = from.params[p].tensor;
    const Tensor& t = tuned.params[p].tensor;
    ASSERT_EQ(t.numel(), w.numel()) << name;
    for (int64_t i = 0; i < w.numel(); ++i) ASSERT_NEAR(t[i], w[i], 1e-5) << name;
    ++compared;
  }
  EXPECT_GT(compared, 10);
  auto wrong = test::run_cli("train --init-from " + ckpt + " --model mini-xception --data " + data() +
                             " --epochs 1 --out " + tmp_->str() + "/other");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.out.find("not mini-xception"), std::string::npos) << wrong.out;
  auto bad = test::run_cli("train --model mini-mobilenet --data " + data() + " --teacher " +
                           sc.distill.teacher + " --distill-temperature 0 --out " + tmp_->str() +
                           "/bad");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.out.find("temperature must be positive"), std::string::npos) << bad.out;
}

}  // namespace
