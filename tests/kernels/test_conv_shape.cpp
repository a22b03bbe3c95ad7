#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/conv_shape.h"

using namespace xcept;

static ConvParams params(int64_t m, int64_t k, int64_t stride, Padding pad, int64_t groups = 1,
                         int64_t dilation = 1) {
  ConvParams p;
  p.out_channels = m;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = dilation;
  p.padding = pad;
  p.groups = groups;
  return p;
}

TEST(ConvShape, ValidPaddingMatchesXceptionStem) {
  ConvShape s = make_conv_shape("block1_conv1", 1, 299, 299, 3, params(32, 3, 2, Padding::valid()));
  EXPECT_EQ(s.ho, 149);
  EXPECT_EQ(s.wo, 149);
  ConvShape s2 = make_conv_shape("block1_conv2", 1, 149, 149, 32, params(64, 3, 1, Padding::valid()));
  EXPECT_EQ(s2.ho, 147);
}

TEST(ConvShape, SamePaddingFollowsTensorFlowOddTotalPadsEnd) {
  // 147 -> ceil(147/2) = 74; total pad = (74-1)*2 + 1 - 147 = 0 for 1x1.
  ConvShape s = make_conv_shape("shortcut", 1, 147, 147, 64, params(128, 1, 2, Padding::same()));
  EXPECT_EQ(s.ho, 74);
  EXPECT_EQ(s.pad_top + s.pad_bottom, 0);
  // 8 -> 4 with a 3x3 window at stride 2: total (4-1)*2+3-8 = 1, all of it at the end.
  ConvShape t = make_conv_shape("dw", 1, 8, 8, 4, params(4, 3, 2, Padding::same(), 4));
  EXPECT_EQ(t.ho, 4);
  EXPECT_EQ(t.pad_top, 0);
  EXPECT_EQ(t.pad_bottom, 1);
  // Stride 1, 3x3: one on each side.
  ConvShape u = make_conv_shape("sep", 1, 19, 19, 728, params(728, 3, 1, Padding::same(), 728));
  EXPECT_EQ(u.ho, 19);
  EXPECT_EQ(u.pad_top, 1);
  EXPECT_EQ(u.pad_bottom, 1);
  // Dilation 2 widens a 3x3 window to 5: total 4, two each side.
  ConvShape d = make_conv_shape("dil", 1, 10, 10, 2, params(2, 3, 1, Padding::same(), 1, 2));
  EXPECT_EQ(d.ho, 10);
  EXPECT_EQ(d.pad_left, 2);
  EXPECT_EQ(d.pad_right, 2);
}

TEST(ConvShape, ExplicitAsymmetricPads) {
  ConvShape s = make_conv_shape("c", 2, 5, 7, 3, params(4, 3, 2, Padding::explicit_(0, 1, 2, 0)));
  EXPECT_EQ(s.ho, (5 + 0 + 2 - 3) / 2 + 1);
  EXPECT_EQ(s.wo, (7 + 1 + 0 - 3) / 2 + 1);
}

static std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConvShape, BadShapesNameTheLayerAndNumbers) {
  auto msg = error_of([] { make_conv_shape("block2", 1, 8, 8, 10, params(12, 3, 1, Padding::same(), 4)); });
  EXPECT_NE(msg.find("block2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("10"), std::string::npos) << msg;
  EXPECT_NE(msg.find("groups 4"), std::string::npos) << msg;

  msg = error_of([] { make_conv_shape("conv_m", 1, 8, 8, 4, params(6, 3, 1, Padding::same(), 4)); });
  EXPECT_NE(msg.find("output channels 6"), std::string::npos) << msg;

  msg = error_of([] { make_conv_shape("big_kernel", 1, 4, 4, 3, params(8, 7, 1, Padding::valid())); });
  EXPECT_NE(msg.find("big_kernel"), std::string::npos) << msg;
  EXPECT_NE(msg.find("larger than the padded input"), std::string::npos) << msg;

  msg = error_of([] { make_conv_shape("zero", 1, 0, 4, 3, params(8, 1, 1, Padding::valid())); });
  EXPECT_NE(msg.find("must be positive"), std::string::npos) << msg;
  msg = error_of([] { make_conv_shape("neg", 1, 4, 4, 3, params(-8, 1, 1, Padding::valid())); });
  EXPECT_NE(msg.find("-8"), std::string::npos) << msg;
  msg = error_of([] { make_conv_shape("stride0", 1, 4, 4, 3, params(8, 1, 0, Padding::valid())); });
  EXPECT_NE(msg.find("stride"), std::string::npos) << msg;
  msg = error_of([] { make_conv_shape("negpad", 1, 4, 4, 3, params(8, 1, 1, Padding::explicit_(-1, 0, 0, 0))); });
  EXPECT_NE(msg.find("negative"), std::string::npos) << msg;
}

TEST(ConvShape, OverflowingSizesAreRejectedNotWrapped) {
  auto msg = error_of([] {
    make_conv_shape("huge", int64_t{1} << 20, int64_t{1} << 20, int64_t{1} << 20, 1 << 20,
                    params(8, 1, 1, Padding::valid()));
  });
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
  msg = error_of([] {
    make_conv_shape("huge_kernel", 1, 8, 8, 3,
                    params(8, int64_t{1} << 40, 1, Padding::same()));
  });
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
}
