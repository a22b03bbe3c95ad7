// What a training run prints on the console, for `xcept train` and the fine-tuning of
// `xcept prune`: notes and a line per epoch on stdout, a progress bar on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "train/trainer.h"

namespace xcept::cli {

// "1:05", or "1:01:05" from an hour on.
std::string clock_text(double seconds);

// Redraws one line on a terminal (at most 5 times a second); elsewhere (logs, CI) prints
// a line every tenth of an epoch.
class ProgressBar {
 public:
  ProgressBar();
  void update(const TrainProgress& p);
  void end_epoch();

 private:
  bool tty_;
  int64_t tenth_ = -1;
  std::chrono::steady_clock::time_point drawn_{};
};

// Callbacks printing through `bar`; `after_epoch` (if any) runs after each epoch's line.
// `bar` must outlive them.
TrainCallbacks console_callbacks(ProgressBar& bar, std::function<void()> after_epoch = {});

}  // namespace xcept::cli
