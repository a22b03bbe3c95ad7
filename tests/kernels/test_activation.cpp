// Activation kernels: hand-picked values and derivatives (kinks, negatives, the relu6
// cap), finite-difference checks, the parallel path against the reference, in-place use.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/activation_f32.h"
#include "kernels/kernels.h"
#include "kernels/reference/activation_ref.h"
#include "test_support.h"

using namespace xcept;

namespace {

// The trainable activations (Act::trainable).
const Act kAll[] = {Act::none(), Act::relu(), Act::relu6(), Act::elu()};

// a, with elu's alpha set to `alpha`.
Act with_alpha(Act a, float alpha) { return a.kind == ActKind::elu ? Act::elu(alpha) : a; }

std::vector<float> fwd(Act a, const std::vector<float>& x, float alpha = 1.0f) {
  std::vector<float> y(x.size());
  activation_fwd_f32(with_alpha(a, alpha), x.data(), y.data(), int64_t(x.size()));
  return y;
}

// dx for dy = 1, through the output-based backward.
std::vector<float> deriv(Act a, const std::vector<float>& x, float alpha = 1.0f) {
  std::vector<float> y = fwd(a, x, alpha), ones(x.size(), 1.0f), dx(x.size());
  activation_bwd_f32(with_alpha(a, alpha), y.data(), ones.data(), dx.data(), int64_t(x.size()));
  return dx;
}

}  // namespace

TEST(Act, NamesRoundTripAndBadNameIsNamed) {
  for (Act a : kAll) EXPECT_EQ(parse_act(act_name(a)), a);
  EXPECT_STREQ(act_name(Act::relu6()), "relu6");
  try {
    parse_act("gelu");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'gelu'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_act("ReLU"), Error);  // case matters: names are exact
  EXPECT_THROW(parse_act(""), Error);
}

TEST(Act, ReluValuesAndDerivatives) {
  std::vector<float> x = {-2.f, -0.5f, -0.f, 0.f, 0.25f, 3.f, 100.f};
  EXPECT_EQ(fwd(Act::relu(), x), (std::vector<float>{0, 0, 0, 0, 0.25f, 3, 100}));
  EXPECT_EQ(deriv(Act::relu(), x), (std::vector<float>{0, 0, 0, 0, 1, 1, 1}));
}

TEST(Act, Relu6ValuesAndDerivatives) {
  std::vector<float> x = {-1.f, 0.f, 0.5f, 5.99f, 6.f, 6.01f, 7.5f, 1e30f};
  EXPECT_EQ(fwd(Act::relu6(), x), (std::vector<float>{0, 0, 0.5f, 5.99f, 6, 6, 6, 6}));
  // Zero at both kinks (x = 0 and x = 6), as TensorFlow's Relu6Grad.
  EXPECT_EQ(deriv(Act::relu6(), x), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(Act, EluValuesAndDerivatives) {
  std::vector<float> x = {-100.f, -3.f, -1.f, -1e-3f, -1e-30f, 0.f, 0.5f, 2.f};
  for (float alpha : {1.0f, 0.5f, 2.0f}) {
    SCOPED_TRACE(alpha);
    std::vector<float> y = fwd(Act::elu(), x, alpha), d = deriv(Act::elu(), x, alpha);
    for (size_t i = 0; i < x.size(); ++i) {
      double xe = x[i];
      double ye = xe > 0 ? xe : alpha * std::expm1(xe);
      double de = xe >= 0 ? 1.0 : alpha * std::exp(xe);
      // Relative precision even near 0, where exp(x) - 1 would cancel.
      EXPECT_NEAR(y[i], ye, 2e-7 * std::fabs(ye) + 1e-37) << "x=" << x[i];
      EXPECT_NEAR(d[i], de, 1e-6 * alpha) << "x=" << x[i];
    }
  }
  // alpha <= 0 (an ONNX model may hold one) runs forward; its output no longer gives the
  // derivative, so the backward and the parser refuse it.
  EXPECT_EQ(fwd(Act::elu(), {-1.f, 2.f}, 0.0f), (std::vector<float>{0.f, 2.f}));
  EXPECT_FALSE(Act::elu(0.0f).trainable());
  EXPECT_THROW(deriv(Act::elu(), x, -1.0f), Error);
  EXPECT_THROW(parse_act("elu", 0.0f), Error);
}

TEST(Act, NoneIsIdentityAndPassesGradientThrough) {
  std::vector<float> x = {-2.f, 0.f, 7.f};
  EXPECT_EQ(fwd(Act::none(), x), x);
  EXPECT_EQ(deriv(Act::none(), x), (std::vector<float>{1, 1, 1}));
}

TEST(Act, NanPropagatesThroughForward) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Act a : kAll) {
    SCOPED_TRACE(act_name(a));
    EXPECT_TRUE(std::isnan(fwd(a, {nan})[0]));
  }
}

