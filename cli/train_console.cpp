#include "cli/train_console.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace xcept::cli {

std::string clock_text(double seconds) {
  int64_t s = int64_t(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

ProgressBar::ProgressBar() : tty_(isatty(fileno(stderr))) {}

void ProgressBar::update(const TrainProgress& p) {
  const auto now = std::chrono::steady_clock::now();
  const bool last = p.batch == p.batches;
  if (tty_) {
    if (!last && now - drawn_ < std::chrono::milliseconds(200)) return;
  } else {
    int64_t tenth = p.batch * 10 / std::max<int64_t>(p.batches, 1);
    if (!last && tenth == tenth_) return;
    tenth_ = tenth;
  }
  drawn_ = now;
  constexpr int kWidth = 24;
  int filled = int(kWidth * p.batch / std::max<int64_t>(p.batches, 1));
  std::string bar(size_t(filled), '#');
  bar.resize(kWidth, '.');
  std::string line = fmt::format(
      "epoch {}/{} [{}] {}/{}  {:.0f} img/s  loss {:.4f}  acc {:.2f}%  lr {:.3g}  left {}",
      p.epoch + 1, p.epochs, bar, p.batch, p.batches, p.images_per_s, p.loss, 100 * p.accuracy,
      p.lr, clock_text(p.eta_s));
  if (tty_) fmt::print(stderr, "\r{}\033[K", line);
  else fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

void ProgressBar::end_epoch() {
  if (tty_) fmt::print(stderr, "\n");
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
