// metrics.jsonl, a training run's log: one JSON object per completed epoch, appended by
// the trainer, cut back on resume, and read by the curves (xcept/plot.h) and the
// experiments. The one writer and reader of the format.
//
//   {"epoch": 3, "train_loss": 0.41, "train_accuracy": 0.85, "test_loss": 0.44,
//    "test_accuracy": 0.84, "lr": 0.001, "seconds": 12.5, "images_per_s": 4800}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xcept {

struct EpochResult {
  int64_t epoch = 0;  // 1-based: epochs completed
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  double lr = 0;  // at the epoch's last step
  double seconds = 0, images_per_s = 0;  // training time of the epoch (evaluation excluded)
  bool best = false;  // test accuracy improved: best.ckpt was written (not logged)
};

// Appends the epoch's line. Throws xcept::Error naming the file.
void append_metrics(const std::string& path, const EpochResult& e);

// Keeps the lines of epochs 1..epochs_kept (a resumed run drops those written after its
// checkpoint by the run that died), rewriting the file atomically. No file: nothing to do.
void truncate_metrics(const std::string& path, int64_t epochs_kept);

// The epochs of a log. A number a line lacks reads as NaN. Throws xcept::Error naming
// "<path>:<line>" when a line is not a JSON object with an integer "epoch", or when
// epochs do not run 1, 2, 3, ...
std::vector<EpochResult> read_metrics(const std::string& path);

}  // namespace xcept
