// Structured pruning: which channels can go in each zoo family, that the pruned network
// computes what the original does when the removed channels carried nothing (so every
// weight slice went where it belongs), exact counts, ratio 0 as the identity, and the
// pruned checkpoint through load, eval, summary, bench, export and fine-tuning.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/model_summary.h"
#include "cli_test_support.h"
#include "io/checkpoint.h"
#include "io_test_support.h"
#include "layer_test_support.h"
#include "layers/batch_norm.h"
#include "layers/conv_layers.h"
#include "layers/dense.h"
#include "models/widths.h"
#include "test_support.h"
#include "train/checkpoint_model.h"
#include "train/model_config.h"
#include "train/prune.h"
#include "trained_model_support.h"

using namespace xcept;

namespace {

models::ModelOptions small_options(SeparableOrder order = SeparableOrder::depthwise_pointwise) {
  models::ModelOptions o;
  o.input_size = 16;
  o.input_channels = 1;
  o.classes = 10;
  o.alpha = 0.25;
  o.order = order;
  o.seed = 11;
  return o;
}

void fill(Tensor& t, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng);
}

// Batch-norm statistics and affine parameters away from their defaults (mean 0, var 1,
// gamma 1, beta 0), so entries copied to the wrong channel change the output.
void randomize_batch_norms(Graph& g, uint32_t seed) {
  std::mt19937 rng(seed);
  for (NodeId n = 0; n < g.num_nodes(); ++n)
    if (auto* bn = dynamic_cast<BatchNorm*>(g.layer(n))) {
      fill(bn->gamma, rng, 0.5f, 1.5f);
      fill(bn->beta, rng, -0.5f, 0.5f);
      fill(bn->moving_mean, rng, -0.3f, 0.3f);
      fill(bn->moving_variance, rng, 0.5f, 2.f);
    }
}

void zero_last_axis(Tensor& t, const std::vector<int64_t>& channels) {
  if (t.empty()) return;
  const int64_t m = t.dims().back();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::find(channels.begin(), channels.end(), i % m) != channels.end()) t[i] = 0.f;
}

// Makes `dead` channels of group `c` exactly zero wherever they flow: the producer's
// filters and bias, and every member's affine part (batch norm gamma and beta, a
// depthwise convolution's bias). Both criteria then rank them last.
void kill_channels(Graph& g, const ChannelGroup& c, const std::vector<int64_t>& dead) {
  Layer* p = g.layer(c.producer);
  if (auto* conv = dynamic_cast<Conv2dLayer*>(p)) {
    zero_last_axis(conv->conv().weight, dead);
    zero_last_axis(conv->conv().bias, dead);
  } else if (auto* sep = dynamic_cast<SeparableConv2dLayer*>(p)) {
    zero_last_axis(sep->separable().pointwise.weight, dead);
    zero_last_axis(sep->separable().pointwise.bias, dead);
    zero_last_axis(sep->separable().depthwise.bias, dead);  // pointwise first: after it
  } else if (auto* d = dynamic_cast<Dense*>(p)) {
    zero_last_axis(d->weight, dead);
    zero_last_axis(d->bias, dead);
  }
  for (NodeId m : c.members) {
    if (auto* bn = dynamic_cast<BatchNorm*>(g.layer(m))) {
      zero_last_axis(bn->gamma, dead);
      zero_last_axis(bn->beta, dead);
    } else if (auto* conv = dynamic_cast<Conv2dLayer*>(g.layer(m))) {
      zero_last_axis(conv->conv().bias, dead);
    }
  }
}

struct Family {
  const char* model;
  double alpha;
  SeparableOrder order;
  std::vector<std::string> prunable;  // some layers that must be found prunable
  std::vector<std::string> kept;      // some that must not (adds, concats, shuffles)
};

class PruneFamily : public ::testing::TestWithParam<Family> {};

