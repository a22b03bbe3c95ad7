// The executor's memory plan: random programs give the same values as evaluating every
// step into its own tensor (a planner that let two live values share bytes would clobber
// one), no two live planned values overlap unless a step ran in place, and a chain
// reuses memory.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>
#include <thread>

#include "kernels/gemm_bf16.h"
#include "runtime/executor.h"
#include "runtime/ops/core_ops.h"
#include "core/error.h"
#include "core/scratch.h"
#include "xcept/settings.h"
#include "runtime_test_support.h"

using namespace xcept;
using xcept::test::random_tensor;
using xcept::test::run_op;

namespace {

// Each value in its own tensor, steps in order: the meaning of a program.
std::vector<Tensor> evaluate_naively(const Program& p, const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> v(p.values().size());
  for (size_t i = 0; i < p.inputs().size(); ++i) v[size_t(p.inputs()[i])] = *inputs[i];
  for (size_t i = 0; i < p.values().size(); ++i)
    if (p.values()[i].is_constant) v[i] = p.values()[i].constant;
  for (const Step& s : p.steps()) {
    std::vector<const Tensor*> in;
    for (ValueId x : s.inputs) in.push_back(&v[size_t(x)]);
    v[size_t(s.output)] = run_op(*s.op, in);
  }
  std::vector<Tensor> outs;
  for (ValueId o : p.outputs()) outs.push_back(v[size_t(o)]);
  return outs;
}

// A random DAG over [2, 4, 4, c] maps: elementwise steps (some in place), broadcasting
// adds with constants, pointwise convolutions, concatenations, several outputs.
Program random_program(uint32_t seed) {
  std::mt19937 rng(seed);
  auto below = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  Program p;
  std::vector<ValueId> maps{p.add_input("x", {2, 4, 4, 8})};
  const ValueId bias = p.add_constant("bias", random_tensor({8}, seed + 1));
  for (int s = 0; s < 30; ++s) {
    const std::string name = fmt::format("s{}", s);
    const ValueId a = maps[maps.size() - 1 - below(std::min<size_t>(maps.size(), 4))];
    const ValueId b = maps[below(maps.size())];
    switch (below(6)) {
      case 0: maps.push_back(p.add_step(name, std::make_unique<ActivationOp>(Act::elu(1.f)), {a})); break;
      case 1: maps.push_back(p.add_step(name, std::make_unique<BinaryOp>(BinaryKind::add), {a, b})); break;
      case 2: maps.push_back(p.add_step(name, std::make_unique<BinaryOp>(BinaryKind::mul, Act::clip(-2, 2)), {a, bias})); break;
      case 3: {
        ConvParams cp;
        cp.out_channels = 8;
        maps.push_back(p.add_step(
            name,
            std::make_unique<Conv2dOp>(make_conv_shape(name, 2, 4, 4, 8, cp),
                                       random_tensor({1, 1, 8, 8}, seed + 10 + s, -0.5f, 0.5f),
                                       Tensor(), Act::none(), true),
            {a, b}));
        break;
      }
      case 4: {
        const ValueId c = p.add_step(name, std::make_unique<ConcatOp>(-1), {a, b});
        ConvParams cp;
        cp.out_channels = 8;
        maps.push_back(p.add_step(
            fmt::format("{}_pw", name),
            std::make_unique<Conv2dOp>(make_conv_shape(name, 2, 4, 4, 16, cp),
                                       random_tensor({1, 1, 16, 8}, seed + 50 + s, -0.5f, 0.5f),
                                       Tensor()),
            {c}));
        break;
      }
      default:
        maps.push_back(p.add_step(
            name,
            make_batch_norm_op(random_tensor({8}, seed + 90 + s), random_tensor({8}, seed + 91 + s),
                               random_tensor({8}, seed + 92 + s),
                               random_tensor({8}, seed + 93 + s, 0.5f, 1.5f), 1e-3f),
            {a}));
    }
  }
  p.mark_output(maps.back());
  p.mark_output(maps[maps.size() / 2]);
  return p;
}

Program copy_program(uint32_t seed) { return random_program(seed); }  // deterministic

}  // namespace

TEST(RuntimeExecutor, RandomProgramsMatchNaiveEvaluation) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    Program ref = copy_program(seed);
    Tensor x = random_tensor({2, 4, 4, 8}, seed * 7);
    std::vector<Tensor> want = evaluate_naively(ref, {&x});
    ExecutorOptions poison;
    poison.poison_arena = true;  // a read of bytes not written this run gives NaN
    Executor ex(copy_program(seed), poison);
    for (int rep = 0; rep < 2; ++rep) {
      std::vector<Tensor> got = ex.run({&x});
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].dims(), want[i].dims());
        for (int64_t k = 0; k < got[i].numel(); ++k)
          ASSERT_EQ(got[i][k], want[i][k]) << "seed " << seed << " output " << i << " at " << k;
      }
    }
  }
}

