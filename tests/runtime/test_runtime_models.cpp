// Every model of the zoo through the inference path: lower_graph + optimize + Executor
// equals Graph::forward(x, training = false). Batch-norm statistics and biases are
// randomized first, so folding them into the convolutions changes real numbers.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "models/models.h"
#include "runtime/executor.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"
#include "runtime/ops/core_ops.h"
#include "core/error.h"
#include "runtime_test_support.h"

using namespace xcept;
using models::ModelOptions;
using xcept::test::max_rel_error;
using xcept::test::random_tensor;

namespace {

constexpr double kTol = 1e-4;

// Small but complete versions of each model: every block type still appears.
ModelOptions small_options(const std::string& name) {
  ModelOptions o;
  o.seed = 3;
  if (name == "xception") {
    o.input_size = 71;
    o.middle_repeats = 1;
    o.alpha = 0.25;
    o.classes = 20;
  } else if (name == "mobilenet" || name == "conv-mobilenet") {
    o.input_size = 32;
    o.alpha = 0.25;
    o.classes = 10;
  } else if (name.rfind("mini-", 0) != 0) {  // the torchvision ports at 224 by default
    o.input_size = 66;  // odd sizes further on: ceil_mode pools and padding alignment show
    o.alpha = name == "shufflenet-v2" || name == "mobilenet-v2" ? 0.5 : 0.25;
    o.classes = 10;
  }
  return o;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Moving statistics, gamma, beta and biases away from their initial 1/0 values.
void randomize_statistics(Graph& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (ParamRef& p : g.params()) {
    Tensor& t = *p.value;
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (ends_with(p.name, ".moving_mean")) t[i] = u(rng) - 0.5f;
      else if (ends_with(p.name, ".moving_variance")) t[i] = 0.5f + u(rng);
      else if (ends_with(p.name, ".gamma")) t[i] = 0.5f + u(rng);
      else if (ends_with(p.name, ".beta") || ends_with(p.name, ".bias")) t[i] = u(rng) - 0.5f;
    }
  }
}

std::map<std::string, int> count_types(const Program& p) {
  std::map<std::string, int> n;
  for (const Step& s : p.steps()) ++n[s.op->type()];
  return n;
}

// Returns the optimized program's step counts by type.
std::map<std::string, int> check_model(const std::string& name, const ModelOptions& o) {
  Graph g = models::build_model(name, o);
  randomize_statistics(g, 11);
  const Dims& per_image = g.node_dims(0);
  Dims xd{2};
  xd.insert(xd.end(), per_image.begin(), per_image.end());
  Tensor x = random_tensor(xd, 5, 0.f, 1.f);
  const Tensor want = g.forward(x, false);

  Program unoptimized = lower_graph(g, 2);
  Executor plain(std::move(unoptimized));
  Tensor got_plain = plain.run({&x}).at(0);
  EXPECT_EQ(got_plain.dims(), want.dims()) << name;
  EXPECT_LT(max_rel_error(got_plain.data(), want.data(), want.numel()), kTol) << name;

  Program program = lower_graph(g, 2);
  const int64_t macs = program.macs();
  optimize(program);
  EXPECT_EQ(program.macs(), macs) << name << ": fusion changed the work";
  auto types = count_types(program);
  ExecutorOptions poison;
  poison.poison_arena = true;
  Executor ex(std::move(program), poison);
  Tensor got = ex.run({&x}).at(0);
  EXPECT_EQ(got.dims(), want.dims()) << name;
  EXPECT_LT(max_rel_error(got.data(), want.data(), want.numel()), kTol) << name;
  EXPECT_LT(ex.planned_bytes(), plain.planned_bytes() + 1) << name;
  return types;
}

}  // namespace

