// The experiment's plots, drawn by gnuplot from a generated script (plots.gp) and data
// files in the output folder, as PNG (pngcairo):
//   accuracy_vs_macs.png      final test accuracy (mean, error bars: std over seeds)
//                             against MACs per image (log scale), one labelled point per
//                             variant; when all variants cost the same within 10% the x
//                             axis lists the variants instead
//   curves_test_accuracy.png  test accuracy per epoch, mean line and a +-std band
//   curves_train_loss.png     training loss per epoch, the same way
//   curves_test_loss.png      test loss per epoch, the same way
// The script stays in the folder, so `gnuplot plots.gp` there redraws them. gnuplot runs
// through io/gnuplot, as for the training curves. Without a gnuplot on PATH the data and
// script are still written and the status says so (the library prints nothing; the
// caller shows the status).
#pragma once

#include <string>
#include <vector>

#include "experiments/results.h"

namespace xcept::experiments {

struct PlotResult {
  bool drawn = false;
  std::string status;               // "drew 4 plots" or why none were drawn
  std::vector<std::string> images;  // file names, relative to the folder
};

// The gnuplot script for `summaries` (reads plot_points.dat and plot_curves.dat).
std::string plot_script(const std::vector<VariantSummary>& summaries, const std::string& title);

// Writes the data files and plots.gp into `dir`, then runs `gnuplot` (a name looked up
// on PATH, or a path; empty: skip drawing) there; its error output goes into the status.
PlotResult draw_plots(const std::string& dir, const std::vector<VariantSummary>& summaries,
                      const std::string& title, const std::string& gnuplot = "gnuplot");

}  // namespace xcept::experiments
