// A checkpoint as a model: network, weights, input normalization and class names read
// back by the one function every reader uses; old checkpoints without class names.
#include <gtest/gtest.h>

#include "io_test_support.h"
#include "train/checkpoint_model.h"
#include "trained_model_support.h"

using namespace xcept;

TEST(CheckpointModel, HoldsGraphNormalizationAndClassNames) {
  test::TempDir tmp;
  const std::string ckpt = test::train_small_checkpoint(tmp.str());
  CheckpointModel m = load_checkpoint_model(ckpt);
  EXPECT_EQ(m.meta.model, "mini-mobilenet");
  EXPECT_EQ(m.graph.node_dims(0), (Dims{8, 8, 1}));
  ASSERT_EQ(m.normalization.mean.size(), 1u);
  EXPECT_GT(m.normalization.mean[0], 0.1f);  // the quadrant images average ~0.3
  EXPECT_GT(m.normalization.std[0], 0.f);
  ASSERT_EQ(m.class_names.size(), 10u);  // IDX folders have ten classes, named by digit
  EXPECT_EQ(m.class_names[3], "3");

  // A checkpoint from before class names were stored loads with none.
  Checkpoint old = read_checkpoint(ckpt);
  old.meta.extra.erase("class_names");
  write_checkpoint(tmp.file("old.ckpt"), old);
  EXPECT_TRUE(load_checkpoint_model(tmp.file("old.ckpt")).class_names.empty());
}

TEST(CheckpointModel, BadFieldsAreNamed) {
  EXPECT_TRUE(normalization_from_json(nullptr, "x").empty());
  std::string msg = test::error_of(
      [] { normalization_from_json({{"mean", {0.5}}, {"std", {0.0}}}, "f.ckpt"); });
  EXPECT_NE(msg.find("f.ckpt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("standard deviation"), std::string::npos) << msg;
  msg = test::error_of([] { normalization_from_json({{"mean", {0.5, 0.2}}, {"std", {1}}}, "f"); });
  EXPECT_NE(msg.find("2 means and 1 standard"), std::string::npos) << msg;
  CheckpointMeta meta;
  meta.extra["class_names"] = 7;
  msg = test::error_of([&] { checkpoint_class_names(meta, "g.ckpt"); });
  EXPECT_NE(msg.find("g.ckpt: class names"), std::string::npos) << msg;
}

TEST(CheckpointModel, TrainingErrorsNameLibraryOptionsNotFlags) {
  TrainConfig c;
  c.epochs = 0;
  std::string msg = test::error_of([&] { train(c); });
  EXPECT_EQ(msg.rfind("epochs must be positive", 0), 0u) << msg;
  c.epochs = 1;
  c.batch_size = -1;
  msg = test::error_of([&] { train(c); });
  EXPECT_EQ(msg.find("--"), std::string::npos) << msg;
}