TEST(RuntimeExecutor, LiveValuesNeverShareBytesUnlessInPlace) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    Executor ex(random_program(seed));
    const auto& plan = ex.plan();
    const auto& steps = ex.program().steps();
    for (size_t i = 0; i < plan.size(); ++i) {
      EXPECT_EQ(plan[i].offset % 64, 0);
      EXPECT_LE(plan[i].offset + plan[i].bytes, ex.planned_bytes());
      for (size_t j = i + 1; j < plan.size(); ++j) {
        const PlannedValue& a = plan[i];
        const PlannedValue& b = plan[j];
        const bool time = a.first_step <= b.last_step && b.first_step <= a.last_step;
        const bool bytes = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
        if (!time || !bytes) continue;
        // Allowed only as an in-place step: one value ends where the other is written,
        // by a step that reads the first at its in_place_input().
        const PlannedValue& early = a.first_step < b.first_step ? a : b;
        const PlannedValue& late = a.first_step < b.first_step ? b : a;
        ASSERT_GE(late.first_step, 0);
        const Step& st = steps[size_t(late.first_step)];
        const int k = st.op->in_place_input();
        ASSERT_EQ(early.last_step, late.first_step) << "seed " << seed;
        ASSERT_TRUE(k >= 0 && st.inputs[size_t(k)] == early.value && st.output == late.value)
            << "seed " << seed << ": values " << early.value << " and " << late.value;
      }
    }
  }
}

TEST(RuntimeExecutor, ChainReusesMemoryAndRunsInPlace) {
  Program p;
  ValueId v = p.add_input("x", {1, 8, 8, 16});
  ConvParams cp;
  cp.out_channels = 16;
  int64_t total = 16 * 64 * 4;
  for (int i = 0; i < 10; ++i) {
    v = p.add_step(fmt::format("conv{}", i),
                   std::make_unique<Conv2dOp>(make_conv_shape("c", 1, 8, 8, 16, cp),
                                              random_tensor({1, 1, 16, 16}, i), Tensor()),
                   {v});
    v = p.add_step(fmt::format("relu{}", i), std::make_unique<ActivationOp>(Act::relu()), {v});
    total += 2 * 16 * 64 * 4;
  }
  p.mark_output(v);
  Executor ex(std::move(p));
  // Two buffers alternate: each convolution reads one and writes the other, each relu
  // runs in place.
  EXPECT_EQ(ex.planned_bytes(), 2 * 16 * 64 * 4);
  EXPECT_LT(ex.planned_bytes(), total);
  EXPECT_EQ(ex.weight_bytes(), 10 * 16 * 16 * 4);
}

TEST(RuntimeExecutor, ChecksInputsAndPrecision) {
  Program p;
  ValueId x = p.add_input("x", {2, 3});
  p.mark_output(p.add_step("r", std::make_unique<ActivationOp>(Act::relu()), {x}));
  Executor ex(std::move(p));
  Tensor bad({3, 2});
  try {
    ex.run({&bad});
    FAIL() << "accepted wrong dims";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
  }
  ex.set_profiling(true);
  Tensor good = random_tensor({2, 3}, 1);
  std::vector<Tensor> out = ex.run({&good});
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[0][i], std::max(good[i], 0.f));
  ASSERT_EQ(ex.step_ms().size(), 1u);
  EXPECT_GE(ex.step_ms()[0], 0.0);

  // bf16 runs where the CPU has it and it pays, f32 elsewhere; precision() says which.
  for (bool even_if_slower : {false, true}) {
    Program q;
    q.mark_output(q.add_input("x", {1}));
    ExecutorOptions o;
    o.precision = Precision::bf16;
    o.bf16_even_if_slower = even_if_slower;
    Executor e(std::move(q), o);
    const bool runs = bf16_gemm_available() && (even_if_slower || bf16_gemm_pays());
    EXPECT_EQ(e.precision(), runs ? Precision::bf16 : Precision::f32) << even_if_slower;
  }
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_THROW(parse_precision("f16"), Error);
}

