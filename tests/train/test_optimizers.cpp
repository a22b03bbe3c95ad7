// Optimizers against their published update rules, computed here by hand in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/threadpool.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace xcept {
namespace {

// A tiny "model": parameters with gradients the test sets directly.
struct Model {
  std::vector<std::string> names;
  std::vector<Tensor> values, grads;
  Model(std::vector<std::pair<std::string, Dims>> specs) {
    for (auto& [n, d] : specs) {
      names.push_back(n);
      values.emplace_back(d);
      grads.emplace_back(d);
    }
  }
  ParamList params() {
    ParamList p;
    for (size_t i = 0; i < names.size(); ++i) p.push_back({names[i], &values[i], &grads[i]});
    return p;
  }
};

void set(Tensor& t, const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i) t[int64_t(i)] = float(v[i]);
}

void expect_near(const Tensor& t, const std::vector<double>& want, double tol = 2e-6) {
  ASSERT_EQ(t.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(t[int64_t(i)], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
}

const std::vector<double> kW0 = {1.0, -2.0, 0.5};
const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 2.0}, {-0.25, 0.75, 1.5}, {1.0, 0.0, -3.0}};

// Runs `opt` over kGrads from kW0 and returns the parameter after each step.
std::vector<Tensor> run(Optimizer& opt, double lr) {
  Model m({{"w", {3}}});
  set(m.values[0], kW0);
  std::vector<Tensor> out;
  for (const auto& g : kGrads) {
    set(m.grads[0], g);
    opt.step(m.params(), lr);
    out.push_back(m.values[0]);
  }
  return out;
}

TEST(Optimizers, SgdPlainAndWeightDecay) {
  OptimizerOptions o;
  o.weight_decay = 0.1;
  Sgd sgd(o);
  auto got = run(sgd, 0.1);
  std::vector<double> w = kW0;
  for (size_t s = 0; s < kGrads.size(); ++s) {
    for (int i = 0; i < 3; ++i) w[i] -= 0.1 * (kGrads[s][i] + 0.1 * w[i]);
    expect_near(got[s], w);
  }
  EXPECT_TRUE(sgd.slot_names().empty());
}

