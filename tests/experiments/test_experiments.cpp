// The experiment machinery's parts: aggregation on hand-computed numbers, the metrics log
// reader, spec parsing and its errors, the built-in specs, and the report tables.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "experiments/plots.h"
#include "experiments/report.h"
#include "experiments/results.h"
#include "experiments/spec.h"
#include "io_test_support.h"

using namespace xcept;
using namespace xcept::experiments;
using nlohmann::json;

namespace {

EpochResult epoch(int64_t n, double test_acc, double test_loss = 1, double train_loss = 1,
                 double seconds = 10) {
  EpochResult e;
  e.epoch = n;
  e.test_accuracy = test_acc;
  e.test_loss = test_loss;
  e.train_loss = train_loss;
  e.train_accuracy = test_acc;
  e.seconds = seconds;
  return e;
}

json small_spec() {
  return json::parse(R"({
    "name": "tiny", "title": "Tiny", "claim": "width costs accuracy",
    "model": "mini-mobilenet", "repeats": 2,
    "train": {"epochs": 2, "batch_size": 16, "lr": 0.003, "limit_train": 100},
    "variants": [
      {"name": "wide", "options": {"alpha": 0.5}},
      {"name": "narrow", "options": {"alpha": 0.25, "dropout": 0}}]})");
}

std::string spec_error(const json& j) { return test::error_of([&] { parse_spec(j, "s.json"); }); }

}  // namespace

TEST(ExperimentResults, MeanAndSampleStd) {
  const MeanStd m = mean_std({0.90, 0.92, 0.94});
  EXPECT_NEAR(m.mean, 0.92, 1e-12);
  EXPECT_NEAR(m.std, 0.02, 1e-12);  // sqrt((0.0004 + 0 + 0.0004) / 2)
  EXPECT_EQ(mean_std({0.5}).std, 0);
}

TEST(ExperimentResults, RunRecordTakesFinalBestAndTime) {
  RunRecord r = make_run_record("v", 3, {epoch(1, 0.80), epoch(2, 0.86), epoch(3, 0.84)});
  EXPECT_EQ(r.final_accuracy, 0.84);
  EXPECT_EQ(r.best_accuracy, 0.86);
  EXPECT_EQ(r.best_epoch, 2);
  EXPECT_EQ(r.train_seconds, 30);
  EXPECT_NE(test::error_of([] { make_run_record("v", 1, {}); }).find("no epochs"),
            std::string::npos);
}

TEST(ExperimentResults, SummariesCurvesAndDifferencesFromTheReference) {
  // a: finals 0.90, 0.92, 0.94 (mean 0.92, std 0.02); b: 0.80, 0.81, 0.82 (mean 0.81,
  // std 0.01); c: one run at 0.95.
  std::vector<RunRecord> runs;
  const double a[] = {0.90, 0.92, 0.94}, b[] = {0.80, 0.81, 0.82};
  for (int s = 0; s < 3; ++s) {
    runs.push_back(make_run_record("a", s, {epoch(1, a[s] - 0.1, 2.0 + s), epoch(2, a[s])}));
    runs.push_back(make_run_record("b", s, {epoch(1, 0.85), epoch(2, b[s])}));
  }
  runs.push_back(make_run_record("c", 0, {epoch(1, 0.95), epoch(2, 0.95)}));
  std::vector<VariantInfo> info = {{"a", "m", {}}, {"b", "m", {}}, {"c", "m", {}}, {"d", "m", {}}};
  info[1].cost.macs = 42;
  const auto s = summarize_variants(info, runs, 0);
  ASSERT_EQ(s.size(), 3u);  // d has no runs
  EXPECT_EQ(s[1].variant, "b");
  EXPECT_EQ(s[1].runs, 3);
  EXPECT_EQ(s[1].cost.macs, 42);
  EXPECT_NEAR(s[1].final_accuracy.mean, 0.81, 1e-12);
  EXPECT_NEAR(s[1].final_accuracy.std, 0.01, 1e-12);
  EXPECT_NEAR(s[1].best_accuracy.mean, 0.85, 1e-12);  // epoch 1 beats every final of b
  EXPECT_NEAR(s[1].delta_final, -0.11, 1e-12);
  EXPECT_NEAR(s[1].delta_se, std::sqrt(0.0004 / 3 + 0.0001 / 3), 1e-12);
  EXPECT_TRUE(s[1].beyond_spread);
  EXPECT_EQ(s[0].delta_final, 0);
  EXPECT_FALSE(s[0].beyond_spread);
  EXPECT_FALSE(s[2].beyond_spread);  // one seed: no spread to compare against
  ASSERT_EQ(s[0].curve.size(), 2u);
  EXPECT_EQ(s[0].curve[0].runs, 3);
  EXPECT_NEAR(s[0].curve[0].test_accuracy.mean, 0.82, 1e-12);
  EXPECT_NEAR(s[0].curve[0].test_loss.mean, 3.0, 1e-12);
  EXPECT_NEAR(s[0].curve[0].test_loss.std, 1.0, 1e-12);
}

