// `xcept train` redraws its loss and accuracy curves into the output folder after every
// epoch (xcept/plot.h). Training never stops for a picture: when gnuplot is missing or
// fails, it says so once and goes on without curves.
#pragma once

#include <string>

namespace xcept::cli {

class CurvePlotter {
 public:
  // format: "png", "svg" or "none".
  CurvePlotter(std::string out_dir, std::string format);
  void epoch_done();

 private:
  std::string out_dir_, format_;
  bool off_;
};

}  // namespace xcept::cli