// LARS: each weight tensor's step is scaled by eta*||w|| / (||g|| + wd*||w||), so a
// layer moves by about eta of its own norm whatever its gradient's size; rank-1 tensors
// (biases) take the plain learning rate.
TEST(Optimizers, LarsScalesEachWeightTensorByItsTrustRatio) {
  OptimizerOptions o;
  o.momentum = 0.9;
  o.weight_decay = 0.01;
  o.trust_coefficient = 0.02;
  Lars lars(o);
  Model m({{"conv.weight", {1, 3}}, {"conv.bias", {3}}});
  set(m.values[0], kW0);
  set(m.values[1], kW0);
  std::vector<double> w = kW0, bias = kW0, mw(3, 0.0), mb(3, 0.0);
  const double lr = 0.5;
  for (const auto& g : kGrads) {
    set(m.grads[0], g);
    set(m.grads[1], g);
    lars.step(m.params(), lr);
    double wn = 0, gn = 0;
    for (int i = 0; i < 3; ++i) wn += w[i] * w[i], gn += g[i] * g[i];
    wn = std::sqrt(wn), gn = std::sqrt(gn);
    const double local = 0.02 * wn / (gn + 0.01 * wn);
    for (int i = 0; i < 3; ++i) {
      mw[i] = 0.9 * mw[i] + lr * local * (g[i] + 0.01 * w[i]);
      w[i] -= mw[i];
      mb[i] = 0.9 * mb[i] + lr * (g[i] + 0.01 * bias[i]);
      bias[i] -= mb[i];
    }
    expect_near(m.values[0], w);
    expect_near(m.values[1], bias);
  }
  // Without decay the gradient's scale does not matter to a weight tensor's step.
  o.weight_decay = 0;
  Lars a(o), b(o);
  Model x({{"w", {1, 3}}}), y({{"w", {1, 3}}});
  set(x.values[0], kW0);
  set(y.values[0], kW0);
  set(x.grads[0], kGrads[0]);
  set(y.grads[0], {1000 * kGrads[0][0], 1000 * kGrads[0][1], 1000 * kGrads[0][2]});
  a.step(x.params(), 1.0);
  b.step(y.params(), 1.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(x.values[0][i], y.values[0][i], 1e-6);
  o.trust_coefficient = -1;
  EXPECT_THROW(make_optimizer("lars", o), Error);
}

TEST(Optimizers, SgdMomentumAndNesterovFollowPyTorch) {
  for (bool nesterov : {false, true}) {
    OptimizerOptions o;
    o.momentum = 0.9;
    o.nesterov = nesterov;
    Sgd sgd(o);
    auto got = run(sgd, 0.1);
    std::vector<double> w = kW0, b(3, 0.0);
    for (size_t s = 0; s < kGrads.size(); ++s) {
      for (int i = 0; i < 3; ++i) {
        double g = kGrads[s][i];
        b[i] = s == 0 ? g : 0.9 * b[i] + g;  // PyTorch: the buffer starts as the first grad
        w[i] -= 0.1 * (nesterov ? g + 0.9 * b[i] : b[i]);
      }
      expect_near(got[s], w);
    }
  }
}

TEST(Optimizers, NesterovTakesTheLargerFirstStep) {
  OptimizerOptions o;
  o.momentum = 0.9;
  Sgd plain(o);
  o.nesterov = true;
  Sgd nesterov(o);
  auto a = run(plain, 0.1), b = run(nesterov, 0.1);
  // Step 1: plain moves by lr*g, Nesterov by lr*(1+mu)*g.
  for (int i = 0; i < 3; ++i) {
    double g = kGrads[0][i];
    EXPECT_NEAR(kW0[i] - a[0][i], 0.1 * g, 1e-6);
    EXPECT_NEAR(kW0[i] - b[0][i], 0.1 * 1.9 * g, 1e-6);
  }
}

TEST(Optimizers, RmspropFollowsTensorFlowWithEpsilonInsideSqrt) {
  for (double init : {0.0, 1.0}) {
    OptimizerOptions o;
    o.rho = 0.9;
    o.momentum = 0.9;
    o.epsilon = 1.0;  // large, so inside vs outside the sqrt differ clearly
    o.initial_mean_square = init;
    o.weight_decay = 0.01;
    RmsProp opt(o);
    auto got = run(opt, 0.045);
    std::vector<double> w = kW0, ms(3, init), mom(3, 0.0);
    for (size_t s = 0; s < kGrads.size(); ++s) {
      for (int i = 0; i < 3; ++i) {
        double g = kGrads[s][i] + 0.01 * w[i];
        ms[i] = 0.9 * ms[i] + 0.1 * g * g;
        mom[i] = 0.9 * mom[i] + 0.045 * g / std::sqrt(ms[i] + 1.0);
        w[i] -= mom[i];
      }
      expect_near(got[s], w);
    }
  }
}

TEST(Optimizers, XceptionPaperRmsprop) {
  OptimizerOptions o = xception_rmsprop_options();
  EXPECT_EQ(o.rho, 0.9);
  EXPECT_EQ(o.momentum, 0.9);
  EXPECT_EQ(o.epsilon.value(), 1.0);
  auto opt = make_xception_rmsprop();
  EXPECT_STREQ(opt->name(), "rmsprop");
  auto got = run(*opt, 0.045);
  // First step from ms = 1 (TF1): ms = 0.9 + 0.1 g^2, w -= lr g / sqrt(ms + 1).
  for (int i = 0; i < 3; ++i) {
    double g = kGrads[0][i];
    EXPECT_NEAR(got[0][i], kW0[i] - 0.045 * g / std::sqrt(0.9 + 0.1 * g * g + 1.0), 1e-6);
  }
}

void adam_by_hand(bool decoupled, double wd, const std::vector<Tensor>& got) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  std::vector<double> w = kW0, m(3, 0.0), v(3, 0.0);
  for (size_t s = 0; s < kGrads.size(); ++s) {
    int t = int(s) + 1;
    for (int i = 0; i < 3; ++i) {
      double g = kGrads[s][i];
      if (decoupled)
        w[i] *= 1 - lr * wd;
      else
        g += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
      w[i] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
    expect_near(got[s], w, 1e-5);
  }
}

TEST(Optimizers, AdamWithBiasCorrectionAndL2) {
  OptimizerOptions o;
  Adam plain(o);
  auto got = run(plain, 0.01);
  adam_by_hand(false, 0.0, got);
  // With bias correction the first step is lr * sign(g), whatever |g|.
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(kW0[i] - got[0][i], 0.01 * (kGrads[0][i] > 0 ? 1 : -1), 1e-6);
  o.weight_decay = 0.1;
  Adam l2(o);
  adam_by_hand(false, 0.1, run(l2, 0.01));
}

TEST(Optimizers, AdamwDecaysDecoupled) {
  OptimizerOptions o;
  o.weight_decay = 0.1;
  Adam adamw(o, true);
  EXPECT_STREQ(adamw.name(), "adamw");
  auto got = run(adamw, 0.01);
  adam_by_hand(true, 0.1, got);
  Adam adam_l2(o, false);
  auto l2 = run(adam_l2, 0.01);
  EXPECT_NE(got[2][0], l2[2][0]);  // the two kinds of decay really differ
  // AdamW's default weight decay is PyTorch's 0.01.
  auto def = make_optimizer("adamw");
  auto d = run(*def, 0.01);
  std::vector<double> w = kW0;
  EXPECT_NEAR(d[0][0], w[0] * (1 - 0.01 * 0.01) - 0.01, 1e-6);
}

TEST(Optimizers, NonTrainableParametersAreSkipped) {
  Model m({{"w", {3}}, {"bn.moving_mean", {3}}});
  set(m.values[1], {1, 2, 3});
  ParamList p = m.params();
  p[1].grad = nullptr;
  m.grads[0].fill(1.f);
  auto opt = make_optimizer("adam");
  opt->step(p, 0.1);
  expect_near(m.values[1], {1, 2, 3}, 0);
  for (const NamedTensor& t : opt->export_state()) EXPECT_EQ(t.name.find("bn."), std::string::npos);
}

// Export after a few steps, import into a fresh optimizer, continue: bit-identical.
TEST(Optimizers, StateRoundTripContinuesIdentically) {
  OptimizerOptions o;
  o.momentum = 0.9;
  for (const char* name : {"sgd", "rmsprop", "adam", "adamw", "lars"}) {
    SCOPED_TRACE(name);
    OptimizerOptions oo = o;
    if (std::string(name).starts_with("adam")) oo.momentum = 0;
    Model a({{"conv.weight", {2, 3}}, {"conv.bias", {3}}});
    for (int i = 0; i < 6; ++i) a.values[0][i] = 0.1f * float(i) - 0.2f;
    auto opt_a = make_optimizer(name, oo);
    auto grads = [](Model& m, int s) {
      for (size_t k = 0; k < m.grads.size(); ++k)
        for (int64_t i = 0; i < m.grads[k].numel(); ++i)
          m.grads[k][i] = std::sin(float(s * 7 + i * 3 + int(k))) + 0.1f * m.values[k][i];
    };
    for (int s = 0; s < 3; ++s) {
      grads(a, s);
      opt_a->step(a.params(), 0.05);
    }
    Model b = a;
    NamedTensors state = opt_a->export_state();
    auto opt_b = make_optimizer(name, oo);
    opt_b->import_state(state, b.params());
    EXPECT_EQ(opt_b->steps(), 3);
    for (int s = 3; s < 6; ++s) {
      grads(a, s);
      grads(b, s);
      opt_a->step(a.params(), 0.05);
      opt_b->step(b.params(), 0.05);
    }
    for (size_t k = 0; k < a.values.size(); ++k)
      EXPECT_EQ(0, std::memcmp(a.values[k].data(), b.values[k].data(), a.values[k].numel() * 4));
  }
}

// Large parameters are split across threads; the update is elementwise, so bit-identical.
TEST(Optimizers, ThreadCountDoesNotChangeResults) {
  const int saved = num_threads();
  std::vector<Tensor> results;
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    Model m({{"big", {200001}}});
    for (int64_t i = 0; i < m.values[0].numel(); ++i) {
      m.values[0][i] = std::cos(float(i));
      m.grads[0][i] = std::sin(float(i));
    }
    auto opt = make_optimizer("adamw");
    for (int s = 0; s < 3; ++s) opt->step(m.params(), 0.01);
    results.push_back(m.values[0]);
  }
  set_num_threads(saved);
  EXPECT_EQ(0, std::memcmp(results[0].data(), results[1].data(), results[0].numel() * 4));
  EXPECT_NE(results[0][5], std::cos(5.f));
}

