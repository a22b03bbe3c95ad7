// Learning-rate schedules at chosen points of training.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "train/schedule.h"

namespace xcept {
namespace {

TEST(Schedule, XceptionStepDecay) {
  LrSchedule s = xception_paper_schedule();
  EXPECT_EQ(s.base_lr, 0.045);
  const double lr = 0.045;
  for (int64_t step : {0, 7, 99}) {
    EXPECT_DOUBLE_EQ(s.at(0, step, 100), lr);
    EXPECT_DOUBLE_EQ(s.at(1, step, 100), lr);
    EXPECT_DOUBLE_EQ(s.at(2, step, 100), 0.94 * lr);
    EXPECT_DOUBLE_EQ(s.at(3, step, 100), 0.94 * lr);
    EXPECT_DOUBLE_EQ(s.at(4, step, 100), 0.94 * 0.94 * lr);
  }
  EXPECT_NEAR(s.at(100, 0, 100), lr * std::pow(0.94, 50), 1e-15);
}

TEST(Schedule, Constant) {
  LrSchedule s{.kind = ScheduleKind::constant, .base_lr = 0.3};
  EXPECT_EQ(s.at(0, 0, 10), 0.3);
  EXPECT_EQ(s.at(500, 9, 10), 0.3);
}

TEST(Schedule, CosineEndpointsAndMiddle) {
  LrSchedule s{.kind = ScheduleKind::cosine, .base_lr = 0.1, .total_epochs = 10, .min_lr = 0.001};
  EXPECT_DOUBLE_EQ(s.at(0, 0, 50), 0.1);
  EXPECT_NEAR(s.at(5, 0, 50), (0.1 + 0.001) / 2, 1e-15);
  EXPECT_NEAR(s.at(9, 49, 50),
              0.001 + 0.099 * 0.5 * (1 + std::cos(std::numbers::pi * (9 + 49 / 50.0) / 10)), 1e-15);
  EXPECT_DOUBLE_EQ(s.at(10, 0, 50), 0.001);
  EXPECT_DOUBLE_EQ(s.at(12, 3, 50), 0.001);
  // Within an epoch it moves by step, monotonically down.
  EXPECT_LT(s.at(3, 1, 50), s.at(3, 0, 50));
}

TEST(Schedule, WarmupRampsToTheMainSchedule) {
  LrSchedule s{.kind = ScheduleKind::constant, .base_lr = 0.1, .warmup_epochs = 1};
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(s.at(0, k, 10), 0.1 * (k + 1) / 10, 1e-15) << k;
  EXPECT_EQ(s.at(1, 0, 10), 0.1);
  s.warmup_start_factor = 0.5;
  EXPECT_NEAR(s.at(0, 0, 10), 0.1 * (0.5 + 0.5 * 0.1), 1e-15);
  EXPECT_NEAR(s.at(0, 9, 10), 0.1, 1e-15);

  // Warm-up in front of cosine: ends exactly on the cosine curve, which is not shifted.
  LrSchedule c{.kind = ScheduleKind::cosine, .base_lr = 1.0, .total_epochs = 4, .warmup_epochs = 2};
  const double at2 = 0.5 * (1 + std::cos(std::numbers::pi * 2 / 4));
  EXPECT_NEAR(c.at(1, 3, 4), at2, 1e-12);  // last warm-up step
  EXPECT_NEAR(c.at(0, 3, 4), at2 * 4 / 8, 1e-12);
  EXPECT_NEAR(c.at(2, 0, 4), at2, 1e-12);
  EXPECT_NEAR(c.at(4, 0, 4), 0.0, 1e-12);

  // Fractional warm-up: half an epoch of 10 steps is 5 steps.
  LrSchedule f{.kind = ScheduleKind::constant, .base_lr = 1.0, .warmup_epochs = 0.5};
  EXPECT_NEAR(f.at(0, 0, 10), 0.2, 1e-15);
  EXPECT_NEAR(f.at(0, 4, 10), 1.0, 1e-15);
  EXPECT_EQ(f.at(0, 5, 10), 1.0);
}

TEST(Schedule, ParserAndErrors) {
  EXPECT_EQ(parse_schedule_kind("step"), ScheduleKind::step);
  EXPECT_EQ(parse_schedule_kind("cosine"), ScheduleKind::cosine);
  EXPECT_EQ(parse_schedule_kind("constant"), ScheduleKind::constant);
  EXPECT_STREQ(to_string(ScheduleKind::cosine), "cosine");
  try {
    parse_schedule_kind("linear");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'linear'"), std::string::npos) << e.what();
  }
  LrSchedule cos_without_length{.kind = ScheduleKind::cosine};
  EXPECT_THROW(cos_without_length.at(0, 0, 1), Error);
  LrSchedule s;
  EXPECT_THROW(s.at(0, 10, 10), Error);
  EXPECT_THROW(s.at(-1, 0, 10), Error);
  EXPECT_THROW(s.at(0, 0, 0), Error);
  LrSchedule bad_decay{.kind = ScheduleKind::step, .decay_every_epochs = 0};
  EXPECT_THROW(bad_decay.validate(), Error);
}

}  // namespace
}  // namespace xcept
