// optimize()'s fuse_depthwise_pointwise pass and the DwPwConv2d op it makes: programs
// with depthwise -> pointwise pairs (batch norms, activations, a residual addend) and the
// zoo models give the same outputs with and without the pass, the pass leaves pairs it
// may not fuse alone, and its size rule picks the large early layers of the full models.
// The small test maps never pass the rule, so most tests set fuse_depthwise_pointwise_always.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "kernels/gemm_bf16.h"
#include "models/models.h"
#include "runtime/executor.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"
#include "runtime/ops/core_ops.h"
#include "runtime/ops/dwpw_conv2d_op.h"
#include "runtime_test_support.h"

using namespace xcept;
using xcept::test::max_rel_error;
using xcept::test::random_tensor;
using xcept::test::run_op;

namespace {

constexpr double kTol = 1e-4;

std::map<std::string, int> count_types(const Program& p) {
  std::map<std::string, int> n;
  for (const Step& s : p.steps()) ++n[s.op->type()];
  return n;
}

std::unique_ptr<ChannelAffineOp> batch_norm(int64_t c, uint32_t seed) {
  return make_batch_norm_op(random_tensor({c}, seed), random_tensor({c}, seed + 1),
                            random_tensor({c}, seed + 2), random_tensor({c}, seed + 3, 0.5f, 1.5f),
                            1e-3f);
}

std::unique_ptr<Conv2dOp> depthwise(const std::string& name, const Dims& x, int64_t k,
                                    int64_t stride, uint32_t seed) {
  const ConvShape s = make_conv_shape(name, x[0], x[1], x[2], x[3],
                                      conv_params(x[3], k, stride, Padding::same(), x[3]));
  return std::make_unique<Conv2dOp>(s, random_tensor({k, k, 1, x[3]}, seed), Tensor());
}

std::unique_ptr<Conv2dOp> pointwise(const std::string& name, const Dims& x, int64_t m,
                                    uint32_t seed) {
  ConvParams cp;
  cp.out_channels = m;
  const ConvShape s = make_conv_shape(name, x[0], x[1], x[2], x[3], cp);
  return std::make_unique<Conv2dOp>(s, random_tensor({1, 1, x[3], m}, seed, -0.3f, 0.3f),
                                    Tensor());
}

// MobileNet's block (dw -> bn -> relu6 -> pw -> bn -> relu6) at stride `stride`, then a
// residual block (relu -> dw -> bn -> pw -> bn -> add of the block input), as Xception's
// middle flow; `late_addend` makes the addend a value computed between the two
// convolutions, so the fused step must take the pointwise position.
Program block_program(const Dims& in, int64_t stride, bool late_addend) {
  Program p;
  const ValueId x = p.add_input("x", in);
  ValueId v = p.add_step("dw1", depthwise("dw1", in, 3, stride, 1), {x});
  v = p.add_step("dw1_bn", batch_norm(in[3], 10), {v});
  v = p.add_step("dw1_relu", std::make_unique<ActivationOp>(Act::relu6()), {v});
  const Dims mid = p.value(v).dims;
  v = p.add_step("pw1", pointwise("pw1", mid, 24, 2), {v});
  v = p.add_step("pw1_bn", batch_norm(24, 20), {v});
  const ValueId block_in =
      p.add_step("pw1_relu", std::make_unique<ActivationOp>(Act::relu6()), {v});
  const Dims d = p.value(block_in).dims;
  v = p.add_step("relu", std::make_unique<ActivationOp>(Act::relu()), {block_in});
  v = p.add_step("sep.depthwise", depthwise("sep.depthwise", d, 3, 1, 3), {v});
  ValueId residual = block_in;
  if (late_addend)
    residual = p.add_step("late", std::make_unique<ActivationOp>(Act::elu(1.f)), {block_in});
  v = p.add_step("sep", pointwise("sep", d, 24, 4), {v});
  v = p.add_step("sep_bn", batch_norm(24, 30), {v});
  p.mark_output(p.add_step("add", std::make_unique<BinaryOp>(BinaryKind::add), {v, residual}));
  return p;
}

OptimizeOptions fuse_always() {
  OptimizeOptions o;
  o.fuse_depthwise_pointwise_always = true;
  return o;
}

Tensor run_program(Program p, const Tensor& x, ExecutorOptions eo = {}) {
  eo.poison_arena = true;
  Executor ex(std::move(p), eo);
  return ex.run({&x}).at(0);
}

TEST(RuntimeDwPwFusion, BlocksMatchTheUnoptimizedProgram) {
  for (bool late : {false, true})
    for (int64_t stride : {1, 2}) {
      SCOPED_TRACE(testing::Message() << "stride " << stride << ", late addend " << late);
      const Dims in{2, 23, 17, 16};
      const Tensor x = random_tensor(in, 7);
      const Tensor want = run_program(block_program(in, stride, late), x);
      Program q = block_program(in, stride, late);
      optimize(q, fuse_always());
      auto types = count_types(q);
      EXPECT_EQ(types["DwPwConv2d"], 2);
      EXPECT_EQ(types["Conv2d"], 0);
      EXPECT_EQ(types["ChannelAffine"], 0);
      EXPECT_EQ(types["Add"], 0);  // the residual rides on the second pointwise
      EXPECT_EQ(q.steps().back().name, "sep");
      const Tensor got = run_program(std::move(q), x);
      EXPECT_LT(max_rel_error(got.data(), want.data(), want.numel()), kTol);
      // The pass can be switched off alone; by its rule, maps this small stay unfused.
      Program r = block_program(in, stride, late);
      OptimizeOptions o = fuse_always();
      o.fuse_depthwise_pointwise = false;
      optimize(r, o);
      EXPECT_EQ(count_types(r)["DwPwConv2d"], 0);
      EXPECT_EQ(count_types(r)["Conv2d"], 4);
      Program d = block_program(in, stride, late);
      optimize(d);
      EXPECT_EQ(count_types(d)["DwPwConv2d"], 0);
    }
}

TEST(RuntimeDwPwFusion, LeavesADepthwiseOutputReadTwice) {
  const Dims in{1, 8, 8, 16};
  Program p;
  const ValueId x = p.add_input("x", in);
  const ValueId d = p.add_step("dw", depthwise("dw", in, 3, 1, 1), {x});
  const ValueId y = p.add_step("pw", pointwise("pw", in, 16, 2), {d});
  p.mark_output(p.add_step("add", std::make_unique<BinaryOp>(BinaryKind::add), {y, d}));
  optimize(p, fuse_always());
  EXPECT_EQ(count_types(p)["DwPwConv2d"], 0);
  EXPECT_EQ(count_types(p)["Conv2d"], 2);
}

TEST(RuntimeDwPwFusion, OpChecksItsInputsAndRunsUnprepared) {
  const Dims in{1, 6, 5, 8};
  auto dw = depthwise("dw", in, 3, 2, 1);
  const Dims mid{1, dw->shape().ho, dw->shape().wo, 8};
  auto pw = pointwise("pw", mid, 12, 2);
  pw->set_act(Act::relu());
  const Tensor x = random_tensor(in, 3);
  const Tensor mid_value = run_op(*dw, {&x});
  const Tensor want = run_op(*pw, {&mid_value});
  DwPwConv2dOp op(std::move(dw), std::move(pw));
  EXPECT_EQ(op.kernel_name(), "");
  const Tensor got = run_op(op, {&x});
  EXPECT_LT(max_rel_error(got.data(), want.data(), want.numel()), kTol);
  EXPECT_THROW(op.output_dims("s", std::vector<Dims>{{1, 6, 5, 9}}), Error);
  EXPECT_THROW(op.output_dims("s", std::vector<Dims>{in, mid}), Error);  // no addend
  // A pointwise convolution that does not read the depthwise output's channels.
  EXPECT_THROW(DwPwConv2dOp(depthwise("dw", in, 3, 1, 1), pointwise("pw", {1, 6, 5, 4}, 8, 2)),
               Error);
}

// Every zoo model: the same outputs with and without the pass (f32), and in bf16 the
// fused pairs use the bf16 GEMM like the unfused pointwise convolutions do.
TEST(RuntimeDwPwFusion, ZooModelsMatchWithoutThePass) {
  for (const models::ModelInfo& info : models::model_list()) {
    const std::string& name = info.name;
    SCOPED_TRACE(name);
    models::ModelOptions o;
    o.seed = 5;
    if (name == "xception")
      o.input_size = 71, o.middle_repeats = 1, o.alpha = 0.25, o.classes = 20;
    if (name == "mobilenet" || name == "conv-mobilenet")
      o.input_size = 64, o.alpha = 0.5, o.classes = 10;
    Graph g = models::build_model(name, o);
    Dims xd{2};
    for (int64_t d : g.node_dims(0)) xd.push_back(d);
    const Tensor x = random_tensor(xd, 9, 0.f, 1.f);
    auto optimized = [&](bool fuse) {
      Program p = lower_graph(g, 2);
      OptimizeOptions opt = fuse_always();
      opt.fuse_depthwise_pointwise = fuse;
      optimize(p, opt);
      return p;
    };
    Program fused = optimized(true);
    if (name == "mobilenet" || name == "xception" || name == "mini-mobilenet" ||
        name == "mini-xception") {
      EXPECT_GT(count_types(fused)["DwPwConv2d"], 0);
    }
    const Tensor want = run_program(optimized(false), x);
    const Tensor got = run_program(std::move(fused), x);
    EXPECT_LT(max_rel_error(got.data(), want.data(), want.numel()), kTol);
    if (bf16_gemm_available()) {
      ExecutorOptions eo;
      eo.precision = Precision::bf16;
      eo.bf16_even_if_slower = true;  // really bf16, also where the CPU does it slowly
      const Tensor want16 = run_program(optimized(false), x, eo);
      const Tensor got16 = run_program(optimized(true), x, eo);
      EXPECT_LT(max_rel_error(got16.data(), want16.data(), want16.numel()), 5e-2);
    }
  }
}

// The rule on the full-size models (programs only, not run): the pairs whose depthwise
// output exceeds the band budget and whose pointwise weights fit it.
TEST(RuntimeDwPwFusion, RulePicksTheLargeMapsOfTheFullModels) {
  auto fused_pairs = [](const char* name) {
    Graph g = models::build_model(name, {});
    Program p = lower_graph(g, 1);
    optimize(p);
    std::vector<std::string> names;
    for (const Step& s : p.steps())
      if (dynamic_cast<const DwPwConv2dOp*>(s.op.get())) names.push_back(s.name);
    return names;
  };
  // 112x112x32, 56x56x64, 56x56x128, 28x28x256; not 28x28x128 (392 KB) nor the 512-wide
  // layers (1 MB of pointwise weights).
  EXPECT_EQ(fused_pairs("mobilenet"),
            (std::vector<std::string>{"conv_dw_1+conv_pw_1", "conv_dw_2+conv_pw_2",
                                      "conv_dw_3+conv_pw_3", "conv_dw_5+conv_pw_5"}));
  // The entry flow's 147x147 and 74x74 maps; from block 4 on the weights are 728 wide.
  EXPECT_EQ(fused_pairs("xception"),
            (std::vector<std::string>{"block2_sepconv1", "block2_sepconv2", "block3_sepconv1",
                                      "block3_sepconv2"}));
}

}  // namespace
