#include "cli/curve_plotter.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "xcept/plot.h"

namespace xcept::cli {

CurvePlotter::CurvePlotter(std::string out_dir, std::string format)
    : out_dir_(std::move(out_dir)), format_(std::move(format)), off_(format_ == "none") {
  if (format_ != "png" && format_ != "svg" && format_ != "none")
    throw CLI::ValidationError("--plot", "must be png, svg or none");
}

void CurvePlotter::epoch_done() {
  if (off_) return;
  const std::filesystem::path dir(out_dir_);
  const std::string picture = (dir / ("curves." + format_)).string();
  try {
    plot_metrics({(dir / "metrics.jsonl").string()}, picture);
  } catch (const PlotterMissing& e) {
    fmt::print(stderr, "note: {}; training goes on without curves\n", e.what());
    off_ = true;
  } catch (const Error& e) {
    fmt::print(stderr, "warning: no curves: {}\n", e.what());
    off_ = true;
  }
}

}  // namespace xcept::cli
