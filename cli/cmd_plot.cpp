// `xcept plot metrics.jsonl... [--out F.png]`: the loss and accuracy curves of one or more
// training runs in one picture (gnuplot; see xcept/plot.h).
#include <fmt/format.h>

#include "cli/commands.h"
#include "xcept/plot.h"

namespace xcept::cli {

void add_plot_command(CLI::App& app) {
  struct Options {
    std::vector<std::string> files, labels;
    std::string out = "curves.png", title;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("plot", "draw the loss and accuracy curves of training runs (gnuplot)");
  cmd->add_option("metrics", o->files, "metrics.jsonl files written by `xcept train`")->required();
  cmd->add_option("--out,-o", o->out, "picture to write: .png or .svg")->capture_default_str();
  cmd->add_option("--title", o->title, "title (default: the runs' folder names)");
  cmd->add_option("--label", o->labels, "legend name of each run, in order")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->callback([o] {
    PlotOptions po;
    po.title = o->title;
    po.labels = o->labels;
    plot_metrics(o->files, o->out, po);
    fmt::print("{}: curves of {} run(s)\n", o->out, o->files.size());
  });
}

}  // namespace xcept::cli
