// Experiments end to end on a small synthetic dataset: every (variant, seed) run trained
// in its own folder, tables and plots written; a rerun reuses finished runs; a run
// interrupted mid-epoch (an exception from a callback in-process, kill -9 of the CLI)
// resumes to the results of an unbroken experiment; a changed configuration is refused.
// And one built-in experiment --quick on Fashion-MNIST through the CLI, as CI runs it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_support.h"
#include "core/threadpool.h"
#include "experiments/runner.h"
#include "io_test_support.h"
#include "process_test_support.h"
#include "quadrant_data_support.h"

using namespace xcept;
using namespace xcept::experiments;
namespace fs = std::filesystem;

namespace {

const char* kSpec = R"({
  "name": "quad", "title": "Quadrants", "claim": "shuffle helps groups",
  "model": "mini-mobilenet", "repeats": 2,
  "train": {"epochs": 2, "batch_size": 32, "lr": 0.003, "seed": 5},
  "variants": [
    {"name": "dw", "options": {"alpha": 0.25}},
    {"name": "g2-shuffle", "options": {"alpha": 0.25, "groups": 2, "channel_shuffle": true}}]})";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// results.csv without the train_seconds column (timings differ from run to run).
std::string results_without_time(const std::string& dir) {
  std::stringstream in(read_text(dir + "/results.csv")), out;
  for (std::string line; std::getline(in, line);) out << line.substr(0, line.rfind(',')) << "\n";
  return out.str();
}

class ExperimentRun : public ::testing::Test {
 protected:
  // One thread: these models are so small that every parallel region is microseconds, and
  // on a loaded machine waiting for a second thread costs more than the work.
  void SetUp() override {
    threads_ = num_threads();
    set_num_threads(1);
    data_ = tmp_.str() + "/data";
    fs::create_directories(data_);
    test::write_quadrant_idx(data_, "train", 256, 1);
    test::write_quadrant_idx(data_, "t10k", 64, 2);
    spec_ = parse_spec(nlohmann::json::parse(kSpec), "quad.json");
  }
  void TearDown() override { set_num_threads(threads_); }
  RunOptions options(const std::string& out) const {
    RunOptions o;
    o.data_dir = data_;
    o.out_dir = tmp_.str() + "/" + out;
    o.latency_runs = 2;
    return o;
  }
  test::TempDir tmp_;
  std::string data_;
  ExperimentSpec spec_;
  int threads_ = 1;
};

}  // namespace

TEST_F(ExperimentRun, TrainsEveryVariantAndSeedThenReusesThem) {
  std::vector<int> runs_seen;
  double last_eta = -1;
  ExperimentCallbacks cb;
  cb.on_progress = [&](const ExperimentProgress& p) {
    EXPECT_EQ(p.runs, 4);
    if (runs_seen.empty() || runs_seen.back() != p.run) runs_seen.push_back(p.run);
    last_eta = p.eta_s;
  };
  const RunOptions o = options("out");
  ExperimentResult r = run_experiment(spec_, o, cb);
  EXPECT_EQ(runs_seen, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_GE(last_eta, 0);
  EXPECT_EQ(r.runs_trained, 4);
  ASSERT_EQ(r.runs.size(), 4u);
  ASSERT_EQ(r.summaries.size(), 2u);
  for (const auto& s : r.summaries) {
    EXPECT_EQ(s.runs, 2);
    EXPECT_GT(s.final_accuracy.mean, 0.5) << s.variant;  // chance is 0.25
    EXPECT_GT(s.cost.macs, 0);
    EXPECT_GT(s.cost.latency_batch1_ms, 0);
    EXPECT_GT(s.cost.latency_batch32_ms, 0);
    ASSERT_EQ(s.curve.size(), 2u);
  }
  // Grouped blocks cost less than the separable ones' pointwise steps at this width?
  // Not asserted: what matters is that each variant is counted on its own graph.
  EXPECT_NE(r.summaries[0].cost.params, r.summaries[1].cost.params);
  for (const char* v : {"dw", "g2-shuffle"})
    for (const char* seed : {"seed-5", "seed-6"}) {
      const std::string d = o.out_dir + "/" + v + "/" + seed;
      for (const char* f : {"run.json", "result.json", "best.ckpt", "last.ckpt", "metrics.jsonl"})
        EXPECT_TRUE(fs::exists(d + "/" + f)) << d << "/" << f;
    }
  const std::string results = read_text(o.out_dir + "/results.csv");
  EXPECT_EQ(std::count(results.begin(), results.end(), '\n'), 5);
  EXPECT_NE(results.find("g2-shuffle,mini-mobilenet,6,2,"), std::string::npos) << results;
  const std::string summary = read_text(o.out_dir + "/summary.csv");
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 3);
  const std::string report = read_text(o.out_dir + "/report.md");
  EXPECT_NE(report.find("| g2-shuffle | mini-mobilenet |"), std::string::npos) << report;
  EXPECT_NE(report.find("shuffle helps groups"), std::string::npos);
  if (r.plotted) {
    for (const char* png : {"accuracy_vs_macs.png", "curves_test_accuracy.png",
                            "curves_train_loss.png", "curves_test_loss.png"}) {
      EXPECT_EQ(read_text(o.out_dir + "/" + png).substr(0, 4), "\x89PNG") << png;
      EXPECT_NE(report.find(std::string("](") + png + ")"), std::string::npos);
    }
  } else {
    EXPECT_NE(r.plot_status.find("skipped"), std::string::npos) << r.plot_status;
  }

  // The same call again: nothing to train, the same tables.
  ExperimentResult again = run_experiment(spec_, o);
  EXPECT_EQ(again.runs_trained, 0);
  EXPECT_EQ(again.runs_reused, 4);
  EXPECT_EQ(read_text(o.out_dir + "/results.csv"), results);

  // A different configuration into the same folder is refused, naming what changed.
  RunOptions more = o;
  more.epochs = 3;
  const std::string msg = test::error_of([&] { run_experiment(spec_, more); });
  EXPECT_NE(msg.find("another configuration"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"epochs\":3"), std::string::npos) << msg;
}