TEST(RuntimeExecutor, RejectsStepsOutOfOrder) {
  Program p;
  ValueId x = p.add_input("x", {4});
  ValueId a = p.add_step("a", std::make_unique<ActivationOp>(Act::relu()), {x});
  ValueId b = p.add_step("b", std::make_unique<ActivationOp>(Act::relu()), {a});
  p.mark_output(b);
  std::swap(p.steps()[0], p.steps()[1]);
  EXPECT_THROW(Executor(std::move(p)), Error);
}

TEST(RuntimeExecutor, RefusesAnArenaOverTheLimitNamingTheLargestValue) {
  ExecutorOptions o;
  Program q;
  ValueId y = q.add_input("image", {1 << 20});
  q.mark_output(q.add_step("act", std::make_unique<ActivationOp>(Act::relu()), {y}));
  o.max_arena_bytes = 1 << 20;
  try {
    Executor e(std::move(q), o);
    ADD_FAILURE() << "a 4 MiB arena passed a 1 MiB limit";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4 MiB, over the limit of 1 MiB"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'image' 1048576"), std::string::npos) << e.what();
  }
}

// A 5x5 convolution runs through im2col, in tiles of columns (about 0.5 MiB of kernel
// scratch with the packed GEMM panels). The executor reports it, and bounds it when asked.
TEST(RuntimeExecutor, ReportsAndBoundsKernelScratch) {
  auto program = [] {
    Program q;
    ValueId x = q.add_input("image", {1, 64, 64, 32});
    const ConvShape s = make_conv_shape("conv5", 1, 64, 64, 32, conv_params(32, 5, 1, Padding::same()));
    q.mark_output(q.add_step(
        "conv5", std::make_unique<Conv2dOp>(s, random_tensor({5, 5, 32, 32}, 3), Tensor()), {x}));
    return q;
  };
  const Tensor x = random_tensor({1, 64, 64, 32}, 4);
  const int threads = num_threads();
  set_num_threads(1);  // every buffer on the (fresh) calling thread
  const int64_t limit_before = set_scratch_limit_bytes(0);
  set_scratch_limit_bytes(limit_before);
  int64_t held_before = 0, reported = 0;
  std::string error;
  std::thread([&] {
    held_before = scratch_bytes_held();
    Executor ex(program());
    EXPECT_EQ(ex.scratch_bytes(), 0);
    ex.run({&x});
    reported = ex.scratch_bytes();
  }).join();
  std::thread([&] {
    ExecutorOptions o;
    o.max_scratch_bytes = int64_t{1} << 18;
    Executor ex(program(), o);
    try {
      ex.run({&x});
    } catch (const Error& e) {
      error = e.what();
    }
  }).join();
  set_num_threads(threads);
  EXPECT_GT(reported, held_before);
  EXPECT_NE(error.find("kernel scratch"), std::string::npos) << "no error: " << error;
  EXPECT_NE(error.find("over the limit of 0.25 MiB"), std::string::npos) << error;
  // The run's limit was the run's only.
  EXPECT_EQ(set_scratch_limit_bytes(limit_before), limit_before);
}

// Running on the caller's memory: outputs land in the caller's buffers, inputs are read
// in place yet never written (random programs run steps in place on their input).
TEST(RuntimeExecutor, RunsOnCallerMemoryWithoutTouchingTheInput) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    Program ref = copy_program(seed);
    const Tensor x = random_tensor({2, 4, 4, 8}, seed * 11);
    const Tensor x_before = x;
    std::vector<Tensor> want = evaluate_naively(ref, {&x});
    ExecutorOptions poison;
    poison.poison_arena = true;
    Executor ex(copy_program(seed), poison);
    std::vector<Tensor> got;
    for (ValueId o : ex.program().outputs()) got.emplace_back(ex.program().value(o).dims);
    std::vector<MutView> out;
    for (Tensor& t : got) out.push_back({t.data(), &t.dims()});
    const ConstView in{x.data(), &x.dims()};
    for (int rep = 0; rep < 2; ++rep) {
      ex.run(std::span<const ConstView>(&in, 1), out);
      for (size_t i = 0; i < got.size(); ++i)
        for (int64_t k = 0; k < got[i].numel(); ++k)
          ASSERT_EQ(got[i][k], want[i][k]) << "seed " << seed << " output " << i << " at " << k;
      for (int64_t k = 0; k < x.numel(); ++k) ASSERT_EQ(x[k], x_before[k]) << "seed " << seed;
    }
  }
  Executor ex(copy_program(1));
  Tensor wrong({1, 4, 4, 8});
  const ConstView in{wrong.data(), &wrong.dims()};
  try {
    ex.run(std::span<const ConstView>(&in, 1), {});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 output(s), 0 buffer(s)"), std::string::npos) << e.what();
  }
}
