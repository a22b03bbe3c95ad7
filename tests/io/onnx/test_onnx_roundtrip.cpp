// Export then import: a graph written as ONNX by io/onnx/onnx_export and read back by
// io/onnx/onnx_import computes what Graph::forward computes, with and without the
// runtime's optimizations (batch-norm folding, fusion).
#include <gtest/gtest.h>

#include "io/onnx/onnx_export.h"
#include "io/onnx/onnx_import.h"
#include "models/models.h"
#include "onnx_export_support.h"
#include "runtime/executor.h"
#include "runtime/optimize.h"
#include "test_support.h"
#include "onnx/onnx_pb.h"

namespace xcept {
namespace {

void expect_round_trip(Graph& g, const Tensor& nhwc, bool optimized) {
  SCOPED_TRACE(g.name() + (optimized ? " optimized" : " unoptimized"));
  onnx::ModelProto m = export_onnx(g);
  // Through bytes, as a file would go.
  std::string bytes;
  ASSERT_TRUE(m.SerializeToString(&bytes));
  onnx::ModelProto back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  Tensor nchw = test::nhwc_to_nchw(nhwc);
  Program p = import_onnx(back, std::vector<OnnxInput>{{nchw.dims(), nullptr}});
  if (optimized) optimize(p);
  Executor ex(std::move(p));
  std::vector<Tensor> out = ex.run({&nchw});
  ASSERT_EQ(out.size(), 1u);
  const Tensor& ref = g.forward(nhwc, /*training=*/false);
  ASSERT_EQ(out[0].dims(), ref.dims());
  EXPECT_LT(test::max_rel_error(out[0].data(), ref.data(), ref.numel()), 1e-4);
}

TEST(OnnxRoundTrip, EveryLayerImportsToTheSameOutputs) {
  Graph g = test::every_layer_graph();
  test::randomize_state(g, 13);
  Tensor x = test::random_tensor({3, 9, 11, 4}, 14);
  expect_round_trip(g, x, false);
  expect_round_trip(g, x, true);
}

TEST(OnnxRoundTrip, ZooModelsImportToTheSameOutputs) {
  for (const char* name : {"mini-xception", "mini-mobilenet", "mini-squeezenet", "mini-shufflenet",
                           "mini-shufflenet-v2", "mini-mobilenet-v2"}) {
    SCOPED_TRACE(name);
    models::ModelOptions mo;
    mo.middle_repeats = 1;
    if (std::string(name).find("-v2") != std::string::npos ||
        std::string(name).find("squeeze") != std::string::npos ||
        std::string(name) == "mini-shufflenet")
      mo.alpha = 0.5;  // narrower: the test is about the layers, not the width
    Graph g = models::build_model(name, mo);
    test::randomize_state(g, 17);
    const Dims& in = g.node_dims(0);
    expect_round_trip(g, test::random_tensor({2, in[0], in[1], in[2]}, 18), true);
  }
}

}  // namespace
}  // namespace xcept
