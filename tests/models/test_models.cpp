// The model zoo against the published counts (reference.md sections 2 and 3).
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/model_summary.h"
#include "core/error.h"
#include "models/models.h"

using namespace xcept;
using models::ModelOptions;

static ModelSummary summary_of(const std::string& name, ModelOptions o = {}) {
  Graph g = models::build_model(name, o);
  return summarize(g);
}

TEST(Models, XceptionMatchesKerasCountsExactly) {
  ModelSummary s = summary_of("xception");
  EXPECT_EQ(s.input, (Dims{299, 299, 3}));
  EXPECT_EQ(s.params_total, 22'910'480);
  EXPECT_EQ(s.params_trainable, 22'855'952);
  // 8,357,403,496 MACs: every convolution tap (padding included) plus the classifier.
  EXPECT_EQ(s.macs, 8'357'403'496);
  EXPECT_LT(std::fabs(double(s.macs) / 8.4e9 - 1), 0.01);
  EXPECT_EQ(s.layers.back().output, (Dims{1000}));
}

TEST(Models, XceptionLayerShapesAndNames) {
  Graph g = models::build_model("xception");
  ModelSummary s = summarize(g);
  auto find = [&](const std::string& name) -> const LayerSummary& {
    for (const auto& l : s.layers)
      if (l.name == name) return l;
    throw std::runtime_error("no layer " + name);
  };
  EXPECT_EQ(find("block1_conv1").output, (Dims{149, 149, 32}));
  EXPECT_EQ(find("block1_conv2").output, (Dims{147, 147, 64}));
  EXPECT_EQ(find("block2_add").output, (Dims{74, 74, 128}));
  EXPECT_EQ(find("block3_add").output, (Dims{37, 37, 256}));
  EXPECT_EQ(find("block4_add").output, (Dims{19, 19, 728}));
  EXPECT_EQ(find("block12_add").output, (Dims{19, 19, 728}));
  EXPECT_EQ(find("block13_add").output, (Dims{10, 10, 1024}));
  EXPECT_EQ(find("block14_sepconv2_act").output, (Dims{10, 10, 2048}));
  EXPECT_EQ(find("block2_sepconv1").type, "SeparableConv2D");
  bool found = false;
  for (const ParamRef& p : g.params()) found |= p.name == "block4_sepconv2.pointwise.weight";
  EXPECT_TRUE(found);
}

TEST(Models, XceptionOptions) {
  ModelOptions no_res;
  no_res.residual = false;
  ModelSummary s = summary_of("xception", no_res);
  // The four strided 1x1 shortcut convolutions and their batch norms are gone.
  const int64_t shortcut = 64 * 128 + 128 * 256 + 256 * 728 + 728 * 1024;
  const int64_t shortcut_bn = 4 * (128 + 256 + 728 + 1024);
  EXPECT_EQ(s.params_total, 22'910'480 - shortcut - shortcut_bn);

  ModelOptions small;
  small.classes = 10;
  small.middle_repeats = 0;
  small.input_size = 71;
  small.mid_activation = Act::elu();
  ModelSummary t = summary_of("xception", small);
  EXPECT_EQ(t.layers.back().output, (Dims{10}));
  EXPECT_LT(t.params_total, 22'910'480 - 8 * 3 * (728 * 9 + 728 * 728));
}

TEST(Models, MobileNetMatchesKerasAndPaper) {
  ModelSummary s = summary_of("mobilenet");
  EXPECT_EQ(s.params_total, 4'253'864);
  EXPECT_LT(std::fabs(double(s.macs) / 569e6 - 1), 0.01);
  EXPECT_EQ(s.macs, 568'740'352);
}

TEST(Models, MobileNetWidthAndResolutionTables) {
  // Paper Table 6 (alpha) and Table 7 (resolution): mult-adds in millions and parameters
  // in millions, within the rounding of the published figures. The paper's parameter
  // counts leave out batch-norm moving statistics, so compare trainable parameters.
  struct Row {
    double alpha;
    int64_t size;
    double macs_m, params_m;
  };
  const Row rows[] = {{1.0, 224, 569, 4.2}, {0.75, 224, 325, 2.6}, {0.5, 224, 149, 1.3},
                      {0.25, 224, 41, 0.5}, {1.0, 192, 418, 4.2}, {1.0, 160, 290, 4.2},
                      {1.0, 128, 186, 4.2}};
  for (const Row& r : rows) {
    ModelOptions o;
    o.alpha = r.alpha;
    o.input_size = r.size;
    ModelSummary s = summary_of("mobilenet", o);
    EXPECT_NEAR(double(s.macs) / 1e6, r.macs_m, 1.0) << "alpha " << r.alpha << " size " << r.size;
    EXPECT_NEAR(double(s.params_trainable) / 1e6, r.params_m, 0.05)
        << "alpha " << r.alpha << " size " << r.size;
  }
}

TEST(Models, FullConvolutionMobileNetMatchesTable4) {
  ModelSummary s = summary_of("conv-mobilenet");
  EXPECT_LT(std::fabs(double(s.params_total) / 29.3e6 - 1), 0.01);
  EXPECT_LT(std::fabs(double(s.macs) / 4866e6 - 1), 0.01);
}

TEST(Models, MiniModelsRunForwardOnSmallImages) {
  for (const char* name : {"mini-xception", "mini-mobilenet", "mini-inception"}) {
    for (int64_t channels : {1, 3}) {
      ModelOptions o;
      o.input_channels = channels;
      o.input_size = channels == 1 ? 28 : 32;
      o.alpha = 0.25;  // keeps the test fast; shapes are what matter here
      Graph g = models::build_model(name, o);
      Tensor x({2, o.input_size, o.input_size, channels});
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(i % 7) / 7.f;
      const Tensor& y = g.forward(x, false);
      ASSERT_EQ(y.dims(), (Dims{2, 10})) << name;
      for (int64_t i = 0; i < y.numel(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << name;
    }
  }
}

TEST(Models, InceptionModulesAllBuild) {
  for (const char* module : {"v3", "simplified", "extreme"}) {
    ModelOptions o;
    o.inception_module = module;
    ModelSummary s = summary_of("mini-inception", o);
    EXPECT_GT(s.params_total, 0) << module;
    EXPECT_EQ(s.layers.back().output, (Dims{10})) << module;
  }
  ModelOptions bad;
  bad.inception_module = "v9";
  EXPECT_THROW(summary_of("mini-inception", bad), Error);
}

TEST(Models, UnknownModelListsTheKnownOnes) {
  try {
    summary_of("resnet50");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resnet50"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("mini-xception"), std::string::npos);
  }
}

// ---- the experiments' variants: normal convolutions in place of separable ones, grouped
// blocks with and without channel shuffle. Every count is checked against the formulas
// (K^2 C M / g parameters, times H W for MACs) layer by layer.

static const LayerSummary& layer_named(const ModelSummary& s, const std::string& name) {
  for (const auto& l : s.layers)
    if (l.name == name) return l;
  throw std::runtime_error("no layer " + name);
}

TEST(Models, FullConvolutionVariantsCountKSquaredCM) {
  // (Full-size Xception is left out: its 5x larger full-convolution twin takes seconds to
  // initialize, and its blocks are the ones mini-xception shares.)
  for (const char* model : {"mini-xception", "mini-mobilenet", "mobilenet"}) {
    SCOPED_TRACE(model);
    ModelOptions full;
    full.separable = false;
    const ModelSummary sep = summary_of(model), conv = summary_of(model, full);
    EXPECT_GT(conv.macs, 3 * sep.macs);
    int replaced = 0;
    for (const LayerSummary& l : sep.layers) {
      if (l.type != "SeparableConv2D" && l.type != "DepthwiseConv2D") continue;
      if (l.type == "DepthwiseConv2D") {  // MobileNet: conv_dw_N + conv_pw_N -> conv_N
        const std::string n = l.name.substr(std::string("conv_dw_").size());
        const LayerSummary& pw = layer_named(sep, "conv_pw_" + n);
        const LayerSummary& c = layer_named(conv, "conv_" + n);
        const int64_t cin = l.params / 9, m = pw.output[2], hw = pw.output[0] * pw.output[1];
        EXPECT_EQ(c.params, 9 * cin * m) << c.name;
        EXPECT_EQ(c.macs, 9 * cin * m * hw) << c.name;
        EXPECT_EQ(c.output, pw.output);
      } else {  // Xception: the same name, a Conv2D of the same filters
        const int64_t m = l.output[2], cin = l.params / (9 + m), hw = l.output[0] * l.output[1];
        ASSERT_EQ(l.params, cin * (9 + m)) << l.name;
        const LayerSummary& c = layer_named(conv, l.name);
        EXPECT_EQ(c.type, "Conv2D");
        EXPECT_EQ(c.params, 9 * cin * m) << c.name;
        EXPECT_EQ(c.macs, 9 * cin * m * hw) << c.name;
      }
      ++replaced;
    }
    EXPECT_GT(replaced, 5);
  }
  // conv-mobilenet is mobilenet built with full convolutions, and mini-mobilenet's twin is
  // its groups = 1 variant.
  ModelOptions full, g1;
  full.separable = false;
  g1.groups = 1;
  EXPECT_EQ(summary_of("conv-mobilenet").params_total, summary_of("mobilenet", full).params_total);
  EXPECT_EQ(summary_of("mini-mobilenet", g1).macs, summary_of("mini-mobilenet", full).macs);
}

TEST(Models, GroupedBlocksDivideCostByGroupsAndShuffleIsFree) {
  ModelOptions full;
  full.groups = 1;
  const ModelSummary f = summary_of("mini-mobilenet", full);
  for (int64_t g : {2, 4, 8}) {
    for (bool shuffle : {false, true}) {
      SCOPED_TRACE(fmt::format("groups {} shuffle {}", g, shuffle));
      ModelOptions o;
      o.groups = g;
      o.channel_shuffle = shuffle;
      const ModelSummary s = summary_of("mini-mobilenet", o);
      int shuffles = 0;
      for (int n = 1; n <= 7; ++n) {
        const std::string name = "conv_" + std::to_string(n);
        EXPECT_EQ(layer_named(s, name).type, "GroupedConv2D");
        EXPECT_EQ(layer_named(s, name).params * g, layer_named(f, name).params);
        EXPECT_EQ(layer_named(s, name).macs * g, layer_named(f, name).macs);
        for (const auto& l : s.layers) shuffles += l.name == name + "_shuffle";
      }
      EXPECT_EQ(shuffles, shuffle ? 7 : 0);
      if (shuffle) {
        EXPECT_EQ(layer_named(s, "conv_3_shuffle").type, "ChannelShuffle");
        EXPECT_EQ(layer_named(s, "conv_3_shuffle").params, 0);
        EXPECT_EQ(layer_named(s, "conv_3_shuffle").macs, 0);
      }
      ModelOptions twin = o;
      twin.channel_shuffle = !shuffle;
      EXPECT_EQ(s.params_total, summary_of("mini-mobilenet", twin).params_total);
      EXPECT_EQ(s.macs, summary_of("mini-mobilenet", twin).macs);
    }
  }
}

TEST(Models, ExperimentOptionsOutsideTheirFamilyAreErrors) {
  auto error_for = [](const std::string& model, ModelOptions o) {
    try {
      models::build_model(model, o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ModelOptions grouped;
  grouped.groups = 4;
  // groups has one meaning, the group count of the convolutions a model groups: MobileNet
  // v1's blocks and ShuffleNet v1's 1x1 convolutions take it, other models refuse it.
  EXPECT_NE(error_for("mini-xception", grouped).find("groups applies to MobileNet v1"),
            std::string::npos);
  EXPECT_NE(error_for("mini-mobilenet-v2", grouped).find("groups applies"), std::string::npos);
  EXPECT_EQ(error_for("mini-shufflenet", grouped), "");
  ModelOptions shuffled_shufflenet = grouped;
  shuffled_shufflenet.channel_shuffle = true;
  EXPECT_NE(error_for("mini-shufflenet", shuffled_shufflenet).find("always shuffles"),
            std::string::npos);
  EXPECT_NE(error_for("conv-mobilenet", grouped).find("1 group"), std::string::npos);
  ModelOptions shuffle_alone;
  shuffle_alone.channel_shuffle = true;
  EXPECT_NE(error_for("mini-mobilenet", shuffle_alone).find("groups >= 2"), std::string::npos);
  ModelOptions full;
  full.separable = false;
  for (const char* model : {"mini-inception", "mini-shufflenet", "mini-mobilenet-v2"})
    EXPECT_NE(error_for(model, full).find("separable = false"), std::string::npos) << model;
  ModelOptions odd;
  odd.groups = 3;  // 32 stem channels do not split into 3 groups
  EXPECT_NE(error_for("mini-mobilenet", odd).find("conv_1"), std::string::npos)
      << error_for("mini-mobilenet", odd);
}
