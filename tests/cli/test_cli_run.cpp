// `xcept run` end to end on a committed ONNX fixture: .npy and .pb in and out, and the
// errors a user sees for wrong file counts and bad files.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/onnx/onnx_tensor.h"
#include "cli_test_support.h"
#include "io_test_support.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;

using xcept::test::CliRun;

CliRun run_xcept(const std::string& args) { return xcept::test::run_cli(args); }

const fs::path kCase = fs::path(XCEPT_SOURCE_DIR) / "tests/data/onnx/mini_xception";

TEST(CliRun, RunsAnOnnxModelOnNpyAndPbFiles) {
  xcept::test::TempDir dir;
  const std::string model = (kCase / "model.onnx").string();
  const auto expected = xcept::read_tensor_file((kCase / "test_data_set_0/output_0.pb").string());
  for (const char* ext : {".npy", ".pb"}) {
    const std::string out = dir.file(std::string("y") + ext);
    CliRun r = run_xcept("run " + model + " --input " +
                         (kCase / (std::string("test_data_set_0/input_0") + ext)).string() +
                         " --output " + out);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("output 1x10 -> " + out), std::string::npos) << r.out;
    const auto y = xcept::read_tensor_file(out);
    ASSERT_EQ(y.dims, expected.dims);
    EXPECT_LT(xcept::test::max_rel_error(y.f32.data(), expected.f32.data(), y.f32.numel()), 1e-4);
  }
}

TEST(CliRun, ErrorsNameTheProblem) {
  xcept::test::TempDir dir;
  const std::string model = (kCase / "model.onnx").string();
  const std::string in = (kCase / "test_data_set_0/input_0.npy").string();
  CliRun r = run_xcept("run " + model + " --input " + in + " --input " + in + " --output " +
                       dir.file("y.npy"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("the model has 1 input(s) (input), 2 --input file(s) given"),
            std::string::npos)
      << r.out;
  xcept::test::write_bytes(dir.file("bad.npy"), {1, 2, 3});
  r = run_xcept("run " + model + " --input " + dir.file("bad.npy") + " --output " + dir.file("y.npy"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find(dir.file("bad.npy")), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir.file("y.npy")));
}

}  // namespace
