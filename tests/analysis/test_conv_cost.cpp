// The cost formulas on hand-worked cases (reference section 1 and seed 004).
#include <gtest/gtest.h>

#include "analysis/conv_cost.h"
#include "core/error.h"

using namespace xcept;

static ConvShape conv(int64_t h, int64_t c, int64_t m, int64_t k, int64_t stride, int64_t groups,
                      Padding pad = Padding::same()) {
  return make_conv_shape("cost", 1, h, h, c, conv_params(m, k, stride, pad, groups));
}

TEST(ConvCost, SeedExampleFourByFourByThreeWithTwoTwoByTwoFilters) {
  // Seed 004: input (4,4,3), two 2x2 filters. Params = K^2 C M = 4*3*2 = 24.
  Cost valid = conv_cost(conv(4, 3, 2, 2, 1, 1, Padding::valid()), false);
  EXPECT_EQ(valid.params, 24);
  EXPECT_EQ(valid.macs, 24 * 3 * 3);  // 3x3 output positions
  Cost with_bias = conv_cost(conv(4, 3, 2, 2, 1, 1, Padding::valid()), true);
  EXPECT_EQ(with_bias.params, 26);
}

TEST(ConvCost, EachTypeByItsFormula) {
  const int64_t H = 19, C = 728, M = 728, K = 3;
  EXPECT_EQ(conv_cost(conv(H, C, M, K, 1, 1), false).params, K * K * C * M);
  EXPECT_EQ(conv_cost(conv(H, C, M, K, 1, 1), false).macs, K * K * C * M * H * H);
  EXPECT_EQ(conv_cost(conv(H, C, M, K, 1, 4), false).params, K * K * C * M / 4);
  EXPECT_EQ(conv_cost(conv(H, C, M, K, 1, 4), false).macs, K * K * C * M * H * H / 4);
  EXPECT_EQ(conv_cost(conv(H, C, C, K, 1, C), false).params, K * K * C);
  EXPECT_EQ(conv_cost(conv(H, C, 2 * C, K, 1, C), false).params, K * K * C * 2);  // multiplier 2
  EXPECT_EQ(conv_cost(conv(H, C, M, 1, 1, 1), false).macs, C * M * H * H);
}

TEST(ConvCost, StrideUsesTheOutputSize) {
  // MobileNet's first depthwise stride-2 layer: 112x112x64 -> 56x56x64.
  Cost dw = conv_cost(conv(112, 64, 64, 3, 2, 64), false);
  EXPECT_EQ(dw.macs, 9 * 64 * 56 * 56);
}

TEST(ConvCost, FamilyRowsAndTheSeparableRatio) {
  FamilyQuery q;
  q.h = q.w = 19, q.c = 728, q.m = 728, q.k = 3;
  auto rows = convolution_family_costs(q);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].type, "normal");
  EXPECT_EQ(rows[0].cost.params, 4'769'856);
  EXPECT_EQ(rows[0].cost.macs, 1'721'918'016);
  EXPECT_EQ(rows[1].cost.params, 4'769'856 / 2);  // grouped defaults to g = 2
  EXPECT_EQ(rows[2].cost.params, 6'552);
  EXPECT_EQ(rows[3].cost.params, 529'984);
  EXPECT_EQ(rows[4].cost.params, 728 * (9 + 728));
  EXPECT_EQ(rows[4].cost.macs, int64_t{728} * 19 * 19 * (9 + 728));
  // separable / normal = 1/M + 1/K^2 exactly at stride 1, same padding.
  EXPECT_DOUBLE_EQ(double(rows[4].cost.macs) / double(rows[0].cost.macs), 1.0 / 728 + 1.0 / 9);
  // Xception's order costs the same at stride 1 when C == M.
  EXPECT_EQ(rows[5].cost.macs, rows[4].cost.macs);
}

TEST(ConvCost, OrdersDifferWhenStridedOrChannelsChange) {
  FamilyQuery q;
  q.h = q.w = 56, q.c = 64, q.m = 128, q.k = 3, q.stride = 2;
  auto rows = convolution_family_costs(q);
  // dw->pw: 9*64*28*28 + 64*128*28*28; pw->dw: 64*128*56*56 + 9*128*28*28.
  EXPECT_EQ(rows[4].cost.macs, 9 * 64 * 28 * 28 + 64 * 128 * 28 * 28);
  EXPECT_EQ(rows[5].cost.macs, 64 * 128 * 56 * 56 + 9 * 128 * 28 * 28);
}

TEST(ConvCost, BadShapeNamesTheRow) {
  FamilyQuery q;
  q.h = q.w = 8, q.c = 6, q.m = 9, q.k = 3, q.groups = 4;
  try {
    convolution_family_costs(q);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grouped"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("6"), std::string::npos) << e.what();
  }
}