TEST_F(ExperimentRun, InterruptedRunResumesToTheUnbrokenResults) {
  RunOptions whole = options("whole"), broken = options("broken");
  whole.gnuplot = broken.gnuplot = "";  // plots are tested above
  run_experiment(spec_, whole);

  // Die in the first epoch of the third run, with a checkpoint after every step (the
  // trainer's mid-epoch checkpoints, as --checkpoint-minutes writes them on a long run):
  // the on_progress call for batch 3 comes before that batch's checkpoint, so the run
  // resumes after batch 2 of epoch 1.
  broken.checkpoint_minutes = 1e-9;
  ExperimentCallbacks crash;
  crash.on_progress = [](const ExperimentProgress& p) {
    if (p.run == 3 && p.epoch == 0 && p.batch == 3) throw std::runtime_error("power cut");
  };
  EXPECT_THROW(run_experiment(spec_, broken, crash), std::runtime_error);
  const std::string third = broken.out_dir + "/g2-shuffle/seed-5";
  ASSERT_TRUE(fs::exists(third + "/last.ckpt"));
  ASSERT_FALSE(fs::exists(third + "/result.json"));
  ASSERT_FALSE(fs::exists(broken.out_dir + "/g2-shuffle/seed-6"));

  std::vector<std::string> notes;
  ExperimentCallbacks cb;
  cb.on_note = [&](const std::string& s) { notes.push_back(s); };
  ExperimentResult r = run_experiment(spec_, broken, cb);
  EXPECT_EQ(r.runs_reused, 2);
  EXPECT_EQ(r.runs_trained, 2);
  bool resumed = false;
  for (const std::string& n : notes) resumed |= n.find("at epoch 1, batch 2") != std::string::npos;
  EXPECT_TRUE(resumed) << ::testing::PrintToString(notes);
  EXPECT_EQ(results_without_time(broken.out_dir), results_without_time(whole.out_dir));
}

TEST_F(ExperimentRun, KilledCommandContinuesWhereItStopped) {
  test::write_quadrant_idx(data_, "train", 1024, 3);  // long enough to be killed mid-way
  const std::string spec_file = tmp_.str() + "/quad.json";
  std::ofstream(spec_file) << kSpec;
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{XCEPT_CLI_PATH, "experiment",     "--spec",  spec_file,
                                    "--data",       data_,            "--out",   out,
                                    "--threads",    "1",              "--no-plots",
                                    "--latency-runs", "1"};
  };
  const std::string killed = tmp_.str() + "/killed", unbroken = tmp_.str() + "/unbroken";
  pid_t victim = test::spawn_process(args(killed));
  ASSERT_GT(victim, 0);  // never kill(-1, ...)
  test::poll_until([&] { return fs::exists(killed + "/dw/seed-5/last.ckpt"); },
                   std::chrono::minutes(5));
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  ASSERT_TRUE(WIFSIGNALED(test::wait_process(victim)))
      << "the experiment ended before it was killed";
  ASSERT_FALSE(fs::exists(killed + "/results.csv"));

  ASSERT_EQ(WEXITSTATUS(test::wait_process(test::spawn_process(args(killed)))), 0);
  ASSERT_EQ(WEXITSTATUS(test::wait_process(test::spawn_process(args(unbroken)))), 0);
  EXPECT_EQ(results_without_time(killed), results_without_time(unbroken));
}

TEST(ExperimentCli, BuiltInQuickRunOnFashionMnist) {
  const std::string data = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(data + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << data << " not installed (Debian package dataset-fashion-mnist)";
  test::TempDir tmp;
  const test::CliRun r = test::run_cli("experiment width --quick --threads 2 --out " + tmp.str());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("4 variants x 1 seeds = 4 runs of 1 epoch(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 run(s) trained, 0 reused"), std::string::npos) << r.out;
  // Parameters fall with the width multiplier, variant by variant.
  std::stringstream summary(read_text(tmp.str() + "/summary.csv"));
  std::string line;
  std::getline(summary, line);
  int64_t last = INT64_MAX;
  int rows = 0;
  while (std::getline(summary, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
    ASSERT_GE(f.size(), 8u) << line;
    EXPECT_EQ(f[0], std::vector<std::string>({"alpha-1.0", "alpha-0.75", "alpha-0.5",
                                              "alpha-0.25"})[size_t(rows)]);
    EXPECT_LT(std::stoll(f[3]), last) << line;
    last = std::stoll(f[3]);
    EXPECT_GT(std::stod(f[6]), 10) << line;  // better than chance after one small epoch
    ++rows;
  }
  EXPECT_EQ(rows, 4);
  const std::string report = read_text(tmp.str() + "/report.md");
  EXPECT_NE(report.find("512 training and 512 test images"), std::string::npos) << report;
  EXPECT_NE(report.find("Table 6"), std::string::npos);
  EXPECT_NE(report.find("xcept experiment width"), std::string::npos);
}
