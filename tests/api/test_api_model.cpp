// The public facade (include/xcept/): a Model from a checkpoint, an ONNX file or a
// Network gives what the engine underneath gives, on the caller's buffers, in either
// layout and at any batch; summaries agree across the ways a model can arrive.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cli_test_support.h"
#include "io/onnx/onnx_tensor.h"
#include "io_test_support.h"
#include "train/augment.h"
#include "train/checkpoint_model.h"
#include "trained_model_support.h"
#include "xcept/xcept.h"

using namespace xcept;

namespace {

std::vector<float> ramp(int64_t n, float scale = 1.f / 97) {
  std::vector<float> v(size_t(n), 0.f);
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float((i * 37) % 97) * scale;
  return v;
}

void expect_near(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << "at " << i;
}

// NHWC [n][h][w][c] -> NCHW [n][c][h][w].
std::vector<float> to_nchw(const std::vector<float>& x, int64_t n, int64_t h, int64_t w, int64_t c) {
  std::vector<float> y(x.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < h * w; ++i)
      for (int64_t k = 0; k < c; ++k) y[size_t((b * c + k) * h * w + i)] = x[size_t((b * h * w + i) * c + k)];
  return y;
}

}  // namespace

// The checkpoint's model takes [0, 1] pixels and normalizes them as training did: the
// same logits as the training graph's inference forward on normalized images.
TEST(ApiModel, CheckpointRunsLikeTheTrainingGraph) {
  test::TempDir tmp;
  const std::string ckpt = test::train_small_checkpoint(tmp.str());
  Model m = Model::from_checkpoint(ckpt);
  EXPECT_EQ(m.layout(), Layout::nhwc);
  EXPECT_EQ(m.input_dims(), (Dims{1, 8, 8, 1}));
  EXPECT_EQ(m.output_dims(), (Dims{1, 10}));
  EXPECT_EQ(m.class_names().size(), 10u);
  ASSERT_EQ(m.normalization().mean.size(), 1u);

  const std::vector<float> x = ramp(3 * 64);
  std::vector<float> y(3 * 10);
  m.run(x, y);  // batch 3: recompiled
  EXPECT_EQ(m.batch(), 3);

  CheckpointModel ref = load_checkpoint_model(ckpt);
  Tensor xt({3, 8, 8, 1});
  std::copy(x.begin(), x.end(), xt.data());
  normalize_channels(xt, ref.normalization.mean, ref.normalization.std);
  const Tensor& want = ref.graph.forward(xt, false);
  expect_near(y, std::vector<float>(want.data(), want.data() + want.numel()), 1e-4f);

  // Without the normalization, run() takes normalized inputs.
  LoadOptions raw;
  raw.normalize = false;
  Model m2 = Model::from_checkpoint(ckpt, raw);
  EXPECT_TRUE(m2.normalization().empty());
  std::vector<float> y2(30);
  m2.run(std::span<const float>(xt.data(), 192), y2);
  expect_near(y2, y, 1e-4f);
}

// A 3-channel zoo network: NCHW input gives the same as NHWC input; buffers are checked.
TEST(ApiModel, NetworkInEitherLayoutAndBadBuffersNamed) {
  ZooOptions z;
  z.input_size = 16;
  z.input_channels = 3;
  z.alpha = 0.25;
  Network net = Network::zoo("mini-mobilenet", z);
  Model m = Model::from_network(net);
  const std::vector<float> nhwc = ramp(2 * 16 * 16 * 3);
  std::vector<float> a(20), b(20);
  m.run(nhwc, a);
  m.run(to_nchw(nhwc, 2, 16, 16, 3), b, Layout::nchw);
  EXPECT_EQ(a, b);

  std::vector<float> short_out(7);
  std::string msg = test::error_of([&] { m.run(nhwc, short_out); });
  EXPECT_NE(msg.find("holds 7 floats"), std::string::npos) << msg;
  msg = test::error_of([&] { m.run(std::span<const float>(nhwc.data(), 100), a); });
  EXPECT_NE(msg.find("not a whole number of images of 768 (16x16x3)"), std::string::npos) << msg;
}

// An ONNX file at its declared dims reproduces the outputs PyTorch recorded for it.
TEST(ApiModel, OnnxFileMatchesItsRecordedOutput) {
  const std::string dir = std::string(XCEPT_SOURCE_DIR) + "/tests/data/onnx/mobilenet_block";
  Model m = Model::from_onnx(dir + "/model.onnx");
  EXPECT_EQ(m.layout(), Layout::nchw);
  const HostTensor x = read_tensor_file(dir + "/test_data_set_0/input_0.npy");
  const HostTensor want = read_tensor_file(dir + "/test_data_set_0/output_0.npy");
  ASSERT_EQ(m.input_dims(), x.dims);
  std::vector<float> y(size_t(want.numel()));
  m.run(std::span<const float>(x.f32.data(), size_t(x.numel())), y);
  expect_near(y, std::vector<float>(want.f32.data(), want.f32.data() + want.numel()), 1e-4f);
  EXPECT_TRUE(m.class_names().empty());

  const std::string msg = test::error_of([] { Model::from_onnx("/nonexistent/m.onnx"); });
  EXPECT_NE(msg.find("/nonexistent/m.onnx"), std::string::npos) << msg;
}

