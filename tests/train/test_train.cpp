// The training loop end to end on a small synthetic IDX dataset written by the test:
// learning happens, checkpoints and metrics are written, a resumed run (also after
// kill -9) ends with exactly the weights of an unbroken one, and failures leave saved
// files intact.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "io/checkpoint.h"
#include "io_test_support.h"
#include "process_test_support.h"
#include "quadrant_data_support.h"
#include "train/trainer.h"

using namespace xcept;
namespace fs = std::filesystem;

namespace {

using test::write_quadrant_idx;

TrainConfig small_config(const std::string& data, const std::string& out) {
  TrainConfig c;
  c.model = "mini-mobilenet";
  c.model_options.alpha = 0.25;
  c.data_dir = data;
  c.out_dir = out;
  c.epochs = 3;
  c.batch_size = 16;
  c.optimizer = "adam";
  c.schedule.base_lr = 3e-3;
  c.seed = 7;
  return c;
}

NamedTensors saved_params(const std::string& ckpt) { return read_checkpoint(ckpt).params; }

void expect_same_params(const NamedTensors& a, const NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].name, b[i].name);
    ASSERT_EQ(a[i].tensor.dims(), b[i].tensor.dims()) << a[i].name;
    ASSERT_EQ(0, std::memcmp(a[i].tensor.data(), b[i].tensor.data(),
                             size_t(a[i].tensor.numel()) * sizeof(float)))
        << a[i].name << " differs";
  }
}

class TrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.str() + "/data";
    fs::create_directories(data_);
    write_quadrant_idx(data_, "train", 256, 1);
    write_quadrant_idx(data_, "t10k", 64, 2);
  }
  test::TempDir tmp_;
  std::string data_;
};

}  // namespace