TEST_P(PruneFamily, RemovingDeadChannelsKeepsTheOutput) {
  const Family& f = GetParam();
  models::ModelOptions o = small_options(f.order);
  o.alpha = f.alpha;
  Graph g = models::build_model(f.model, o);
  randomize_batch_norms(g, 3);
  const std::vector<ChannelGroup> groups = prunable_channels(g);
  ASSERT_FALSE(groups.empty()) << f.model;
  std::vector<std::string> names;
  for (const ChannelGroup& c : groups) names.push_back(g.layer(c.producer)->name());
  for (const std::string& n : f.prunable)
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << f.model << " " << n;
  for (const std::string& n : f.kept)
    EXPECT_EQ(std::find(names.begin(), names.end(), n), names.end()) << f.model << " " << n;

  const Tensor x = test::random_tensor({2, 16, 16, 1}, 7, 0.f, 1.f);
  const Tensor before = g.forward(x, false);

  // Ratio 0 rebuilds the same network with the same weights: the same output, bit for bit.
  PruneResult same = prune_channels(g, f.model, o, 0.0, PruneCriterion::l1);
  EXPECT_TRUE(same.options.widths.empty());
  const Tensor& y0 = same.graph.forward(x, false);
  ASSERT_EQ(y0.dims(), before.dims());
  for (int64_t i = 0; i < y0.numel(); ++i) ASSERT_EQ(y0[i], before[i]) << f.model;

  // Half of each group's channels carry nothing: removing them changes nothing, whichever
  // criterion finds them, and the network is smaller.
  std::mt19937 rng(5);
  for (const ChannelGroup& c : groups) {
    const int64_t n = g.node_dims(c.producer).back();
    std::vector<int64_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(size_t(n / 2));
    kill_channels(g, c, all);
  }
  const Tensor want = g.forward(x, false);
  const int64_t params = summarize(g).params_total;
  for (PruneCriterion criterion : {PruneCriterion::l1, PruneCriterion::bn_gamma}) {
    PruneResult r = prune_channels(g, f.model, o, 0.5, criterion);
    ASSERT_EQ(r.layers.size(), groups.size());
    for (const PrunedLayer& l : r.layers) EXPECT_EQ(l.after, l.before - l.before / 2) << l.name;
    EXPECT_LT(summarize(r.graph).params_total, params) << f.model;
    const Tensor& got = r.graph.forward(x, false);
    ASSERT_EQ(got.dims(), want.dims());
    EXPECT_LT(test::max_rel_error(got.data(), want.data(), want.numel()), 1e-4)
        << f.model << " " << prune_criterion_name(criterion);
    // The recorded widths rebuild the same architecture from the options alone.
    Graph rebuilt = models::build_model(f.model, r.options);
    EXPECT_EQ(summarize(rebuilt).params_total, summarize(r.graph).params_total);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, PruneFamily,
    ::testing::Values(
        Family{"mini-mobilenet", 0.25, SeparableOrder::depthwise_pointwise,
               {"conv1", "conv_pw_1", "conv_pw_7"}, {}},
        Family{"mini-xception", 0.25, SeparableOrder::depthwise_pointwise,
               {"block1_conv2", "block2_sepconv1", "block6_sepconv1"},
               {"block2_sepconv2", "block2_residual_conv", "block4_sepconv3"}},
        Family{"mini-xception", 0.25, SeparableOrder::pointwise_depthwise,
               {"block1_conv2", "block2_sepconv1", "block6_sepconv1"},
               {"block2_sepconv2", "block2_residual_conv", "block4_sepconv3"}},
        Family{"mini-mobilenet-v2", 0.25, SeparableOrder::depthwise_pointwise,
               {"features.2.conv.0.0", "features.17.conv.2", "features.18.0"},
               {"features.0.0", "features.2.conv.2"}},
        Family{"mini-shufflenet-v2", 0.5, SeparableOrder::depthwise_pointwise,
               {"conv1.0", "stage2.1.branch2.0", "conv5.0"},
               {"stage2.0.branch1.2", "stage2.1.branch2.5"}},
        Family{"mini-squeezenet", 0.25, SeparableOrder::depthwise_pointwise,
               {"features.0", "features.3.squeeze"},
               {"features.3.expand1x1", "features.3.expand3x3"}},
        Family{"mini-inception", 0.25, SeparableOrder::depthwise_pointwise,
               {"mixed1_3x3_reduce", "mixed1_dbl3x3a"},
               {"mixed1_1x1", "mixed1_dbl3x3b", "mixed1_pool_proj"}}),
    [](const auto& info) {
      std::string s = std::string(info.param.model) +
                      (info.param.order == SeparableOrder::pointwise_depthwise ? "_pwdw" : "");
      std::replace(s.begin(), s.end(), '-', '_');
      return s;
    });

TEST(Prune, HalvingMobileNetIsMobileNetAtHalfTheWidth) {
  // mini-mobilenet's widths are all even at alpha 0.5: pruning every prunable layer by
  // half gives exactly the layer sizes of alpha 0.25, counted independently by the zoo.
  models::ModelOptions o = small_options();
  o.alpha = 0.5;
  o.input_size = 28;
  Graph g = models::build_model("mini-mobilenet", o);
  PruneResult r = prune_channels(g, "mini-mobilenet", o, 0.5, PruneCriterion::l1);
  o.alpha = 0.25;
  Graph quarter = models::build_model("mini-mobilenet", o);
  const ModelSummary got = summarize(r.graph), want = summarize(quarter);
  EXPECT_EQ(got.params_total, want.params_total);
  EXPECT_EQ(got.params_total, 40106);  // `xcept summary mini-mobilenet --alpha 0.25`
  EXPECT_EQ(got.macs, want.macs);
}

TEST(Prune, BadSettingsAreNamed) {
  models::ModelOptions o = small_options();
  Graph g = models::build_model("mini-mobilenet", o);
  for (double ratio : {-0.1, 1.0, 1.5, std::nan("")}) {
    const std::string msg = test::error_of(
        [&] { prune_channels(g, "mini-mobilenet", o, ratio, PruneCriterion::l1); });
    EXPECT_NE(msg.find("ratio must be in [0, 1)"), std::string::npos) << msg;
  }
  // ShuffleNet v1's 1x1 convolutions are grouped and every unit ends in a sum or a
  // concatenation: nothing can go, which is said rather than written as a copy.
  Graph shufflenet = models::build_model("mini-shufflenet", o);
  std::string msg = test::error_of(
      [&] { prune_channels(shufflenet, "mini-shufflenet", o, 0.5, PruneCriterion::l1); });
  EXPECT_NE(msg.find("mini-shufflenet: no layer has channels that can be removed"),
            std::string::npos) << msg;
  EXPECT_EQ(prune_channels(shufflenet, "mini-shufflenet", o, 0, PruneCriterion::l1).layers.size(),
            0u);

  msg = test::error_of([] { parse_prune_criterion("l2"); });
  EXPECT_NE(msg.find("'l2' (known: l1, bn-gamma)"), std::string::npos) << msg;

  // Widths, as a checkpoint may carry them: only existing layers, only narrower.
  o.widths = {{"conv_pw_1", 1000}};
  msg = test::error_of([&] { models::build_model("mini-mobilenet", o); });
  EXPECT_NE(msg.find("conv_pw_1: width 1000 is not in [1, 16]"), std::string::npos) << msg;
  o.widths = {{"no_such_layer", 4}};
  msg = test::error_of([&] { models::build_model("mini-mobilenet", o); });
  EXPECT_NE(msg.find("no layer named 'no_such_layer'"), std::string::npos) << msg;
  o.widths = {{"conv_pw_1_bn", 4}};
  msg = test::error_of([&] { models::build_model("mini-mobilenet", o); });
  EXPECT_NE(msg.find("conv_pw_1_bn: a BatchNorm layer has no output channels"), std::string::npos)
      << msg;
}

TEST(Prune, CheckpointLoadsEvaluatesExportsAndFineTunes) {
  test::TempDir tmp;
  const std::string ckpt = test::train_small_checkpoint(tmp.str());
  const std::string data = tmp.str() + "/data";
  PruneCheckpointOptions job;
  job.checkpoint = ckpt;
  job.out = tmp.file("pruned.ckpt");
  job.ratio = 0.5;
  job.criterion = PruneCriterion::bn_gamma;
  const PruneReport report = prune_checkpoint(job);
  EXPECT_LT(report.params_after, report.params_before);
  EXPECT_LT(report.macs_after, report.macs_before);
  EXPECT_TRUE(report.fine_tune.empty());

  // A checkpoint of its own architecture: it loads as the smaller network, with the
  // source's normalization and class names, and records how it was made.
  CheckpointModel m = load_checkpoint_model(job.out);
  EXPECT_EQ(summarize(m.graph).params_total, report.params_after);
  EXPECT_EQ(m.normalization.mean, load_checkpoint_model(ckpt).normalization.mean);
  EXPECT_EQ(m.class_names.size(), 10u);
  EXPECT_EQ(m.meta.extra.at("pruned").at("criterion"), "bn-gamma");
  const EvalResult e = evaluate_checkpoint(job.out, data, 16, 0);
  EXPECT_EQ(e.images, 32);

  // The tools take it wherever they take a checkpoint.
  auto run = test::run_cli("summary --json " + job.out, false);
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(nlohmann::json::parse(run.out).at("params_total"), report.params_after);
  run = test::run_cli("eval --checkpoint " + job.out + " --data " + data);
  EXPECT_EQ(run.status, 0) << run.out;
  run = test::run_cli("bench " + job.out + " --repeats 1 --warmup 0 --threads 1");
  EXPECT_EQ(run.status, 0) << run.out;
  run = test::run_cli("export --checkpoint " + job.out + " --output " + tmp.file("p.onnx"));
  EXPECT_EQ(run.status, 0) << run.out;
  run = test::run_cli("summary --json " + tmp.file("p.onnx"), false);
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(nlohmann::json::parse(run.out).at("macs"), report.macs_after);

  // Through the CLI, with fine-tuning: `out` is the tuned network, the run beside it.
  run = test::run_cli("prune --checkpoint " + ckpt + " --ratio 0.25 --out " +
                      tmp.file("tuned.ckpt") + " --data " + data +
                      " --fine-tune-epochs 1 --batch-size 32 --lr 1e-3 --threads 1 --json",
                      false);
  ASSERT_EQ(run.status, 0) << run.out;
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_LT(j.at("params_after").get<int64_t>(), j.at("params_before").get<int64_t>());
  EXPECT_TRUE(j.contains("fine_tune_test_accuracy"));
  const Checkpoint tuned = read_checkpoint(tmp.file("tuned.ckpt"));
  EXPECT_EQ(tuned.meta.extra.at("pruned").at("fine_tune_epochs"), 1);
  EXPECT_EQ(tuned.meta.epoch, 1);
  EXPECT_TRUE(std::filesystem::exists(tmp.file("tuned.ckpt.fine-tune/pruned.ckpt")));
  CheckpointModel tuned_model = load_checkpoint_model(tmp.file("tuned.ckpt"));
  EXPECT_EQ(summarize(tuned_model.graph).params_total, j.at("params_after").get<int64_t>());

  run = test::run_cli("prune --checkpoint " + ckpt + " --ratio 1 --out " + tmp.file("x.ckpt"));
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.out.find("ratio must be in [0, 1), got 1"), std::string::npos) << run.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("x.ckpt")));
}

}  // namespace
