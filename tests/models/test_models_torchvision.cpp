// The zoo's torchvision ports (SqueezeNet, ShuffleNet v2, MobileNet v2) and ShuffleNet v1
// against their references: exact parameter counts and MACs measured with torchvision
// 0.14 (always checked), the paper's Table 2 for ShuffleNet v1, and, when Debian's
// python3-torchvision is installed, a live cross-check: torchvision's counts, and
// torchvision's own weights loaded by name giving torchvision's output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/model_summary.h"
#include "core/error.h"
#include "io/onnx/onnx_tensor.h"
#include "io_test_support.h"
#include "models/models.h"
#include "test_support.h"

using namespace xcept;
using models::ModelOptions;
using test::TempDir;

namespace {

ModelSummary summary_of(const std::string& name, ModelOptions o = {}) {
  Graph g = models::build_model(name, o);
  return summarize(g);
}

struct Reference {
  const char* zoo_name;
  double alpha;
  const char* torchvision_name;
  int64_t params_trainable, params_total, macs;
};

// Measured with torchvision 0.14.1 (Debian python3-torchvision), 224x224x3, 1000 classes:
//   /usr/bin/python3 -c "import torchvision.models as m; x = m.mobilenet_v2(width_mult=0.5);
//     print(sum(p.numel() for p in x.parameters()),
//           sum(b.numel() for b in x.buffers() if b.is_floating_point()))"
// gives trainable parameters and the batch-norm statistics (total = both); MACs by
// tools/torchvision_reference.py's forward hooks (every tap of every Conv2d, plus Linear).
constexpr Reference kReferences[] = {
    {"squeezenet-1.0", 1.0, "squeezenet1_0", 1'248'424, 1'248'424, 818'924'576},
    {"squeezenet-1.1", 1.0, "squeezenet1_1", 1'235'496, 1'235'496, 349'151'936},
    {"shufflenet-v2", 0.5, "shufflenet_v2_x0_5", 1'366'792, 1'374'744, 40'476'448},
    {"shufflenet-v2", 1.0, "shufflenet_v2_x1_0", 2'278'604, 2'294'784, 144'907'992},
    {"shufflenet-v2", 1.5, "shufflenet_v2_x1_5", 3'503'624, 3'527'064, 295'759'392},
    {"shufflenet-v2", 2.0, "shufflenet_v2_x2_0", 7'393'996, 7'427'712, 583'253'464},
    {"mobilenet-v2", 1.0, "mobilenet_v2", 3'504'872, 3'538'984, 300'774'272},
};

// mobilenet_v2(width_mult=a): trainable parameters and MACs (as above).
struct WidthReference {
  double alpha;
  int64_t params_trainable, macs;
};
constexpr WidthReference kMobileNetV2Widths[] = {{0.35, 1'677'128, 59'285'808},
                                                 {0.5, 1'968'680, 97'131'840},
                                                 {0.75, 2'636'424, 209'069'792},
                                                 {1.4, 6'108'776, 582'195'824}};

TEST(ModelsTorchvision, CountsMatchTorchvisionExactly) {
  for (const Reference& r : kReferences) {
    SCOPED_TRACE(testing::Message() << r.zoo_name << " alpha " << r.alpha);
    ModelOptions o;
    o.alpha = r.alpha;
    ModelSummary s = summary_of(r.zoo_name, o);
    EXPECT_EQ(s.input, (Dims{224, 224, 3}));
    EXPECT_EQ(s.layers.back().output, (Dims{1000}));
    EXPECT_EQ(s.params_trainable, r.params_trainable);
    EXPECT_EQ(s.params_total, r.params_total);
    EXPECT_EQ(s.macs, r.macs);
  }
  for (const WidthReference& r : kMobileNetV2Widths) {
    ModelOptions o;
    o.alpha = r.alpha;
    ModelSummary s = summary_of("mobilenet-v2", o);
    EXPECT_EQ(s.params_trainable, r.params_trainable) << "alpha " << r.alpha;
    EXPECT_EQ(s.macs, r.macs) << "alpha " << r.alpha;
  }
}

TEST(ModelsTorchvision, LayerDetails) {
  // SqueezeNet 1.0: 7x7/2 valid -> 109, ceil_mode pools -> 54 -> 27 -> 13 (floor: 54, 26, 12).
  Graph sq = models::build_model("squeezenet-1.0");
  ModelSummary s = summarize(sq);
  auto find = [&](const std::string& name) -> const LayerSummary& {
    for (const auto& l : s.layers)
      if (l.name == name) return l;
    throw std::runtime_error("no layer " + name);
  };
  EXPECT_EQ(find("features.0").output, (Dims{109, 109, 96}));
  EXPECT_EQ(find("features.2").output, (Dims{54, 54, 96}));
  EXPECT_EQ(find("features.6").output, (Dims{27, 27, 256}));
  EXPECT_EQ(find("features.12").output, (Dims{13, 13, 512}));
  EXPECT_EQ(find("classifier.1").output, (Dims{13, 13, 1000}));  // the 1x1 classifier
  EXPECT_EQ(find("features.3").type, "Concat");                  // fire: expand 1x1 ++ 3x3

  s = summary_of("shufflenet-v2");
  EXPECT_EQ(find("maxpool").output, (Dims{56, 56, 24}));
  EXPECT_EQ(find("stage2.0").output, (Dims{28, 28, 116}));
  EXPECT_EQ(find("stage2.1.split2").output, (Dims{28, 28, 58}));
  EXPECT_EQ(find("stage4.3").type, "ChannelShuffle");
  EXPECT_EQ(find("conv5.2").output, (Dims{7, 7, 1024}));

  s = summary_of("mobilenet-v2");
  EXPECT_EQ(find("features.1.conv.2").type, "BatchNorm");  // t = 1: no expansion
  EXPECT_EQ(find("features.3").type, "Add");               // stride 1, 24 -> 24
  EXPECT_EQ(find("features.2.conv.3").output, (Dims{56, 56, 24}));
  EXPECT_EQ(find("features.18.2").output, (Dims{7, 7, 1280}));
  // The linear bottleneck: no activation reads a projection's batch norm.
  Graph v2 = models::build_model("mobilenet-v2");
  int projections = 0;
  for (NodeId n = 1; n < v2.num_nodes(); ++n)
    for (NodeId i : v2.node_inputs(n)) {
      const std::string& in = v2.node_name(i);
      if (!in.ends_with(".conv.3") && in != "features.1.conv.2") continue;
      ++projections;
      EXPECT_STRNE(v2.layer(n)->type(), "Activation") << v2.node_name(n);
    }
  // 17 blocks: each projection is read by its block's Add or the next block's first
  // convolution, and 5 more times by the Add of a residual block right after a
  // non-residual one (features.3, 5, 8, 12, 15).
  EXPECT_EQ(projections, 22);

  EXPECT_THROW(summary_of("shufflenet-v2", ModelOptions{.alpha = 0.75}), Error);
}

TEST(ModelsTorchvision, ShuffleNetV1MatchesTable2) {
  // Table 2 of the paper, ShuffleNet 1x: MFLOPs (mult-adds) for g = 1, 2, 3, 4, 8. The
  // architecture (Table 1 widths, bottleneck = width / 4) gives them within 1.1%.
  const int64_t groups[] = {1, 2, 3, 4, 8};
  const double mflops[] = {143, 140, 137, 133, 137};
  for (int i = 0; i < 5; ++i) {
    ModelOptions o;
    o.groups = groups[i];
    ModelSummary s = summary_of("shufflenet", o);
    EXPECT_NEAR(double(s.macs) / 1e6 / mflops[i], 1.0, 0.011) << "g = " << groups[i];
  }
  // Exact, for g = 3 (Megvii's reference code reports 1.9M parameters and 138 MFLOPs).
  ModelSummary g3 = summary_of("shufflenet");
  EXPECT_EQ(g3.params_trainable, 1'865'728);
  EXPECT_EQ(g3.macs, 137'460'672);
  // Widths scale with alpha and stay multiples of 4g (g = 4 at 0.5x: 272 / 2 = 136 -> 144).
  ModelOptions half;
  half.groups = 4;
  half.alpha = 0.5;
  Graph g = models::build_model("shufflenet", half);
  for (NodeId n = 0; n < g.num_nodes(); ++n)
    if (g.node_name(n) == "stage2.0") {
      EXPECT_EQ(g.node_dims(n), (Dims{28, 28, 144}));
    }
  EXPECT_THROW(summary_of("shufflenet", ModelOptions{.groups = 5}), Error);
}

TEST(ModelsTorchvision, MiniVariantsForSmallImages) {
  for (const char* name :
       {"mini-squeezenet", "mini-shufflenet", "mini-shufflenet-v2", "mini-mobilenet-v2"}) {
    for (int64_t channels : {1, 3}) {
      SCOPED_TRACE(testing::Message() << name << " channels " << channels);
      ModelOptions o;
      o.input_channels = channels;
      o.input_size = channels == 1 ? 28 : 32;
      o.alpha = std::string(name) == "mini-shufflenet-v2" ? 0.5 : 0.25;
      Graph g = models::build_model(name, o);
      EXPECT_EQ(g.node_dims(0), (Dims{o.input_size, o.input_size, channels}));
      Tensor x({2, o.input_size, o.input_size, channels});
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(i % 7) / 7.f;
      const Tensor& y = g.forward(x, false);
      ASSERT_EQ(y.dims(), (Dims{2, 10}));
      for (int64_t i = 0; i < y.numel(); ++i) ASSERT_TRUE(std::isfinite(y[i]));
    }
  }
}

// ---- live cross-check against torchvision

bool torchvision_available() {
  return std::system("/usr/bin/python3 -c 'import torchvision' > /dev/null 2>&1") == 0;
}

// Reads the state_dict tensor of torchvision's name for an xcept parameter, in xcept's
// layout: convolutions OIHW -> HWIO, Linear [out][in] -> Dense [in][out], batch norm's
// weight/bias/running_mean/running_var -> gamma/beta/moving_mean/moving_variance.
Tensor torchvision_param(const std::string& dir, const std::string& name, const Dims& dims) {
  static const std::pair<const char*, const char*> kRenames[] = {
      {".gamma", ".weight"},
      {".beta", ".bias"},
      {".moving_mean", ".running_mean"},
      {".moving_variance", ".running_var"}};
  std::string torch_name = name;
  for (const auto& [from, to] : kRenames) {
    const std::string f(from);
    if (name.size() > f.size() && name.compare(name.size() - f.size(), f.size(), f) == 0)
      torch_name = name.substr(0, name.size() - f.size()) + to;
  }
  const HostTensor t = read_npy(dir + "/" + torch_name + ".npy");
  Tensor out(dims);
  if (dims.size() == 4) {  // HWIO [kh][kw][i][o] <- OIHW [o][i][kh][kw]
    const int64_t kh = dims[0], kw = dims[1], ci = dims[2], co = dims[3];
    EXPECT_EQ(t.dims, (Dims{co, ci, kh, kw})) << name;
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t o = 0; o < co; ++o)
            out[((y * kw + x) * ci + i) * co + o] = t.f32[((o * ci + i) * kh + y) * kw + x];
  } else if (dims.size() == 2) {  // [in][out] <- [out][in]
    EXPECT_EQ(t.dims, (Dims{dims[1], dims[0]})) << name;
    for (int64_t i = 0; i < dims[0]; ++i)
      for (int64_t o = 0; o < dims[1]; ++o) out[i * dims[1] + o] = t.f32[o * dims[0] + i];
  } else {
    EXPECT_EQ(t.dims, dims) << name;
    for (int64_t i = 0; i < out.numel(); ++i) out[i] = t.f32[i];
  }
  return out;
}