// loss = sum(r * f(x)) built in double from the reference; analytic gradient from the f32
// kernels (forward, then the output-based backward with dy = r). Inputs avoid the kinks.
TEST(Act, GradientMatchesFiniteDifferences) {
  const int64_t n = 257;
  auto r = test::random_vector<float>(n, 11);
  for (Act a : kAll) {
    for (float alpha : {1.0f, 0.7f}) {
      SCOPED_TRACE(std::string(act_name(a)) + " alpha " + std::to_string(alpha));
      auto xf = test::random_vector<float>(n, 12, -8.0f, 8.0f);
      for (float& v : xf)
        if (std::fabs(v) < 0.05f || std::fabs(v - 6.0f) < 0.05f) v += 0.1f;
      const Act act = with_alpha(a, alpha);
      std::vector<float> y = fwd(a, xf, alpha), dx(n);
      activation_bwd_f32(act, y.data(), r.data(), dx.data(), n);
      std::vector<double> x(xf.begin(), xf.end()), analytic(dx.begin(), dx.end());
      auto loss = [&] {
        double l = 0;
        for (int64_t i = 0; i < n; ++i) l += r[i] * ref::activation_fwd<double>(act, x[i]);
        return l;
      };
      EXPECT_LT(test::gradient_check(x, analytic, loss), 1e-5);
    }
  }
}

// Large enough to take the thread-pool path; in place must equal out of place.
TEST(Act, LargeArraysMatchReferenceAndRunInPlace) {
  const int64_t n = (int64_t{1} << 18) + 13;
  auto x = test::random_vector<float>(n, 21, -10.0f, 10.0f);
  auto dy = test::random_vector<float>(n, 22);
  for (Act a : kAll) {
    SCOPED_TRACE(act_name(a));
    const Act act = with_alpha(a, 0.8f);
    std::vector<float> y = fwd(a, x, 0.8f), dx(n);
    activation_bwd_f32(act, y.data(), dy.data(), dx.data(), n);
    double max_err = 0, max_gerr = 0;
    for (int64_t i = 0; i < n; ++i) {
      max_err = std::max(max_err, std::fabs(y[i] - ref::activation_fwd<double>(act, x[i])));
      double g = dy[i] * ref::activation_deriv<double>(act, x[i]);
      max_gerr = std::max(max_gerr, std::fabs(dx[i] - g));
    }
    EXPECT_LT(max_err, 1e-6);
    EXPECT_LT(max_gerr, 1e-6);
    std::vector<float> buf = x;
    activation_fwd_f32(act, buf.data(), buf.data(), n);
    EXPECT_EQ(buf, y);
    buf = dy;
    activation_bwd_f32(act, y.data(), buf.data(), buf.data(), n);
    EXPECT_EQ(buf, dx);
  }
}

// The act_fwd / act_bwd rows of the kernel table against their `_ref` rows, on every
// kind the row accepts (clip and leaky_relu forward only), sizes around the threading
// grain, and in place.
TEST(Act, TableRowsMatchReference) {
  const Act acts[] = {Act::none(),      Act::relu(),        Act::relu6(), Act::elu(0.7f),
                      Act::clip(-1, 2), Act::leaky_relu(0.1f), Act::elu(-0.5f)};
  int checked = 0;
  for (int64_t n : {int64_t{1}, int64_t{100}, (int64_t{1} << 17) + 3}) {
    auto x = test::random_vector<float>(n, 31, -8.f, 8.f);
    const auto dy = test::random_vector<float>(n, 32);
    for (float& v : x)  // off the kinks, where the two derivatives may differ
      if (std::fabs(v) < 1e-3f || std::fabs(v - 6.f) < 1e-3f || std::fabs(v - 2.f) < 1e-3f ||
          std::fabs(v + 1.f) < 1e-3f)
        v += 0.01f;
    for (const Act& a : acts) {
      const ActShape s{n, a};
      SCOPED_TRACE(s.to_string());
      std::vector<float> want(x.size()), y(x.size());
      reference_row(act_fwd_kernels()).fn(s, x.data(), want.data());
      for (const ActFwdKernel& row : act_fwd_kernels()) {
        if (row.is_reference() || !row.supports(s)) continue;
        row.fn(s, x.data(), y.data());
        ASSERT_LT(test::max_rel_error(y.data(), want.data(), n), 1e-6) << row.name;
        std::vector<float> inplace = x;
        row.fn(s, inplace.data(), inplace.data());
        ASSERT_EQ(inplace, y) << row.name << " in place";
        ++checked;
      }
      if (!a.trainable()) {
        EXPECT_FALSE(act_bwd_kernels()[0].supports(s));
        std::vector<float> dx(x.size());
        EXPECT_THROW(activation_bwd_f32(a, y.data(), dy.data(), dx.data(), n), Error);
        continue;
      }
      std::vector<float> gwant(x.size()), g(x.size());
      reference_row(act_bwd_kernels()).fn(s, y.data(), dy.data(), gwant.data());
      for (const ActBwdKernel& row : act_bwd_kernels()) {
        if (row.is_reference() || !row.supports(s)) continue;
        row.fn(s, y.data(), dy.data(), g.data());
        ASSERT_LT(test::max_rel_error(g.data(), gwant.data(), n), 1e-6) << row.name;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}
