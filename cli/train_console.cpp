#include "cli/train_console.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "core/clock.h"

namespace xcept::cli {

void ProgressBar::update(const TrainProgress& p) {
  const bool last = p.batch == p.batches;
  if (line_.tty()) {
    if (!last && line_.ms_since_shown() < 200) return;
  } else {
    int64_t tenth = p.batch * 10 / std::max<int64_t>(p.batches, 1);
    if (!last && tenth == tenth_) return;
    tenth_ = tenth;
  }
  constexpr int kWidth = 24;
  int filled = int(kWidth * p.batch / std::max<int64_t>(p.batches, 1));
  std::string bar(size_t(filled), '#');
  bar.resize(kWidth, '.');
  line_.show(fmt::format(
      "epoch {}/{} [{}] {}/{}  {:.0f} img/s  loss {:.4f}  acc {:.2f}%  lr {:.3g}  left {}",
      p.epoch + 1, p.epochs, bar, p.batch, p.batches, p.images_per_s, p.loss, 100 * p.accuracy,
      p.lr, clock_text(p.eta_s)));
}

void ProgressBar::end_epoch() {
  line_.finish(true);
  tenth_ = -1;
}

TrainCallbacks console_callbacks(ProgressBar& bar, std::function<void()> after_epoch) {
  TrainCallbacks cb;
  cb.on_note = [](const std::string& s) { fmt::print("{}\n", s); };
  cb.on_batch = [&bar](const TrainProgress& p) { bar.update(p); };
  cb.on_epoch = [&bar, after_epoch = std::move(after_epoch)](const EpochResult& e) {
    bar.end_epoch();
    fmt::print("epoch {:>3}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc {:.2f}%  "
               "{:.0f} img/s  {}{}\n",
               e.epoch, e.train_loss, 100 * e.train_accuracy, e.test_loss, 100 * e.test_accuracy,
               e.images_per_s, clock_text(e.seconds), e.best ? "  (best)" : "");
    std::fflush(stdout);
    if (after_epoch) after_epoch();
  };
  return cb;
}

}  // namespace xcept::cli
