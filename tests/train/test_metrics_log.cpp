// metrics.jsonl, the trainer's per-epoch log (train/metrics_log): what is written reads
// back, a resumed run's truncation keeps the epochs of its checkpoint, and a damaged line
// is named by file and line.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io_test_support.h"
#include "train/metrics_log.h"

using namespace xcept;
using nlohmann::json;

TEST(MetricsLog, AppendedEpochsReadBackAndTruncationKeepsTheFirst) {
  test::TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  for (int64_t n = 1; n <= 3; ++n) {
    EpochResult e;
    e.epoch = n;
    e.train_loss = 1.0 / double(n);
    e.test_accuracy = 0.5 + 0.1 * double(n);
    e.seconds = 2.5;
    append_metrics(path, e);
  }
  std::vector<EpochResult> all = read_metrics(path);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].epoch, 3);
  EXPECT_DOUBLE_EQ(all[2].test_accuracy, 0.8);
  EXPECT_DOUBLE_EQ(all[1].train_loss, 0.5);
  EXPECT_EQ(all[0].seconds, 2.5);
  truncate_metrics(path, 2);
  ASSERT_EQ(read_metrics(path).size(), 2u);
  truncate_metrics(dir.file("absent.jsonl"), 1);  // nothing to cut: no error, no file
  EXPECT_FALSE(std::ifstream(dir.file("absent.jsonl")).good());
}

TEST(MetricsLog, IsReadAndCheckedLineByLine) {
  test::TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  auto line = [](int e, double acc) {
    return json{{"epoch", e},         {"train_loss", 0.5}, {"train_accuracy", 0.8},
                {"test_loss", 0.6},   {"test_accuracy", acc}, {"lr", 0.001},
                {"seconds", 12.5},    {"images_per_s", 100}}
        .dump();
  };
  std::ofstream(path) << line(1, 0.7) << "\n" << line(2, 0.75) << "\n";
  auto epochs = read_metrics(path);
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].test_accuracy, 0.75);
  EXPECT_EQ(epochs[1].seconds, 12.5);
  std::ofstream(path) << line(1, 0.7) << "\n" << line(3, 0.75) << "\n";
  EXPECT_NE(test::error_of([&] { read_metrics(path); })
                .find("metrics.jsonl:2: epoch 3 follows epoch 1"),
            std::string::npos);
  std::ofstream(path) << line(1, 0.7) << "\n{\"epoch\": 2\n";
  EXPECT_NE(test::error_of([&] { read_metrics(path); }).find("metrics.jsonl:2: not a metrics"),
            std::string::npos);
}

TEST(MetricsLog, MissingNumbersReadAsNaN) {
  test::TempDir dir;
  const std::string path = dir.file("m.jsonl");
  std::ofstream(path) << "{\"epoch\": 1, \"test_accuracy\": 0.5}\n";
  const std::vector<EpochResult> e = read_metrics(path);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].test_accuracy, 0.5);
  EXPECT_TRUE(std::isnan(e[0].train_loss));
}
