// The training layers and the inference runtime's ops run the same kernels for the
// operations both have (global average pooling, inference batch norm, Add, Concat), so
// Graph::forward and a Program give the same bits for them, not merely close values.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/merge.h"
#include "layers/pooling.h"
#include "runtime/ops/core_ops.h"
#include "runtime_test_support.h"

using namespace xcept;
using test::random_tensor;
using test::run_op;

namespace {

// A layer's forward on x (a batch): built from the per-image dims, as a Graph runs it.
Tensor layer_forward(Layer& l, const std::vector<const Tensor*>& in) {
  Rng rng(0);
  std::vector<Dims> per_image;
  for (const Tensor* t : in) per_image.emplace_back(t->dims().begin() + 1, t->dims().end());
  Dims out = l.build(per_image, rng);
  out.insert(out.begin(), in[0]->dim(0));
  Tensor y(out);
  l.forward(in, y, /*training=*/false);
  return y;
}

std::vector<float> values(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }

TEST(SharedKernels, GlobalAveragePoolingIsBitIdentical) {
  // 19x19: the map size where a sum's rounding shows if the two paths summed differently.
  const Tensor x = random_tensor({3, 19, 19, 70}, 5, -2.f, 3.f);
  GlobalAvgPool2D layer("gap");
  const Tensor want = layer_forward(layer, {&x});
  const Tensor got = run_op(GlobalAvgPoolOp(false), {&x});
  EXPECT_EQ(values(got), values(want));
}

TEST(SharedKernels, InferenceBatchNormIsBitIdentical) {
  const int64_t c = 37;
  BatchNorm layer("bn");
  const Tensor x = random_tensor({2, 5, 7, c}, 6, -3.f, 4.f);
  Rng rng(0);
  layer.build({{5, 7, c}}, rng);
  layer.gamma = random_tensor({c}, 7, 0.5f, 1.5f);
  layer.beta = random_tensor({c}, 8);
  layer.moving_mean = random_tensor({c}, 9);
  layer.moving_variance = random_tensor({c}, 10, 0.1f, 2.f);
  Tensor want(x.dims());
  layer.forward({&x}, want, /*training=*/false);
  const auto op = make_batch_norm_op(layer.gamma, layer.beta, layer.moving_mean,
                                     layer.moving_variance, layer.options().epsilon, -1);
  EXPECT_EQ(values(run_op(*op, {&x})), values(want));
}

TEST(SharedKernels, AddOfThreeIsBitIdentical) {
  // The runtime lowers an n-input Add to a chain of two-operand adds.
  const Tensor a = random_tensor({2, 9, 9, 33}, 11), b = random_tensor({2, 9, 9, 33}, 12),
               c = random_tensor({2, 9, 9, 33}, 13);
  Add layer("add");
  const Tensor want = layer_forward(layer, {&a, &b, &c});
  BinaryOp add(BinaryKind::add);
  const Tensor ab = run_op(add, {&a, &b});
  EXPECT_EQ(values(run_op(add, {&ab, &c})), values(want));
}

TEST(SharedKernels, ConcatIsBitIdentical) {
  const Tensor a = random_tensor({2, 6, 6, 17}, 14), b = random_tensor({2, 6, 6, 64}, 15);
  Concat layer("cat");
  const Tensor want = layer_forward(layer, {&a, &b});
  EXPECT_EQ(values(run_op(ConcatOp(-1), {&a, &b})), values(want));
}

}  // namespace
