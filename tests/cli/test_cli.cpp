// The command-line program end to end: output that users read, and errors for bad input.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_support.h"

using xcept::test::CliRun;
using xcept::test::run_cli;

TEST(Cli, ConvsPrintsTheFamilyTable) {
  CliRun r = run_cli("convs --in 19x19x728 --out 728 --kernel 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("4,769,856"), std::string::npos) << r.out;      // normal params
  EXPECT_NE(r.out.find("536,536"), std::string::npos) << r.out;        // separable params
  EXPECT_NE(r.out.find("193,689,496"), std::string::npos) << r.out;    // separable MACs
  EXPECT_NE(r.out.find("0.1125"), std::string::npos) << r.out;
}

TEST(Cli, ConvsJson) {
  CliRun r = run_cli("convs --in 32x32x16 --out 32 --kernel 5 --groups 4 --stride 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"grouped (g=4)\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"macs\": 3276800"), std::string::npos) << r.out;  // 25*16*32*16*16
}

TEST(Cli, ConvsRejectsBadShapesWithAMessage) {
  CliRun r = run_cli("convs --in 8x8x6 --out 9 --kernel 3 --groups 4");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("grouped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not divisible"), std::string::npos) << r.out;
  r = run_cli("convs --in 8x8 --out 9");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("--in"), std::string::npos) << r.out;
  r = run_cli("convs --in 4x4x3 --out 8 --kernel 7 --padding valid");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("larger than the padded input"), std::string::npos) << r.out;
  r = run_cli("convs --in 99999999999x99999999999x99999999999 --out 8");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("too large"), std::string::npos) << r.out;
}