TEST(Optimizers, ImportRejectsMismatchedState) {
  Model m({{"w", {3}}, {"b", {2}}});
  m.grads[0].fill(1.f);
  auto adam = make_optimizer("adam");
  adam->step(m.params(), 0.1);
  NamedTensors good = adam->export_state();
  auto expect_error = [&](const NamedTensors& st, const char* needle, const char* opt = "adam") {
    auto fresh =
        make_optimizer(opt, OptimizerOptions{.momentum = std::string(opt) == "sgd" ? 0.9 : 0});
    try {
      fresh->import_state(st, m.params());
      ADD_FAILURE() << "no error; wanted " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(fresh->steps(), 0);
  };
  NamedTensors bad_dims = good;
  for (auto& t : bad_dims)
    if (t.name == "w/m") t.tensor = Tensor({4});
  expect_error(bad_dims, "parameter 'w' is 3");
  NamedTensors unknown = good;
  unknown.push_back({"ghost.weight/m", Tensor({3})});
  expect_error(unknown, "'ghost.weight'");
  NamedTensors missing;
  for (auto& t : good)
    if (t.name != "b/v") missing.push_back(t);
  expect_error(missing, "'b/v'");
  NamedTensors no_step;
  for (auto& t : good)
    if (t.name != "@step") no_step.push_back(t);
  expect_error(no_step, "@step");
  expect_error(good, "slot 'm'", "sgd");  // Adam's state offered to SGD
}

TEST(Optimizers, StepValidatesBeforeChangingAnything) {
  Model m({{"w", {3}}});
  set(m.values[0], {1, 2, 3});
  ParamList p = m.params();
  Tensor wrong({4});
  p[0].grad = &wrong;
  auto opt = make_optimizer("sgd");
  EXPECT_THROW(opt->step(p, 0.1), Error);
  EXPECT_THROW(opt->step(m.params(), -1.0), Error);
  EXPECT_THROW(opt->step(m.params(), NAN), Error);
  expect_near(m.values[0], {1, 2, 3}, 0);
  EXPECT_EQ(opt->steps(), 0);
}

TEST(Optimizers, FactoryNamesAndOptionChecks) {
  for (const char* n : {"sgd", "rmsprop", "adam", "adamw"})
    EXPECT_STREQ(make_optimizer(n)->name(), n);
  try {
    make_optimizer("adagrad");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'adagrad'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_optimizer("sgd", {.momentum = 1.0}), Error);
  EXPECT_THROW(make_optimizer("sgd", {.nesterov = true}), Error);
  EXPECT_THROW(make_optimizer("sgd", {.weight_decay = -1.0}), Error);
  EXPECT_THROW(make_optimizer("rmsprop", {.rho = 1.5}), Error);
  EXPECT_THROW(make_optimizer("adam", {.beta2 = 1.0}), Error);
  EXPECT_THROW(make_optimizer("adam", {.epsilon = 0.0}), Error);
}

TEST(Optimizers, GlobalNormClipping) {
  Model m({{"a", {1}}, {"b", {1}}});
  set(m.grads[0], {3});
  set(m.grads[1], {4});
  EXPECT_DOUBLE_EQ(clip_grad_global_norm(m.params(), 10.0), 5.0);
  EXPECT_EQ(m.grads[0][0], 3.f);
  EXPECT_DOUBLE_EQ(clip_grad_global_norm(m.params(), 1.0), 5.0);
  EXPECT_NEAR(m.grads[0][0], 0.6, 1e-7);
  EXPECT_NEAR(m.grads[1][0], 0.8, 1e-7);
}

// f(w) = sum_i a_i (w_i - c_i)^2 / 2 with curvatures 100x apart; a cosine schedule to 0
// lets the adaptive methods settle instead of hovering at a distance ~lr.
TEST(Optimizers, ConvexQuadraticConverges) {
  const std::vector<double> a = {10.0, 1.0, 0.1}, c = {1.0, -2.0, 3.0};
  struct Case {
    const char* name;
    OptimizerOptions o;
    double lr;
  };
  std::vector<Case> cases = {{"sgd", {.momentum = 0.9}, 0.05},
                             {"sgd", {.momentum = 0.9, .nesterov = true}, 0.05},
                             {"rmsprop", {.momentum = 0.9}, 0.01},
                             {"rmsprop", xception_rmsprop_options(), 0.05},
                             {"adam", {}, 0.1},
                             {"adamw", {.weight_decay = 0.0}, 0.1}};
  const int steps = 3000;
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    LrSchedule sched{.kind = ScheduleKind::cosine, .base_lr = k.lr, .total_epochs = 1};
    auto opt = make_optimizer(k.name, k.o);
    Model m({{"w", {3}}});
    for (int s = 0; s < steps; ++s) {
      for (int i = 0; i < 3; ++i) m.grads[0][i] = float(a[i] * (m.values[0][i] - c[i]));
      opt->step(m.params(), sched.at(0, s, steps));
    }
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(m.values[0][i], c[i], 1e-2);
  }
}

}  // namespace
}  // namespace xcept