// A checkpoint exported to ONNX keeps its normalization and class names: both models
// give the same probabilities on the same [0, 1] pixels.
TEST(ApiModel, ExportedCheckpointRunsAsTheCheckpoint) {
  test::TempDir tmp;
  const std::string ckpt = test::train_small_checkpoint(tmp.str());
  const std::string onnx = tmp.file("m.onnx");
  ASSERT_EQ(test::run_cli("export --checkpoint " + ckpt + " --output " + onnx).status, 0);
  Model a = Model::from_checkpoint(ckpt);
  Model b = Model::from_onnx(onnx);
  EXPECT_EQ(b.class_names(), a.class_names());
  EXPECT_EQ(b.normalization().mean, a.normalization().mean);
  const std::vector<float> x = ramp(64);  // one 8x8x1 image: the same bytes in both layouts
  std::vector<float> ya(10), yb(10);
  a.run(x, ya);
  b.run(x, yb);
  expect_near(ya, yb, 1e-4f);
  const auto top = top_k(ya, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_GE(top[0].probability, top[1].probability);
  // Rows that are probabilities stay as they are; logits go through softmax.
  const std::vector<float> probs{0.25f, 0.75f}, logits{0.f, 0.f, std::log(2.f)};
  EXPECT_EQ(top_k(probs, 1)[0].index, 1);
  EXPECT_FLOAT_EQ(top_k(probs, 1)[0].probability, 0.75f);
  EXPECT_FLOAT_EQ(top_k(logits, 1)[0].probability, 0.5f);
}

// A network built in code: its summary counts what the layers hold, it runs, and its
// ONNX file runs to the same outputs with the same totals.
TEST(ApiModel, BuiltNetworkSummarizesRunsAndExports) {
  Network net("tiny", {12, 12, 3}, 5);
  auto x = net.conv2d(net.input(), 8, 3, 2);
  x = net.relu(net.batch_norm(x));
  auto y = net.separable_conv2d(x, 8, 3);
  x = net.add({x, y});
  x = net.dense(net.global_avg_pool(x), 4);
  EXPECT_EQ(net.dims(x), (Dims{4}));
  const ModelSummary s = summarize(net);
  // conv 3*3*3*8; bn 4*8; separable 3*3*8 + 8*8; dense 8*4 + 4.
  EXPECT_EQ(s.params_total, 216 + 32 + 72 + 64 + 36);
  EXPECT_EQ(s.params_trainable, s.params_total - 16);

  test::TempDir tmp;
  net.save_onnx(tmp.file("tiny.onnx"));
  const ModelSummary o = summarize(tmp.file("tiny.onnx"));
  EXPECT_EQ(o.params_total, s.params_total);
  EXPECT_EQ(o.params_trainable, s.params_trainable);
  EXPECT_EQ(o.macs, s.macs);

  Model a = Model::from_network(net);
  Model b = Model::from_onnx(tmp.file("tiny.onnx"));
  const std::vector<float> in = ramp(12 * 12 * 3);
  std::vector<float> ya(4), yb(4);
  a.run(in, ya);
  b.run(in, yb, Layout::nhwc);
  expect_near(ya, yb, 1e-4f);
}

// Zoo, ONNX export of the zoo model: one convention, the same totals.
TEST(ApiModel, OnnxSummaryCountsLikeTheZoo) {
  test::TempDir tmp;
  ZooOptions z;
  z.alpha = 0.5;
  Network::zoo("mini-xception", z).save_onnx(tmp.file("mx.onnx"));
  const ModelSummary zoo = summarize("mini-xception", z);
  const ModelSummary onnx = summarize(tmp.file("mx.onnx"));
  EXPECT_EQ(onnx.params_total, zoo.params_total);
  EXPECT_EQ(onnx.params_trainable, zoo.params_trainable);
  EXPECT_EQ(onnx.macs, zoo.macs);
  EXPECT_EQ(onnx.input, (Dims{1, 28, 28}));  // ONNX's own NCHW dims, per image
  const auto costs = conv_family_costs({});
  ASSERT_EQ(costs.size(), 6u);
  EXPECT_EQ(costs[0].params, 4769856);  // 3*3*728*728
  EXPECT_NEAR(costs[4].macs_ratio, 1.0 / 728 + 1.0 / 9, 1e-9);
}

// The public train(): metrics per epoch through the callback, files where it says.
TEST(ApiModel, TrainReportsEveryEpoch) {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.file("data"));
  test::write_quadrant_idx(tmp.file("data"), "train", 64, 1);
  test::write_quadrant_idx(tmp.file("data"), "t10k", 16, 2);
  TrainOptions o;
  o.model_options.alpha = 0.25;
  o.data_dir = tmp.file("data");
  o.out_dir = tmp.file("run");
  o.epochs = 2;
  o.batch_size = 16;
  std::vector<EpochMetrics> seen;
  TrainEvents ev;
  ev.on_epoch = [&](const EpochMetrics& e) { seen.push_back(e); };
  const TrainRun r = train(o, ev);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].epoch, 2);
  EXPECT_EQ(r.epochs.size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(r.last_checkpoint));
  EXPECT_TRUE(std::filesystem::exists(r.metrics_log));
  o.epochs = 0;
  const std::string msg = test::error_of([&] { train(o); });
  EXPECT_EQ(msg, "epochs must be positive, got 0");
  o.epochs = 1;
  o.model_options.order = "sideways";
  EXPECT_NE(test::error_of([&] { train(o); }).find("order must be dw-pw or pw-dw"), std::string::npos);
}
