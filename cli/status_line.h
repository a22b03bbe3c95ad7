// One line of progress on stderr, for `xcept train` and `xcept experiment`: redrawn in
// place on a terminal, printed as a line of its own elsewhere (logs, CI). The callers
// decide how often; this knows how.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/clock.h"

namespace xcept::cli {

class StatusLine {
 public:
  StatusLine() : tty_(isatty(fileno(stderr))) {}

  bool tty() const { return tty_; }
  // Milliseconds since show() last drew (large before the first time).
  double ms_since_shown() const { return ms_since(shown_); }

  void show(const std::string& line) {
    shown_ = Clock::now();
    if (tty_) fmt::print(stderr, "\r{}\033[K", line);
    else fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);
  }

  // On a terminal, ends the line being redrawn: `keep` leaves it standing (a newline),
  // otherwise it is erased (before other output takes its place).
  void finish(bool keep) {
    if (tty_) std::fputs(keep ? "\n" : "\r\033[K", stderr);
  }

 private:
  bool tty_;
  Clock::time_point shown_{};
};

}  // namespace xcept::cli