TEST(RuntimeModels, EveryZooModelMatchesGraphForward) {
  for (const auto& m : models::model_list()) {
    SCOPED_TRACE(m.name);
    auto types = check_model(m.name, small_options(m.name));
    // Batch norm always follows a convolution here, and every activation a conv, a dense
    // layer or a residual add that nothing else reads: all folded away.
    EXPECT_EQ(types["ChannelAffine"], 0) << m.name;
    if (m.name != "xception" && m.name != "mini-xception") {
      EXPECT_EQ(types["Activation"], 0);
    }
  }
}

TEST(RuntimeModels, XceptionResidualAddsFuseIntoConvolutions) {
  ModelOptions o = small_options("xception");
  auto types = check_model("xception", o);
  // The middle block's add becomes the last convolution's addend; the downsampling
  // blocks' adds follow a max pool (block2, 3, 4 and the exit block) and stay.
  EXPECT_EQ(types["Add"], 4);
  EXPECT_EQ(types["Conv2d"], 2 + 4 * 5 + 3 * 2 + 2 * 2);
  EXPECT_EQ(types["ChannelAffine"], 0);
}

TEST(RuntimeModels, XceptionVariantsAndInceptionModules) {
  ModelOptions o;
  o.mid_activation = Act::elu();
  o.order = SeparableOrder::pointwise_depthwise;
  check_model("mini-xception", o);
  o = {};
  o.mid_activation = Act::relu();
  o.residual = false;
  o.input_channels = 3;
  o.input_size = 32;
  check_model("mini-xception", o);
  for (const char* module : {"simplified", "extreme"}) {
    o = {};
    o.inception_module = module;
    check_model("mini-inception", o);
  }
}

TEST(RuntimeModels, OptimizeKeepsAProducerReadTwice) {
  // conv -> bn, with the conv output also read elsewhere: the bn must stay.
  Program p;
  ValueId x = p.add_input("x", {1, 4, 4, 3});
  ConvParams cp;
  cp.out_channels = 3;
  ValueId c = p.add_step("conv", std::make_unique<Conv2dOp>(make_conv_shape("c", 1, 4, 4, 3, cp),
                                                            random_tensor({1, 1, 3, 3}, 1),
                                                            Tensor()),
                         {x});
  ValueId bn = p.add_step("bn",
                          make_batch_norm_op(random_tensor({3}, 2), random_tensor({3}, 3),
                                             random_tensor({3}, 4), random_tensor({3}, 5, 0.5f, 1.f),
                                             1e-3f),
                          {c});
  ValueId r = p.add_step("relu", std::make_unique<ActivationOp>(Act::relu()), {bn});
  p.mark_output(p.add_step("add", std::make_unique<BinaryOp>(BinaryKind::add), {r, c}));
  Tensor in = random_tensor({1, 4, 4, 3}, 6);
  Executor before(std::move(p));
  Tensor want = before.run({&in}).at(0);

  Program q;
  x = q.add_input("x", {1, 4, 4, 3});
  c = q.add_step("conv", std::make_unique<Conv2dOp>(make_conv_shape("c", 1, 4, 4, 3, cp),
                                                    random_tensor({1, 1, 3, 3}, 1), Tensor()),
                 {x});
  bn = q.add_step("bn",
                  make_batch_norm_op(random_tensor({3}, 2), random_tensor({3}, 3),
                                     random_tensor({3}, 4), random_tensor({3}, 5, 0.5f, 1.f), 1e-3f),
                  {c});
  r = q.add_step("relu", std::make_unique<ActivationOp>(Act::relu()), {bn});
  q.mark_output(q.add_step("add", std::make_unique<BinaryOp>(BinaryKind::add), {r, c}));
  optimize(q);
  auto types = count_types(q);
  EXPECT_EQ(types["ChannelAffine"], 1);  // conv output read twice: not folded
  EXPECT_EQ(types["Activation"], 1);     // an affine has no activation to fuse into
  EXPECT_EQ(types["Add"], 1);            // its conv operand is read twice
  Executor after(std::move(q));
  Tensor got = after.run({&in}).at(0);
  EXPECT_LT(max_rel_error(got.data(), want.data(), want.numel()), 1e-6);
}