TEST_F(TrainTest, LearnsWritesCheckpointsAndMetrics) {
  TrainConfig c = small_config(data_, tmp_.str() + "/run");
  int batches_seen = 0;
  TrainCallbacks cb;
  cb.on_batch = [&](const TrainProgress& p) {
    ++batches_seen;
    EXPECT_LE(p.batch, p.batches);
    EXPECT_GT(p.images_per_s, 0);
  };
  TrainResult r = train(c, cb);
  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_EQ(batches_seen, 3 * 16);
  EXPECT_GT(r.epochs.back().train_accuracy, 0.6);  // chance is 0.25
  EXPECT_LT(r.epochs.back().train_loss, r.epochs.front().train_loss);
  EXPECT_TRUE(fs::exists(c.out_dir + "/best.ckpt"));
  EXPECT_TRUE(fs::exists(c.out_dir + "/last.ckpt"));
  std::ifstream metrics(c.out_dir + "/metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(metrics, l);) ++lines;
  EXPECT_EQ(lines, 3);

  EvalResult e = evaluate_checkpoint(c.out_dir + "/last.ckpt", data_);
  EXPECT_EQ(e.images, 64);
  EXPECT_DOUBLE_EQ(e.accuracy, r.epochs.back().test_accuracy);
  EXPECT_NEAR(e.loss, r.epochs.back().test_loss, 1e-9);
}

TEST_F(TrainTest, ResumedRunEndsWithTheSameWeights) {
  TrainConfig whole = small_config(data_, tmp_.str() + "/whole");
  train(whole);
  TrainConfig part = small_config(data_, tmp_.str() + "/part");
  part.epochs = 1;
  train(part);
  part.epochs = 3;
  part.resume = true;
  TrainResult r = train(part);
  EXPECT_EQ(r.start_epoch, 1);
  EXPECT_EQ(r.epochs.size(), 2u);
  expect_same_params(saved_params(whole.out_dir + "/last.ckpt"),
                     saved_params(part.out_dir + "/last.ckpt"));
}

namespace {

// `xcept train` on the quadrant data into `dir`, one thread (kernels are deterministic
// for a thread count), plus `extra` arguments.
std::vector<std::string> cli_train_args(const std::string& data, const std::string& dir,
                                        int epochs, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {XCEPT_CLI_PATH, "train", "--model", "mini-mobilenet", "--alpha",
                                "0.25", "--data", data, "--epochs", std::to_string(epochs),
                                "--batch-size", "32", "--lr", "0.003", "--seed", "11",
                                "--threads", "1", "--out", dir};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

int run_to_end(const std::vector<std::string>& args) {
  return WEXITSTATUS(test::wait_process(test::spawn_process(args)));
}

}  // namespace

TEST_F(TrainTest, KilledRunResumesToTheSameWeights) {
  // Enough data that an epoch takes a while, so the kill lands mid-run.
  write_quadrant_idx(data_, "train", 4096, 3);
  const std::string out = tmp_.str() + "/killed", ref = tmp_.str() + "/unbroken";
  pid_t victim = test::spawn_process(cli_train_args(data_, out, 4));
  // Kill it as soon as the first epoch's checkpoint is there.
  test::poll_until([&] { return fs::exists(out + "/last.ckpt"); }, std::chrono::minutes(5));
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  ASSERT_TRUE(WIFSIGNALED(test::wait_process(victim)))
      << "the run finished before it could be killed";
  // Whatever instant the kill hit, last.ckpt is a whole checkpoint.
  Checkpoint partial = read_checkpoint(out + "/last.ckpt");
  ASSERT_GE(partial.meta.epoch, 1);
  ASSERT_LT(partial.meta.epoch, 4);

  ASSERT_EQ(run_to_end(cli_train_args(data_, out, 4, {"--resume"})), 0);
  ASSERT_EQ(run_to_end(cli_train_args(data_, ref, 4)), 0);
  EXPECT_EQ(read_checkpoint(out + "/last.ckpt").meta.epoch, 4);
  expect_same_params(saved_params(ref + "/last.ckpt"), saved_params(out + "/last.ckpt"));
}

namespace {

// The metrics lines of a run, without the timings (which differ between runs).
std::vector<nlohmann::json> metrics_without_time(const std::string& dir) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(dir + "/metrics.jsonl");
  for (std::string l; std::getline(in, l);) {
    auto j = nlohmann::json::parse(l);
    j.erase("seconds");
    j.erase("images_per_s");
    lines.push_back(j);
  }
  return lines;
}

}  // namespace

TEST_F(TrainTest, KilledMidEpochResumesBitIdentical) {
  // 32 steps an epoch; a checkpoint every 5 steps. The kill lands right after the first
  // mid-epoch checkpoint, so the run has most of its first epoch still to go.
  write_quadrant_idx(data_, "train", 1024, 5);
  const std::string out = tmp_.str() + "/killed", ref = tmp_.str() + "/unbroken";
  const std::vector<std::string> every = {"--checkpoint-every", "5"};
  pid_t victim = test::spawn_process(cli_train_args(data_, out, 2, every));
  test::poll_until([&] { return fs::exists(out + "/last.ckpt"); }, std::chrono::minutes(5));
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  ASSERT_TRUE(WIFSIGNALED(test::wait_process(victim)))
      << "the run finished before it could be killed";
  Checkpoint partial = read_checkpoint(out + "/last.ckpt");
  ASSERT_EQ(partial.meta.epoch, 0);
  const int64_t batch = partial.meta.extra.value("batch", int64_t(0));
  ASSERT_GT(batch, 0) << "the checkpoint should be mid-epoch";
  EXPECT_EQ(partial.meta.step % 5, 0);
  EXPECT_EQ(partial.meta.step, batch);

  // Resumed with the same flags: continues at that batch, and ends where an unbroken
  // run (with no mid-epoch checkpoints at all) ends, bit for bit, metrics included.
  ASSERT_EQ(run_to_end(cli_train_args(data_, out, 2, {"--checkpoint-every", "5", "--resume"})), 0);
  ASSERT_EQ(run_to_end(cli_train_args(data_, ref, 2)), 0);
  Checkpoint done = read_checkpoint(out + "/last.ckpt");
  EXPECT_EQ(done.meta.epoch, 2);
  EXPECT_EQ(done.meta.extra.value("batch", int64_t(-1)), 0);
  expect_same_params(saved_params(ref + "/last.ckpt"), done.params);
  expect_same_params(read_checkpoint(ref + "/last.ckpt").optimizer_state, done.optimizer_state);
  EXPECT_EQ(metrics_without_time(ref), metrics_without_time(out));
}

TEST_F(TrainTest, MidEpochCheckpointsNeedTheSameBatchSizeToResume) {
  TrainConfig c = small_config(data_, tmp_.str() + "/mid");
  c.epochs = 1;
  c.checkpoint_every = 3;
  TrainResult r = train(c);
  EXPECT_EQ(r.checkpoints, 5 + 1);  // steps 3, 6, 9, 12, 15 of 16, then the epoch end
  // A mid-epoch checkpoint, made by hand from the finished one.
  Checkpoint ck = read_checkpoint(c.out_dir + "/last.ckpt");
  ck.meta.epoch = 0;
  ck.meta.extra["batch"] = 7;
  write_checkpoint(c.out_dir + "/last.ckpt", ck);
  c.resume = true;
  c.batch_size = 8;
  std::string msg = test::error_of([&] { train(c); });
  // Library errors name the library's options (TrainConfig fields), not CLI flags.
  EXPECT_NE(msg.find("batch size 16"), std::string::npos) << msg;
  c.checkpoint_every = -1;
  msg = test::error_of([&] { train(c); });
  EXPECT_NE(msg.find("checkpoint_every"), std::string::npos) << msg;
}

TEST_F(TrainTest, DivergenceStopsWithAMessageAndKeepsCheckpoints) {
  TrainConfig c = small_config(data_, tmp_.str() + "/diverge");
  c.epochs = 1;
  train(c);
  const auto before = test::read_bytes(c.out_dir + "/last.ckpt");
  c.epochs = 2;
  c.resume = true;
  c.optimizer = "sgd";
  c.schedule.base_lr = 1e30;
  std::string msg = test::error_of([&] { train(c); });
  EXPECT_NE(msg.find("diverged"), std::string::npos) << msg;
  EXPECT_EQ(test::read_bytes(c.out_dir + "/last.ckpt"), before);
}

TEST_F(TrainTest, BadInputsAreNamed) {
  TrainConfig c = small_config(tmp_.str() + "/nowhere", tmp_.str() + "/x");
  EXPECT_NE(test::error_of([&] { train(c); }).find("nowhere"), std::string::npos);
  c = small_config(data_, tmp_.str() + "/fresh");
  c.resume = true;
  EXPECT_NE(test::error_of([&] { train(c); }).find("no"), std::string::npos);
  test::write_bytes(tmp_.str() + "/foreign.ckpt", {'P', 'K', 3, 4, 0, 0, 0, 0, 1, 2, 3});
  std::string msg = test::error_of([&] { evaluate_checkpoint(tmp_.str() + "/foreign.ckpt", data_); });
  EXPECT_NE(msg.find("foreign.ckpt"), std::string::npos) << msg;
}
