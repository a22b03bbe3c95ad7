// Loss and accuracy curves of training runs, drawn by gnuplot (Debian: gnuplot-nox) from
// their metrics.jsonl files: loss on the left, accuracy on the right, test solid and
// train dashed, one colour per run. The format follows the output's name: .png or .svg.
// The generated gnuplot script (data inline) is kept beside the picture as <name>.gp, so
// a curve can be restyled by hand and redrawn with `gnuplot <name>.gp`.
#pragma once

#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/error.h"

namespace xcept {

// gnuplot could not be started (not installed, or not on PATH).
class XCEPT_API PlotterMissing : public Error {
 public:
  using Error::Error;
  ~PlotterMissing() override;
};

struct PlotOptions {
  std::string gnuplot = "gnuplot";  // the program, looked up on PATH
  std::string title;                // default: the runs' names
  // One name per metrics file for the legend; default: each file's folder name.
  std::vector<std::string> labels;
};

// The script plot_metrics runs. Throws xcept::Error naming the file and line of a
// metrics line that is not a JSON object with an integer "epoch", or whose epochs do not
// run 1, 2, 3, ... (numbers a line lacks are left out of the curves).
XCEPT_API std::string metrics_plot_script(const std::vector<std::string>& metrics_files,
                                          const std::string& out, const PlotOptions& options = {});

// Draws the picture into `out` (written under a temporary name and renamed: a reader
// never sees half a picture). Throws PlotterMissing when gnuplot cannot be started, and
// xcept::Error with gnuplot's own message when it fails.
XCEPT_API void plot_metrics(const std::vector<std::string>& metrics_files, const std::string& out,
                            const PlotOptions& options = {});

}  // namespace xcept