TEST(ExperimentSpec, ParsesVariantsOverTheDefaults) {
  const ExperimentSpec s = parse_spec(small_spec(), "s.json");
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.repeats, 2);
  EXPECT_EQ(s.train.epochs, 2);
  EXPECT_EQ(s.train.batch_size, 16);
  EXPECT_EQ(s.train.optimizer, "adam");  // default kept
  ASSERT_EQ(s.variants.size(), 2u);
  EXPECT_EQ(s.variants[1].model, "mini-mobilenet");
  EXPECT_EQ(s.variants[1].options.alpha, 0.25);
  EXPECT_EQ(s.variants[1].options.dropout, 0.f);
  EXPECT_EQ(s.variants[0].options.dropout, -1.f);
  EXPECT_EQ(s.reference, 0u);
}

TEST(ExperimentSpec, ErrorsNameTheFileAndTheField) {
  json j = small_spec();
  j["variants"][1]["options"]["alpah"] = 1;
  EXPECT_NE(spec_error(j).find("s.json.variants[1].options: unknown option 'alpah'"),
            std::string::npos)
      << spec_error(j);
  j = small_spec();
  j["train"]["epocs"] = 3;
  EXPECT_NE(spec_error(j).find("s.json.train: unknown key 'epocs'"), std::string::npos);
  j = small_spec();
  j["variants"][1]["name"] = "wide";
  EXPECT_NE(spec_error(j).find("'wide' appears twice"), std::string::npos);
  j = small_spec();
  j["variants"][0]["model"] = "resnet";
  EXPECT_NE(spec_error(j).find("variants[0]: unknown model 'resnet'"), std::string::npos);
  j = small_spec();
  j["variants"][0]["options"]["groups"] = 4;
  j["model"] = "mini-xception";
  EXPECT_NE(spec_error(j).find("groups applies to MobileNet v1"), std::string::npos) << spec_error(j);
  j = small_spec();
  j["variants"][0]["options"]["seed"] = 4;
  EXPECT_NE(spec_error(j).find("seeds come from the repeats"), std::string::npos);
  j = small_spec();
  j["variants"][0]["options"]["order"] = "dw-pw";
  EXPECT_NE(spec_error(j).find("order must be depthwise_pointwise or pointwise_depthwise"),
            std::string::npos)
      << spec_error(j);
  j = small_spec();
  j["train"]["optimizer"] = "adagrad";
  EXPECT_NE(spec_error(j).find("s.json.train: "), std::string::npos);
  j = small_spec();
  j["reference"] = "huge";
  EXPECT_NE(spec_error(j).find("no variant is named 'huge'"), std::string::npos);
  j = small_spec();
  j["variants"][0]["name"] = "../up";
  EXPECT_NE(spec_error(j).find("'../up' must be"), std::string::npos);
  j = small_spec();
  j["repeats"] = "three";
  EXPECT_NE(spec_error(j).find("s.json.repeats: expected a number"), std::string::npos);

  test::TempDir dir;
  std::ofstream(dir.file("bad.json")) << "{\"name\": ";
  EXPECT_NE(test::error_of([&] { load_spec_file(dir.file("bad.json")); }).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { load_spec_file(dir.file("none.json")); }).find("none.json"),
            std::string::npos);
}