TEST(ModelsTorchvision, LiveTorchvisionWeightsGiveTorchvisionOutputs) {
  if (!torchvision_available())
    GTEST_SKIP() << "/usr/bin/python3 cannot import torchvision (Debian python3-torchvision)";
  // 66x66: odd map sizes further on, so ceil_mode pools overhang and stride-2 padding
  // alignment (PyTorch pads both sides, TensorFlow's 'same' the end) would show.
  constexpr int64_t kSize = 66;
  const Reference* cases[] = {&kReferences[0], &kReferences[1], &kReferences[2], &kReferences[6]};
  TempDir dir;
  std::string cmd = std::string("/usr/bin/python3 ") + XCEPT_SOURCE_DIR +
                    "/tools/torchvision_reference.py " + dir.str() + " " +
                    std::to_string(kSize);
  for (const Reference* r : cases) cmd += std::string(" ") + r->torchvision_name;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream counts_file(dir.file("counts.json"));
  const nlohmann::json counts = nlohmann::json::parse(counts_file);
  for (const Reference* r : cases) {
    SCOPED_TRACE(r->torchvision_name);
    ModelOptions o;
    o.alpha = r->alpha;
    ModelSummary s = summary_of(r->zoo_name, o);
    EXPECT_EQ(s.params_trainable, counts.at(r->torchvision_name).at("params").get<int64_t>());
    EXPECT_EQ(s.macs, counts.at(r->torchvision_name).at("macs").get<int64_t>());

    o.input_size = kSize;
    Graph g = models::build_model(r->zoo_name, o);
    const std::string folder = dir.file(r->torchvision_name);
    for (ParamRef& p : g.params()) *p.value = torchvision_param(folder, p.name, p.value->dims());
    const HostTensor x = read_npy(folder + "/input.npy");  // NCHW
    Tensor nhwc({1, kSize, kSize, 3});
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < kSize * kSize; ++i) nhwc[i * 3 + c] = x.f32[c * kSize * kSize + i];
    const Tensor& y = g.forward(nhwc, false);
    const HostTensor want = read_npy(folder + "/output.npy");
    ASSERT_EQ(y.numel(), want.numel());
    EXPECT_LT(test::max_rel_error(y.data(), want.f32.data(), y.numel()), 1e-4);
  }
}

}  // namespace
