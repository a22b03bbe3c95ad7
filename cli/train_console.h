// What a training run prints on the console, for `xcept train` and the fine-tuning of
// `xcept prune`: notes and a line per epoch on stdout, a progress bar on stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cli/status_line.h"
#include "train/trainer.h"

namespace xcept::cli {

// Redraws one line on a terminal (at most 5 times a second); elsewhere (logs, CI) prints
// a line every tenth of an epoch.
class ProgressBar {
 public:
  void update(const TrainProgress& p);
  void end_epoch();

 private:
  StatusLine line_;
  int64_t tenth_ = -1;
};

// Callbacks printing through `bar`; `after_epoch` (if any) runs after each epoch's line.
// `bar` must outlive them.
TrainCallbacks console_callbacks(ProgressBar& bar, std::function<void()> after_epoch = {});

}  // namespace xcept::cli
