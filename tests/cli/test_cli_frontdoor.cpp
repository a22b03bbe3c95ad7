// The CLI's front door: predict on image files, summary and bench on checkpoints and
// ONNX files, and the measured costs (well-formed output only: timings are never asserted).
#include <gtest/gtest.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "io/checkpoint.h"
#include "io_test_support.h"
#include "trained_model_support.h"

using namespace xcept;
using test::run_cli;
using json = nlohmann::json;

namespace {

// w x h x c pixels, quadrant q bright (the quadrant task's class q).
void write_quadrant_png(const std::string& path, int w, int h, int c, int q) {
  std::vector<uint8_t> px(size_t(w * h * c));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        px[size_t((y * w + x) * c + k)] = (y * 2 / h) * 2 + (x * 2 / w) == q ? 200 : 40;
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, c, px.data(), w * c)) << path;
}

json parse(const test::CliRun& r) {
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

class CliFrontDoor : public ::testing::Test {
 protected:
  void SetUp() override { ckpt_ = test::train_small_checkpoint(tmp_.str()); }
  test::TempDir tmp_;
  std::string ckpt_;
};

}  // namespace

TEST_F(CliFrontDoor, PredictNamesClassesAsTheDatasetDid) {
  write_quadrant_png(tmp_.file("a.png"), 8, 8, 1, 2);
  write_quadrant_png(tmp_.file("b.png"), 16, 16, 3, 1);  // resized to 8x8, RGB -> gray
  const auto r = run_cli("predict --checkpoint " + ckpt_ + " --json -k 3 " + tmp_.file("a.png") +
                             " " + tmp_.file("b.png"),
                         false);
  ASSERT_EQ(r.status, 0) << r.out;
  const json j = parse(r);
  ASSERT_EQ(j.size(), 2u);
  for (const json& p : j) {
    ASSERT_EQ(p["top"].size(), 3u);
    EXPECT_EQ(p["class_index"], p["top"][0]["class_index"]);
    EXPECT_EQ(p["class_name"], std::to_string(p["class_index"].get<int>()));  // IDX: digits
    EXPECT_GT(p["probability"].get<double>(), 0.0);
    EXPECT_GE(p["top"][0]["probability"].get<double>(), p["top"][1]["probability"].get<double>());
  }
  EXPECT_EQ(j[1]["image"], tmp_.file("b.png"));

  const auto strict = run_cli("predict --checkpoint " + ckpt_ + " --no-resize " + tmp_.file("b.png"));
  EXPECT_EQ(strict.status, 1);
  EXPECT_NE(strict.out.find("the image is 16x16 (height x width), the model takes 8x8"),
            std::string::npos) << strict.out;
}

TEST_F(CliFrontDoor, PredictWithAnOldCheckpointShowsIndices) {
  Checkpoint old = read_checkpoint(ckpt_);
  old.meta.extra.erase("class_names");
  write_checkpoint(tmp_.file("old.ckpt"), old);
  write_quadrant_png(tmp_.file("a.png"), 8, 8, 1, 0);
  const auto r = run_cli("predict -c " + tmp_.file("old.ckpt") + " -k 1 " + tmp_.file("a.png"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("has no class names"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  class "), std::string::npos) << r.out;
  const json j = parse(run_cli("predict -c " + tmp_.file("old.ckpt") + " --json " + tmp_.file("a.png"), false));
  EXPECT_TRUE(j[0]["class_name"].is_null());
}

TEST_F(CliFrontDoor, SummaryAndBenchTakeCheckpointsAndOnnxFiles) {
  // A checkpoint counts as the zoo model it was trained from.
  const json ck = parse(run_cli("summary " + ckpt_ + " --json", false));
  const json zoo = parse(run_cli(
      "summary mini-mobilenet --alpha 0.25 --input-size 8 --input-channels 1 --classes 10 --json",
      false));
  EXPECT_EQ(ck["params_total"], zoo["params_total"]);
  EXPECT_EQ(ck["macs"], zoo["macs"]);
  EXPECT_EQ(ck["model"], ckpt_);

  const std::string onnx = std::string(XCEPT_SOURCE_DIR) + "/tests/data/onnx/mobilenet_block/model.onnx";
  const json o = parse(run_cli("summary " + onnx + " --json", false));
  EXPECT_EQ(o["params_total"], 1344);  // conv 432, dw 144, pw 512, three batch norms 4C each
  EXPECT_EQ(o["params_trainable"], 1216);
  EXPECT_EQ(o["layers"][0]["type"], "Conv");
  EXPECT_EQ(o["layers"][0]["output"], json({16, 16, 16}));

  const json b = parse(run_cli("bench " + onnx + " --repeats 1 --warmup 0 --json", false));
  EXPECT_EQ(b["input"], json({1, 3, 32, 32}));
  EXPECT_GT(b["layers"].size(), 3u);
  const json bc = parse(run_cli("bench " + ckpt_ + " --batch 2 --repeats 1 --warmup 0 --json", false));
  EXPECT_EQ(bc["input"], json({2, 8, 8, 1}));
  EXPECT_EQ(run_cli("bench " + onnx + " --train").status, 1);
}

TEST(CliMeasured, ConvsBenchGivesTimeBesideTheFormula) {
  const auto r = run_cli("convs --in 8x8x16 --out 16 --kernel 3 --bench --repeats 1 --json", false);
  ASSERT_EQ(r.status, 0) << r.out;
  const json j = json::parse(r.out);
  EXPECT_GT(j["bench"]["peak_gflops"].get<double>(), 0);
  ASSERT_GE(j["bench"]["memory"].size(), 2u);  // caches, then DRAM
  EXPECT_EQ(j["bench"]["memory"].back()["level"], "DRAM");
  for (const json& l : j["bench"]["memory"]) EXPECT_GT(l["bandwidth_gbs"].get<double>(), 0) << l;
  ASSERT_EQ(j["types"].size(), 6u);
  for (const json& t : j["types"]) {
    const json& m = t["measured"];
    EXPECT_GE(m["ms"].get<double>(), 0) << t;
    EXPECT_GT(m["bytes"].get<int64_t>(), 0) << t;
    EXPECT_TRUE(m["bound"] == "compute" || m["bound"] == "memory") << t;
    EXPECT_EQ(m["macs"], t["macs"]) << t;  // what ran is what the formula counts
  }

  const auto text = run_cli("convs --in 8x8x16 --out 16 --bench --repeats 1");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("time/normal"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("roofline"), std::string::npos) << text.out;
}

TEST(CliMeasured, SummaryBenchReadsEveryStep) {
  const auto r = run_cli("summary mini-mobilenet --alpha 0.25 --bench --repeats 1 --json", false);
  ASSERT_EQ(r.status, 0) << r.out;
  const json j = json::parse(r.out);
  ASSERT_GT(j["bench"]["steps"].size(), 5u);
  int64_t macs = 0;
  for (const json& s : j["bench"]["steps"]) macs += s["macs"].get<int64_t>();
  EXPECT_EQ(macs, j["macs"]);  // batch 1: the steps do the layers' MACs, fused or not
  const auto text = run_cli("summary mini-mobilenet --alpha 0.25 --bench --repeats 1");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("% time"), std::string::npos) << text.out;
}
