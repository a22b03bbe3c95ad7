#include "experiments/plots.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"

extern char** environ;

namespace xcept::experiments {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPoints = "plot_points.dat";
constexpr const char* kCurves = "plot_curves.dat";
constexpr const char* kScript = "plots.gp";
constexpr const char* kLog = "plots.log";

// A gnuplot single-quoted string: only the quote itself needs escaping (doubled).
std::string gp_string(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("''") : std::string(1, c);
  return r + "'";
}

std::string points_data(const std::vector<VariantSummary>& summaries) {
  std::string d =
      "# index variant MACs(millions) final_acc_mean final_acc_std best_acc_mean best_acc_std "
      "(accuracies in %, std over seeds)\n";
  for (size_t i = 0; i < summaries.size(); ++i) {
    const VariantSummary& s = summaries[i];
    d += fmt::format("{} \"{}\" {:.6g} {:.4f} {:.4f} {:.4f} {:.4f}\n", i, s.variant,
                     double(s.cost.macs) * 1e-6, 100 * s.final_accuracy.mean,
                     100 * s.final_accuracy.std, 100 * s.best_accuracy.mean,
                     100 * s.best_accuracy.std);
  }
  return d;
}

// One block per variant, blocks separated by two blank lines (gnuplot's `index`).
std::string curves_data(const std::vector<VariantSummary>& summaries) {
  std::string d;
  for (const VariantSummary& s : summaries) {
    d += fmt::format(
        "# {}\n# epoch test_acc_mean test_acc_std train_loss_mean train_loss_std "
        "test_loss_mean test_loss_std runs\n",
        s.variant);
    for (const CurvePoint& p : s.curve)
      d += fmt::format("{} {:.4f} {:.4f} {:.6f} {:.6f} {:.6f} {:.6f} {}\n", p.epoch,
                       100 * p.test_accuracy.mean, 100 * p.test_accuracy.std, p.train_loss.mean,
                       p.train_loss.std, p.test_loss.mean, p.test_loss.std, p.runs);
    d += "\n\n";
  }
  return d;
}

// A curve plot: a +-std band and a mean line per variant, columns `mean` and mean+1.
std::string curve_plot(const std::string& file, const std::string& title, const std::string& ylabel,
                       int mean_column) {
  const int m = mean_column, sd = mean_column + 1;
  return fmt::format(
      "set output '{}'\n"
      "set title {}\n"
      "set xlabel 'epoch'\n"
      "set ylabel {}\n"
      "plot for [i=0:n-1] '{}' index i using 1:(${}-${}):(${}+${}) with filledcurves lc (i+1) "
      "notitle, \\\n"
      "     for [i=0:n-1] '{}' index i using 1:{} with linespoints lc (i+1) pt 7 ps 0.6 "
      "title word(names, i+1)\n\n",
      file, gp_string(title), gp_string(ylabel), kCurves, m, sd, m, sd, kCurves, m);
}

// The first executable `name` on PATH (or `name` itself when it holds a '/').
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string first_lines(const std::string& path, int n) {
  std::ifstream in(path);
  std::string text, line;
  for (int i = 0; i < n && std::getline(in, line); ++i) text += (i ? " | " : "") + line;
  return text;
}

// Runs `program script` in `dir`, stdin from /dev/null, stdout and stderr into the log.
int run_in(const std::string& dir, const std::string& program, const std::string& script,
           const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  std::vector<std::string> args = {program, script};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string plot_script(const std::vector<VariantSummary>& summaries, const std::string& title) {
  std::string names;
  int64_t lo = INT64_MAX, hi = 0;
  size_t epochs = 0;
  for (const VariantSummary& s : summaries) {
    names += (names.empty() ? "" : " ") + s.variant;
    lo = std::min(lo, s.cost.macs);
    hi = std::max(hi, s.cost.macs);
    epochs = std::max(epochs, s.curve.size());
  }
  std::string g = fmt::format(
      "# Generated by `xcept experiment`; `gnuplot plots.gp` in this folder redraws the plots.\n"
      "set terminal pngcairo size 900,560 noenhanced font ',10'\n"
      "set grid\n"
      "set key outside right top\n"
      "set style fill transparent solid 0.15 noborder\n"
      "names = {}\n"
      "n = {}\n\n",
      gp_string(names), summaries.size());

  g += fmt::format(
      "set output 'accuracy_vs_macs.png'\n"
      "set title {}\n"
      "set ylabel 'test accuracy after the last epoch (%), mean +- std over seeds'\n",
      gp_string(title + ": accuracy against cost"));
  if (summaries.empty() || double(hi) > 1.1 * double(lo)) {
    g += fmt::format(
        "set xlabel 'MACs per image (millions, log scale)'\n"
        "set logscale x 2\n"
        "set format x '%g'\n"
        "set offsets 0, 0, graph 0.1, graph 0.1\n"
        "set xrange [{:.6g}:{:.6g}]\n"
        "plot '{}' using 3:4:5 with yerrorbars pt 7 lc rgb '#1f5fa8' title 'mean +- std', \\\n"
        "     '' using 3:4:2 with labels left offset char 0.8,0.8 notitle\n"
        "unset logscale x\n"
        "set format x '%g'\n"
        "set offsets 0, 0, 0, 0\n"
        "set autoscale x\n\n",
        double(lo) * 1e-6 / 1.3, double(hi) * 1e-6 * 1.3, kPoints);
  } else {
    g += fmt::format(
        "set xlabel 'variant (MACs per image: all within 10%)'\n"
        "set xrange [-0.5:n-0.5]\n"
        "set xtics rotate by -20\n"
        "set offsets 0, 0, graph 0.1, graph 0.1\n"
        "plot '{}' using 1:4:5:xtic(stringcolumn(2).sprintf(' (%.2fM)', $3)) with yerrorbars "
        "pt 7 lc rgb '#1f5fa8' title 'mean +- std'\n"
        "set xtics norotate autofreq\n"
        "set offsets 0, 0, 0, 0\n"
        "set autoscale x\n\n",
        kPoints);
  }
  if (epochs <= 20) g += "set xtics 1\n";
  g += curve_plot("curves_test_accuracy.png", title + ": test accuracy",
                  "test accuracy (%), mean +- std over seeds", 2);
  g += curve_plot("curves_train_loss.png", title + ": training loss",
                  "training loss (epoch mean), mean +- std over seeds", 4);
  g += curve_plot("curves_test_loss.png", title + ": test loss",
                  "test loss, mean +- std over seeds", 6);
  return g;
}

PlotResult draw_plots(const std::string& dir, const std::vector<VariantSummary>& summaries,
                      const std::string& title, const std::string& gnuplot) {
  write_file_atomic((fs::path(dir) / kPoints).string(), points_data(summaries));
  write_file_atomic((fs::path(dir) / kCurves).string(), curves_data(summaries));
  write_file_atomic((fs::path(dir) / kScript).string(), plot_script(summaries, title));
  PlotResult r;
  const std::vector<std::string> images = {"accuracy_vs_macs.png", "curves_test_accuracy.png",
                                           "curves_train_loss.png", "curves_test_loss.png"};
  const std::string program = gnuplot.empty() ? "" : find_program(gnuplot);
  if (program.empty()) {
    r.status = fmt::format("plots skipped: {} not found (install gnuplot-nox, then run "
                           "`gnuplot plots.gp` in {})",
                           gnuplot.empty() ? "no gnuplot given" : gnuplot, dir);
    return r;
  }
  for (const std::string& img : images) fs::remove(fs::path(dir) / img);
  const std::string log = (fs::path(dir) / kLog).string();
  const int rc = run_in(dir, program, kScript, log);
  for (const std::string& img : images)
    if (fs::exists(fs::path(dir) / img)) r.images.push_back(img);
  if (rc != 0 || r.images.size() != images.size()) {
    r.status = fmt::format("plots failed: {} exited with {} and drew {} of {} images; {}: {}",
                           program, rc, r.images.size(), images.size(), log, first_lines(log, 3));
    return r;
  }
  r.drawn = true;
  r.status = fmt::format("drew {} plots with {}", images.size(), program);
  return r;
}

}  // namespace xcept::experiments