TEST(ExperimentSpec, TheSixBuiltInsParseAndBuild) {
  const std::vector<std::string> want = {"separable-vs-normal", "intermediate-activation",
                                         "residual",            "width",
                                         "groups",              "order"};
  EXPECT_EQ(builtin_spec_names(), want);
  for (const std::string& name : want) {
    const ExperimentSpec s = builtin_spec(name);  // parsing builds every variant once
    EXPECT_EQ(s.name, name);
    EXPECT_GE(s.repeats, 3) << name;
    EXPECT_FALSE(s.claim.empty()) << name;
    EXPECT_GE(s.variants.size(), 2u) << name;
  }
  EXPECT_NE(test::error_of([] { builtin_spec("widht"); }).find("built in: separable-vs-normal"),
            std::string::npos);
}

TEST(ExperimentReport, TablesCarryEveryRunAndVariant) {
  const ExperimentSpec spec = parse_spec(small_spec(), "s.json");
  std::vector<RunRecord> runs = {make_run_record("wide", 1, {epoch(1, 0.5), epoch(2, 0.9)}),
                                 make_run_record("wide", 2, {epoch(1, 0.5), epoch(2, 0.8)}),
                                 make_run_record("narrow", 1, {epoch(1, 0.4), epoch(2, 0.6)})};
  VariantCost wide_cost{1000, 900, 20'000'000, 1.5, 12.0};
  const auto sums = summarize_variants({{"wide", "mini-mobilenet", wide_cost},
                                        {"narrow", "mini-mobilenet", {}}},
                                       runs, 0);
  const std::string results = results_csv(runs, spec);
  EXPECT_NE(results.find("wide,mini-mobilenet,2,2,80.0000,80.0000,2,"), std::string::npos)
      << results;
  EXPECT_EQ(std::count(results.begin(), results.end(), '\n'), 4);
  const std::string summary = summary_csv(sums);
  EXPECT_NE(summary.find("wide,mini-mobilenet,2,1000,900,20000000,85.0000,7.0711,"),
            std::string::npos)
      << summary;
  const std::string curves = curves_csv(sums);
  EXPECT_NE(curves.find("narrow,2,1,60.0000,0.0000,"), std::string::npos) << curves;
  ReportContext ctx;
  ctx.train = spec.train;
  ctx.repeats = 2;
  ctx.plot_status = "plots skipped: gnuplot not found";
  const std::string md = report_markdown(spec, sums, ctx);
  EXPECT_NE(md.find("| wide | mini-mobilenet | 1.0k | 20.0M | 85.00 ± 7.07 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("-25.00 ± 5.00"), std::string::npos) << md;  // narrow: 60 vs 85
  EXPECT_NE(md.find("width costs accuracy"), std::string::npos);
  EXPECT_NE(md.find("plots skipped"), std::string::npos);
}

TEST(ExperimentPlots, ScriptPlotsEveryVariantAndSaysWhenSkipped) {
  std::vector<VariantSummary> s(2);
  s[0].variant = "relu", s[1].variant = "none";
  s[0].cost.macs = s[1].cost.macs = 5'000'000;  // equal costs: variants on the x axis
  s[0].curve = s[1].curve = {CurvePoint{1, 1, {}, {}, {}, {}}};
  const std::string g = plot_script(s, "it's");
  EXPECT_NE(g.find("names = 'relu none'"), std::string::npos) << g;
  EXPECT_NE(g.find("set title 'it''s: accuracy against cost'"), std::string::npos) << g;
  EXPECT_NE(g.find("xtic(stringcolumn(2)"), std::string::npos);
  EXPECT_NE(g.find("curves_train_loss.png"), std::string::npos);
  s[1].cost.macs = 50'000'000;
  EXPECT_NE(plot_script(s, "t").find("set logscale x"), std::string::npos);

  test::TempDir dir;
  const PlotResult r = draw_plots(dir.str(), s, "t", "/nonexistent/gnuplot");
  EXPECT_FALSE(r.drawn);
  EXPECT_NE(r.status.find("plots skipped"), std::string::npos) << r.status;
  EXPECT_TRUE(std::filesystem::exists(dir.file("plots.gp")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("plot_curves.dat")));
}
