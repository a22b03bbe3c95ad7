// Training curves: the generated gnuplot script, pictures when gnuplot is installed, and
// training that goes on (saying so once) when it is not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_support.h"
#include "io_test_support.h"
#include "quadrant_data_support.h"
#include "xcept/plot.h"

using namespace xcept;
namespace fs = std::filesystem;

namespace {

void write_metrics(const std::string& path, int epochs) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path);
  for (int e = 1; e <= epochs; ++e)
    f << "{\"epoch\": " << e << ", \"train_loss\": " << 1.0 / e << ", \"test_loss\": " << 1.1 / e
      << ", \"train_accuracy\": " << 0.5 + 0.1 * e << ", \"test_accuracy\": " << 0.45 + 0.1 * e
      << "}\n";
}

bool have_gnuplot() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

std::string head(const std::string& path, size_t n) {
  std::ifstream f(path, std::ios::binary);
  std::string s(n, '\0');
  f.read(s.data(), std::streamsize(n));
  return s.substr(0, size_t(f.gcount()));
}

}  // namespace

TEST(Plot, ScriptHoldsEveryRunAndItsData) {
  test::TempDir tmp;
  write_metrics(tmp.file("fast/metrics.jsonl"), 3);
  write_metrics(tmp.file("slow/metrics.jsonl"), 2);
  const std::string s =
      metrics_plot_script({tmp.file("fast/metrics.jsonl"), tmp.file("slow/metrics.jsonl")},
                          tmp.file("both.svg"));
  EXPECT_NE(s.find("$run0 << EOD\n# epoch"), std::string::npos) << s;
  EXPECT_NE(s.find("\n3 0.333333 0.366667 0.8 0.75\n"), std::string::npos) << s;
  EXPECT_NE(s.find("$run1 << EOD"), std::string::npos) << s;
  EXPECT_NE(s.find("set terminal svg"), std::string::npos) << s;
  EXPECT_NE(s.find("title \"slow test\""), std::string::npos) << s;  // legends: folder names
  EXPECT_NE(s.find("title \"fast train\""), std::string::npos) << s;

  const std::string bad_ext = test::error_of([&] {
    metrics_plot_script({tmp.file("fast/metrics.jsonl")}, tmp.file("c.gif"));
  });
  EXPECT_NE(bad_ext.find(".png or .svg"), std::string::npos) << bad_ext;
  std::ofstream(tmp.file("broken.jsonl")) << "{\"epoch\": 1}\nnot json\n";
  const std::string bad = test::error_of([&] { metrics_plot_script({tmp.file("broken.jsonl")}, "x.png"); });
  EXPECT_NE(bad.find("broken.jsonl:2"), std::string::npos) << bad;
}

TEST(Plot, MissingGnuplotIsItsOwnError) {
  test::TempDir tmp;
  write_metrics(tmp.file("run/metrics.jsonl"), 2);
  PlotOptions o;
  o.gnuplot = "/nonexistent/gnuplot";
  EXPECT_THROW(plot_metrics({tmp.file("run/metrics.jsonl")}, tmp.file("c.png"), o), PlotterMissing);
  EXPECT_FALSE(fs::exists(tmp.file("c.png")));
}

TEST(Plot, DrawsPngAndSvgWithGnuplot) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed (scripts/setup.sh installs gnuplot-nox)";
  test::TempDir tmp;
  write_metrics(tmp.file("run/metrics.jsonl"), 4);
  plot_metrics({tmp.file("run/metrics.jsonl")}, tmp.file("c.png"));
  EXPECT_EQ(head(tmp.file("c.png"), 8), "\x89PNG\r\n\x1a\n");
  EXPECT_TRUE(fs::exists(tmp.file("c.gp")));  // the script, kept for redrawing by hand
  plot_metrics({tmp.file("run/metrics.jsonl")}, tmp.file("c.svg"));
  EXPECT_NE(head(tmp.file("c.svg"), 200).find("<svg"), std::string::npos);
  for (const auto& e : fs::directory_iterator(tmp.str()))  // no temporary left behind
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(Plot, TrainDrawsCurvesOrSaysOnceWhyNot) {
  test::TempDir tmp;
  const std::string data = tmp.file("data");
  fs::create_directories(data);
  test::write_quadrant_idx(data, "train", 64, 1);
  test::write_quadrant_idx(data, "t10k", 16, 2);
  const std::string args = "train --model mini-mobilenet --alpha 0.25 --epochs 2 --batch-size 16 --data " +
                           data + " --out ";
  // Without gnuplot on PATH: trained all the same, one note.
  const auto r = test::run_cli(args + tmp.file("a"), true, "PATH=/nonexistent");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(tmp.file("a/last.ckpt")));
  size_t notes = 0;
  for (size_t p = r.out.find("without curves"); p != std::string::npos; p = r.out.find("without curves", p + 1))
    ++notes;
  EXPECT_EQ(notes, 1u) << r.out;
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  ASSERT_EQ(test::run_cli(args + tmp.file("b") + " --plot svg").status, 0);
  EXPECT_NE(head(tmp.file("b/curves.svg"), 200).find("<svg"), std::string::npos);
  const auto plot = test::run_cli("plot " + tmp.file("a/metrics.jsonl") + " " +
                                  tmp.file("b/metrics.jsonl") + " --out " + tmp.file("ab.png"));
  ASSERT_EQ(plot.status, 0) << plot.out;
  EXPECT_EQ(head(tmp.file("ab.png"), 4), "\x89PNG");
}
